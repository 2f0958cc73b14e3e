"""What the register accepts: initials, dates, statuses, amounts.

Every check raises a :class:`~compound.errors.CompoundError` subclass whose
message says what to type instead, and runs before the write transaction opens
where it can, so a refused operation never touches the database.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any, Final

from compound.core import amounts, dates
from compound.errors import DateInputError, InputError, UnitInputError

_INITIALS_RE: Final = re.compile(r"[A-Za-z]{2,4}")
_KIND_RE: Final = re.compile(r"[a-z][a-z0-9-]{0,31}")

QUANTITY_UNITS: Final = {"capsule": "capsules", "capsules": "capsules", "ml": "mL", "g": "g"}
"""How much was made: a count of capsules, or a volume (liquids) or mass (powders)."""

TABLET_WORDS: Final = {"tablet", "tablets", "tab", "tabs"}


def initials(value: Any, field: str = "by") -> str:
    """2–4 letters, returned in capitals (``ab`` -> ``AB``)."""
    if not isinstance(value, str) or not _INITIALS_RE.fullmatch(value.strip()):
        raise InputError(
            f"{field}: {value!r} are not initials.",
            hint="Type the person's initials: 2 to 4 letters, e.g. AB.", field=field,
        )
    return value.strip().upper()


def checker(checked_by: Any, compounded_by: Any) -> str | None:
    """The checker's initials: someone other than the compounder (None when no check is recorded)."""
    if checked_by is None:
        return None
    who = initials(checked_by, "checked_by")
    if who == initials(compounded_by, "compounded_by"):
        raise InputError(f"checked_by: {who} also compounded the lot; the check needs a second "
                         "person.", hint="Give the checker's initials, or leave the check out "
                                         "until a second person has checked.", field="checked_by")
    return who


def distinct_lots(lots: list[str]) -> None:
    """A lot named twice among a preparation's components is a slip (its amount would count twice)."""
    seen: set[str] = set()
    for lot in lots:
        key = lot.strip().upper()
        if key in seen:
            raise InputError(f"lot {lot} is named twice among the components.",
                             hint="Name each lot once, with the whole amount used from it.",
                             field="components")
        seen.add(key)


def date(value: Any, field: str) -> dt.date:
    """A calendar date: a ``date`` or ``YYYY-MM-DD`` text (the shared strict reader)."""
    return dates.coerce_date(value, field)


def expiry(value: Any, field: str = "expiry") -> tuple[dt.date, bool]:
    """An expiry date; ``YYYY-MM`` means the last day of that month.

    Returns the date and whether it was read from a month (so the caller can say so).
    """
    if isinstance(value, str):
        return dates.parse_expiry(value, field)
    return dates.coerce_date(value, field), False


def not_in_future(day: dt.date, today: dt.date, field: str) -> dt.date:
    if day > today:
        raise DateInputError(
            f"{field}: {day.isoformat()} is after today ({today.isoformat()}).",
            hint="Record things on or after the day they happen.", field=field,
        )
    return day


def kind(value: Any) -> str:
    if not isinstance(value, str) or not _KIND_RE.fullmatch(value.strip()):
        raise InputError(
            f"kind: {value!r} is not a preparation kind.",
            hint="Use a short lower-case word such as capsules, liquid, drops or trituration.",
            field="kind",
        )
    return value.strip()


def text(value: Any, field: str, *, required: bool = True, max_len: int = 500) -> str | None:
    """Free text: trimmed, no control characters, not too long."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InputError(f"{field} is required.", hint=f"Give the {field.replace('_', ' ')}.",
                             field=field)
        return None
    if not isinstance(value, str):
        raise InputError(f"{field}: {value!r} is not text.", field=field)
    cleaned = value.strip()
    if any(ord(c) < 32 for c in cleaned):
        raise InputError(f"{field}: control characters (tabs, new lines) are not accepted.",
                         hint="Type the text on one line.", field=field)
    if len(cleaned) > max_len:
        raise InputError(f"{field}: {len(cleaned)} characters is too long (at most {max_len}).",
                         field=field)
    return cleaned


def storage(value: Any) -> str:
    """A storage key of the BUD engine's vocabulary (studies.toml [storage]: room, refrigerated)."""
    from compound.planning.stability import storages

    known = storages()
    key = value.strip().lower() if isinstance(value, str) else None
    if key not in known:
        raise InputError(
            f"storage: {value!r} is not a storage condition the register knows.",
            hint="Use " + " or ".join(f"{k} ({v})" for k, v in known.items()) + ".",
            field="storage",
        )
    return key


def positive(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{field}: {value!r} is not a number.", field=field)
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise InputError(f"{field}: {value!r} must be a number greater than zero.", field=field)
    return number


def quantity(amount: Any, unit: Any) -> tuple[float, str]:
    """How much was made: ``(30, "capsules")``, ``(30, "mL")``, ``(12, "g")``."""
    if not isinstance(unit, str) or unit.strip().lower() not in QUANTITY_UNITS:
        raise InputError(
            f"quantity_unit: {unit!r} is not accepted.",
            hint="Use capsules (a count), mL (liquids) or g (powders).", field="quantity_unit",
        )
    canonical = QUANTITY_UNITS[unit.strip().lower()]
    value = positive(amount, "quantity")
    if canonical == "capsules" and not float(value).is_integer():
        raise InputError(f"quantity: {amount!r} capsules is not a whole number.",
                         hint="Count the capsules made, e.g. 30.", field="quantity")
    return value, canonical


def component_amount(amount: Any, unit: Any, field: str) -> tuple[float, str]:
    """A component used: mass (stored in mg), volume (mL) or whole/half tablets.

    The unit word goes through the same allow-list as every amount a user types.
    """
    value = positive(amount, field)
    if not isinstance(unit, str) or not unit.strip():
        raise UnitInputError(f"{field}: the amount {amount!r} has no unit.",
                             hint="Give mg, g, mcg, mL or tablets.", field=field)
    word = unit.strip()
    if word.lower() in TABLET_WORDS:
        if not (value * 2).is_integer():
            raise InputError(f"{field}: {amount!r} tablets: count whole or half tablets.",
                             field=field)
        return value, "tablet"
    for kind_, canonical in (("mass", "mg"), ("volume", "mL")):
        try:
            factor = amounts.parse(f"1 {word}", kind_, field=field).value
        except UnitInputError:
            continue
        return value * factor, canonical
    raise UnitInputError(f"{field}: {word!r} is not a unit for an amount used.",
                         hint="Give mg, g, mcg, mL or tablets.", field=field)


def fraction(value: Any, field: str) -> float | None:
    """A CoA percentage (``"99.2%"`` or a pint quantity) as a fraction; None if not given."""
    if value is None:
        return None
    from compound.core import units  # pint: a pint quantity may be given (receiving only)

    return units.coerce(value, "fraction", field=field)


def mass_mg(value: Any, field: str) -> float | None:
    if value is None:
        return None
    from compound.core import units

    return units.coerce(value, "mass", field=field)


def days(value: Any, field: str) -> int | None:
    """A whole number of days (``30``, ``"30d"``), or None."""
    if value is None:
        return None
    if isinstance(value, str):
        number = amounts.parse(value, "duration", field=field).value
    elif isinstance(value, int) and not isinstance(value, bool):
        number = float(value)
    else:
        raise InputError(f"{field}: {value!r} is not a number of days.", hint="e.g. 30d.",
                         field=field)
    if not number.is_integer() or number < 0:
        raise InputError(f"{field}: {value!r} is not a whole number of days.", hint="e.g. 30d.",
                         field=field)
    return int(number)


_LOT_NUMBER_CHARS: Final = "A-Za-z0-9 ._/-"


def lot_number_text(value: Any, field: str = "lot") -> str:
    """A lot number as typed (stripped): letters, digits and . _ / - (at most 40)."""
    if not isinstance(value, str) or not re.fullmatch(
            rf"[A-Za-z0-9][{_LOT_NUMBER_CHARS}]{{0,39}}", value.strip()):
        raise InputError(
            f"{field}: {value!r} is not a lot number.",
            hint="Type the lot number as printed: letters, digits and . _ / - (at most 40).",
            field=field,
        )
    return value.strip()
