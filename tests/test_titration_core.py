"""compound.core.titration: ladders as per-day arrays, checked by hand arithmetic."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compound.core import titration as t


def test_daily_doses_and_total_of_a_three_week_ladder():
    # 1.5 mg × 7 + 3 mg × 7 + 4.5 mg × 7 = 10.5 + 21 + 31.5 = 63 mg over 21 days
    daily = t.daily_doses([1.5, 3, 4.5], [7, 7, 7])
    assert daily.size == 21
    assert daily[0] == 1.5 and daily[7] == 3 and daily[20] == 4.5
    assert t.course_total_mg([1.5, 3, 4.5], [7, 7, 7]) == 63
    assert t.step_first_day([7, 7, 7]).tolist() == [0, 7, 14]


def test_calendar_crosses_a_year_end_and_a_leap_day():
    days = t.calendar_dates(dt.date(2025, 12, 30), 4)
    assert [str(d) for d in days] == ["2025-12-30", "2025-12-31", "2026-01-01", "2026-01-02"]
    leap = t.calendar_dates(dt.date(2028, 2, 28), 3)
    assert [str(d) for d in leap] == ["2028-02-28", "2028-02-29", "2028-03-01"]


@pytest.mark.parametrize(("doses", "strength"), [
    ([1.5, 3, 4.5], 1.5),                      # gcd(1500000, 3000000, 4500000) ng
    ([0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5], 0.5),
    ([1, 2, 3, 4, 4.5], 0.5),                  # Dickson: 4.5 = 9 × 0.5
    ([0.1, 0.3], 0.1),                         # 0.1 is not exact in binary; nanograms are
    ([0.75, 1.5], 0.75),                       # a 50 % reduction of 1.5 mg
    ([4.5], 4.5),
])
def test_common_strength_is_the_gcd_of_the_doses(doses, strength):
    assert t.common_strength_mg(doses) == strength


@pytest.mark.parametrize("doses", [[0.0, 1.5], [-1.5], [], [np.nan]])
def test_no_common_strength_for_zero_negative_or_missing_doses(doses):
    assert np.isnan(t.common_strength_mg(doses))


def test_units_per_dose_marks_what_a_strength_cannot_deliver():
    units, whole = t.units_per_dose([1.5, 3, 4.5], 1.0)
    assert whole.tolist() == [False, True, False]
    assert units.tolist() == [1.5, 3, 4.5]           # the exact ratio where not whole
    units, whole = t.units_per_dose([0.3, 0.6], 0.1)  # 0.3 / 0.1 = 2.9999999999999996
    assert whole.all() and units.tolist() == [3, 6]


def test_kit_split_is_large_first():
    # 4 mg from 1.5 mg and 0.5 mg: 2 × 1.5 = 3, rest 1 = 2 × 0.5
    n_large, n_small, exact = t.kit_split([0.5, 1, 1.5, 4, 4.5], 0.5, 1.5)
    assert n_large.tolist() == [0, 0, 1, 2, 3]
    assert n_small.tolist() == [1, 2, 0, 2, 0]
    assert exact.all()
    _, _, exact = t.kit_split([1.5], 1.0, 2.0)
    assert not exact.any()


def test_kit_large_strength_reproduces_the_norland_pairing():
    # Candidates: multiples of 0.5 dividing 4.5 → 1.5 and 4.5. Units per 9-week course:
    # 1.5: (1+2+1+2+3+2+3+4+3) × 7 = 147; 4.5: (1+2+…+8+1) × 7 = 259 → 1.5 mg (prior-art T5)
    doses = np.arange(1, 10) * 0.5
    assert t.kit_large_strength(doses, [7] * 9, 0.5) == 1.5
    assert np.isnan(t.kit_large_strength([4.5], [7], 4.5))     # one dose: no second strength


@pytest.mark.parametrize(("start", "step", "ceiling", "expected"), [
    (1, 1, 4.5, [1, 2, 3, 4, 4.5]),          # Dickson: 4.5 mg in week 5
    (1.5, 1.5, 4.5, [1.5, 3, 4.5]),
    (0.5, 0.5, 4.5, [0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5]),
    (1.5, 0.5, 4.5, [1.5, 2, 2.5, 3, 3.5, 4, 4.5]),
    (4.5, 1, 4.5, [4.5]),
])
def test_protocol_doses(start, step, ceiling, expected):
    assert t.protocol_doses(start, step, ceiling).tolist() == expected


def test_gi_cap_splits_each_rise_into_half_milligram_weeks():
    # 1.5 → 3 → 4.5 with at most +0.5 mg per 7 days: 1.5, 2, 2.5, 3, 3.5, 4, 4.5 (7 steps × 7 d)
    dose, days, kind = t.cap_increases([1.5, 3, 4.5], [7, 7, 7], [t.LADDER] * 3, 0.5, 7)
    assert dose.tolist() == [1.5, 2, 2.5, 3, 3.5, 4, 4.5]
    assert days.tolist() == [7] * 7
    assert kind.tolist() == [0, 1, 1, 0, 1, 1, 0]


def test_gi_cap_lengthens_a_short_step_before_an_increase():
    # 1 mg for 3 days then 2 mg: 1 mg must last 7 days, then 1.5 mg × 7, then 2 mg × 7
    dose, days, _ = t.cap_increases([1, 2], [3, 7], [0, 0], 0.5, 7)
    assert dose.tolist() == [1, 1.5, 2] and days.tolist() == [7, 7, 7]


def test_gi_cap_keeps_decreases_and_small_rises():
    dose, days, _ = t.cap_increases([2, 1, 1.5], [7, 7, 7], [0, 0, 0], 0.5, 7)
    assert dose.tolist() == [2, 1, 1.5] and days.tolist() == [7, 7, 7]


def test_reduction_splits_the_step_in_progress():
    # From day index 10 (day 11, in the 3 mg step of days 8-14): 3 mg × 3, 1.5 mg × 7, 3 mg × 4
    dose, days, kind = t.insert_reduction([1.5, 3, 4.5], [7, 7, 7], [0, 0, 0], 10, 0.5, 7)
    assert dose.tolist() == [1.5, 3, 1.5, 3, 4.5]
    assert days.tolist() == [7, 3, 7, 4, 7]
    assert kind.tolist() == [t.LADDER, t.LADDER, t.REDUCED, t.RESUMED, t.LADDER]
    # the same days at each ladder dose as before, plus the 7 reduced days
    assert days.sum() == 21 + 7


def test_reduction_on_the_first_day_of_a_step():
    dose, days, kind = t.insert_reduction([1.5, 3], [7, 7], [0, 0], 7, 0.5, 7)
    assert dose.tolist() == [1.5, 1.5, 3] and days.tolist() == [7, 7, 7]
    assert kind.tolist() == [t.LADDER, t.REDUCED, t.RESUMED]


def test_sum_by_span_gives_each_preparations_volume():
    # 1 mg/mL: days 1-14 need 1.5 × 7 + 3 × 7 = 31.5 mL, days 15-21 need 4.5 × 7 = 31.5 mL
    daily_ml = t.daily_doses([1.5, 3, 4.5], [7, 7, 7]) / 1.0
    assert t.sum_by_span(daily_ml, [0, 14]).tolist() == [31.5, 31.5]


def test_whole_graduations():
    assert t.whole_graduations([1.5, 4.5, 0.3], [0.1, 0.2, 0.1]).tolist() == [True, False, True]


@pytest.mark.parametrize(("first", "last", "text"), [
    (dt.date(2025, 6, 2), dt.date(2025, 6, 8), "2 Jun – 8 Jun 2025"),
    (dt.date(2025, 1, 29), dt.date(2025, 2, 4), "29 Jan – 4 Feb 2025"),
    (dt.date(2025, 12, 29), dt.date(2026, 1, 4), "29 Dec 2025 – 4 Jan 2026"),
    (dt.date(2025, 6, 9), dt.date(2025, 6, 9), "9 Jun 2025"),
])
def test_date_ranges_are_day_month_year_words(first, last, text):
    assert t.format_date_range(first, last) == text


def test_day_numbers_and_weekday():
    assert t.format_day_numbers(1, 7) == "Days 1–7"
    assert t.format_day_numbers(8, 8) == "Day 8"
    assert t.format_weekday(dt.date(2025, 6, 2)) == "Mon"


steps = st.lists(st.tuples(st.integers(1, 90).map(lambda n: n * 0.05), st.integers(1, 21)),
                 min_size=1, max_size=8)


@settings(max_examples=60, deadline=None)
@given(steps)
def test_gi_cap_never_rises_more_than_the_cap_in_a_week(ladder):
    dose, days = zip(*ladder, strict=True)
    new_dose, new_days, _ = t.cap_increases(dose, days, [0] * len(dose), 0.5, 7)
    daily = t.daily_doses(new_dose, new_days)
    rises = np.flatnonzero(np.diff(daily) > 1e-12) + 1
    for r in rises:
        assert daily[r] - daily[r - 1] <= 0.5 + 1e-9
    first = t.step_first_day(new_days)
    for i in range(1, new_dose.size):                 # a rise comes ≥ 7 days after the last change
        if new_dose[i] > new_dose[i - 1] + 1e-12:
            assert new_days[i - 1] >= 7 and first[i] - first[i - 1] >= 7
    assert new_dose[-1] == dose[-1]                   # the ladder still ends where it did


@settings(max_examples=60, deadline=None)
@given(steps, st.integers(0, 200))
def test_reduction_adds_exactly_the_reduced_days(ladder, at):
    dose, days = zip(*ladder, strict=True)
    at = at % sum(days)
    new_dose, new_days, _ = t.insert_reduction(dose, days, [0] * len(dose), at, 0.5, 7)
    assert new_days.sum() == sum(days) + 7
    daily, old = t.daily_doses(new_dose, new_days), t.daily_doses(dose, days)
    assert np.array_equal(daily[:at], old[:at])
    assert np.array_equal(daily[at:at + 7], np.full(7, old[at] * 0.5))
    assert np.array_equal(daily[at + 7:], old[at:])   # the rest, 7 days later


def test_snap_to_nanograms_removes_float_noise_only():
    assert 0.1 + 0.2 != 0.3
    assert t.snap_to_nanograms([0.1 + 0.2, 1.5]).tolist() == [0.3, 1.5]
    assert t.snap_to_nanograms([1e-7]).tolist() == [1e-7]     # 0.1 ng: not a whole ng, kept
