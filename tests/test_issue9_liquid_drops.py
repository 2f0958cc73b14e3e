"""Issue 9: liquids and drops never let a dangerous plan through (points 1-4, 9, 10).

Each figure is worked by hand in the comment above it.
"""

from __future__ import annotations

import datetime as dt

from compound.planning.dating import date_plan
from compound.planning.drops import plan_drops
from compound.planning.liquid import plan_liquid


def codes(plan):
    return [f.code for f in plan.findings]


def test_point1_drops_concentration_slip_is_refused_and_named():
    # 4.5 mg at 10 mcg/mL with 23 drops/mL: 4.5 / 0.01 x 23 = 10,350 drops per dose, above the
    # 20-drop maximum (rules.toml [dropper], pharmacy policy); the bottle holds 30 x 23 = 690
    # drops. At 10 mg/mL (the mg reading) it is 10.35 drops: a likely mg/mcg slip.
    # Least concentration for 20 drops: 4.5 x 23 / 20 = 5.175 mg/mL.
    plan = plan_drops(strength="10mcg/mL", calibration="46 drops/2mL", volume="30mL",
                      vehicle="purified-water", dose="4.5mg")
    assert plan.refused
    many = plan.finding("TOO_MANY_DROPS")
    assert many.data["drops_exact"] == 10350 and many.data["max_drops_per_dose"] == 20
    assert many.data["least_concentration_mg_per_ml"] == 5.175
    assert "Pharmacy policy" in many.data["source"]
    assert "690 drops" in plan.finding("LESS_THAN_ONE_DOSE").message
    slip = plan.finding("UNIT_SLIP_SUSPECTED")
    assert slip.data["factor"] == 1000 and slip.data["suggested_concentration_mg_per_ml"] == 10
    assert "10.35 drops" in slip.message


def test_point2_drops_overdose_by_rounding_is_refused_with_the_concentration_that_works():
    # 0.045 mg at 10 mg/mL, 23 drops/mL: 0.045 x 23 / 10 = 0.1035 drop -> 1 drop = 10 / 23 =
    # 0.4348 mg, +866.2 %. One drop exact at 0.045 x 23 = 1.035 mg/mL.
    plan = plan_drops(strength="10mg/mL", calibration="46 drops/2mL", volume="30mL",
                      vehicle="purified-water", dose="0.045mg")
    f = plan.finding("DOSE_BELOW_ONE_DROP")
    assert plan.refused and f.severity.name == "REFUSAL"
    assert f.data["dose_error_pct"] == 866.2
    assert f.data["suggested_concentration_mg_per_ml"] == 1.035 and "1.035 mg/mL" in f.message
    # 4.5 mcg: 0.01035 drop -> 1 drop = 0.4348 mg = +9,562 %; the dose itself is a 1000x slip.
    plan = plan_drops(strength="10mg/mL", calibration="46 drops/2mL", volume="30mL",
                      vehicle="purified-water", dose="4.5mcg")
    assert plan.refused and plan.finding("DOSE_BELOW_ONE_DROP").data["dose_error_pct"] == 9562
    assert codes(plan).count("UNIT_SLIP_SUSPECTED") == 1


def test_point3_liquid_supply_longer_than_the_bud():
    # 4.5 mg x 30 days at 1 mg/mL = 135 mL, raised to 3 whole tablets = 150 mL; 150 / 4.5 =
    # 33.3 -> 33 days. Compounded 2025-03-10, aqueous-unpreserved BUD 14 days (Day 1) =
    # 2025-03-23: 14 usable days, 14 x 4.5 = 63 mL per preparation, ceil(33 / 14) = 3.
    plan = plan_liquid("1mg/mL", dose="4.5mg", days="30", source="tablet", vehicle="purified-water")
    default = plan.finding("SUPPLY_LONGER_THAN_BUD")  # the vehicle's default BUD, no date given
    assert default.data["usable_days"] == 14 and default.data["preparations"] == 3
    date_plan(plan, dt.date(2025, 3, 10))
    f = [x for x in plan.findings if x.code == "SUPPLY_LONGER_THAN_BUD"]
    assert len(f) == 1 and f[0].severity.name == "WARNING"
    assert f[0].data == {"days_needed": 33, "usable_days": 14, "preparations": 3,
                         "beyond_use_date": "2025-03-23", "volume_allowed_ml": 63,
                         "source": f[0].data["source"]}
    assert "63 mL" in f[0].message and "3 preparations" in f[0].message


def test_point3_drops_supply_longer_than_the_default_bud():
    # 100 mL at 10 mg/mL, USP dropper 20 drops/mL, 4.5 mg = 9 drops: 100 x 20 / 9 = 222 days
    # against purified water's 14-day default: ceil(222 / 14) = 16 preparations of
    # 14 x 9 / 20 = 6.3 mL.
    plan = plan_drops(strength="10mg/mL", volume="100mL", dose="4.5mg", vehicle="purified-water")
    assert plan.to_dict()["days_supply"] == 222
    f = plan.finding("SUPPLY_LONGER_THAN_BUD")
    assert f.data["preparations"] == 16 and f.data["volume_allowed_ml"] == 6.3
    # 30 mL: 66 days, within the Fawcett vehicle's 35-day default? No: 66 > 35 -> 2 preparations.
    plan = plan_drops(strength="10mg/mL", volume="30mL", dose="4.5mg")
    assert plan.finding("SUPPLY_LONGER_THAN_BUD").data["preparations"] == 2
    # 10 mL: 10 x 20 / 9 = 22 days, within 35: no finding.
    assert plan_drops(strength="10mg/mL", volume="10mL", dose="4.5mg").finding(
        "SUPPLY_LONGER_THAN_BUD") is None


def test_point4_less_than_one_dose_in_the_container_is_refused():
    # 4.5 mg at 0.1 mg/mL = 45 mL a dose; 30 mL holds 0.67 of a dose.
    plan = plan_liquid("0.1mg/mL", volume="30mL", dose="4.5mg", source="api")
    assert plan.refused and "45 mL" in plan.finding("LESS_THAN_ONE_DOSE").message
    # 45 mL is 10x a 4.5 mL dose at 1 mg/mL: a decimal slip, named.
    assert plan.finding("UNIT_SLIP_SUSPECTED").data["factor"] == 10


def test_point9_refusal_names_the_real_limit_63_litres():
    # 4.5 mg / 0.001 mg/mL x 14 days = 63,000 mL = 63 L > 5 L (rules.toml [batch_limits]).
    plan = plan_liquid("1mcg/mL", dose="4.5mg", days="14d")
    assert plan.refused and [f.code for f in plan.findings if f.severity.name == "REFUSAL"] == [
        "BATCH_TOO_LARGE"]
    f = plan.finding("BATCH_TOO_LARGE")
    assert f.data["value"] == 63000 and f.data["limit"] == 5000 and "(63 L)" in f.message
    assert "DILUTION_VOLUME_TOO_SMALL" not in codes(plan)
    assert plan.finding("UNIT_SLIP_SUSPECTED").data["suggested_concentration_mg_per_ml"] == 1


def test_point5_absurd_liquid_volume_is_refused_with_the_limit():
    plan = plan_liquid("1mg/mL", volume="1000000000mL")
    assert plan.refused and plan.finding("BATCH_TOO_LARGE").data["limit"] == 5000
    plan = plan_drops(strength="10mg/mL", volume="6L", dose="4.5mg")
    assert plan.refused and plan.finding("BATCH_TOO_LARGE").data["value"] == 6000
