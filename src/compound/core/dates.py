"""Dates typed by a user: one strict reader, reused by every command.

Dates are written ``YYYY-MM-DD`` (ISO 8601, year first) and nothing else:
``03/04/2025`` is 3 April in London and 4 March in New York, and a BUD read
the wrong way round is a wrong number on a label. Impossible dates
(``2025-02-30``) are refused with the reason ("February 2025 has 28 days").

A manufacturer's expiry may be written ``YYYY-MM``; it means the last day of
that month (:func:`parse_expiry` says so, so callers can state it).
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import re
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Final

from compound.errors import DateInputError

if TYPE_CHECKING:
    import numpy as np

# Fixed English names: calendar.month_name follows the process locale.
MONTHS: Final = ("January", "February", "March", "April", "May", "June", "July",
                 "August", "September", "October", "November", "December")
EXAMPLE: Final = "2025-03-10"
# Outside these years a typed date is a slip (and numpy/datetime limits are far away).
FIRST_YEAR: Final = 1900
LAST_YEAR: Final = 2999
MAX_DAYS: Final = (dt.date(LAST_YEAR, 12, 31) - dt.date(FIRST_YEAR, 1, 1)).days
"""No two dates compound accepts are further apart: a longer typed duration is a slip
(and would carry a date past what the calendar types can hold)."""

_ISO_DAY: Final = re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$")
_ISO_MONTH: Final = re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})$")
_SLASHED: Final = re.compile(r"^(?P<a>\d{1,2})[/.\-](?P<b>\d{1,2})[/.\-](?P<y>\d{4})$")
_MONTH_YEAR: Final = re.compile(r"^(?P<m>\d{1,2})[/.\-](?P<y>\d{4})$")


def _where(field: str | None) -> str:
    return f"{field}: " if field else ""


def _check_year(year: int, text: str, field: str | None) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise DateInputError(
            f"{_where(field)}{text!r}: the year {year:04d} is outside {FIRST_YEAR}–{LAST_YEAR} "
            "(a typing slip?).", hint=f"Type the date as YYYY-MM-DD, e.g. {EXAMPLE}.", field=field)


def _check_day(year: int, month: int, day: int, text: str, field: str | None) -> dt.date:
    _check_year(year, text, field)
    if not 1 <= month <= 12:
        raise DateInputError(
            f"{_where(field)}{text!r} is not a date: there is no month {month:02d} "
            "(months run from 01 to 12).",
            hint=f"Type the date as YYYY-MM-DD, e.g. {EXAMPLE}.", field=field)
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        name = MONTHS[month - 1]
        why = ("day 00 does not exist (days start at 01)" if day == 0
               else f"{name} {year} has {last} days")
        raise DateInputError(
            f"{_where(field)}{text!r} is not a date: {why}.",
            hint=f"Type the date as YYYY-MM-DD, e.g. {year:04d}-{month:02d}-{last:02d} "
                 f"for the last day of {name}.", field=field)
    return dt.date(year, month, day)


def _not_iso(text: str, field: str | None, month_allowed: bool) -> DateInputError:
    """The error for text that is not year-first, with the fix when it is certain."""
    m = _SLASHED.match(text)
    if m:
        a, b, y = int(m["a"]), int(m["b"]), int(m["y"])
        if a > 12 >= b:
            hint = f"Type {y:04d}-{b:02d}-{a:02d} (day {a} of {MONTHS[b - 1]})."
        elif b > 12 >= a:
            hint = f"Type {y:04d}-{a:02d}-{b:02d} ({MONTHS[a - 1]} {b})."
        elif a <= 12 and b <= 12:
            hint = (f"It could be {a} {MONTHS[b - 1]} or {MONTHS[a - 1]} {b}: type "
                    f"{y:04d}-{b:02d}-{a:02d} or {y:04d}-{a:02d}-{b:02d}.")
        else:
            hint = f"Type the date as YYYY-MM-DD, e.g. {EXAMPLE}."
        return DateInputError(
            f"{_where(field)}cannot read {text!r}: dates are typed year first, YYYY-MM-DD, "
            "so that day and month cannot be swapped.", hint=hint, field=field)
    m = _MONTH_YEAR.match(text)
    if m and month_allowed:
        return DateInputError(
            f"{_where(field)}cannot read {text!r}: an expiry month is typed year first.",
            hint=f"Type {int(m['y']):04d}-{int(m['m']):02d} (or the full date, YYYY-MM-DD).",
            field=field)
    what = "YYYY-MM-DD (or YYYY-MM for an expiry month)" if month_allowed else "YYYY-MM-DD"
    return DateInputError(f"{_where(field)}cannot read {text!r} as a date.",
                          hint=f"Type it as {what}, e.g. {EXAMPLE}.", field=field)


def parse_date(text: str, field: str | None = "date") -> dt.date:
    """A calendar date from ``YYYY-MM-DD`` text.

    Raises :class:`~compound.errors.DateInputError` for an empty value, any other
    layout (``25/03/2025``, ``10 March 2025``, a time of day) or an impossible
    date, with the reason and what to type.
    """
    if not isinstance(text, str):
        raise DateInputError(f"{_where(field)}{text!r} is not a date.",
                             hint=f"Type it as YYYY-MM-DD, e.g. {EXAMPLE}.", field=field)
    stripped = text.strip()
    if not stripped:
        raise DateInputError(f"{_where(field)}no date given.",
                             hint=f"Type it as YYYY-MM-DD, e.g. {EXAMPLE}.", field=field)
    m = _ISO_DAY.match(stripped)
    if not m:
        raise _not_iso(stripped, field, month_allowed=False)
    return _check_day(int(m["y"]), int(m["m"]), int(m["d"]), stripped, field)


def parse_expiry(text: str, field: str | None = "expiry") -> tuple[dt.date, bool]:
    """An expiry date: ``YYYY-MM-DD``, or ``YYYY-MM`` meaning the month's last day.

    Returns ``(date, month_only)``; ``month_only`` is True when the text gave a
    month, so the caller can state the reading ("2025-06 read as 2025-06-30").

    Notes
    -----
    An expiry printed as a month and year is in date until the end of that
    month (the usual reading of a manufacturer's "EXP 06/2025").
    """
    stripped = text.strip() if isinstance(text, str) else text
    if isinstance(stripped, str):
        m = _ISO_MONTH.match(stripped)
        if m:
            year, month = int(m["y"]), int(m["m"])
            _check_year(year, stripped, field)
            if not 1 <= month <= 12:
                raise DateInputError(
                    f"{_where(field)}{stripped!r} is not a month: there is no month "
                    f"{month:02d} (months run from 01 to 12).",
                    hint="Type the expiry as YYYY-MM or YYYY-MM-DD, e.g. 2025-06.", field=field)
            return dt.date(year, month, calendar.monthrange(year, month)[1]), True
        if not _ISO_DAY.match(stripped) and stripped:
            raise _not_iso(stripped, field, month_allowed=True)
    return parse_date(text, field), False


def coerce_date(value: object, field: str | None = "date") -> dt.date:
    """A date from text (``YYYY-MM-DD``), a :class:`datetime.date` or a numpy datetime64.

    A :class:`datetime.datetime` is refused: a BUD is a day, and a time of day
    silently dropped could move it across midnight in another time zone.
    """
    if isinstance(value, dt.datetime):
        raise DateInputError(f"{_where(field)}{value!r} has a time of day.",
                             hint="Give a date only (datetime.date or YYYY-MM-DD).", field=field)
    if isinstance(value, dt.date):
        return value
    # numpy is imported only when a datetime64 can exist: a register read stays without it.
    np_ = sys.modules.get("numpy")
    if np_ is not None and isinstance(value, np_.datetime64):
        if np_.isnat(value):
            raise DateInputError(f"{_where(field)}no date given (NaT).",
                                 hint=f"Type it as YYYY-MM-DD, e.g. {EXAMPLE}.", field=field)
        return dt.date.fromisoformat(str(value.astype("datetime64[D]")))
    if isinstance(value, str):
        return parse_date(value, field)
    raise DateInputError(f"{_where(field)}{value!r} is not a date.",
                         hint=f"Type it as YYYY-MM-DD, e.g. {EXAMPLE}.", field=field)


def to_datetime64(value: dt.date) -> np.datetime64:
    """A date as numpy ``datetime64[D]`` (the core's date type)."""
    import numpy as np

    return np.datetime64(value.isoformat(), "D")


def from_datetime64(value: np.datetime64) -> dt.date:
    """A numpy ``datetime64`` (any unit) as a :class:`datetime.date`."""
    return dt.date.fromisoformat(str(value.astype("datetime64[D]")))


def parse_date_column(texts: Iterable[str | None], field: str | None = "date",
                      *, month_allowed: bool = False) -> tuple[np.ndarray, list[str | None]]:
    """Parse a column of typed dates, each distinct string once.

    Returns a ``datetime64[D]`` array (NaT where a cell was empty or refused)
    and, per cell, ``None`` or the error message. With ``month_allowed`` the
    cells are read as expiries (``YYYY-MM`` = last day of the month).
    """
    import numpy as np

    cache: dict[str, tuple[np.datetime64, str | None]] = {}
    nat = np.datetime64("NaT", "D")
    values: list[np.datetime64] = []
    errors: list[str | None] = []
    for text in texts:
        if text is None or (isinstance(text, float) and math.isnan(text)) or text == "":
            values.append(nat)
            errors.append(None)
            continue
        hit = cache.get(text)
        if hit is None:
            try:
                day = parse_expiry(text, field)[0] if month_allowed else parse_date(text, field)
                hit = (to_datetime64(day), None)
            except DateInputError as exc:
                hit = (nat, str(exc))
            cache[text] = hit
        values.append(hit[0])
        errors.append(hit[1])
    return np.asarray(values, dtype="datetime64[D]"), errors
