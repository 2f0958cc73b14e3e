"""Sublingual drops: calibration (prior-art T27), whole drops, the uncalibrated dropper, refusals."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compound.core.drops import DropsInputs, drops_dose, drops_per_ml
from compound.core.units import Q_, parse
from compound.errors import InputError, UnitInputError
from compound.planning.drops import plan_drops


def test_t27_calibration():
    # prior-art T27: 35 drops fill 2 mL -> 17.5 drops/mL; 46 drops / 2 mL -> 23 drops/mL.
    assert float(drops_per_ml(35, 2)) == 17.5
    assert float(drops_per_ml(46, 2)) == 23
    assert parse("46 drops/2mL", "calibration").value == 23


def test_per_drop_target():
    # 0.5 mg per drop (Dickson drops) x 23 drops/mL = 11.5 mg/mL; 30 mL x 11.5 = 345 mg API.
    plan = plan_drops(per_drop="0.5mg/drop", calibration="46 drops/2mL", volume="30mL")
    d = plan.to_dict()
    assert d["drops_per_ml"] == 23
    assert d["concentration_mg_per_ml"] == 11.5
    assert d["api_mg"] == 345
    assert d["api_to_weigh_mg"] == 345  # anhydrous HCl, assay 100 % assumed
    assert plan.finding("DROPPER_UNCALIBRATED") is None
    assert plan.drops_per_ml == Q_(23, "drop/mL")  # not mL: the key's unit is drops per mL
    assert plan.concentration == Q_(11.5, "mg/mL") and plan.api == Q_(345, "mg")
    # The CLI passes '0.5mg' (no '/drop'): the same.
    assert plan_drops(per_drop="0.5mg", drops_per_ml="23", volume="30mL").to_dict()[
        "concentration_mg_per_ml"] == 11.5


def test_fixed_concentration_whole_drops():
    # 10 mg/mL, 23 drops/mL, 4.5 mg: 4.5 x 23 / 10 = 10.35 drops -> 10 drops ->
    # 10 x 10 / 23 = 4.348 mg, 4.348 / 4.5 - 1 = -3.38 % (within +/-10 %).
    plan = plan_drops(strength="10mg/mL", drops_per_ml=23, volume="30mL", dose="4.5mg")
    d = plan.to_dict()
    assert d["drops_per_dose"] == 10
    assert d["dose_delivered_mg"] == 4.348
    assert d["dose_error_pct"] == pytest.approx((10 * 10 / 23 / 4.5 - 1) * 100, abs=0.001)
    assert d["dose_error_pct"] == -3.382
    assert plan.finding("DROPS_DOSE_ROUNDED") is not None
    assert plan.finding("DROPS_DOSE_NOT_WHOLE") is None
    assert plan.drops_per_dose == 10


def test_no_whole_drop_within_tolerance_is_refused():
    # 0.3 mg at 10 mg/mL, 20 drops/mL: 0.3 x 20 / 10 = 0.6 drop -> 1 drop = 0.5 mg, +66.7 %:
    # outside +/-10 % (rules [dropper] dose_tolerance_pct), so refused (issue 9, point 2).
    # The concentration that makes 1 drop exact: 0.3 x 20 / 1 = 6 mg/mL.
    plan = plan_drops(strength="10mg/mL", drops_per_ml=20, volume="30mL", dose="0.3mg")
    assert plan.refused and "drops_per_dose" not in plan.to_dict()
    f = plan.finding("DROPS_DOSE_NOT_WHOLE")
    assert f.severity.name == "REFUSAL"
    assert f.data["dose_error_pct"] == 66.67
    assert f.data["suggested_concentration_mg_per_ml"] == 6
    assert "6 mg/mL" in f.message and "+66.67 %" in f.message


def test_whole_drops_off_by_more_than_10_pct_are_refused():
    # 1.5 mg at 10 mg/mL, 23 drops/mL: 1.5 x 23 / 10 = 3.45 drops -> 3 drops = 3 x 10 / 23 =
    # 1.304 mg, -13.04 %: refused; 1.5 x 23 / 3 = 11.5 mg/mL makes 3 drops exact.
    plan = plan_drops(strength="10mg/mL", drops_per_ml=23, volume="30mL", dose="1.5mg")
    f = plan.finding("DROPS_DOSE_NOT_WHOLE")
    assert plan.refused and f.severity.name == "REFUSAL"
    assert f.data["dose_error_pct"] == -13.04 and f.data["suggested_concentration_mg_per_ml"] == 11.5
    assert "11.5 mg/mL" in f.message


def test_dose_below_one_drop():
    # 0.1 mg at 10 mg/mL, 20 drops/mL: 0.2 drop; 1 drop = 0.5 mg (+400 %); 2 mg/mL would be exact.
    plan = plan_drops(strength="10mg/mL", drops_per_ml=20, volume="30mL", dose="0.1mg")
    f = plan.finding("DOSE_BELOW_ONE_DROP")
    assert plan.refused and f.data["suggested_concentration_mg_per_ml"] == pytest.approx(2)


def test_uncalibrated_dropper():
    # USP <1101>: a drop of water weighs 45-55 mg -> 1000 / 55 = 18.18 to 1000 / 45 = 22.22
    # drops/mL (issue 9, point 10). 10 mg/mL, 4.5 mg: 4.5 x 20 / 10 = 9 drops; at 22.22 drops/mL
    # 9 x 10 / 22.22 = 4.05 mg, at 18.18 drops/mL 9 x 10 / 18.18 = 4.95 mg.
    plan = plan_drops(strength="10mg/mL", volume="30mL", dose="4.5mg")
    d = plan.to_dict()
    assert d["drops_per_ml"] == 20 and d["drops_per_dose"] == 9
    assert d["dose_delivered_low_mg"] == 4.05 and d["dose_delivered_high_mg"] == 4.95
    f = plan.finding("DROPPER_UNCALIBRATED")
    assert f.severity.name == "WARNING"
    assert f.data["drops_per_ml_low"] == 18.18 and f.data["drops_per_ml_high"] == 22.22
    assert "18.18–22.22 drops/mL" in f.message and "4.05 mg to 4.95 mg" in f.message
    assert "45–55 mg" in f.message
    assert d["status"] == "warning"


def test_dose_as_drops_with_a_calibration():
    # 9 drops at 10 mg/mL, 23 drops/mL: 9 x 10 / 23 = 3.913 mg.
    d = plan_drops(strength="10mg/mL", calibration="46 drops/2mL", volume="30mL",
                   dose="9 drops").to_dict()
    assert d["drops_per_dose"] == 9 and d["dose_delivered_mg"] == 3.913 and d["dose_error_pct"] == 0


def test_drops_from_tablets_warn():
    # 10 mg/mL x 30 mL = 300 mg = 6 tablets exactly.
    plan = plan_drops(strength="10mg/mL", drops_per_ml=20, volume="30mL", dose="4.5mg",
                      source="tablet")
    assert plan.to_dict()["tablets_to_crush"] == 6
    assert plan.finding("DROPS_FROM_SUSPENSION").severity.name == "WARNING"


def test_drops_from_tablets_not_whole_raises_the_volume():
    # 11.5 mg/mL x 30 mL = 345 mg = 6.9 tablets -> 7 tablets = 350 mg / 11.5 = 30.43 mL.
    plan = plan_drops(per_drop="0.5mg", drops_per_ml=23, volume="30mL", source="tablet")
    d = plan.to_dict()
    assert d["tablets_to_crush"] == 7 and d["volume_ml"] == 30.43
    assert plan.finding("VOLUME_ADJUSTED_TO_WHOLE_TABLETS") is not None


def test_low_per_drop_from_api_uses_an_aliquot():
    # 0.01 mg per drop x 20 drops/mL = 0.2 mg/mL x 30 mL = 6 mg < 120 mg: stock and aliquot.
    plan = plan_drops(per_drop="0.01mg", drops_per_ml=20, volume="30mL")
    d = plan.to_dict()
    assert d["api_mg"] == 6 and d["api_to_weigh_mg"] >= 120 and d["aliquot"]["stages"]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"per_drop": "0.5mg", "strength": "10mg/mL", "volume": "30mL"}, "not both"),
    ({"volume": "30mL"}, "neither"),
    ({"strength": "10mg/mL"}, "volume"),
    ({"strength": "10mg/mL", "volume": "30mL", "calibration": "46 drops/2mL", "drops_per_ml": 23},
     "calibration once"),
    ({"strength": "10mg/mL", "volume": "30mL", "dose": "9gtt"}, "not calibrated"),
    ({"strength": "10mg/mL", "volume": "30mL", "drops_per_ml": 23, "dose": "9.5 drops"},
     "whole number of drops"),
])
def test_input_errors(kwargs, message):
    with pytest.raises(InputError, match=message):
        plan_drops(**kwargs)


@pytest.mark.parametrize("calibration", ["46 drops", "0 drops/2mL", "46 drops/0mL", "46/2mL"])
def test_bad_calibrations(calibration):
    with pytest.raises(UnitInputError):
        plan_drops(strength="10mg/mL", volume="30mL", calibration=calibration)


def test_refusals():
    assert plan_drops(strength="0mg/mL", drops_per_ml=20, volume="30mL").finding("NON_POSITIVE_INPUT")
    assert plan_drops(strength="10mg/mL", drops_per_ml=20, volume="0mL").finding("NON_POSITIVE_INPUT")
    assert plan_drops(strength="10mg/mL", drops_per_ml=20, volume="30mL",
                      dose="0 drops").finding("NON_POSITIVE_INPUT")
    plan = plan_drops(strength="10mg/mL", drops_per_ml=20, volume="30mL", dose="4.5g")
    assert plan.refused and plan.finding("UNIT_SLIP_SUSPECTED")
    plan = plan_drops(strength="10mg/mL", drops_per_ml=20, volume="30mL", dose="4.5mg",
                      opioid_use=True)
    assert plan.refused and "drops_per_dose" not in plan.to_dict()
    plan = plan_drops(strength="150mg/mL", drops_per_ml=20, volume="30mL")
    assert plan.refused and plan.finding("CONCENTRATION_ABOVE_SOLUBILITY")


def test_microgram_dose_warns_of_a_possible_slip():
    plan = plan_drops(strength="10mg/mL", drops_per_ml=20, volume="30mL", dose="4.5mcg")
    assert plan.finding("UNIT_SLIP_SUSPECTED").severity.name == "WARNING"


def _drops_inputs(per_drop, conc, dpm, dose, calibrated=True):
    n = len(dpm)

    def col(x):
        return np.broadcast_to(np.asarray(x, dtype=float), (n,)).copy()

    return DropsInputs(np.asarray(per_drop, float), np.asarray(conc, float), np.asarray(dpm, float),
                       np.asarray(dose, float), col(np.nan), col(0.1),
                       np.broadcast_to(calibrated, (n,)).copy(), col(18), col(22), col(30),
                       col(20))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.floats(0.5, 50), st.floats(10, 40), st.floats(0.05, 10)),
                min_size=1, max_size=20))
def test_property_rows_bitwise_and_delivered_consistent(rows):
    conc, dpm, dose = (np.array(c) for c in zip(*rows, strict=True))
    nan = np.full(len(rows), np.nan)
    together = drops_dose(_drops_inputs(nan, conc, dpm, dose))
    for i in range(len(rows)):
        alone = drops_dose(_drops_inputs(nan[:1], conc[i:i + 1], dpm[i:i + 1], dose[i:i + 1]))
        for name in ("drops_per_dose", "dose_delivered_mg", "dose_error"):
            assert np.array_equal(getattr(together, name)[i:i + 1], getattr(alone, name))
    # Whole drops, at least one; delivered = drops x concentration / drops per mL.
    assert np.all(together.drops_per_dose >= 1)
    assert np.all(together.drops_per_dose == np.round(together.drops_per_dose))
    assert np.allclose(together.dose_delivered_mg, together.drops_per_dose * conc / dpm, rtol=1e-12)
    # The nearest whole drop: no other whole number of drops is closer to the dose.
    exact = dose * dpm / conc
    assert np.all((np.abs(together.drops_per_dose - exact) <= 0.5 + 1e-9)
                  | (together.drops_per_dose == 1))


@settings(max_examples=50, deadline=None)
@given(st.floats(0.01, 2), st.floats(10, 40))
def test_property_ten_times_per_drop_is_ten_times_concentration(per_drop, dpm):
    one = drops_dose(_drops_inputs([per_drop], [np.nan], [dpm], [np.nan]))
    ten = drops_dose(_drops_inputs([10 * per_drop], [np.nan], [dpm], [np.nan]))
    assert ten.concentration_mg_per_ml[0] == pytest.approx(10 * one.concentration_mg_per_ml[0],
                                                           rel=1e-12)
