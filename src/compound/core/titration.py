"""Titration ladders as per-day arrays: calendar, totals, units, preparations.

A ladder is two arrays of equal length: each step's daily dose [mg] and its
length [days, whole]. Everything a pharmacist dispenses is derived from the
per-day dose array (:func:`daily_doses`), so the total is exactly the sum of
what the patient takes, day by day.

Ladder edits (the GI cap, a side-effect reduction, maintenance) return new step
arrays plus an integer ``kind`` array saying where each step came from
(:data:`LADDER`, :data:`GI_STEP`, :data:`REDUCED`, :data:`RESUMED`,
:data:`MAINTENANCE`); the planning layer turns kinds into words.

Notes
-----
Whole units of one strength ``s`` make a dose ``d`` only when ``d / s`` is a
whole number. Doses are compared as whole numbers of nanograms (a dose typed to
the microgram is exact there), so 1.5 and 4.5 mg give ``gcd(1 500 000,
4 500 000)`` ng = 1.5 mg with no float noise.

References
----------
Titration protocols and side-effect rules: domain.md §0 and §5.2 (LDN Research
Trust prescriber guide; Dickson; UK LDN patient-information page). Day-1 BUD
counting: USP <795> as quoted by Compounding Today (domain.md §3.3).
"""

from __future__ import annotations

import datetime as dt
from typing import Final

import numpy as np
import numpy.typing as npt

from compound.core.rounding import COUNT_TOLERANCE, ceil_count

LADDER: Final = 0
GI_STEP: Final = 1
REDUCED: Final = 2
RESUMED: Final = 3
MAINTENANCE: Final = 4

NG_PER_MG: Final = 1_000_000
"""Doses are compared as whole nanograms (1 ng = 1e-6 mg)."""

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _days(days: npt.ArrayLike) -> IntArray:
    d = np.asarray(days, dtype=np.float64)
    return np.asarray(np.round(d), dtype=np.int64)


def daily_doses(dose_mg: npt.ArrayLike, days: npt.ArrayLike) -> FloatArray:
    """The dose taken on each day of the course [mg], one element per day.

    Parameters
    ----------
    dose_mg : array_like
        Daily dose of each step [mg].
    days : array_like
        Length of each step [days]; whole numbers.
    """
    return np.repeat(np.asarray(dose_mg, dtype=np.float64), _days(days))


def step_first_day(days: npt.ArrayLike) -> IntArray:
    """0-based index of each step's first day in the course."""
    d = _days(days)
    return np.concatenate([[0], np.cumsum(d)[:-1]]).astype(np.int64)


def calendar_dates(start: dt.date, n_days: int) -> npt.NDArray[np.datetime64]:
    """``n_days`` consecutive dates from ``start`` (numpy ``datetime64[D]``)."""
    return np.datetime64(start, "D") + np.arange(int(n_days))


def course_total_mg(dose_mg: npt.ArrayLike, days: npt.ArrayLike) -> float:
    """Total drug for the course [mg] = Σ daily dose × days of each step.

    Notes
    -----
    Summed over the per-day array with :func:`math.fsum` semantics (numpy's
    pairwise sum is within one ulp for the lengths used here).
    """
    return float(np.sum(daily_doses(dose_mg, days)))


def as_nanograms(dose_mg: npt.ArrayLike) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    """Doses as whole nanograms, and a mask of doses that are whole nanograms."""
    q = np.asarray(dose_mg, dtype=np.float64) * NG_PER_MG
    n = np.round(q)
    exact = np.isfinite(q) & (np.abs(q - n) <= 1e-6 * np.maximum(1.0, np.abs(q)))
    return np.where(exact, n, 0).astype(np.int64), exact


def snap_to_nanograms(dose_mg: npt.ArrayLike) -> FloatArray:
    """Doses within float noise of a whole nanogram, set to it (others unchanged).

    ``0.1 + 0.2`` mg from a ladder edit becomes 0.3 mg again, so equal doses
    compare equal when days are grouped by dose.
    """
    d = np.asarray(dose_mg, dtype=np.float64)
    ng, exact = as_nanograms(d)
    return np.where(exact, ng / NG_PER_MG, d)


def common_strength_mg(dose_mg: npt.ArrayLike) -> float:
    """The greatest strength [mg] that makes every dose a whole number of units.

    NaN when a dose is not positive or not a whole number of nanograms.

    Notes
    -----
    ``s = gcd(d₁, d₂, …)`` over the doses in nanograms, divided by 10⁶.
    """
    ng, exact = as_nanograms(dose_mg)
    if ng.size == 0 or not np.all(exact) or np.any(ng <= 0):
        return float("nan")
    return float(np.gcd.reduce(ng)) / NG_PER_MG


def units_per_dose(dose_mg: npt.ArrayLike,
                   strength_mg: npt.ArrayLike) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """Units of ``strength_mg`` per dose, and where that number is whole.

    Returns ``(units, whole)``: ``units`` is the exact ratio where it is not
    whole (so a message can say "1.5 capsules") and the whole number where it is.
    """
    ratio = np.asarray(dose_mg, dtype=np.float64) / np.asarray(strength_mg, dtype=np.float64)
    nearest = np.round(ratio)
    whole = np.isfinite(ratio) & (np.abs(ratio - nearest) <= 1e-9 * np.maximum(1.0, np.abs(ratio)))
    return np.where(whole, nearest, ratio), whole & (nearest > 0)


def kit_split(dose_mg: npt.ArrayLike, small_mg: npt.ArrayLike,
              large_mg: npt.ArrayLike) -> tuple[FloatArray, FloatArray, npt.NDArray[np.bool_]]:
    """Each dose as large-strength units first, the rest in small-strength units.

    Returns ``(n_large, n_small, exact)``. With ``large`` a multiple of
    ``small`` this greedy split uses the fewest units.
    """
    d = np.asarray(dose_mg, dtype=np.float64)
    large = np.asarray(large_mg, dtype=np.float64)
    n_large = np.floor(d / large + 1e-9)
    rest = d - n_large * large
    n_small, exact = units_per_dose(rest, small_mg)
    zero_rest = np.abs(rest) <= 1e-9 * np.maximum(1.0, d)
    n_small = np.where(zero_rest, 0.0, n_small)
    exact = (exact | zero_rest) & (n_large + n_small > 0)
    return n_large, n_small, exact


def kit_large_strength(dose_mg: npt.ArrayLike, days: npt.ArrayLike, small_mg: float) -> float:
    """The second strength of a two-strength kit, or NaN when none helps.

    Notes
    -----
    Candidates are the multiples ``m × small`` (m ≥ 2) that divide the highest
    dose, so the final (maintenance) dose is made of the large strength alone.
    The candidate needing the fewest units over the course wins; on a tie the
    larger strength. (0.5 mg steps to 4.5 mg give 0.5 + 1.5 mg, the Norland
    starter kit, prior-art T5.)
    """
    d = np.asarray(dose_mg, dtype=np.float64)
    n_days = _days(days)
    small_ng = as_nanograms(small_mg)[0]
    top_ng = as_nanograms(d.max() if d.size else np.nan)[0]
    if d.size == 0 or small_ng <= 0 or top_ng <= 0 or top_ng % small_ng:
        return float("nan")
    top_multiple = int(top_ng // small_ng)
    m = np.arange(2, top_multiple + 1, dtype=np.int64)
    m = m[top_multiple % m == 0]
    if m.size == 0:
        return float("nan")
    large = m * int(small_ng) / NG_PER_MG
    n_large, n_small, exact = kit_split(d[None, :], small_mg, large[:, None])
    total = np.where(np.all(exact, axis=1), ((n_large + n_small) * n_days).sum(axis=1), np.inf)
    best = np.flatnonzero(total == total.min())
    return float(large[best[-1]]) if np.isfinite(total.min()) else float("nan")


def protocol_doses(start_mg: float, step_mg: float, ceiling_mg: float) -> FloatArray:
    """Doses from ``start`` rising by ``step`` while below the ceiling, then the ceiling.

    Notes
    -----
    ``d_k = start + k × step`` for ``d_k < ceiling``, then ``ceiling`` (1 mg +1 mg
    weekly to 4.5 mg gives 1, 2, 3, 4, 4.5 mg: "4.5 mg by week 5", Dickson).
    """
    span = (ceiling_mg - start_mg) / step_mg
    n_below = int(ceil_count(span)) if span > COUNT_TOLERANCE else 0
    doses = start_mg + step_mg * np.arange(n_below, dtype=np.float64)
    return np.append(doses, ceiling_mg)


def cap_increases(dose_mg: npt.ArrayLike, days: npt.ArrayLike, kind: npt.ArrayLike,
                  cap_mg: float, interval_days: int) -> tuple[FloatArray, IntArray, IntArray]:
    """Limit every increase to ``cap_mg``, at least ``interval_days`` apart.

    An increase larger than the cap becomes intermediate steps of ``+cap_mg``
    lasting ``interval_days`` each (kind :data:`GI_STEP`), then the original
    step with its own length; a step shorter than ``interval_days`` that is
    followed by an increase is lengthened to ``interval_days``. The first dose
    (the start) is kept as prescribed.

    Notes
    -----
    For a rise ``Δ`` the climb takes ``k = ⌈Δ / cap⌉`` steps: ``k − 1``
    intermediate doses ``prev + j·cap`` and the target.
    """
    d = np.asarray(dose_mg, dtype=np.float64)
    n = _days(days).copy()
    kinds = np.asarray(kind, dtype=np.int64)
    prev = np.concatenate([d[:1], d[:-1]])
    rise = d - prev
    rising = rise > cap_mg * 1e-9
    # a step followed by an increase must last the whole interval
    followed_by_rise = np.concatenate([rising[1:], [False]])
    n = np.where(followed_by_rise & (n < interval_days), interval_days, n)
    climbs = np.where(rising, ceil_count(rise / cap_mg), 1).astype(np.int64)
    owner = np.repeat(np.arange(d.size), climbs)
    j = np.arange(owner.size) - np.repeat(np.cumsum(climbs) - climbs, climbs) + 1
    is_target = j == climbs[owner]
    new_dose = np.where(is_target, d[owner], prev[owner] + j * cap_mg)
    new_days = np.where(is_target, n[owner], interval_days).astype(np.int64)
    new_kind = np.where(is_target, kinds[owner], GI_STEP).astype(np.int64)
    return new_dose, new_days, new_kind


def insert_reduction(dose_mg: npt.ArrayLike, days: npt.ArrayLike, kind: npt.ArrayLike,
                     at_day: int, factor: float,
                     reduce_days: int) -> tuple[FloatArray, IntArray, IntArray]:
    """Insert ``reduce_days`` at ``factor`` × the current dose from day ``at_day`` (0-based).

    The step in progress is split: its days before ``at_day`` stay, then the
    reduced days (kind :data:`REDUCED`), then the rest of that step at the
    original dose (kind :data:`RESUMED`); later steps move ``reduce_days``
    later. The course gets ``reduce_days`` longer and the patient spends the
    same number of days at each ladder dose as before.
    """
    d = np.asarray(dose_mg, dtype=np.float64)
    n = _days(days)
    kinds = np.asarray(kind, dtype=np.int64)
    first = step_first_day(n)
    i = int(np.searchsorted(first, at_day, side="right") - 1)
    before = at_day - int(first[i])
    after = int(n[i]) - before
    keep = slice(i, i + 1) if before else slice(i, i)
    new_dose = np.concatenate([d[:i], d[keep], [d[i] * factor, d[i]], d[i + 1:]])
    new_days = np.concatenate([n[:i], [before] if before else [], [reduce_days, after], n[i + 1:]])
    new_kind = np.concatenate([kinds[:i], kinds[keep], [REDUCED, RESUMED], kinds[i + 1:]])
    return (new_dose.astype(np.float64), new_days.astype(np.int64), new_kind.astype(np.int64))


def sum_by_span(per_day: npt.ArrayLike, first_days: npt.ArrayLike) -> FloatArray:
    """Sum of a per-day array over spans starting at ``first_days`` (e.g. mL per preparation)."""
    a = np.asarray(per_day, dtype=np.float64)
    return np.add.reduceat(a, np.asarray(first_days, dtype=np.int64))


def whole_graduations(volume_ml: npt.ArrayLike, graduation_ml: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """True where a volume is a whole number of a device's graduations."""
    return units_per_dose(volume_ml, graduation_ml)[1]


# Month abbreviations written out here so the text never depends on the locale.
_MONTHS: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


_WEEKDAYS: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def format_weekday(day: dt.date) -> str:
    """``Mon`` … ``Sun`` (fixed English, whatever the locale)."""
    return _WEEKDAYS[day.weekday()]


def format_day(day: dt.date, *, year: bool = True) -> str:
    """``2 Jun 2025``: day, month word, year; never a numeric month."""
    text = f"{day.day} {_MONTHS[day.month - 1]}"
    return f"{text} {day.year}" if year else text


def format_date_range(first: dt.date, last: dt.date) -> str:
    """``2 Jun – 8 Jun 2025``; the year on both ends when they differ."""
    if first == last:
        return format_day(first)
    return f"{format_day(first, year=first.year != last.year)} – {format_day(last)}"


def format_day_numbers(first: int, last: int) -> str:
    """``Days 1–7`` or ``Day 8`` (1-based day numbers of the course)."""
    return f"Day {first}" if first == last else f"Days {first}–{last}"
