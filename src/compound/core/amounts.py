"""Amounts typed by a user, read into the canonical unit of their kind (pure Python).

:func:`parse` splits a number from a unit word, looks the word up in an
allow-list and refuses anything else with a message that says what to type
instead. The canonical units and the kinds are tabled in :mod:`compound.core.units`,
which re-exports everything here; this module imports neither pint nor numpy, so
a command that only reads typed text (``compound lots list --expiring 30d``)
starts without them.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Final, Literal

from compound.core.dates import FIRST_YEAR, LAST_YEAR, MAX_DAYS
from compound.errors import UnitInputError

if TYPE_CHECKING:
    import pint

Kind = Literal[
    "mass", "volume", "concentration", "mass_per_drop", "fraction", "duration", "calibration", "count"
]

# Accepted spellings (matched case-insensitively) -> exact factor to the canonical unit.
# Scaling happens in Decimal so "4.5mcg" is the double nearest 0.0045, not 4.5 × 1e-3
# (0.0045000000000000005, which lands on the wrong side of an inclusive dose-band edge).
_MASS: Final = {
    "mg": Decimal(1), "milligram": Decimal(1), "milligrams": Decimal(1),
    "mcg": Decimal("0.001"), "microgram": Decimal("0.001"), "micrograms": Decimal("0.001"),
    "g": Decimal(1000), "gram": Decimal(1000), "grams": Decimal(1000),
    "kg": Decimal(1000000),
    "ng": Decimal("0.000001"), "nanogram": Decimal("0.000001"), "nanograms": Decimal("0.000001"),
}
_VOLUME: Final = {
    "ml": Decimal(1), "milliliter": Decimal(1), "milliliters": Decimal(1),
    "millilitre": Decimal(1), "millilitres": Decimal(1),
    "l": Decimal(1000), "liter": Decimal(1000), "liters": Decimal(1000),
    "litre": Decimal(1000), "litres": Decimal(1000),
}
_DROPS: Final = {"drop", "drops", "gtt", "gtts"}
_DAYS: Final = {
    "d": Decimal(1), "day": Decimal(1), "days": Decimal(1),
    "wk": Decimal(7), "week": Decimal(7), "weeks": Decimal(7),
}

# Spellings we refuse on purpose, with what to type instead.
_REFUSED: Final = {
    "ug": "write mcg for micrograms (ISMP: 'ug' and 'µg' are misread as mg)",
    "µg": "write mcg for micrograms (ISMP: 'ug' and 'µg' are misread as mg)",
    "μg": "write mcg for micrograms (ISMP: 'ug' and 'µg' are misread as mg)",
    "u": "'u' and 'units' are not amounts of naltrexone: type a mass such as 4.5mg or 500mcg",
    "unit": "'u' and 'units' are not amounts of naltrexone: type a mass such as 4.5mg or 500mcg",
    "units": "'u' and 'units' are not amounts of naltrexone: type a mass such as 4.5mg or 500mcg",
    "iu": "naltrexone is dosed by mass, not international units: type mg or mcg",
    "cc": "write mL ('cc' is on the ISMP error-prone list)",
    "gr": "apothecary grains are not accepted: type mg",
    "grain": "apothecary grains are not accepted: type mg",
    "grains": "apothecary grains are not accepted: type mg",
    "tsp": "household measures are not accepted: type mL",
    "tbsp": "household measures are not accepted: type mL",
    "teaspoon": "household measures are not accepted: type mL",
    "tablespoon": "household measures are not accepted: type mL",
    "month": "months differ in length: type days, e.g. 28d or 30d",
    "months": "months differ in length: type days, e.g. 28d or 30d",
    "mo": "months differ in length: type days, e.g. 28d or 30d",
}

_EXAMPLE: Final = {
    "mass": "4.5mg",
    "volume": "30mL",
    "concentration": "1mg/mL",
    "mass_per_drop": "0.5mg/drop",
    "fraction": "5%",
    "duration": "14d",
    "calibration": "46 drops/2mL",
    "count": "30",
}

_NUMBER = r"[+-]?(?:\d+(?:\.\d+)?)"
_AMOUNT_RE: Final = re.compile(rf"^\s*(?P<num>{_NUMBER})\s*(?P<unit>.*?)\s*$")
_PER_RE: Final = re.compile(rf"^(?P<num>.*?)\s*/\s*(?P<den_num>{_NUMBER})?\s*(?P<den>[^/\s]+)$")


@dataclass(frozen=True, slots=True)
class Parsed:
    """An amount read from text: its magnitude in the kind's canonical unit."""

    value: float
    kind: str
    text: str

    @classmethod
    def of(cls, value: float, kind: str, unit: str) -> Parsed:
        """An amount a plan computed (``value`` in ``unit``, the kind's canonical unit), as an
        amount read is: no text to parse, and no pint quantity (pint takes ~0.2 s to start)."""
        return cls(float(value), kind, f"{value:g} {unit}")

    @property
    def quantity(self) -> pint.Quantity:
        from compound.core.units import CANONICAL, Q_

        quantity: pint.Quantity = Q_(self.value, CANONICAL[self.kind])
        return quantity


def refuse(text: str, field: str | None, why: str, kind: str) -> UnitInputError:
    where = f"{field}: " if field else ""
    return UnitInputError(
        f"{where}cannot read {text!r}: {why}.",
        hint=f"Type a number and a unit, for example {_EXAMPLE[kind]}.",
        field=field,
    )


def _check_number_text(text: str, field: str | None, kind: str) -> None:
    stripped = text.strip()
    if not stripped:
        raise refuse(text, field, "it is empty", kind)
    if re.search(r"\d,\d", stripped):
        as_decimal = stripped.replace(",", ".", 1) if stripped.count(",") == 1 else None
        as_thousands = stripped.replace(",", "")
        if as_decimal and not re.search(r",\d{3}(?!\d)", stripped):
            hint = f"Use a decimal point: {as_decimal}."
        elif as_decimal:
            hint = f"Type {as_decimal} or {as_thousands}, whichever you mean (no separators)."
        else:
            hint = f"Type it without separators, e.g. {as_thousands}."
        raise UnitInputError(
            f"{field + ': ' if field else ''}cannot read {text!r}: the comma is ambiguous "
            "(decimal mark or thousands separator).",
            hint=hint,
            field=field,
        )
    if re.match(r"^[+-]?\.\d", stripped):
        raise UnitInputError(
            f"{field + ': ' if field else ''}cannot read {text!r}: a naked decimal point is "
            "misread as a whole number (ISMP).",
            hint=f"Write a leading zero, e.g. {stripped.replace('.', '0.', 1)}.",
            field=field,
        )
    if re.search(r"\d[eE][+-]?\d", stripped):
        raise refuse(text, field, "scientific notation is not accepted", kind)
    digits = re.sub(r"\D", "", stripped.split("/")[0]).lstrip("0")
    if len(digits) > sys.float_info.dig:  # no amount or count needs more than a float holds exactly
        raise refuse(text, field, f"it has more than {sys.float_info.dig} digits, more than any "
                     "amount or count compound plans", kind)


def _unit_factor(word: str, table: dict[str, Decimal], text: str, field: str | None,
                 kind: str) -> Decimal:
    key = word.strip().lower()
    if key in table:
        return table[key]
    if key in _REFUSED:
        raise refuse(text, field, _REFUSED[key], kind)
    if key in _DROPS:
        raise refuse(
            text, field,
            "drops have no fixed volume: calibrate the dropper (e.g. --calibration '46 drops/2mL') "
            "and give amounts in mL or mg",
            kind,
        )
    if not key:
        raise refuse(text, field, "it has no unit", kind)
    raise refuse(text, field, f"{word.strip()!r} is not a unit compound accepts here", kind)


def parse(text: str, kind: Kind, *, field: str | None = None) -> Parsed:
    """Read an amount typed by a user into the canonical unit of ``kind``.

    Raises :class:`~compound.errors.UnitInputError` for a missing, unknown or
    ambiguous unit, a comma decimal, a naked decimal point or scientific
    notation. Signs are kept: whether a negative or zero amount is acceptable is
    a safety finding decided by the plan, not a parsing matter.
    """
    if not isinstance(text, str):
        raise refuse(repr(text), field, "it is not text", kind)
    _check_number_text(text, field, kind)
    if kind == "count":
        m = re.fullmatch(r"\s*([+-]?\d+)\s*", text)
        if not m:
            raise refuse(text, field, "a count is a whole number with no unit", kind)
        return Parsed(float(int(m.group(1))), kind, text)
    if kind == "calibration":
        return Parsed(_parse_calibration(text, field), kind, text)
    m = _AMOUNT_RE.match(text)
    if not m:
        raise refuse(text, field, "it does not start with a number", kind)
    number = Decimal(m.group("num"))
    unit = m.group("unit")
    if kind == "mass":
        return Parsed(float(number * _unit_factor(unit, _MASS, text, field, kind)), kind, text)
    if kind == "volume":
        return Parsed(float(number * _unit_factor(unit, _VOLUME, text, field, kind)), kind, text)
    if kind == "duration":
        days = number * _unit_factor(unit, _DAYS, text, field, kind)
        if abs(days) > MAX_DAYS:
            raise refuse(text, field, f"it is longer than {MAX_DAYS} days, the span from "
                                      f"{FIRST_YEAR} to {LAST_YEAR}", kind)
        return Parsed(float(days), kind, text)
    if kind == "fraction":
        if unit.strip() != "%":
            raise refuse(text, field, "a percentage needs the % sign", kind)
        return Parsed(float(number / 100), kind, text)
    if kind in ("concentration", "mass_per_drop"):
        return Parsed(_parse_ratio(number, unit, kind, text, field), kind, text)
    raise ValueError(f"unknown kind {kind!r}")  # a programming error, not user input


def _parse_ratio(number: Decimal, unit: str, kind: str, text: str, field: str | None) -> float:
    if unit.strip() == "%":
        raise refuse(
            text, field,
            "a % strength is ambiguous (w/v or w/w) and is not accepted for naltrexone", kind,
        )
    m = _PER_RE.match(unit)
    if not m or not m.group("num").strip():
        raise refuse(text, field, "a strength is a mass per volume", kind)
    mass = _unit_factor(m.group("num"), _MASS, text, field, kind)
    per = Decimal(m.group("den_num")) if m.group("den_num") else Decimal(1)
    if per <= 0:
        raise refuse(text, field, "the amount after '/' must be positive", kind)
    den = m.group("den")
    if kind == "mass_per_drop":
        if den.lower() not in _DROPS:
            raise refuse(text, field, "a drop strength is a mass per drop, e.g. 0.5mg/drop", kind)
        return float(number * mass / per)
    volume = _unit_factor(den, _VOLUME, text, field, kind)
    return float(number * mass / (per * volume))


def _parse_calibration(text: str, field: str | None) -> float:
    m = re.fullmatch(
        rf"\s*(?P<drops>{_NUMBER})\s*(?P<dw>[A-Za-z]+)\s*/\s*(?P<vol>{_NUMBER})?\s*(?P<vu>[A-Za-z]+)\s*",
        text,
    )
    if not m or m.group("dw").lower() not in _DROPS:
        raise refuse(
            text, field, "a calibration is drops counted per volume collected", "calibration"
        )
    volume = Decimal(m.group("vol")) if m.group("vol") else Decimal(1)
    volume *= _unit_factor(m.group("vu"), _VOLUME, text, field, "calibration")
    drops = Decimal(m.group("drops"))
    if volume <= 0 or drops <= 0:
        raise refuse(text, field, "drops and volume must both be positive", "calibration")
    return float(drops / volume)


def parse_overage(text: str, *, field: str | None = "overage") -> tuple[int, float]:
    """Read an overage: extra capsules (``1``) or a percentage (``5%``).

    Returns ``(extra_units, fraction)``; exactly one of them is non-zero.
    """
    stripped = text.strip()
    if stripped.endswith("%"):
        fraction = parse(stripped, "fraction", field=field).value
        if fraction > 1:  # more extra than the batch itself is a slip, not an overage
            raise UnitInputError(
                f"{field + ': ' if field else ''}an overage of {stripped} is more than the batch "
                "itself.", hint="An overage is a few percent of extra, e.g. 5% (at most 100%).",
                field=field)
        return 0, fraction
    return int(parse(stripped, "count", field=field).value), 0.0
