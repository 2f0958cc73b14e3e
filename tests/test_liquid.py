"""Oral liquids: published cases (prior-art T1, T2, T3), whole tablets, aliquots, refusals.

Hand arithmetic is written next to each assertion. Class III balance: MWQ = 6 mg / 5 % = 120 mg.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compound.core.dilution import Devices, DilutionRules
from compound.core.liquids import (
    LiquidInputs,
    choose_device,
    days_supply,
    dose_volume_ml,
    floor_count,
    prepare_liquid,
    volume_for_supply,
)
from compound.core.units import Q_
from compound.errors import InputError, UnitInputError
from compound.planning.liquid import plan_liquid

RULES = DilutionRules(100, 100, (2, 4, 5, 10, 20, 25, 50, 100), 1, 4,
                      Devices((1, 3, 5, 10, 10, 25, 50, 100), (0.01, 0.1, 0.2, 0.2, 0.2, 0.5, 1, 1),
                              (0.1, 0.1, 0.2, 0.2, 2, 5, 10, 20)))


def codes(plan):
    return {f.code for f in plan.findings}


# --- published cases ------------------------------------------------------------------------

def test_t1_one_tablet_in_50_ml():
    # prior-art T1 (nathankennard.com): 1 x 50 mg tablet in 50 mL = 1 mg/mL; 4.5 mg = 4.5 mL;
    # one tablet lasts 50 / 4.5 = 11.1 days -> 11 whole days.
    plan = plan_liquid("1mg/mL", volume="50mL", dose="4.5mg", vehicle="purified-water")
    d = plan.to_dict()
    assert d["concentration_mg_per_ml"] == 1
    assert d["tablets_to_crush"] == 1
    assert d["api_mg"] == 50
    assert d["dose_volume_ml"] == 4.5
    assert d["days_supply"] == 11
    assert plan.tablets_to_crush == 1 and plan.days_supply == 11
    assert plan.dose_volume == Q_(4.5, "mL")
    assert "SUSPENSION_SHAKE_WELL" in codes(plan)
    assert plan.finding("DOSE_BAND_LDN") is not None
    # 4.5 mL on a 5 mL syringe marked every 0.2 mL is 22.5 marks: not on a mark.
    assert d["device"]["key"] == "oral-syringe-5ml"
    assert plan.finding("DOSE_VOLUME_NOT_GRADUATED").data["dose_volume_ml"] == 4.5


def test_t2_fawcett_100_ml_from_two_tablets():
    # prior-art T2: 1 mg/mL x 100 mL = 100 mg = 2 x 50 mg tablets; per 100 mL ascorbic acid 0.5 g,
    # sodium benzoate 0.1 g, glycerol 20 mL, water to 100 mL.
    plan = plan_liquid("1mg/mL", volume="100mL", vehicle="fawcett-1997")
    d = plan.to_dict()
    assert d["tablets_to_crush"] == 2
    comps = {c["name"]: c for c in d["vehicle"]["components"]}
    assert comps["Ascorbic acid"]["amount_mg"] == 500
    assert comps["Sodium benzoate"]["amount_mg"] == 100
    assert comps["Glycerol"]["amount_ml"] == 20
    assert comps["Purified water"]["qs_to_ml"] == 100
    assert d["vehicle"]["bud_category"] == "aqueous-preserved"
    # 100 mg of sodium benzoate is below the 120 mg MWQ of a Class III balance.
    assert plan.finding("VEHICLE_COMPONENT_BELOW_MWQ").data["amount_mg"] == 100


@pytest.mark.parametrize(("volume", "ascorbic", "benzoate", "glycerol"), [
    ("30mL", 150, 30, 6),       # 500 x 30/100, 100 x 30/100, 20 x 30/100
    ("250mL", 1250, 250, 50),   # 500 x 2.5, 100 x 2.5, 20 x 2.5
])
def test_t2_fawcett_scaled(volume, ascorbic, benzoate, glycerol):
    d = plan_liquid("1mg/mL", volume=volume, source="api").to_dict()
    comps = {c["name"]: c for c in d["vehicle"]["components"]}
    assert comps["Ascorbic acid"]["amount_mg"] == ascorbic
    assert comps["Sodium benzoate"]["amount_mg"] == benzoate
    assert comps["Glycerol"]["amount_ml"] == glycerol
    assert comps["Purified water"]["qs_to_ml"] == d["volume_ml"]


def test_250_ml_from_five_tablets():
    # 1 mg/mL x 250 mL = 250 mg = 5 tablets exactly.
    assert plan_liquid("1mg/mL", volume="250mL").to_dict()["tablets_to_crush"] == 5


@pytest.mark.parametrize(("dose", "volume"), [("0.5mg", 0.1), ("1mg", 0.2), ("4.5mg", 0.9)])
def test_t3_five_mg_per_ml(dose, volume):
    # prior-art T3 (LDN Research Trust, Moser): 5 mg/mL: 0.1 mL = 0.5 mg, 0.2 mL = 1 mg;
    # our arithmetic 4.5 / 5 = 0.9 mL, measured with a 1 mL syringe (0.01 mL marks).
    plan = plan_liquid("5mg/mL", volume="30mL", dose=dose, source="api")
    d = plan.to_dict()
    assert d["dose_volume_ml"] == volume
    assert d["device"]["key"] == "oral-syringe-1ml"
    assert plan.finding("DOSE_VOLUME_NOT_GRADUATED") is None
    # 5 x 30 = 150 mg >= 120 mg: weighed directly.
    assert d["api_to_weigh_mg"] == 150 and "aliquot" not in d


def test_dose_times_days():
    # 4.5 mg x 14 days at 1 mg/mL = 4.5 / 1 x 14 = 63 mL; days supplied 63 / 4.5 = 14.
    assert float(volume_for_supply(4.5, 1.0, 14)) == 63
    plan = plan_liquid("1mg/mL", dose="4.5mg", days="14d", source="api")
    d = plan.to_dict()
    assert d["volume_ml"] == 63 and d["api_mg"] == 63 and d["days_supply"] == 14


def test_days_as_a_bare_number_and_in_weeks():
    assert plan_liquid("1mg/mL", dose="4.5mg", days="14", source="api").to_dict()["volume_ml"] == 63
    assert plan_liquid("1mg/mL", dose="4.5mg", days="2 weeks", source="api").to_dict()["volume_ml"] == 63


def test_floor_count_snaps_float_noise():
    # 63 / 4.5 may come out as 13.999999999999998 in float64; the count of days is 14.
    assert float(floor_count(13.999999999999998)) == 14
    assert float(days_supply(50, 4.5)) == 11


# --- whole tablets --------------------------------------------------------------------------

def test_not_whole_tablets_without_weight_raises_the_volume():
    # 1 mg/mL x 30 mL = 30 mg = 0.6 tablet; without a tablet weight: 1 whole tablet makes
    # 50 / 1 = 50 mL, 20 mL more than asked.
    plan = plan_liquid("1mg/mL", volume="30mL")
    d = plan.to_dict()
    assert d["volume_ml"] == 50 and d["tablets_to_crush"] == 1 and d["api_mg"] == 50
    f = plan.finding("VOLUME_ADJUSTED_TO_WHOLE_TABLETS")
    assert f.severity.name == "WARNING"
    assert f.data["requested_volume_ml"] == 30 and f.data["added_ml"] == 20
    assert "tablet-weight" in f.message


def test_not_whole_tablets_with_weight_weighs_powder():
    # 0.6 tablet x 200 mg = 120 mg of powder = the MWQ: weighed directly from 1 crushed tablet.
    plan = plan_liquid("1mg/mL", volume="30mL", tablet_weight="200mg")
    d = plan.to_dict()
    assert d["volume_ml"] == 30 and d["tablets_to_crush"] == 1
    assert d["tablet_powder_mg"] == 120
    assert "trituration" not in d
    assert plan.finding("TABLET_POWDER_WEIGHED") is not None
    assert plan.finding("VOLUME_ADJUSTED_TO_WHOLE_TABLETS") is None


def test_tablet_powder_below_mwq_is_triturated():
    # 0.1 mg/mL x 30 mL = 3 mg = 0.06 tablet x 200 mg = 12 mg of powder < 120 mg.
    # Factor max(2, ceil(120 / 12)) = 10: weigh 120 mg powder + 1080 mg diluent = 1200 mg,
    # weigh 12 x 10 = 120 mg of it.
    plan = plan_liquid("0.1mg/mL", volume="30mL", tablet_weight="200mg")
    d = plan.to_dict()
    assert d["tablet_powder_mg"] == 12
    t = d["trituration"]
    assert (t["stages"], t["factor_per_stage"], t["powder_mg"], t["diluent_per_stage_mg"],
            t["aliquot_mg"]) == (1, 10, 120, 1080, 120)
    assert plan.finding("TRITURATION_PLANNED") is not None


def test_tablet_weight_must_exceed_the_drug():
    with pytest.raises(InputError, match="cannot weigh"):
        plan_liquid("1mg/mL", volume="30mL", tablet_weight="40mg")


# --- API ------------------------------------------------------------------------------------

def test_api_below_mwq_uses_a_liquid_aliquot():
    # 0.1 mg/mL x 30 mL = 3 mg < 120 mg. Stock 120 mg in 100 mL = 1.2 mg/mL: R = 1.2 / 0.1 = 12
    # <= 1:30 (1 mL into 30 mL): one stage, aliquot 30 / 12 = 2.5 mL (3 mL syringe, 0.1 mL marks);
    # 2.5 mL x 1.2 mg/mL = 3 mg = 0.1 mg/mL x 30 mL.
    plan = plan_liquid("0.1mg/mL", volume="30mL", source="api", vehicle="purified-water")
    d = plan.to_dict()
    assert d["api_mg"] == 3
    assert d["api_to_weigh_mg"] == 120
    assert d["stock_concentration_mg_per_ml"] == 1.2
    (stage,) = d["aliquot"]["stages"]
    assert (stage["take_ml"], stage["make_up_to_ml"], stage["factor"]) == (2.5, 30, 12)
    assert plan.finding("LIQUID_ALIQUOT_REQUIRED") is not None


def test_dihydrate_api_is_salt_corrected():
    # 5 mg/mL x 30 mL = 150 mg HCl; dihydrate (water 8.705 %, assay 100 %): 150 / 0.91295 =
    # 164.3 mg, the molar ratio 150 x 413.89 / 377.86 = 164.3 mg.
    d = plan_liquid("5mg/mL", volume="30mL", source="api", api_form="dihydrate").to_dict()
    assert d["api_to_weigh_mg"] == pytest.approx(150 * 413.89 / 377.86, rel=2e-4)


def test_coa_assay_and_water():
    # 150 mg HCl / (0.992 x (1 - 0.005)) = 151.97 mg.
    d = plan_liquid("5mg/mL", volume="30mL", source="api", assay="99.2%", water="0.5%").to_dict()
    assert d["api_to_weigh_mg"] == pytest.approx(150 / (0.992 * 0.995), rel=5e-4)


def test_base_basis():
    # 1 mg/mL as base x 100 mL: HCl = 100 x 377.86 / 341.40 = 110.68 mg.
    d = plan_liquid("1mg/mL", volume="100mL", source="api", basis="base").to_dict()
    assert d["api_mg"] == pytest.approx(100 * 377.86 / 341.40, rel=5e-4)
    assert d["concentration_mg_per_ml"] == 1  # as written on the prescription


def test_base_api_is_not_a_solution_in_water():
    # Naltrexone base ~0.67 mg/mL in water: a 1 mg/mL liquid from base powder is refused.
    plan = plan_liquid("1mg/mL", volume="100mL", source="api", api_form="base")
    assert plan.refused and plan.finding("CONCENTRATION_ABOVE_SOLUBILITY")


def test_solubility():
    # Naltrexone HCl ~100 mg/mL in water (US labels): 150 mg/mL from API is refused.
    plan = plan_liquid("150mg/mL", volume="30mL", source="api")
    assert plan.refused and plan.finding("CONCENTRATION_ABOVE_SOLUBILITY")
    # 10 mg/mL from tablets is fine but a suspension: 10 x 100 = 1000 mg = 20 tablets.
    plan = plan_liquid("10mg/mL", volume="100mL")
    assert not plan.refused
    assert plan.to_dict()["tablets_to_crush"] == 20
    assert plan.finding("SUSPENSION_SHAKE_WELL") is not None


# --- devices --------------------------------------------------------------------------------

def test_device_choice():
    cap, grad, low = (1, 3, 5, 10), (0.01, 0.1, 0.2, 0.2), (0.1, 0.1, 0.2, 0.2)
    ch = choose_device(np.array([0.9, 2.5, 4.5, 4.4, 12.0, 0.05]), cap, grad, low)
    assert list(ch.index) == [0, 1, 2, 2, -1, 0]
    assert list(ch.on_graduation) == [True, True, False, True, False, True]
    assert list(ch.below_minimum) == [False, False, False, False, False, True]
    assert list(ch.above_largest) == [False, False, False, False, True, False]
    # T30-style volume arithmetic: 250 mcg at 2.5 mg/mL = 0.1 mL.
    assert float(dose_volume_ml(0.25, 2.5)) == pytest.approx(0.1, rel=1e-15)


def test_dose_volume_above_and_below_the_syringes():
    # 4.5 mg at 0.1 mg/mL = 45 mL: no oral syringe holds it.
    plan = plan_liquid("0.1mg/mL", volume="100mL", dose="4.5mg", source="api")
    assert plan.finding("DOSE_VOLUME_ABOVE_DEVICE") is not None
    # 0.5 mg at 50 mg/mL = 0.01 mL: below the 1 mL syringe's 0.1 mL.
    plan = plan_liquid("50mg/mL", volume="30mL", dose="0.5mg", source="api")
    assert plan.finding("DOSE_VOLUME_BELOW_MEASURABLE") is not None


# --- safety and errors ----------------------------------------------------------------------

def test_zero_volume_is_refused_and_withholds_amounts():
    plan = plan_liquid("1mg/mL", volume="0mL")
    assert plan.refused and plan.finding("NON_POSITIVE_INPUT")
    d = plan.to_dict()
    assert d["status"] == "refused"
    assert not {"volume_ml", "api_mg", "tablets_to_crush", "steps"} & set(d)
    assert "REFUSED" in plan.worksheet()


def test_negative_strength_and_zero_days_are_refused():
    assert plan_liquid("-1mg/mL", volume="30mL").finding("NON_POSITIVE_INPUT")
    assert plan_liquid("1mg/mL", dose="4.5mg", days="0d").finding("NON_POSITIVE_INPUT")


def test_dose_in_grams_is_refused_as_a_unit_slip():
    plan = plan_liquid("1mg/mL", volume="50mL", dose="4.5g")
    assert plan.refused
    assert plan.finding("DOSE_BAND_ABOVE_LDN").severity.name == "REFUSAL"
    assert plan.finding("UNIT_SLIP_SUSPECTED") is not None


def test_dose_bands():
    assert plan_liquid("1mg/mL", volume="50mL", dose="6mg").finding("DOSE_BAND_LDN_UPPER")
    assert plan_liquid("1mg/mL", volume="50mL", dose="0mg").finding("DOSE_BAND_ZERO")
    assert plan_liquid("1mg/mL", volume="50mL", dose="0.3mg").finding("DOSE_BAND_VLDN")


def test_opioid_refusal_and_override():
    plan = plan_liquid("1mg/mL", volume="50mL", dose="4.5mg", opioid_use=True)
    assert plan.refused and plan.finding("OPIOID_USE")
    plan = plan_liquid("1mg/mL", volume="50mL", dose="4.5mg", opioid_use=True,
                       override_opioid="prescriber confirmed opioid-free for 14 days")
    assert not plan.refused
    assert plan.finding("OPIOID_USE_OVERRIDDEN").severity.name == "WARNING"
    assert plan.to_dict()["inputs"]["override_opioid"] == "prescriber confirmed opioid-free for 14 days"


def test_implausible_assay_is_refused():
    plan = plan_liquid("5mg/mL", volume="30mL", source="api", assay="992%")
    assert plan.refused and plan.finding("ASSAY_IMPLAUSIBLE")
    assert plan_liquid("5mg/mL", volume="30mL", source="api", assay="97%").finding("ASSAY_OUTSIDE_USP")


def test_hydrate_mismatch_warning():
    plan = plan_liquid("5mg/mL", volume="30mL", source="api", water="8.7%")
    assert plan.finding("HYDRATE_MISMATCH").severity.name == "WARNING"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({}, "volume, or a dose and a number of days"),
    ({"volume": "30mL", "days": "14d", "dose": "4.5mg"}, "not both"),
    ({"days": "14d"}, "needs the dose"),
    ({"dose": "4.5mg", "days": "14.5d"}, "whole number of days"),
    ({"volume": "30mL", "overage": "1"}, "percentage"),
    ({"volume": "30mL", "assay": "99%"}, "describe API powder"),
    ({"volume": "30mL", "source": "api", "tablet_weight": "200mg"}, "describes tablets"),
    ({"volume": "30mL", "api_form": "dihydrate"}, "describes API powder"),
    ({"volume": "30mL", "source": "capsule"}, "not known"),
    ({"volume": "30mL", "vehicle": "syrup"}, "unknown vehicle"),
    ({"volume": "30mL", "product": "naltrexone-hcl-api"}, "not 'tablet'"),
])
def test_input_errors_say_what_to_give(kwargs, message):
    with pytest.raises(InputError, match=message) as exc:
        plan_liquid("1mg/mL", **kwargs)
    assert exc.value.exit_code == 2


@pytest.mark.parametrize("dose", ["4,5mg", "9gtt", ".5mg", "4.5", "4.5 units"])
def test_unit_errors(dose):
    with pytest.raises(UnitInputError):
        plan_liquid("1mg/mL", volume="50mL", dose=dose)


def test_strength_is_required():
    with pytest.raises(InputError, match="needs a strength"):
        plan_liquid(None, volume="30mL")


def test_pint_quantities_are_accepted():
    plan = plan_liquid(Q_(1, "mg/mL"), volume=Q_(50, "mL"), dose=Q_(4500, "mcg"))
    assert plan.quantity("dose_volume_ml") == Q_(4.5, "mL")


def test_overage_makes_more_and_dispenses_the_volume_asked():
    # 5 % overage on 100 mL from API at 5 mg/mL: make 105 mL (525 mg), dispense 100 mL.
    d = plan_liquid("5mg/mL", volume="100mL", source="api", overage="5%", dose="4.5mg").to_dict()
    assert d["volume_ml"] == 105 and d["api_mg"] == 525 and d["dispensed_volume_ml"] == 100
    assert d["days_supply"] == 111  # 100 / 0.9 = 111.1


def test_every_computed_amount_has_a_step():
    inputs_echoed = {"concentration_mg_per_ml", "stock_volume_ml", "dispensed_volume_ml"}
    for plan in (plan_liquid("1mg/mL", volume="30mL", dose="4.5mg", tablet_weight="200mg"),
                 plan_liquid("0.1mg/mL", dose="4.5mg", days="14d", source="api"),
                 plan_liquid("1mg/mL", volume="30mL")):
        d = plan.to_dict()
        step_keys = {s["key"] for s in d["steps"]}
        for key in plan.amounts:
            if key == "volume_ml" and not plan.finding("VOLUME_ADJUSTED_TO_WHOLE_TABLETS"):
                continue
            assert key in step_keys or key in inputs_echoed, key
        assert all(s["label"] and s["formula"] and s["result"] for s in d["steps"])


# --- vectorised core ------------------------------------------------------------------------

def _inputs(c, v, tabs, weight, p=1.0):
    n = len(c)

    def col(x):
        return np.broadcast_to(np.asarray(x, dtype=float), (n,)).copy()

    return LiquidInputs(np.asarray(c, float), np.asarray(v, float), np.asarray(tabs, bool), col(50.0),
                        np.asarray(weight, float), col(p), col(120.0), col(100.0), col(0.7))


@settings(max_examples=100, deadline=None)
@given(c=st.floats(0.01, 10), v=st.floats(10, 500), tabs=st.booleans(),
       weight=st.one_of(st.just(float("nan")), st.floats(100, 400)))
def test_property_ten_times_strength_is_ten_times_drug(c, v, tabs, weight):
    one = prepare_liquid(_inputs([c], [v], [tabs], [weight]), RULES, 100)
    ten = prepare_liquid(_inputs([10 * c], [v], [tabs], [weight]), RULES, 100)
    if not tabs or np.isfinite(weight):
        # The volume is kept, so the drug scales with the strength.
        assert ten.api_mg[0] == pytest.approx(10 * one.api_mg[0], rel=1e-12)
        assert ten.volume_ml[0] == one.volume_ml[0]
    else:
        # Whole tablets: the volume may be raised, but never lowered; drug = strength x volume.
        assert ten.volume_ml[0] >= v * (1 - 1e-12)
        assert ten.api_mg[0] == pytest.approx(10 * c * ten.volume_ml[0], rel=1e-12)
        assert ten.tablets_to_crush[0] == pytest.approx(ten.api_mg[0] / 50, rel=1e-9)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.floats(0.01, 20), st.floats(10, 500), st.booleans(),
                          st.one_of(st.just(float("nan")), st.floats(100, 400))),
                min_size=1, max_size=15))
def test_property_n_rows_equal_n_single_rows_bitwise(rows):
    cols = list(zip(*rows, strict=True))
    together = prepare_liquid(_inputs(*cols), RULES, 100)
    for i, row in enumerate(rows):
        alone = prepare_liquid(_inputs(*[[x] for x in row]), RULES, 100)
        for name in ("volume_ml", "api_mg", "tablets_to_crush", "tablet_powder_mg", "api_to_weigh_mg"):
            assert np.array_equal(getattr(together, name)[i:i + 1], getattr(alone, name),
                                  equal_nan=True), name
        for code, mask in together.masks.items():
            assert mask[i] == alone.masks[code][0], code
        assert np.array_equal(together.aliquot.take_ml[i:i + 1], alone.aliquot.take_ml, equal_nan=True)


def test_a_count_in_the_json_is_exact_not_rounded_to_four_figures():
    # 5,000 mL (the largest batch, rules.toml [batch_limits]) ÷ (0.45 mg ÷ 1 mg/mL = 0.45 mL a
    # dose) = 11,111.1 → 11,111 whole days (not 11110).
    d = plan_liquid("1mg/mL", volume="5000mL", dose="0.45mg", source="api",
                    vehicle="purified-water").to_dict()
    assert d["days_supply"] == 11111 and isinstance(d["days_supply"], int)
