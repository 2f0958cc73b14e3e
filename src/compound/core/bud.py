"""Beyond-use date arithmetic on numpy ``datetime64[D]``: one row or a million.

Dates are ``datetime64[D]`` (a scalar, a :class:`datetime.date` or an array),
day counts are whole days (float64 so that NaN can mean "no such limit").
Nothing here reads data: the limits (USP <795> table, study windows, policy
cap) are passed in by :mod:`compound.planning.stability`.

Notes
-----
A BUD of ``N`` days from compounding date ``C``:

* **Day 1** (default): the day of compounding is Day 1, so the BUD is
  ``C + N − 1`` (USP <795> §10.3 as quoted by Compounding Today; the earlier,
  safer date);
* **Day 0**: ``C + N`` (USP <797> and stability-study convention).

With a stability study the study's window replaces the category's default
days and is then capped by the policy: ``N = min(study, cap)``. The BUD is
the earliest of that limit, every component's expiry and every sub-lot's
BUD; ties go to the limit listed first.

References
----------
USP <795> Pharmaceutical Compounding—Nonsterile Preparations (2023), BUD
table and component-expiry rule, via PCCA and Milstead summaries; L.V. Allen,
Compounding Today newsletter 16(24) (Day 1 wording); domain.md §3.3.
"""

from __future__ import annotations

from typing import Final, NamedTuple

import numpy as np
import numpy.typing as npt

DateLike = npt.ArrayLike
NAT: Final = np.datetime64("NaT", "D")
_NAT_INT: Final = np.iinfo(np.int64).min  # how NaT is stored in a datetime64 array

# Kinds returned by :func:`limit_days`.
RULE: Final = 0
STUDY: Final = 1
POLICY_CAP: Final = 2


def as_dates(dates: DateLike) -> npt.NDArray[np.datetime64]:
    """Any date-like input (``date``, ``'2025-03-10'``, datetime64, array) as ``datetime64[D]``."""
    return np.asarray(dates, dtype="datetime64[D]")


def beyond_use_date(compounded: DateLike, days: npt.ArrayLike,
                    day_zero: npt.ArrayLike = False) -> npt.NDArray[np.datetime64]:
    """The date ``days`` days after compounding, by the day-counting convention.

    Parameters
    ----------
    compounded : date-like or array
        Date of compounding [datetime64[D]].
    days : numeric
        Limit in whole days [days]; NaN gives NaT.
    day_zero : bool or array of bool
        False (default): the compounding day is Day 1, BUD = compounded + days − 1.
        True: the compounding day is Day 0, BUD = compounded + days.

    Returns
    -------
    datetime64[D] array (0-d for scalar inputs)

    Raises
    ------
    ValueError
        If a day count is not a whole number (the catalog guarantees whole
        days; a fraction here is a programming error, never rounded away).

    Notes
    -----
    Compounded 2025-01-01 with 14 days: Day 0 → 2025-01-15, Day 1 → 2025-01-14.
    """
    c = as_dates(compounded)
    d = np.asarray(days, dtype=np.float64)
    finite = np.isfinite(d)
    if np.any(finite & (d != np.floor(d))):
        raise ValueError("a BUD limit must be a whole number of days")
    offset = np.where(finite, d, 0.0) - np.where(np.asarray(day_zero, dtype=bool), 0.0, 1.0)
    out = c + offset.astype(np.int64).astype("timedelta64[D]")
    return np.where(finite, out, NAT)


def limit_days(rule_days: npt.ArrayLike, study_days: npt.ArrayLike = np.nan,
               cap_days: npt.ArrayLike = np.inf
               ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int8]]:
    """The day limit that governs each row, and which kind it is.

    Parameters
    ----------
    rule_days : numeric
        The category's default limit (USP <795> table) [days].
    study_days : numeric
        The attested study's window at this storage [days]; NaN where no study.
    cap_days : numeric
        The policy's cap on a study-based BUD [days]; inf where there is none.

    Returns
    -------
    days : float64 array
        ``rule`` without a study; ``min(study, cap)`` with one.
    kind : int8 array
        :data:`RULE`, :data:`STUDY` or :data:`POLICY_CAP` (the cap only when it
        is strictly shorter than the study's window).

    Notes
    -----
    A study replaces the default in both directions: Fawcett 1997 gives 30
    days at 25 °C, shorter than the 35-day default for preserved aqueous
    preparations, and the shorter, study-based figure governs.
    """
    rule = np.asarray(rule_days, dtype=np.float64)
    study = np.asarray(study_days, dtype=np.float64)
    cap = np.asarray(cap_days, dtype=np.float64)
    has_study = np.isfinite(study)
    capped = has_study & (cap < study)
    days = np.where(has_study, np.minimum(study, cap), rule)
    kind = np.where(capped, POLICY_CAP, np.where(has_study, STUDY, RULE)).astype(np.int8)
    return days, kind


class Earliest(NamedTuple):
    winner: npt.NDArray[np.int64]
    """Position of the winning limit per row (the first of tied ones); −1 if all NaT."""
    date: npt.NDArray[np.datetime64]
    """The earliest date per row (NaT if every limit is NaT)."""
    ties: npt.NDArray[np.int64]
    """How many limits share the earliest date (1 = no tie; 0 if all NaT)."""


def earliest(*limits: DateLike) -> Earliest:
    """The earliest of several date limits, row by row; NaT means "no limit".

    Parameters
    ----------
    *limits : date-like or arrays, broadcastable to one shape
        Candidate limits in priority order [datetime64[D]] (e.g. the rule or
        study limit, then component expiries, then sub-lot BUDs).

    Returns
    -------
    Earliest
        ``winner`` (which argument won; the first one on a tie), ``date`` and
        ``ties``.
    """
    if not limits:
        raise ValueError("earliest() needs at least one limit")
    stacked = np.stack(np.broadcast_arrays(*(as_dates(x) for x in limits)))
    as_int = stacked.view(np.int64)
    missing = as_int == _NAT_INT
    keyed = np.where(missing, np.iinfo(np.int64).max, as_int)
    index = np.argmin(keyed, axis=0)
    best = np.min(keyed, axis=0)
    none = np.all(missing, axis=0)
    ties = np.sum((keyed == best) & ~missing, axis=0)
    date = np.where(none, NAT, np.take_along_axis(stacked, index[None, ...], axis=0)[0])
    return Earliest(np.asarray(np.where(none, -1, index), dtype=np.int64),
                    np.asarray(date, dtype="datetime64[D]"), np.asarray(ties, dtype=np.int64))


def month_end(month: DateLike) -> npt.NDArray[np.datetime64]:
    """The last day of each month [datetime64[D]]: how an expiry written YYYY-MM is read."""
    m = np.asarray(month, dtype="datetime64[M]")
    first_of_next = (m + np.timedelta64(1, "M")).astype("datetime64[D]")
    return np.asarray(first_of_next - np.timedelta64(1, "D"), dtype="datetime64[D]")


def expired(expiry: DateLike, on: DateLike) -> npt.NDArray[np.bool_]:
    """True where a component's expiry (or a sub-lot's BUD) is before ``on``.

    A component is still in date on its expiry day, so an expiry equal to the
    compounding date is not expired (the BUD then falls on that day). NaT is
    never expired.
    """
    e, d = as_dates(expiry), as_dates(on)
    return ~np.isnat(e) & ~np.isnat(d) & (e < d)
