"""core/weighing.py against published values (prior-art T16, T25; UNC trituration method)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compound.core import elementwise, weighing
from compound.core.weighing import minimum_weighable_quantity, trituration, weighing_error


def test_t25_minimum_weighable_quantity():
    # pharmacalculation.com / UNC: MWQ = SR / error
    assert minimum_weighable_quantity(10, 0.05) == pytest.approx(200)       # 10 / 0.05
    assert minimum_weighable_quantity(2.5, 0.03) == pytest.approx(83.33, abs=0.005)  # 2.5 / 0.03
    assert minimum_weighable_quantity(6, 0.05) == pytest.approx(120)        # Class III
    assert weighing_error(50, 6) == pytest.approx(0.12)                     # 6 / 50 = 12 %


def test_unc_trituration_15_mg_on_class_iii():
    # 0.5 mg x 30 capsules = 15 mg < 120 mg MWQ.
    # f = max(2, ceil(120 / 15)) = 8: weigh 120 mg drug, add 7 x 120 = 840 mg diluent,
    # triturate 960 mg; aliquot 15 x 8 = 120 mg contains 15 mg.
    t = {k: float(v) for k, v in trituration(15.0, 120.0, 100).items()}
    assert t["stages"] == 1 and t["factor_per_stage"] == 8 and t["overall_factor"] == 8
    assert t["drug_mg"] == 120 and t["diluent_per_stage_mg"] == 840
    assert t["triturate_per_stage_mg"] == 960 and t["aliquot_mg"] == 120


def test_weighable_amount_needs_no_trituration():
    t = trituration(np.array([120.0, 558.0]), 120.0, 100)
    assert list(t["stages"]) == [0, 0]
    assert np.isnan(t["aliquot_mg"]).all()


def test_two_stage_trituration_by_hand():
    # 0.1 mg: f = 1200 > 100 -> 2 stages of ceil(sqrt(1200)) = ceil(34.64) = 35, overall 1225;
    # aliquot 0.1 x 1225 = 122.5 mg; diluent per stage 34 x 120 = 4080 mg.
    t = {k: float(v) for k, v in trituration(0.1, 120.0, 100).items()}
    assert t["stages"] == 2 and t["factor_per_stage"] == 35 and t["overall_factor"] == 1225
    assert t["aliquot_mg"] == pytest.approx(122.5)
    assert t["diluent_per_stage_mg"] == 4080 and t["carry_mg"] == 120


def _content_of_aliquot(aliquot_g: float, stages: list[tuple[float, float]], drug_g: float) -> float:
    """Drug in an aliquot of a serial trituration: each stage (portion taken, total made)."""
    concentration = drug_g / stages[0][1]
    for taken, total in stages[1:]:
        concentration = concentration * taken / total
    return aliquot_g * concentration


def test_t16_serial_aliquot_pharmacy_times():
    # Pharmacy Times 2008 (Erickson): 0.25 g T3 + 24.75 g starch = 25 g -> 10 mg/g;
    # 0.75 g of that + 99.25 g starch = 100 g -> 7.5 mg / 100 g = 0.075 mg/g = 75 mcg/g
    # (the source prints 7.5: a slip); 33 g of that + 33 + 51.15 + 0.3 = 117.45 g;
    # 355 mg of mix3 contains 0.355 x 33 x 0.075 / 117.45 mg = 7.48 mcg.
    mix1 = 250.0 / 25.0                        # mg/g
    mix2 = 0.75 * mix1 / 100.0                 # mg/g
    assert mix1 == 10 and mix2 == pytest.approx(0.075)
    dose_mcg = 1000 * _content_of_aliquot(0.355, [(0.25, 25.0), (0.75, 100.0), (33.0, 117.45)], 250.0)
    assert dose_mcg == pytest.approx(7.48, abs=0.005)
    # The same chain run on our staged plan for 7.48 mcg: the aliquot holds exactly what is needed.
    t = {k: float(v) for k, v in trituration(0.00748, 120.0, 100).items()}
    k, q, g = int(t["stages"]), t["drug_mg"], t["factor_per_stage"]
    chain = [(q, g * q)] + [(q, g * q)] * (k - 1)
    assert _content_of_aliquot(t["aliquot_mg"], chain, q) == pytest.approx(0.00748, rel=1e-12)


@settings(max_examples=300, deadline=None)
@given(required=st.floats(1e-4, 1e4), mwq=st.floats(5.0, 500.0), max_factor=st.sampled_from([10, 50, 100]))
def test_every_weighing_is_at_least_the_mwq(required, mwq, max_factor):
    t = {k: float(v) for k, v in trituration(required, mwq, max_factor).items()}
    if required >= mwq:
        assert t["stages"] == 0
        return
    floor = mwq * (1 - 1e-12)  # one rounding of the float product at most
    assert t["drug_mg"] >= floor and t["diluent_per_stage_mg"] >= floor
    assert t["carry_mg"] >= floor and t["aliquot_mg"] >= floor
    assert 2 <= t["factor_per_stage"] <= max_factor
    assert t["overall_factor"] == t["factor_per_stage"] ** t["stages"]
    # the aliquot, diluted back by the overall factor, is the amount required
    assert t["aliquot_mg"] * (1 / t["overall_factor"]) == pytest.approx(required, rel=1e-12)


def test_a_column_plans_each_amount_as_its_formulas_do():
    # A long column plans only its amounts below the MWQ (and NaN) through the formulas, then
    # puts them back in place: every value is the formulas' on the whole column, and the float
    # path's (a plan of one), bit for bit, NaN where it is NaN.
    required = [15.0, 200.0, 0.00748, np.nan, 120.0, 0.0, -3.0, 119.999, 1e-9, np.inf, 7.5, 500.0]
    mwq = [120.0, 120.0, 120.0, 120.0, 120.0, 120.0, 120.0, 120.0, 120.0, 120.0, np.nan, 6.0]
    m, q = np.tile(required, 8), np.tile(mwq, 8)  # a column long enough to be taken apart
    assert m.size >= elementwise.LONG_COLUMN
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        column, whole = trituration(m, q, 100), weighing._trituration(m, q, 100)
        for key, values in column.items():
            assert np.array_equal(values, whole[key], equal_nan=True), key
        some, formulas = trituration(m[:80], 120.0, 10), weighing._trituration(m[:80], np.full(80, 120.0), 10)
        assert all(np.array_equal(some[k], formulas[k], equal_nan=True) for k in formulas)
    for i in (0, 1, 2, 4, 7, 8, 11):  # the float path (it raises where numpy divides by zero)
        one = trituration(required[i], mwq[i], 100)
        assert all(np.array_equal(column[k][i], v, equal_nan=True) for k, v in one.items()), i
    assert column["stages"][1] == 0 and column["stages"][0] >= 1 and np.isnan(column["stages"][3])
