"""`compound plan … --compounded/--save`: the BUD joins the plan, the lot is recorded.

Dates are counted by hand: Day 1 convention, BUD = compounded + N − 1.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from compound.cli import cli
from compound.register.lots import Register

CAPSULES = ["plan", "capsules", "--strength", "4.5mg", "--count", "30", "--overage", "1",
            "--tablet-weight", "200mg", "--fill-weight", "100mg"]


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def run_json(*args: str) -> tuple[int, dict]:
    code, out = run(*args, "--json")
    return code, json.loads(out)


def receive(*args: str) -> None:
    code, out = run("lots", "receive", *args, "--by", "AB")
    assert code == 0, out


def test_capsules_get_the_usp_180_day_bud():
    # nonaqueous solid: 180 days; 2025-03-10 is Day 1 -> +179 days = 2025-09-05
    code, d = run_json(*CAPSULES, "--compounded", "2025-03-10")
    assert code == 0
    assert d["beyond_use_date"] == "2025-09-05"
    assert d["bud"]["limit"]["kind"] == "rule"
    assert d["inputs"]["compounded"] == "2025-03-10"
    assert any(s["key"] == "beyond_use_date" for s in d["steps"])


def test_day_zero_and_study_policy():
    code, d = run_json(*CAPSULES, "--compounded", "2025-03-10", "--day-zero")
    assert d["beyond_use_date"] == "2025-09-06"  # +180
    # cote-2018 under the study policy: 360 days, Day 1 -> 2025-03-10 + 359 = 2026-03-04
    code, d = run_json(*CAPSULES, "--compounded", "2025-03-10", "--study", "cote-2018",
                       "--attest", "--policy", "study")
    assert code == 0
    assert d["beyond_use_date"] == "2026-03-04"
    assert d["bud"]["stability_window_days"] == 360
    # under the default policy the same study is capped at 180 days
    code, d = run_json(*CAPSULES, "--compounded", "2025-03-10", "--study", "cote-2018", "--attest")
    assert d["beyond_use_date"] == "2025-09-05"
    assert d["bud"]["stability_window_days"] == 360


def test_component_expiry_caps_the_bud_and_is_cited():
    _, d = run_json(*CAPSULES, "--compounded", "2025-03-10",
                    "--component-expiry", "MCC lot 9=2025-06")
    assert d["beyond_use_date"] == "2025-06-30"
    assert d["bud"]["limit"]["kind"] == "component-expiry"
    assert d["bud"]["limit"]["name"] == "MCC lot 9"


def test_study_on_the_wrong_preparation_refuses_the_plan():
    # Fawcett is a preserved liquid: it cannot back a capsule BUD
    code, d = run_json(*CAPSULES, "--compounded", "2025-03-10", "--study", "fawcett-1997",
                       "--attest", "--storage", "refrigerated")
    assert code == 3
    assert d["status"] == "refused"
    assert "capsules_to_prepare" not in d
    assert "beyond_use_date" not in d


def test_invalid_date_is_bad_input():
    code, out = run(*CAPSULES, "--compounded", "2025-02-30")
    assert code == 2
    assert "February 2025 has 28 days" in out


def test_save_records_the_lot_with_components_and_bud(tmp_path):
    receive("naltrexone-hcl-50mg-tablet", "NTX1", "--expiry", "2026-05", "--tablet-weight", "200mg")
    receive("mcc", "MCC1", "--expiry", "2025-08-31")
    code, d = run_json(*CAPSULES, "--compounded", "2025-03-10", "--ingredient-lot", "NTX1",
                       "--ingredient-lot", "MCC1", "--save", "--by", "AB", "--checked-by", "CD")
    assert code == 0
    assert d["lot_number"] == "LDN-20250310-0001"
    # the MCC lot expires first (2025-08-31 < 2025-09-05): it sets the BUD
    assert d["beyond_use_date"] == "2025-08-31"
    with Register.open() as reg:
        lot = reg.get(d["lot_number"])
        assert lot.status == "quarantine"
        assert str(lot.beyond_use_date) == "2025-08-31"
        used = {c.lot_number: (c.amount, c.unit) for c in lot.components}
        assert reg.verify().ok
    assert used["NTX1"] == (3, "tablet")      # 139.5 mg / 50 mg -> 3 whole tablets
    assert used["MCC1"] == (2542, "mg")       # (100 - 18) mg filler x 31 capsules


def test_expired_ingredient_lot_refuses_and_saves_nothing():
    receive("naltrexone-hcl-50mg-tablet", "OLD1", "--expiry", "2025-04-30", "--received",
            "2025-01-02", "--tablet-weight", "200mg")
    code, d = run_json(*CAPSULES, "--compounded", "2025-05-02", "--ingredient-lot", "OLD1",
                       "--save", "--by", "AB")
    assert code == 3
    assert any(f["code"] == "COMPONENT_EXPIRED" for f in d["findings"])
    assert "lot_number" not in d
    with Register.open() as reg:
        assert reg.list_lots() == []


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--save", "--by", "AB"], "--compounded"),
        (["--ingredient-lot", "X1"], "--compounded"),
        (["--compounded", "2025-03-10", "--save"], "--by AB"),
    ],
)
def test_save_needs_date_and_initials(extra, says):
    code, out = run(*CAPSULES, *extra)
    assert code == 2
    assert says in out


def test_refused_plan_is_never_saved():
    code, d = run_json("plan", "capsules", "--strength", "11mg", "--count", "30",
                       "--tablet-weight", "200mg", "--compounded", "2025-03-10", "--save",
                       "--by", "AB")
    assert code == 3
    assert "lot_number" not in d
    with Register.open() as reg:
        assert reg.list_lots() == []


@pytest.mark.parametrize(
    ("args", "bud", "storage"),
    [
        # purified water: aqueous unpreserved, 14 days refrigerated: 2025-03-10 + 13
        (["--vehicle", "purified-water"], "2025-03-23", "refrigerated"),
        # Fawcett vehicle without the study: aqueous preserved, 35 days: + 34
        (["--vehicle", "fawcett-1997"], "2025-04-13", "refrigerated"),
        # with the attested Fawcett study, refrigerated: 60 days: + 59
        (["--vehicle", "fawcett-1997", "--study", "fawcett-1997", "--attest",
          "--storage", "refrigerated"], "2025-05-08", "refrigerated"),
        # the same study at room temperature: 30 days: + 29
        (["--vehicle", "fawcett-1997", "--study", "fawcett-1997", "--attest",
          "--storage", "room"], "2025-04-08", "room"),
    ],
)
def test_liquid_bud_follows_the_vehicle(args, bud, storage):
    code, d = run_json("plan", "liquid", "--strength", "1mg/mL", "--volume", "100mL", *args,
                       "--compounded", "2025-03-10")
    assert code == 0
    assert d["beyond_use_date"] == bud
    assert d["bud"]["storage"] == storage


def test_unpreserved_liquid_at_room_temperature_is_refused():
    code, d = run_json("plan", "liquid", "--strength", "1mg/mL", "--volume", "100mL",
                       "--vehicle", "purified-water", "--storage", "room",
                       "--compounded", "2025-03-10")
    assert code == 3
    assert any(f["code"] == "STORAGE_NOT_ALLOWED" for f in d["findings"])
    assert "volume_ml" not in d


def test_drops_take_their_vehicle_bud():
    code, d = run_json("plan", "drops", "--per-drop", "0.5mg", "--calibration", "46 drops/2mL",
                       "--volume", "30mL", "--compounded", "2025-03-10")
    assert code == 0
    assert d["beyond_use_date"] == "2025-04-13"  # default Fawcett vehicle: 35 days, Day 1


def test_lot_measurements_fill_the_plan_and_say_where_from():
    # Measured at receipt: tablet weight 201.35 mg, MCC pack statistic 92 mg for size 3.
    receive("naltrexone-hcl-50mg-tablet", "NTX9", "--expiry", "2026-05", "--tablet-weight",
            "201.35mg")
    receive("mcc", "MCC9", "--expiry", "2027-01", "--pack-stat", "3=92mg")
    code, d = run_json("plan", "capsules", "--strength", "4.5mg", "--count", "30",
                       "--compounded", "2025-03-10", "--ingredient-lot", "NTX9",
                       "--ingredient-lot", "MCC9")
    assert code == 0
    assert d["route"] == "weighed"
    # 4.5 mg x 30 = 135 mg HCl = 2.7 tablets' worth: 2.7 x 201.35 mg = 543.645 mg -> 543.6 mg
    assert d["tablet_powder_mg"] == 543.6
    assert d["fill_weight_mg"] == 92
    used = {f["data"]["option"]: f["data"]["lot"] for f in d["findings"]
            if f["code"] == "MEASURED_FROM_LOT"}
    assert used == {"tablet_weight": "NTX9", "fill_weight": "MCC9"}


def test_api_lot_coa_fills_assay_and_water_exactly():
    receive("naltrexone-hcl-dihydrate-api", "API7", "--expiry", "2027-01", "--assay", "99.2%",
            "--water", "8.71%")
    code, d = run_json("plan", "capsules", "--strength", "0.5mg", "--count", "30", "--source",
                       "api", "--api-form", "dihydrate", "--compounded", "2025-03-10",
                       "--ingredient-lot", "API7")
    assert code == 0
    assert (d["inputs"]["assay"], d["inputs"]["water"]) == ("99.2%", "8.71%")
    # 1 / (0.992 x (1 - 0.0871)) = 1.1042
    assert d["api_factor"] == 1.104


def test_a_typed_value_wins_over_the_lot():
    receive("naltrexone-hcl-50mg-tablet", "NTX8", "--expiry", "2026-05", "--tablet-weight",
            "201.35mg")
    code, d = run_json(*CAPSULES, "--compounded", "2025-03-10", "--ingredient-lot", "NTX8")
    assert code == 0
    assert d["inputs"]["tablet_weight"] == "200mg"
    assert not any(f["code"] == "MEASURED_FROM_LOT" for f in d["findings"])


def test_an_ultra_low_dilution_gets_its_bud():
    # 10 ng/mL = 1e-05 mg/mL: the plan's concentration reaches the BUD engine as a quantity
    code, d = run_json("plan", "dilution", "--strength", "0.01mcg/mL", "--volume", "30mL",
                       "--vehicle", "purified-water", "--compounded", "2025-03-10")
    assert code == 0, d["findings"]
    assert d["beyond_use_date"] == "2025-03-23"  # aqueous unpreserved: 14 days, Day 1


@pytest.mark.parametrize(("kind", "args", "expected"), [
    ("capsules", {"strength": "4.5mg", "count": 30, "tablet_weight": "200mg", "fill_weight": "100mg"},
     "Naltrexone HCl 4.5 mg capsules"),
    ("liquid", {"strength": "1mg/mL", "volume": "100mL", "source": "tablet"},
     "Naltrexone HCl 1 mg/mL oral liquid"),
])
def test_a_lot_is_described_with_a_space_between_dose_and_unit(kind, args, expected):
    # ISMP's list of error-prone abbreviations: a dose run into its unit ("4.5mg") is misread.
    import compound
    from compound.planning.dating import describe

    plan = getattr(compound, f"plan_{kind}")(**args)
    assert describe(plan) == expected
