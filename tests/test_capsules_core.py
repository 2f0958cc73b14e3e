"""core/capsules.py: hand arithmetic from the sources, and properties over whole columns."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compound.core.capsules import MASK_CODES, CapsuleInputs, CapsuleRules, compute_capsules
from compound.planning import resolve
from compound.planning.capsules import capsule_rules

MW_BASE, MW_HCL = 341.40, 377.86           # domain.md 1.1
DIHYDRATE_WATER = 0.08705                  # 36.03 / 413.89
MWQ_CLASS_III = 120.0                      # 6 mg / 5 %


def data_rules(bands: tuple = ()) -> CapsuleRules:
    """The shipped rules.toml and molecules.csv, checked against the hand values used below."""
    r = capsule_rules(bands)
    assert (r.mw_hcl, r.mw_base) == (MW_HCL, MW_BASE)
    assert r.dihydrate_water == pytest.approx(DIHYDRATE_WATER, abs=1e-5)
    return r


@pytest.fixture
def rules():
    return data_rules(tuple(resolve.dose_bands()))


def row(rules, **kw):
    base = {"strength_mg": 4.5, "count": 30, "fill_weight_mg": 100.0, "mwq_mg": MWQ_CLASS_III,
            "tablet_strength_mg": 50.0}
    base.update(kw)
    return compute_capsules(CapsuleInputs(rules=rules, **base)).row(0)


def flags(r):
    return {code for code, on in r["masks"].items() if on}


def test_worked_example_tablets_weighed(rules):
    # 4.5 mg x 30 + 1 extra from 50 mg tablets, average tablet weight 200 mg, fill 100 mg.
    r = row(rules, overage_units=1, tablet_weight_mg=200.0)
    assert r["capsules_to_prepare"] == 31                         # 30 + 1
    assert r["api_required_mg"] == pytest.approx(139.5)           # 4.5 x 31
    assert r["tablets_to_crush"] == 3                             # ceil(139.5 / 50) = ceil(2.79)
    assert r["tablet_powder_mg"] == pytest.approx(558.0)          # 139.5 / 50 x 200
    assert r["active_per_capsule_mg"] == pytest.approx(18.0)      # 558 / 31
    assert r["filler_per_capsule_mg"] == pytest.approx(82.0)      # 100 - 18
    assert r["filler_total_mg"] == pytest.approx(2542.0)          # 82 x 31
    assert r["blend_total_mg"] == pytest.approx(3100.0)           # 100 x 31
    assert r["fill_weight_low_mg"] == pytest.approx(90.0)         # 90 % of 100
    assert r["fill_weight_high_mg"] == pytest.approx(110.0)       # 110 % of 100
    assert r["powder_left_over_mg"] == pytest.approx(42.0)        # 3 x 200 - 558
    assert not r["triturated"]
    assert flags(r) == {"TABLET_EXCIPIENTS"}


def test_percentage_overage_rounds_up_to_whole_capsules(rules):
    # 5 % of 30 = 1.5 -> 2 extra -> 32
    assert row(rules, overage_fraction=0.05, tablet_weight_mg=200.0)["capsules_to_prepare"] == 32
    # 7 % of 100 is 7 exactly, but 100 x 0.07 = 7.000000000000001 in binary: 107, not 108
    assert 100 * (7 / 100) != 7.0
    r = row(rules, count=100, overage_fraction=7 / 100, tablet_weight_mg=200.0)
    assert r["capsules_to_prepare"] == 107


def test_t13_api_capsules_mcc_130_mg(rules):
    # T13: 4.5 mg x 100, #3, MCC 130 mg/capsule, anhydrous API 100 %:
    # naltrexone 4.5 x 100 = 450 mg = 0.45 g; MCC (130 - 4.5) x 100 = 12550 mg = 12.55 g
    r = row(rules, count=100, fill_weight_mg=130.0, source_is_tablet=False, assay=1.0, water=0.0)
    assert r["api_to_weigh_mg"] == pytest.approx(450.0)
    assert r["filler_total_mg"] == pytest.approx(12550.0)
    assert r["filler_to_add_mg"] == pytest.approx(12550.0)
    assert np.isnan(r["tablets_to_crush"]) and np.isnan(r["tablet_powder_mg"])
    assert flags(r) == set()


def test_shortcut_three_tablets_into_33_capsules(rules):
    # 3 x 50 mg into 33 capsules = 150 / 33 = 4.545 mg; (4.5454 / 4.5 - 1) = +1.01 %;
    # closest count round(150 / 4.5) = round(33.33) = 33
    r = row(rules, count=33, tablet_weight_mg=200.0)
    assert r["shortcut_tablets"] == 3 and r["shortcut_capsules"] == 33
    assert r["shortcut_strength_mg"] == pytest.approx(4.5454545, rel=1e-6)
    assert r["shortcut_error"] * 100 == pytest.approx(1.0101, abs=1e-4)
    assert r["closest_capsules"] == 33


def test_whole_tablet_route_makes_the_closest_count(rules):
    # 4.5 mg x 30: ceil(135 / 50) = 3 tablets; round(150 / 4.5) = 33 capsules of 4.545 mg
    r = row(rules, whole_tablet_route=True)
    assert r["tablets_to_crush"] == 3 and r["capsules_to_prepare"] == 33
    assert r["actual_strength_mg"] == pytest.approx(150 / 33)
    assert r["blend_total_mg"] == pytest.approx(3300.0)          # 100 x 33
    assert np.isnan(r["tablet_powder_mg"]) and np.isnan(r["filler_to_add_mg"])  # weight unknown
    assert r["powder_left_over_mg"] == 0
    assert {"TABLET_WEIGHT_MISSING", "WHOLE_TABLET_COUNT"} <= flags(r)
    # with a measured tablet weight the filler is known: 3300 - 3 x 200 = 2700 mg
    r = row(rules, whole_tablet_route=True, tablet_weight_mg=200.0)
    assert r["tablet_powder_mg"] == pytest.approx(600.0) and r["filler_to_add_mg"] == pytest.approx(2700.0)


def test_shortcut_out_of_tolerance(rules):
    # 14 mg x 1: 1 tablet; round(50 / 14) = round(3.57) = 4 capsules of 12.5 mg: -10.7 %
    r = row(rules, strength_mg=14.0, count=1, whole_tablet_route=True)
    assert r["closest_strength_mg"] == pytest.approx(12.5)
    assert {"SHORTCUT_OUT_OF_TOLERANCE", "SHORTCUT_STRENGTH_OFF"} <= flags(r)
    # 9 mg x 1: round(5.56) = 6 capsules of 8.333 mg: -7.4 %, a warning only
    r = row(rules, strength_mg=9.0, count=1, whole_tablet_route=True)
    assert "SHORTCUT_STRENGTH_OFF" in flags(r) and "SHORTCUT_OUT_OF_TOLERANCE" not in flags(r)


def test_api_trituration_unc_example(rules):
    # 0.5 mg x 30 = 15 mg API < 120 mg: weigh 120 mg, + 840 mg diluent, triturate 960 mg,
    # aliquot 120 mg (15 mg drug + 105 mg diluent). Fill 84 mg (#3 x MCC 0.28 g/mL):
    # blend 84 x 30 = 2520; filler 2520 - 15 = 2505; filler to add 2505 - 105 = 2400 mg.
    r = row(rules, strength_mg=0.5, fill_weight_mg=84.0, source_is_tablet=False)
    t = r["trituration"]
    assert r["triturated"] and t["stages"] == 1 and t["factor_per_stage"] == 8
    assert (t["drug_mg"], t["diluent_per_stage_mg"], t["triturate_per_stage_mg"]) == (120, 840, 960)
    assert t["aliquot_mg"] == pytest.approx(120) and t["diluent_carried_mg"] == pytest.approx(105)
    assert r["filler_total_mg"] == pytest.approx(2505) and r["filler_to_add_mg"] == pytest.approx(2400)
    assert {"TRITURATION_PLANNED", "ASSAY_ASSUMED"} == flags(r)


def test_tablet_powder_trituration_crushes_enough_tablets(rules):
    # 0.5 mg x 10 from tablets weighing 100 mg: 5 mg HCl = 10 mg powder < 120 mg MWQ.
    # The trituration weighs 120 mg of powder, so 2 tablets (200 mg) are crushed, not 1;
    # 80 mg is left over.
    r = row(rules, strength_mg=0.5, count=10, tablet_weight_mg=100.0)
    assert r["tablet_powder_mg"] == pytest.approx(10.0)
    assert r["triturated"] and r["trituration"]["drug_mg"] == 120
    assert r["tablets_to_crush"] == 2 and r["powder_left_over_mg"] == pytest.approx(80.0)
    assert r["shortcut_tablets"] == 1


def test_salt_forms(rules):
    # dihydrate, no CoA water: theoretical 8.705 % -> factor 1 / 0.91295 = 1.09535
    r = row(rules, source_is_tablet=False, form_is_dihydrate=True)
    assert r["api_factor"] == pytest.approx(1 / (1 - 0.08705))
    assert r["water_used"] == DIHYDRATE_WATER and "DIHYDRATE_WATER_ASSUMED" in flags(r)
    # strength written as base: 4.5 mg base = 4.98058 mg HCl; base powder weighs 4.5 mg a capsule
    r = row(rules, basis_is_base=True, source_is_tablet=False, form_is_base=True, assay=1.0)
    assert r["strength_hcl_mg"] == pytest.approx(4.98058, abs=1e-5)
    assert r["active_per_capsule_mg"] == pytest.approx(4.5)


def test_hydrate_and_assay_checks(rules):
    # declared anhydrous, CoA water 8.71 % >= 5 %: looks like the dihydrate
    r = row(rules, source_is_tablet=False, assay=0.992, water=0.0871)
    assert "HYDRATE_MISMATCH" in flags(r)
    assert r["api_to_weigh_mg"] == pytest.approx(135 / (0.992 * 0.9129))
    # declared dihydrate, water 5 %: |0.05 - 0.08705| > 1.5 %
    assert "DIHYDRATE_WATER_OFF" in flags(row(rules, source_is_tablet=False, form_is_dihydrate=True,
                                               assay=1.0, water=0.05))
    assert "ASSAY_OUTSIDE_USP" in flags(row(rules, source_is_tablet=False, assay=0.88))
    assert "ASSAY_IMPLAUSIBLE" in flags(row(rules, source_is_tablet=False, assay=9.92))


def test_refusal_masks(rules):
    assert "COUNT_NOT_POSITIVE" in flags(row(rules, count=0, tablet_weight_mg=200.0))
    assert "OVERAGE_NEGATIVE" in flags(row(rules, overage_units=-1, tablet_weight_mg=200.0))
    # 10 mg from 200 mg tablets = 40 mg powder a capsule: more than a 36 mg fill
    assert "CAPSULE_OVERFILLED" in flags(row(rules, strength_mg=10.0, fill_weight_mg=36.0,
                                              tablet_weight_mg=200.0))
    # 4.5 mg x 1 from API on Class III: the 4.5 x 27 = 121.5 mg aliquot exceeds an 84 mg capsule
    r = row(rules, count=1, fill_weight_mg=84.0, source_is_tablet=False, assay=1.0)
    assert r["trituration"]["aliquot_mg"] == pytest.approx(121.5)
    assert {"CAPSULE_OVERFILLED", "BLEND_BELOW_MWQ"} <= flags(r)
    assert "UNIT_SLIP_SUSPECTED" in flags(row(rules, strength_mg=4500.0, tablet_weight_mg=200.0))
    assert "TABLET_WEIGHT_REQUIRED" in flags(row(rules))  # weighed route, weight unknown
    r = row(rules, opioid_use=True, tablet_weight_mg=200.0)
    assert "OPIOID_USE" in flags(r) and "OPIOID_USE_OVERRIDDEN" not in flags(r)
    r = row(rules, opioid_use=True, opioid_override=True, tablet_weight_mg=200.0)
    assert "OPIOID_USE_OVERRIDDEN" in flags(r) and "OPIOID_USE" not in flags(r)


def test_filler_qs_when_the_filler_is_below_the_mwq(rules):
    # 4.5 mg x 7 from 200 mg tablets: 126 mg powder (weighable); fill 30 mg: blend 210 mg,
    # filler 210 - 126 = 84 mg < 120 mg MWQ -> add q.s. to the blend total
    r = row(rules, count=7, fill_weight_mg=30.0, tablet_weight_mg=200.0)
    assert r["filler_to_add_mg"] == pytest.approx(84.0)
    assert "FILLER_QS" in flags(r) and not r["triturated"]


# ---------------------------------------------------------------- properties

finite = {"allow_nan": False, "allow_infinity": False}


@settings(max_examples=200, deadline=None)
@given(strength=st.floats(0.001, 10, **finite), count=st.integers(1, 500),
       assay=st.floats(0.9, 1.02, **finite), water=st.floats(0.0, 0.12, **finite),
       form=st.sampled_from(["anhydrous", "dihydrate", "base"]))
def test_drug_weighed_times_potency_is_the_drug_in_all_capsules(strength, count, assay, water, form):
    rules = data_rules()
    r = compute_capsules(CapsuleInputs(
        strength, count, 100.0, MWQ_CLASS_III, rules, source_is_tablet=False, assay=assay, water=water,
        form_is_base=form == "base", form_is_dihydrate=form == "dihydrate")).row(0)
    molar = MW_BASE / MW_HCL if form == "base" else 1.0
    delivered_hcl = r["api_to_weigh_mg"] * assay * (1 - water) / molar
    assert delivered_hcl == pytest.approx(strength * r["capsules_to_prepare"], rel=1e-9)


@settings(max_examples=200, deadline=None)
@given(strength=st.floats(0.01, 1.0, **finite), count=st.integers(1, 500),
       assay=st.floats(0.95, 1.02, **finite), tablet=st.booleans())
def test_ten_times_the_strength_is_ten_times_the_drug(strength, count, assay, tablet):
    rules = data_rules()
    kw = {"source_is_tablet": tablet, "tablet_strength_mg": 50.0, "tablet_weight_mg": 200.0,
          "assay": np.nan if tablet else assay}
    one = compute_capsules(CapsuleInputs(strength, count, 100.0, MWQ_CLASS_III, rules, **kw)).row(0)
    ten = compute_capsules(CapsuleInputs(10 * strength, count, 100.0, MWQ_CLASS_III, rules, **kw)).row(0)
    assert ten["api_required_mg"] == pytest.approx(10 * one["api_required_mg"], rel=1e-12)
    key = "tablet_powder_mg" if tablet else "api_to_weigh_mg"
    assert ten[key] == pytest.approx(10 * one[key], rel=1e-12)


def _random_inputs(n: int, seed: int, rules: CapsuleRules) -> CapsuleInputs:
    g = np.random.default_rng(seed)
    tablet = g.random(n) < 0.5
    return CapsuleInputs(
        strength_mg=g.choice([-1.0, 0.0, 0.001, 0.5, 1.5, 3.0, 4.5, 6.0, 11.0, 4500.0], n)
        * g.uniform(0.5, 1.5, n),
        count=g.integers(-1, 400, n).astype(float), fill_weight_mg=g.uniform(20, 400, n),
        mwq_mg=g.choice([10.0, 20.0, 120.0, 200.0], n), rules=rules,
        overage_units=g.integers(0, 3, n), overage_fraction=g.choice([0.0, 0.05, 0.1], n),
        basis_is_base=g.random(n) < 0.2, source_is_tablet=tablet, whole_tablet_route=g.random(n) < 0.3,
        tablet_strength_mg=50.0,
        tablet_weight_mg=np.where(g.random(n) < 0.8, g.uniform(100, 400, n), np.nan),
        form_is_base=~tablet & (g.random(n) < 0.2), form_is_dihydrate=~tablet & (g.random(n) < 0.3),
        assay=np.where(g.random(n) < 0.5, g.uniform(0.85, 1.05, n), np.nan),
        water=np.where(g.random(n) < 0.5, g.uniform(0, 0.1, n), np.nan),
        opioid_use=g.random(n) < 0.1, opioid_override=g.random(n) < 0.5, filler_avoid=g.random(n) < 0.1,
    )


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_many_rows_equal_single_rows_bitwise(seed):
    rules = data_rules(tuple(resolve.dose_bands()))
    inputs = _random_inputs(60, seed, rules)
    many = compute_capsules(inputs)
    names = [f.name for f in dataclasses.fields(inputs) if f.name != "rules"]
    for i in range(60):
        one = compute_capsules(CapsuleInputs(rules=rules, **{n: getattr(inputs, n)[i:i + 1] for n in names}))
        for f in dataclasses.fields(many):
            a, b = getattr(many, f.name), getattr(one, f.name)
            if isinstance(a, dict):
                for k in a:
                    assert np.array_equal(a[k][i:i + 1], b[k], equal_nan=a[k].dtype.kind == "f"), (f.name, k)
            else:
                assert np.array_equal(a[i:i + 1], b, equal_nan=a.dtype.kind == "f"), f.name


def test_a_million_rows_in_one_call(rules):
    inputs = _random_inputs(1_000_000, 7, rules)
    result = compute_capsules(inputs)
    assert len(result) == 1_000_000 and set(result.masks) == set(MASK_CODES)


def test_a_column_of_doses_falls_in_the_bands_one_dose_falls_in():
    # The shipped bands' edges (inclusive and not), zero, a negative, NaN and ±inf: the column's
    # band of each dose is the first band that holds it, as the float path finds it.
    from compound.core.safety import DoseBand, classify_dose

    bands = capsule_rules().dose_bands
    doses = [-1.0, -0.0, 0.0, 1e-4, 0.001, 0.0011, 0.4999, 0.5, 3.0, 4.5, 4.5001, 10.0, 10.5, 50.0,
             float("nan"), float("inf"), float("-inf")]
    column = classify_dose(np.array(doses), bands)
    assert column.tolist() == [classify_dose(d, bands) for d in doses]
    assert [bands[i].key for i in column[[2, 4, 7, 9, 10, 12]]] == ["zero", "vldn", "ldn", "ldn",
                                                                   "ldn-upper", "above-ldn"]
    assert column[14] == -1  # NaN: no band
    # Overlapping bands (a catalog's own): the first that holds a dose wins, in both paths.
    wide = DoseBand("wide", "Wide", 0.0, True, 100.0, True, bands[0].severity, "", "")
    mixed = (bands[3], wide, *bands)
    assert classify_dose(np.array(doses), mixed).tolist() == [classify_dose(d, mixed) for d in doses]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_long_columns_plan_the_rows_a_step_needs_as_the_whole_column_formulas_do(rules, seed, monkeypatch):
    # A long column triturates only its weighed rows below the MWQ, and counts by the column path of
    # ceil_count/round_count; a short one runs every formula on every row. Same numbers, -0.0 too.
    from compound.core import elementwise
    g = np.random.default_rng(seed)
    inputs = _random_inputs(3000, seed, rules)
    count = np.array(inputs.count)
    count[g.choice(3000, 60, replace=False)] = [np.nan, 0.0, -0.0, 1e12, np.inf, 2.5] * 10
    mwq = np.where(g.random(3000) < 0.05, np.nan, inputs.mwq_mg)
    inputs = dataclasses.replace(inputs, count=count, mwq_mg=mwq)
    long = compute_capsules(inputs)
    monkeypatch.setattr(elementwise, "LONG_COLUMN", 10**9)  # every column by the plain formulas
    whole = compute_capsules(inputs)
    assert long.triturated.sum() > 100 and (long.tablets_to_crush > long.shortcut_tablets).any()
    for f in dataclasses.fields(long):
        a, b = getattr(long, f.name), getattr(whole, f.name)
        for k in a if isinstance(a, dict) else [None]:
            x, y = (a[k], b[k]) if k is not None else (a, b)
            assert x.dtype == y.dtype, (f.name, k)
            assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), (f.name, k)
            if x.dtype.kind == "f":
                assert np.array_equal(np.signbit(x[x == 0]), np.signbit(y[y == 0])), (f.name, k)
