"""Serial (microgram) dilutions: hand-checked stages, exactness, limits, refusals.

The rules used (data/rules.toml [dilution], data/measuring_devices.csv): stock and
intermediate stages made up to 100 mL; stage factors 2, 4, 5, 10, 20, 25, 50, 100;
every measured volume >= 1 mL and a whole number of marks of a listed device; the
last aliquot at most (1 - vehicle liquids - 10 % headroom) of the final volume;
Class III balance, MWQ = 6 mg / 5 % = 120 mg.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compound.core.dilution import (
    Devices,
    DilutionInputs,
    DilutionRules,
    largest_measurable,
    serial_dilution,
    smallest_measurable,
)
from compound.core.rounding import format_concentration
from compound.core.units import parse
from compound.errors import InputError
from compound.planning.dilution import dilution_rules, plan_dilution

DEVICES = Devices(
    capacity_ml=(1, 3, 5, 10, 10, 25, 50, 100),
    graduation_ml=(0.01, 0.1, 0.2, 0.2, 0.2, 0.5, 1, 1),
    min_volume_ml=(0.1, 0.1, 0.2, 0.2, 2, 5, 10, 20),
)
RULES = DilutionRules(vessel_ml=100, max_factor=100, stage_factors=(2, 4, 5, 10, 20, 25, 50, 100),
                      min_volume_ml=1, max_stages=4, devices=DEVICES)


def run(c, v, p=1.0, mwq=120.0, room=0.9, sol=100.0, rules=RULES):
    c = np.atleast_1d(np.asarray(c, dtype=float))
    v = np.broadcast_to(np.asarray(v, dtype=float), c.shape).copy()

    def col(x):
        return np.broadcast_to(np.asarray(x, dtype=float), c.shape).copy()

    return serial_dilution(DilutionInputs(c, v, col(p), col(mwq), col(room), col(sol)), rules)


def test_shipped_rules_match_the_ones_these_tests_assume():
    shipped = dilution_rules()
    assert (shipped.vessel_ml, shipped.max_factor, shipped.min_volume_ml, shipped.max_stages) == \
        (100, 100, 1, 4)
    assert shipped.stage_factors == (2, 4, 5, 10, 20, 25, 50, 100)
    assert sorted(zip(shipped.devices.capacity_ml, shipped.devices.graduation_ml, strict=True)) == \
        sorted(zip(DEVICES.capacity_ml, DEVICES.graduation_ml, strict=True))


def test_one_mcg_per_ml_in_30_ml_by_hand():
    # 1 mcg/mL = 0.001 mg/mL; 30 mL holds 0.03 mg (30 mcg), far below the 120 mg MWQ.
    # Stock of 120 mg in 100 mL would be 1.2 mg/mL: factor needed R = 1.2 / 0.001 = 1200.
    # The last stage takes at least 1 mL into 30 mL: at most 1:30; 1200 / 30 = 40 remains,
    # so one 100 mL stage of the smallest listed factor >= 40: 1:50 (2 mL -> 100 mL).
    # Last aliquot <= 30 x 50 / 1200 = 1.25 mL -> 1.2 mL (3 mL syringe, 0.1 mL marks): 1:25.
    # Overall 50 x 25 = 1250; stock 0.001 x 1250 = 1.25 mg/mL; weigh 1.25 x 100 = 125 mg.
    plan = plan_dilution("1mcg/mL", "30mL", vehicle="purified-water")
    d = plan.to_dict()
    assert d["status"] == "ok"
    assert d["api_mg"] == 0.03
    assert d["api_to_weigh_mg"] == 125
    assert d["stock_concentration_mg_per_ml"] == 1.25
    assert d["stock_volume_ml"] == 100
    assert d["stage_count"] == 2
    assert d["overall_factor"] == 1250
    s1, s2 = d["stages"]
    assert (s1["take_ml"], s1["make_up_to_ml"], s1["factor"], s1["concentration_mg_per_ml"]) == \
        (2, 100, 50, 0.025)
    assert (s2["take_ml"], s2["make_up_to_ml"], s2["factor"], s2["concentration_mg_per_ml"]) == \
        (1.2, 30, 25, 0.001)
    # Every weighing >= MWQ (120 mg), every measured volume >= 1 mL.
    assert d["api_to_weigh_mg"] >= 120
    assert all(s["take_ml"] >= 1 for s in d["stages"])
    # The worksheet says it in words a pharmacist uses.
    text = plan.worksheet()
    assert "Stage 1: take 2 mL of the stock, make up to 100 mL with purified water: 25 mcg/mL" in text
    assert "Stage 2: take 1.2 mL of stage 1, make up to 30 mL with Purified water" in text


def test_fawcett_vehicle_leaves_room_for_glycerol():
    # Fawcett: glycerol 20 mL per 100 mL; with 10 % headroom the last aliquot may take at most
    # 70 % of 30 mL = 21 mL. The 1 mcg/mL plan takes 1.2 mL, well within.
    d = plan_dilution("1mcg/mL", "30mL").to_dict()
    assert d["stages"][-1]["take_ml"] <= 21
    names = [c["name"] for c in d["vehicle"]["components"]]
    assert names == ["Ascorbic acid", "Sodium benzoate", "Glycerol", "Purified water"]


def test_twenty_mcg_per_ml_clonidine_style_arithmetic():
    # prior-art T28: 6 mg in 300 mL = 20 mcg/mL.
    assert parse("20mcg/mL", "concentration").value == pytest.approx(6 / 300, rel=1e-15)
    assert format_concentration(6 / 300) == "20 mcg/mL"
    d = plan_dilution("20mcg/mL", "300mL", vehicle="purified-water").to_dict()
    assert d["api_mg"] == 6
    # R = 120 / (0.02 x 100) = 60 <= the 1:100 a 300 mL last stage allows (3 mL minimum aliquot):
    # one stage, aliquot 300 / 60 = 5 mL; weigh 0.02 x 60 x 100 = 120 mg (UNC's pattern: weigh the
    # MWQ, dissolve to a stock, take an aliquot, make up to volume).
    assert d["stage_count"] == 1
    assert d["api_to_weigh_mg"] == 120
    assert d["stages"][0]["take_ml"] == 5
    assert d["stages"][0]["factor"] == 60


def test_direct_weighing_needs_no_dilution():
    # 1 mg/mL x 200 mL = 200 mg >= 120 mg: weigh it directly.
    plan = plan_dilution("1mg/mL", "200mL")
    d = plan.to_dict()
    assert d["stage_count"] == 0 and d["stages"] == []
    assert d["api_to_weigh_mg"] == 200
    assert plan.finding("DILUTION_NOT_NEEDED") is not None


def test_dihydrate_stock_weighing_is_salt_corrected():
    # Dihydrate, theoretical water 8.705 %, assay 100 %: p = 1 / (1 - 0.08705) = 1.09535 mg powder
    # per mg HCl. 120 mg of powder holds 109.55 mg HCl: R = 109.55 / (0.001 x 100) = 1095.5;
    # after the last stage's 1:30, 36.5 remains -> 1:50 (2 mL -> 100 mL); last aliquot
    # <= 30 x 50 / 1095.5 = 1.369 mL -> 1.3 mL (1:23.08); overall 50 x 30 / 1.3 = 1153.8;
    # stock 1.1538 mg/mL HCl; powder 1.1538 x 100 x 1.09535 = 126.4 mg (>= 120).
    d = plan_dilution("1mcg/mL", "30mL", api_form="dihydrate").to_dict()
    assert [s["take_ml"] for s in d["stages"]] == [2, 1.3]
    assert d["overall_factor"] == pytest.approx(50 * 30 / 1.3, rel=5e-4)
    assert d["api_to_weigh_mg"] == pytest.approx(0.001 * (50 * 30 / 1.3) * 100 / (1 - 0.08705),
                                                 rel=5e-4)
    assert d["api_to_weigh_mg"] == 126.4


def test_measurable_volume_helpers():
    # 1.25 mL: the 1 mL syringe cannot hold it; on the 3 mL syringe (0.1 mL marks) 1.2 mL.
    assert largest_measurable(np.array([1.25]), DEVICES)[0] == 1.2
    assert smallest_measurable(np.array([0.3]), DEVICES)[0] == 0.3
    assert smallest_measurable(np.array([27.3]), DEVICES)[0] == 28  # 50 mL cylinder, 1 mL marks
    assert math.isnan(largest_measurable(np.array([0.05]), DEVICES)[0])  # below every minimum


@settings(max_examples=200, deadline=None)
@given(
    target=st.floats(min_value=0.0001, max_value=0.5),
    volume=st.floats(min_value=5, max_value=1000),
    powder=st.floats(min_value=1.0, max_value=1.2),
    room=st.floats(min_value=0.5, max_value=0.9),
)
def test_property_exact_weighable_measurable(target, volume, powder, room):
    r = run(target, volume, p=powder, room=room)
    assert not any(mask[0] for mask in r.masks.values())
    n = int(r.stage_count[0])
    factors = r.factor[0, :n]
    takes = r.take_ml[0, :n]
    # Exact: stock / product of stage factors is the target (no drift from rounding a volume).
    assert r.stock_mg_per_ml[0] / np.prod(factors) == pytest.approx(target, rel=1e-12)
    assert r.mg_per_ml[0, n - 1] == target if n else True
    # Each stage factor is what its volumes say.
    assert np.allclose(factors, r.make_up_to_ml[0, :n] / takes, rtol=1e-12)
    # Every weighing >= MWQ (1e-9 relative: float noise far below any balance's resolution).
    assert r.weigh_mg[0] >= 120 * (1 - 1e-9)
    assert r.weigh_mg[0] == pytest.approx(r.stock_hcl_mg[0] * powder, rel=1e-12)
    # Every measured volume >= 1 mL and a whole number of marks of a device that holds it.
    assert np.all(takes >= 1 - 1e-12)
    for take in takes:
        assert any(take <= cap and abs(take / g - round(take / g)) < 1e-9 and take >= low
                   for cap, g, low in zip(DEVICES.capacity_ml, DEVICES.graduation_ml,
                                          DEVICES.min_volume_ml, strict=True))
    # Each stage at most 1:100; the last aliquot leaves room for the vehicle.
    assert np.all(factors <= 100 + 1e-9)
    if n:
        assert takes[-1] <= room * volume + 1e-9
    assert n <= 4


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.floats(0.0001, 0.5), st.floats(5, 500)), min_size=1, max_size=20))
def test_property_n_rows_equal_n_single_rows_bitwise(rows):
    c = np.array([r[0] for r in rows])
    v = np.array([r[1] for r in rows])
    together = run(c, v)
    for i in range(len(rows)):
        alone = run(c[i:i + 1], v[i:i + 1])
        for name in ("weigh_mg", "stock_mg_per_ml", "overall_factor"):
            assert np.array_equal(getattr(together, name)[i:i + 1], getattr(alone, name),
                                  equal_nan=True)
        for name in ("factor", "take_ml", "make_up_to_ml", "mg_per_ml"):
            assert np.array_equal(getattr(together, name)[i:i + 1], getattr(alone, name),
                                  equal_nan=True)


def test_too_many_stages_is_refused():
    # 1 pg/mL = 1e-9 mg/mL: R = 120 / (1e-9 x 100) = 1.2e9; after the last stage's 1:30, 4e7
    # remains = 4 more stages of 1:100: 5 stages > the 4 allowed.
    r = run(1e-9, 30)
    assert r.masks["DILUTION_TOO_MANY_STAGES"][0]
    plan = plan_dilution("0.000001mcg/mL", "30mL")
    assert plan.refused and plan.finding("DILUTION_TOO_MANY_STAGES")
    d = plan.to_dict()
    assert "api_to_weigh_mg" not in d and "stages" not in d and "steps" not in d


def test_too_small_a_volume_is_refused():
    # 1 mL final: the last aliquot may take 0.7 mL (Fawcett) but must be at least 1 mL.
    plan = plan_dilution("1mcg/mL", "1mL")
    assert plan.refused and plan.finding("DILUTION_VOLUME_TOO_SMALL")


def test_above_solubility_is_refused():
    plan = plan_dilution("150mg/mL", "30mL")
    assert plan.refused and plan.finding("CONCENTRATION_ABOVE_SOLUBILITY")


def test_zero_and_negative_inputs_are_refused():
    assert plan_dilution("0mcg/mL", "30mL").finding("NON_POSITIVE_INPUT")
    assert plan_dilution("1mcg/mL", "-30mL").finding("NON_POSITIVE_INPUT")
    assert plan_dilution("1mcg/mL", "30mL", dose="0mcg").finding("DOSE_BAND_ZERO")


def test_microgram_dose_is_vldn_without_a_unit_slip_warning():
    plan = plan_dilution("1mcg/mL", "30mL", dose="5mcg")
    assert plan.finding("DOSE_BAND_VLDN") is not None
    assert plan.finding("UNIT_SLIP_SUSPECTED") is None  # micrograms are the point here
    assert plan.to_dict()["dose_volume_ml"] == 5  # 5 mcg / 1 mcg/mL


def test_uldn_dose_band():
    plan = plan_dilution("0.1mcg/mL", "30mL", dose="0.5mcg")
    assert plan.finding("DOSE_BAND_ULDN") is not None
    assert not plan.refused


def test_from_tablets_needs_the_tablet_weight():
    with pytest.raises(InputError, match="tablet weight"):
        plan_dilution("1mcg/mL", "30mL", source="tablet")


def test_from_tablet_powder():
    # 200 mg tablets of 50 mg: 4 mg powder per mg HCl, so a 30 mg HCl stock (R = 30 / 0.1 = 300)
    # ... the weighing is of powder: >= 120 mg, and the plan warns that the stock is a suspension.
    plan = plan_dilution("1mcg/mL", "30mL", source="tablet", tablet_weight="200mg")
    d = plan.to_dict()
    assert d["api_to_weigh_mg"] >= 120
    assert d["api_to_weigh_mg"] == pytest.approx(d["stock_concentration_mg_per_ml"] * 100 * 4, rel=1e-3)
    assert plan.finding("SUSPENSION_ALIQUOTS").severity.name == "WARNING"


def test_opioid_refusal_and_override():
    assert plan_dilution("1mcg/mL", "30mL", opioid_use=True).finding("OPIOID_USE")
    plan = plan_dilution("1mcg/mL", "30mL", opioid_use=True, override_opioid="prescriber confirmed")
    assert not plan.refused
    assert plan.to_dict()["inputs"]["override_opioid"] == "prescriber confirmed"


def test_missing_inputs():
    with pytest.raises(InputError, match="strength and a volume"):
        plan_dilution("1mcg/mL", None)
