"""BUD date arithmetic and strict date parsing, checked against hand-counted calendars.

Every expected date below is counted by hand in the comment next to it
(month lengths: Jan 31, Feb 28 or 29, Mar 31, Apr 30, May 31, Jun 30, Jul 31,
Aug 31, Sep 30, Oct 31, Nov 30, Dec 31).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from compound.core import bud
from compound.core.dates import (
    coerce_date,
    from_datetime64,
    parse_date,
    parse_date_column,
    parse_expiry,
    to_datetime64,
)
from compound.errors import DateInputError

D = np.datetime64


# ----------------------------------------------------------------------------- T23


def test_t23_usp795_defaults_day_zero():
    # prior-art T23: compounded 2025-01-01; 14, 35, 90, 180 days, Day 0 (= date + N):
    #   +14: Jan 15.  +35: Jan 1 + 30 = Jan 31, + 5 = Feb 5.
    #   +90: Jan 31 (+30), Feb 28 (+58), Mar 31 (+89), Apr 1 (+90).
    #   +180: Apr 30 (+119), May 31 (+150), Jun 30 (+180).
    got = bud.beyond_use_date("2025-01-01", [14, 35, 90, 180], day_zero=True)
    assert got.tolist() == [dt.date(2025, 1, 15), dt.date(2025, 2, 5), dt.date(2025, 4, 1),
                            dt.date(2025, 6, 30)]


def test_t23_usp795_defaults_day_one_is_one_day_earlier():
    # Day 1 (the day of compounding is Day 1): date + N - 1, one day before each T23 date.
    got = bud.beyond_use_date(D("2025-01-01"), [14, 35, 90, 180])
    assert got.tolist() == [dt.date(2025, 1, 14), dt.date(2025, 2, 4), dt.date(2025, 3, 31),
                            dt.date(2025, 6, 29)]


def test_year_boundary():
    # 2025-12-20 + 14 days. Day 1: + 13 -> Dec 31 is +11, Jan 1 +12, Jan 2 +13 -> 2026-01-02.
    # Day 0: + 14 -> 2026-01-03.
    assert bud.beyond_use_date("2025-12-20", 14)[()] == D("2026-01-02")
    assert bud.beyond_use_date("2025-12-20", 14, day_zero=True)[()] == D("2026-01-03")


def test_leap_day_is_counted():
    # 2028 is a leap year. 2028-02-16 + 14 days, Day 1: + 13 -> Feb 16 + 13 = Feb 29.
    assert bud.beyond_use_date("2028-02-16", 14)[()] == D("2028-02-29")
    # The same in 2027 (no Feb 29): Feb 16 + 13 = Feb 29 does not exist -> Mar 1.
    assert bud.beyond_use_date("2027-02-16", 14)[()] == D("2027-03-01")


def test_180_days_across_february_2028():
    # Compounded 2028-01-15, 180 days, Day 1: + 179.
    #   Jan 31 is +16, Feb 29 +45, Mar 31 +76, Apr 30 +106, May 31 +137, Jun 30 +167,
    #   Jul 12 +179 -> 2028-07-12.
    # 2027 has a 28-day February: Feb 28 is +44, Mar 31 +75, Apr 30 +105, May 31 +136,
    #   Jun 30 +166, Jul 13 +179 -> 2027-07-13 (one day later).
    got = bud.beyond_use_date(["2028-01-15", "2027-01-15"], 180)
    assert got.tolist() == [dt.date(2028, 7, 12), dt.date(2027, 7, 13)]


def test_vectorised_day_counting_per_row_and_nan():
    got = bud.beyond_use_date(["2025-01-01", "2025-01-01", "2025-01-01"],
                              [14.0, 14.0, np.nan], day_zero=[False, True, False])
    assert got.tolist() == [dt.date(2025, 1, 14), dt.date(2025, 1, 15), None]


def test_a_fractional_day_count_is_a_programming_error_not_rounded():
    with pytest.raises(ValueError, match="whole number of days"):
        bud.beyond_use_date("2025-01-01", 14.5)


def test_a_million_rows_match_per_row_python_dates():
    rng = np.random.default_rng(3)
    start = D("2024-01-01") + rng.integers(0, 1500, 1_000_000).astype("timedelta64[D]")
    days = rng.choice([14.0, 35.0, 90.0, 180.0, 360.0], 1_000_000)
    got = bud.beyond_use_date(start, days)
    for i in rng.integers(0, 1_000_000, 200):
        expected = from_datetime64(start[i]) + dt.timedelta(days=int(days[i]) - 1)
        assert from_datetime64(got[i]) == expected


# ----------------------------------------------------------------------------- limit choice


def test_limit_days_rule_study_and_cap():
    # rows: no study; Fawcett 30 d at 25 °C (< 35 default: the study governs);
    #       Cote 360 d under a 180-day cap; a 180-day study equal to the cap (study, not cap);
    #       Cote 360 d with no cap (policy "study").
    days, kind = bud.limit_days([180, 35, 180, 180, 180], [np.nan, 30, 360, 180, 360],
                                [180, 180, 180, 180, np.inf])
    assert days.tolist() == [180, 30, 180, 180, 360]
    assert kind.tolist() == [bud.RULE, bud.STUDY, bud.POLICY_CAP, bud.STUDY, bud.STUDY]


def test_earliest_picks_the_first_of_ties_and_counts_them():
    rule = ["2025-09-05", "2025-09-05", "2025-09-05", "NaT"]
    component = ["2025-06-30", "2025-09-05", "NaT", "NaT"]
    sub_lot = ["NaT", "2025-09-05", "2025-10-01", "NaT"]
    e = bud.earliest(rule, component, sub_lot)
    assert e.winner.tolist() == [1, 0, 0, -1]
    assert e.date.tolist() == [dt.date(2025, 6, 30), dt.date(2025, 9, 5), dt.date(2025, 9, 5),
                               None]
    assert e.ties.tolist() == [1, 3, 1, 0]


def test_earliest_scalar_and_empty():
    e = bud.earliest(D("2025-09-05"), D("2025-04-30"))
    assert int(e.winner) == 1 and e.date[()] == D("2025-04-30") and int(e.ties) == 1
    with pytest.raises(ValueError, match="at least one"):
        bud.earliest()


def test_month_end_reads_an_expiry_month_as_its_last_day():
    got = bud.month_end(["2025-02", "2028-02", "2025-04", "2025-12"])
    assert got.tolist() == [dt.date(2025, 2, 28), dt.date(2028, 2, 29), dt.date(2025, 4, 30),
                            dt.date(2025, 12, 31)]


def test_expired_is_strictly_before_the_compounding_date():
    got = bud.expired(["2025-03-09", "2025-03-10", "2025-03-11", "NaT"], "2025-03-10")
    assert got.tolist() == [True, False, False, False]


# ----------------------------------------------------------------------------- dates


@pytest.mark.parametrize(("text", "reason"), [
    ("2025-02-30", "February 2025 has 28 days"),
    ("2024-02-30", "February 2024 has 29 days"),
    ("2025-04-31", "April 2025 has 30 days"),
    ("2025-13-01", "there is no month 13"),
    ("2025-00-10", "there is no month 00"),
    ("2025-03-00", "day 00 does not exist"),
    ("0025-03-10", "the year 0025 is outside"),
])
def test_impossible_dates_say_why(text, reason):
    with pytest.raises(DateInputError) as err:
        parse_date(text, "compounded")
    assert reason in err.value.message
    assert err.value.message.startswith("compounded: ")
    assert "YYYY-MM-DD" in (err.value.hint or "")
    assert err.value.exit_code == 2


def test_day_first_date_is_refused_with_the_certain_fix():
    with pytest.raises(DateInputError) as err:
        parse_date("25/03/2025", "compounded")
    assert "year first" in err.value.message
    assert err.value.hint == "Type 2025-03-25 (day 25 of March)."


def test_ambiguous_slashed_date_offers_both_readings():
    with pytest.raises(DateInputError) as err:
        parse_date("03/04/2025")
    assert "2025-04-03" in err.value.hint and "2025-03-04" in err.value.hint


@pytest.mark.parametrize("text", ["", "  ", "10 March 2025", "2025-03-10T10:00", "20250310",
                                  "2025/03/10", "tomorrow"])
def test_other_layouts_are_refused(text):
    with pytest.raises(DateInputError, match="date"):
        parse_date(text)


def test_iso_dates_are_read_exactly():
    assert parse_date(" 2025-03-10 ") == dt.date(2025, 3, 10)
    assert parse_date("2028-02-29") == dt.date(2028, 2, 29)
    assert parse_date("2025-3-9") == dt.date(2025, 3, 9)


def test_expiry_month_means_its_last_day_and_says_so():
    assert parse_expiry("2025-06") == (dt.date(2025, 6, 30), True)
    assert parse_expiry("2028-02") == (dt.date(2028, 2, 29), True)
    assert parse_expiry("2025-06-15") == (dt.date(2025, 6, 15), False)
    with pytest.raises(DateInputError, match="no month 13"):
        parse_expiry("2025-13")
    with pytest.raises(DateInputError) as err:
        parse_expiry("06/2025")
    assert "2025-06" in err.value.hint
    with pytest.raises(DateInputError, match="February 2025 has 28 days"):
        parse_expiry("2025-02-29")


def test_coerce_date_accepts_dates_and_datetime64_but_not_datetimes():
    assert coerce_date(dt.date(2025, 3, 10)) == dt.date(2025, 3, 10)
    assert coerce_date(D("2025-03-10")) == dt.date(2025, 3, 10)
    assert coerce_date("2025-03-10") == dt.date(2025, 3, 10)
    with pytest.raises(DateInputError, match="time of day"):
        coerce_date(dt.datetime(2025, 3, 10, 12, 0))
    with pytest.raises(DateInputError, match="NaT"):
        coerce_date(D("NaT"))
    with pytest.raises(DateInputError, match="not a date"):
        coerce_date(20250310)
    assert to_datetime64(dt.date(2025, 3, 10)) == D("2025-03-10")


def test_parse_date_column_parses_each_distinct_string_once():
    dates, errors = parse_date_column(["2025-03-10", "2025-02-30", None, "", "2025-03-10"])
    assert dates.tolist() == [dt.date(2025, 3, 10), None, None, None, dt.date(2025, 3, 10)]
    assert errors[0] is None and "February 2025 has 28 days" in errors[1]
    expiries, errs = parse_date_column(["2025-06", "2025-06-15"], month_allowed=True)
    assert expiries.tolist() == [dt.date(2025, 6, 30), dt.date(2025, 6, 15)]
    assert errs == [None, None]
