"""plan_frame: published and hand-worked numbers, row order, refusals, errors and BUDs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from compound.batch import plan_frame
from compound.errors import InputError


def frame(*rows: dict[str, str]) -> pd.DataFrame:
    columns = list(dict.fromkeys(k for r in rows for k in r))
    return pd.DataFrame({c: [r.get(c) for r in rows] for c in columns}, dtype="str")


CAPSULES = {"form": "capsules", "strength": "4.5mg", "count": "30", "overage": "1", "source": "tablet",
            "tablet_weight": "200mg", "fill_weight": "100mg"}


def test_capsules_from_tablets_match_the_hand_calculation():
    out = plan_frame(frame(CAPSULES)).iloc[0]
    # 30 + 1 = 31 capsules; 4.5 mg × 31 = 139.5 mg HCl; ⌈139.5 / 50⌉ = 3 tablets;
    # 139.5 / 50 × 200 mg = 558 mg powder; 558 / 31 = 18 mg a capsule; 100 − 18 = 82 mg filler,
    # × 31 = 2542 mg; blend 100 × 31 = 3100 mg; window 90–110 mg; 3 × 200 − 558 = 42 mg left.
    assert out["status"] == "ok"
    assert (out["capsules_to_prepare"], out["tablets_to_crush"]) == (31, 3)
    assert out["api_required_mg"] == 139.5
    assert out["tablet_powder_mg"] == 558
    assert out["active_powder_per_capsule_mg"] == 18
    assert (out["filler_per_capsule_mg"], out["filler_total_mg"]) == (82, 2542)
    assert out["blend_total_mg"] == 3100
    assert (out["fill_weight_low_mg"], out["fill_weight_high_mg"]) == (90, 110)
    assert out["powder_left_over_mg"] == 42
    assert out["route"] == "weighed" and out["fill_weight_method"] == "given"
    assert pd.isna(out["api_to_weigh_mg"])  # not the API route


def test_api_capsules_below_the_mwq_are_triturated():
    out = plan_frame(frame({"form": "capsules", "strength": "0.5mg", "count": "30", "source": "api",
                            "assay": "100%", "water": "0%"})).iloc[0]
    # 0.5 mg × 30 = 15 mg < MWQ 6 mg / 5 % = 120 mg: factor ⌈120 / 15⌉ = 8; weigh 120 mg,
    # dilute with (8 − 1) × 120 = 840 mg to 960 mg, weigh an aliquot of 15 × 8 = 120 mg.
    assert out["minimum_weighable_quantity_mg"] == 120
    assert (out["trituration_stages"], out["trituration_factor"]) == (1, 8)
    assert (out["trituration_drug_mg"], out["trituration_diluent_mg"]) == (120, 840)
    assert (out["trituration_triturate_mg"], out["trituration_aliquot_mg"]) == (960, 120)
    assert "TRITURATION_PLANNED" in out["finding_codes"].split(";")


def test_liquid_from_one_tablet_in_50ml_t1():
    out = plan_frame(frame({"form": "liquid", "strength": "1mg/mL", "volume": "50mL", "dose": "4.5mg",
                            "source": "tablet", "vehicle": "purified-water"})).iloc[0]
    # prior-art T1: one 50 mg tablet in 50 mL = 1 mg/mL; 4.5 mg = 4.5 mL; ⌊50 / 4.5⌋ = 11 days.
    assert (out["concentration_mg_per_ml"], out["volume_ml"], out["tablets_to_crush"]) == (1, 50, 1)
    assert (out["dose_volume_ml"], out["days_supply"]) == (4.5, 11)
    assert out["vehicle"] == "purified-water"


def test_drops_from_a_calibrated_dropper_t27():
    out = plan_frame(frame({"form": "drops", "per_drop": "0.5mg/drop", "calibration": "46 drops/2mL",
                            "volume": "30mL", "dose": "4.5mg", "source": "api",
                            "assay": "100%"})).iloc[0]
    # 46 drops / 2 mL = 23 drops/mL; 0.5 mg × 23 = 11.5 mg/mL; × 30 mL = 345 mg; 4.5 / 0.5 = 9 drops.
    assert (out["drops_per_ml"], out["concentration_mg_per_ml"], out["api_mg"]) == (23, 11.5, 345)
    assert (out["drops_per_dose"], out["dose_delivered_mg"]) == (9, 4.5)


def test_rows_out_equal_rows_in_in_the_same_order():
    rows = [dict(CAPSULES, rx=f"RX{i}", strength=s) for i, s in
            enumerate(["4.5mg", "4,5mg", "1.5mg", "4.5g", "", "3mg"])]
    rows.insert(2, {"form": "liquid", "strength": "1mg/mL", "volume": "100mL", "rx": "RXL"})
    out = plan_frame(frame(*rows))
    assert len(out) == 7
    assert out["row"].tolist() == [1, 2, 3, 4, 5, 6, 7]
    assert out["rx"].tolist() == ["RX0", "RX1", "RXL", "RX2", "RX3", "RX4", "RX5"]
    # the liquid warns: its Fawcett vehicle needs 100 mg sodium benzoate, below the 120 mg MWQ
    assert out["status"].tolist() == ["ok", "error", "warning", "ok", "refused", "error", "ok"]


def test_a_refused_row_shows_no_amounts_but_says_why():
    out = plan_frame(frame(dict(CAPSULES, opioid_use="yes"))).iloc[0]
    assert out["status"] == "refused"
    assert out["finding_codes"].split(";")[0] == "OPIOID_USE"
    assert out["findings"].startswith("REFUSED OPIOID_USE:")
    amounts = out[["capsules_to_prepare", "api_required_mg", "tablets_to_crush", "tablet_powder_mg",
                   "filler_total_mg", "route"]]
    assert amounts.isna().all()


def test_a_unit_slip_is_refused_with_the_suggestion():
    out = plan_frame(frame(dict(CAPSULES, strength="4.5g"))).iloc[0]
    assert out["status"] == "refused"
    assert "did you mean 4.5 mg?" in out["findings"]


def test_bad_cells_are_errors_naming_the_column_and_what_to_type():
    out = plan_frame(frame(dict(CAPSULES, strength="4.5"), dict(CAPSULES, filler="chalk"),
                           dict(CAPSULES, count="thirty"), dict(CAPSULES, form="troche")))
    assert (out["status"] == "error").all()
    errors = out["errors"].tolist()
    assert errors[0].startswith("strength: cannot read '4.5': it has no unit") and "4.5mg" in errors[0]
    assert errors[1].startswith("filler: unknown filler 'chalk'") and "mcc" in errors[1]
    assert errors[2].startswith("count: cannot read 'thirty'")
    assert errors[3].startswith("form: not one of capsules, liquid, drops")
    assert out["finding_codes"].isna().all()
    assert out["api_required_mg"].isna().all()


def test_a_row_may_have_several_errors_and_all_are_reported():
    out = plan_frame(frame(dict(CAPSULES, strength="4,5mg", overage="lots"))).iloc[0]
    assert out["errors"].startswith("strength: ") and "; overage: " in out["errors"]


def test_empty_rows_and_missing_required_cells():
    out = plan_frame(frame(dict.fromkeys(CAPSULES, None), {"form": "capsules", "strength": "4.5mg"},
                           {"form": None, "strength": "4.5mg"}))
    assert out["errors"].tolist() == [
        "the row is empty: nothing to plan.",
        "count: no value given: type the number of capsules, e.g. 30.",
        "form: no value given: type capsules, liquid or drops.",
    ]


def test_bud_from_the_compounding_date_day_1():
    out = plan_frame(frame(dict(CAPSULES, compounded="2025-03-10"),
                           {"form": "liquid", "strength": "1mg/mL", "volume": "50mL", "source": "tablet",
                            "vehicle": "purified-water", "compounded": "2025-03-10"},
                           {"form": "liquid", "strength": "1mg/mL", "volume": "50mL", "source": "tablet",
                            "vehicle": "purified-water", "compounded": "2025-03-10", "storage": "room"}))
    # Capsules: nonaqueous solid, 180 days, Day 1 = compounding day: 2025-03-10 + 179 days
    # (21 left in March + 30 + 31 + 30 + 31 + 31 = 174 to 31 August, + 5) = 2025-09-05.
    assert out.loc[0, "beyond_use_date"] == "2025-09-05" and out.loc[0, "bud_days"] == 180
    assert out.loc[0, "bud_limit"] == "USP <795> (2023) nonaqueous-solid"
    # Unpreserved water: 14 days refrigerated: 2025-03-10 + 13 = 2025-03-23.
    assert out.loc[1, "beyond_use_date"] == "2025-03-23" and out.loc[1, "bud_storage"] == "refrigerated"
    # ... and stored at room temperature it is refused: no BUD, no amounts.
    assert out.loc[2, "status"] == "refused" and "STORAGE_NOT_ALLOWED" in out.loc[2, "finding_codes"]
    assert pd.isna(out.loc[2, "beyond_use_date"]) and pd.isna(out.loc[2, "volume_ml"])


def test_day_zero_and_a_component_expiry():
    out = plan_frame(frame(dict(CAPSULES, compounded="2025-01-01", day_zero="yes"),
                           dict(CAPSULES, compounded="2025-01-01", component_expiry="API lot 7=2025-03")))
    # T23: other nonaqueous, Day 0: 2025-01-01 + 180 = 2025-06-30.
    assert out.loc[0, "beyond_use_date"] == "2025-06-30"
    # An expiry written 2025-03 is the last day of March, earlier than the 180-day limit.
    assert out.loc[1, "beyond_use_date"] == "2025-03-31"
    assert "EXPIRY_MONTH_END" in out.loc[1, "finding_codes"]


def test_bad_bud_cells_are_errors_before_planning():
    out = plan_frame(frame(dict(CAPSULES, compounded="2025-02-30"), dict(CAPSULES, compounded="10/03/2025"),
                           dict(CAPSULES, compounded="2025-03-10", study="nobody-2030")))
    assert (out["status"] == "error").all()
    assert "February 2025 has 28 days" in out.loc[0, "errors"]
    assert "year first" in out.loc[1, "errors"]
    assert out.loc[2, "errors"].startswith("study: ")


def test_info_findings_are_codes_only_warnings_and_refusals_have_text():
    out = plan_frame(frame(CAPSULES, dict(CAPSULES, strength="6mg"))).iloc[:2]
    assert pd.isna(out.loc[0, "findings"]) and "TABLET_EXCIPIENTS" in out.loc[0, "finding_codes"]
    assert out.loc[1, "status"] == "warning"
    assert out.loc[1, "findings"].startswith("WARNING DOSE_BAND_LDN_UPPER: Strength per capsule 6 mg")


def test_unrounded_values_on_request():
    rows = frame(dict(CAPSULES, strength="1mg", count="3", overage="0", tablet_weight="203.3mg"))
    rounded = plan_frame(rows).iloc[0]
    raw = plan_frame(rows, rounded=False).iloc[0]
    # 3 mg / 50 mg × 203.3 mg = 12.198 mg: 4 significant figures at output, float64 underneath.
    assert raw["tablet_powder_mg"] == pytest.approx(12.198, rel=1e-12)
    assert rounded["tablet_powder_mg"] == 12.2


def test_counts_are_integers_and_a_python_int_count_column_is_accepted():
    df = pd.DataFrame({"form": ["capsules"], "strength": ["4.5mg"], "count": [30], "overage": ["1"],
                       "tablet_weight": ["200mg"]})
    out = plan_frame(df)
    assert str(out["capsules_to_prepare"].dtype) == "Int64"
    assert out.loc[0, "capsules_to_prepare"] == 31


def test_columns_are_checked_before_any_row():
    with pytest.raises(InputError, match="unknown column 'strenght'"):
        plan_frame(pd.DataFrame({"form": ["capsules"], "strenght": ["4.5mg"]}))


def test_label_and_carried_columns_pass_through_unchanged():
    out = plan_frame(frame(dict(CAPSULES, rx="=1+1", patient="A. Patient", note="n", x_ward="4B"))).iloc[0]
    # plan_frame is for pipelines: text is not neutralised here (only in spreadsheet CSVs).
    assert (out["rx"], out["patient"], out["note"], out["x_ward"]) == ("=1+1", "A. Patient", "n", "4B")
    assert list(out.index[-2:]) == ["note", "x_ward"]


def test_a_million_identical_cells_are_read_once(monkeypatch):
    from compound.batch import plan_forms
    from compound.core import units

    calls = []
    real = units.parse

    def counting(text, kind, **kw):
        calls.append(text)
        return real(text, kind, **kw)

    monkeypatch.setattr(units, "parse", counting)
    monkeypatch.setattr(plan_forms, "_READ", {})  # nothing read before (cells are read once a process)
    out = plan_frame(frame(*[CAPSULES] * 2000))
    assert (out["capsules_to_prepare"] == 31).all()
    assert calls.count("4.5mg") == 1 and calls.count("200mg") == 1


def test_each_distinct_finding_message_is_built_once_and_only_when_shown(monkeypatch):
    from compound.planning.capsules import findings

    calls: list[float] = []
    real = findings.dose_band_finding
    monkeypatch.setattr(findings, "dose_band_finding",
                        lambda mg, *a, **k: calls.append(mg) or real(mg, *a, **k))
    made: list[str] = []
    real_finding = findings.Finding
    monkeypatch.setattr(findings, "Finding", lambda code, *a: made.append(code) or real_finding(code, *a))
    # 300 distinct prescriptions (tablet weights differ) of two strengths.
    rows = [dict(CAPSULES, strength=s, tablet_weight=f"{200 + k}mg")
            for s in ("4.5mg", "3mg") for k in range(150)]
    out = plan_frame(frame(*rows))
    assert len(out) == 300 and set(out["status"]) == {"ok"}
    # Every row shows the same codes (info findings show their code only, no message): one
    # representative's findings are built, once; the 3 mg rows' own messages are not built at all,
    # nor the message of an info finding of one code (TABLET_EXCIPIENTS: the worksheet shows its code).
    assert set(out["finding_codes"]) == {"DOSE_BAND_LDN;TABLET_EXCIPIENTS;CHECK_WEIGHT_BELOW_MWQ"}
    assert calls == [4.5] and made.count("TABLET_EXCIPIENTS") == 0


def test_nan_never_leaks_as_text():
    out = plan_frame(frame(CAPSULES))
    assert not out.isin(["nan", "None", "NaN"]).any().any()
    assert np.isfinite(out.loc[0, "blend_total_mg"])


def test_a_dataframe_may_hold_real_dates():
    import datetime as dt

    df = pd.DataFrame({"form": ["capsules"] * 3, "strength": ["4.5mg"] * 3, "count": ["30"] * 3,
                       "tablet_weight": ["200mg"] * 3,
                       "compounded": [dt.date(2025, 3, 10), pd.Timestamp("2025-03-10"),
                                      pd.Timestamp("2025-03-10 14:30")]})
    out = plan_frame(df)
    assert out["beyond_use_date"].tolist()[:2] == ["2025-09-05", "2025-09-05"]
    assert out.loc[2, "status"] == "error" and "time of day" in out.loc[2, "errors"]


def test_forms_and_choices_are_read_case_insensitively():
    out = plan_frame(frame(dict(CAPSULES, form="Capsules", source="Tablet"),
                           dict(CAPSULES, form=" CAPSULES ")))
    assert out["form"].tolist() == ["capsules", "capsules"]
    assert out["status"].tolist() == ["ok", "ok"]
