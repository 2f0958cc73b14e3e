"""Register rows into :mod:`compound.register.views` objects and JSON: no SQL, no SQLAlchemy.

Both ways of reading the register build their results here, from rows with the same
columns: :mod:`compound.register.reading` (SQLAlchemy: any register, every command) and
:mod:`compound.register.lite` (the standard library's ``sqlite3``: the read-only commands
on an SQLite file). So what they print cannot differ.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Final, TypeVar

from compound.core.figures import json_number
from compound.errors import RegisterError
from compound.register import views


def event(r: Any) -> views.Event:
    return views.Event(r.seq, r.at_utc, r.actor, r.action, r.subject, json.loads(r.payload))


def component(r: Any) -> views.Component:
    """A row of the components query (its ingredient lot's or sub-lot's columns beside it)."""
    if r.ing_lot is not None:
        return views.Component(r.ing_lot, "ingredient", r.item_key, r.item_name, r.amount, r.unit,
                               r.expiry)
    return views.Component(r.sub_lot, "lot", r.kind, r.description, r.amount, r.unit,
                           r.beyond_use_date)


def dispensing(r: Any) -> views.Dispensing:
    return views.Dispensing(r.lot_number, r.position, r.rx_number, r.fill, r.quantity,
                            r.quantity_unit, r.dispensed_on, r.dispensed_by, r.recorded_at,
                            r.patient_name, r.patient_dob)


def lot(row: Any, today: dt.date, *, dispensed: float, plan: dict[str, Any] | None = None,
        components: list[views.Component] | None = None,
        history: list[views.Event] | None = None,
        dispensings: list[views.Dispensing] | None = None) -> views.Lot:
    """A lot from its row; without ``plan`` … ``dispensings`` as a list shows it."""
    return views.Lot(
        lot_number=row.lot_number, kind=row.kind, description=row.description,
        recorded_status=row.status, quantity=row.quantity, quantity_unit=row.quantity_unit,
        compounded=row.compounded, beyond_use_date=row.beyond_use_date,
        bud_limit=row.bud_limit, bud_source=row.bud_source,
        stability_window_days=row.stability_window_days,
        stability_window_end=row.stability_window_end, storage=row.storage,
        compounded_by=row.compounded_by, checked_by=row.checked_by, recorded_at=row.recorded_at,
        plan=plan if plan is not None else {}, today=today,
        components=components if components is not None else [],
        history=history if history is not None else [],
        dispensed=dispensed,
        dispensings=dispensings if dispensings is not None else [],
    )


def ingredient(row: Any, today: dt.date) -> views.IngredientLot:
    return views.IngredientLot(
        lot_number=row.lot_number, item_key=row.item_key, item_kind=row.item_kind,
        item_name=row.item_name, expiry=row.expiry, expiry_from_month=bool(row.expiry_from_month),
        supplier=row.supplier, reference=row.reference, assay=row.assay_fraction,
        water=row.water_fraction, tablet_weight_mg=row.tablet_weight_mg,
        pack_stats=json.loads(row.pack_stats) if row.pack_stats else {},
        received=row.received, received_by=row.received_by, recorded_at=row.recorded_at,
        today=today,
    )


def not_a_lot(lot_no: str, *, ingredient_lot: bool) -> RegisterError:
    """Why ``lot_no`` names no compounded lot of the register."""
    if ingredient_lot:
        return RegisterError(f"{lot_no} is an ingredient lot, not a compounded lot.",
                             hint=f"compound lots trace {lot_no} lists the lots that used it.")
    return RegisterError(f"unknown lot {lot_no}.",
                         hint="compound lots list shows the lots in this register.")


def unknown_ingredient(lot_no: str) -> RegisterError:
    return RegisterError(f"unknown ingredient lot {lot_no}.",
                         hint="compound lots list --ingredients shows them.")


# -- lots list --json ---------------------------------------------------------------------------
# Each lot's JSON text built straight from its row (see compound.register.listing).

# The same encoders json.dumps(..., ensure_ascii=False) uses for a str, an int and a float.
_text: Final[Callable[[str], str]] = json.encoder.encode_basestring

# The keys of Lot.to_dict(full=False), in its order.
_TEMPLATE: Final = (
    '{{"lot_number": {}, "kind": {}, "description": {}, "status": {}, "expired": {}, '
    '"quantity": {}, "quantity_unit": {}, "remaining": {}, "compounded": {}, '
    '"beyond_use_date": {}, "days_left": {}, "bud_limit": {}, "bud_source": {}, '
    '"stability_window_days": {}, "stability_window_end": {}, "window_used_pct": {}, '
    '"storage": {}, "compounded_by": {}, "checked_by": {}, "today": {}}}')


def _value(x: Any) -> str:
    """A JSON scalar as json.dumps writes it (None, bool, int, float; never NaN here)."""
    return json.dumps(x, allow_nan=False)


_V = TypeVar("_V")


class _Memo(dict[Any, _V]):
    """Encoded text of values that repeat (a lot's dates and quantities recur across lots)."""

    def __init__(self, encode: Callable[[Any], _V]) -> None:
        super().__init__()
        self.encode = encode

    def __missing__(self, key: Any) -> _V:
        text = self[key] = self.encode(key)
        return text


def lots_json(pages: Iterable[Sequence[Sequence[Any]]], totals: Mapping[int, float],
              today: dt.date) -> Iterator[str]:
    """Each lot's JSON text from pages of rows with the columns of ``listing.COLUMNS``
    (dates as ISO text or as dates); ``totals``: lot id -> quantity dispensed."""
    number: _Memo[str] = _Memo(lambda x: _value(json_number(x)))
    # A date as read (text on SQLite, a date on PostgreSQL) -> the date, checked ISO.
    day_of: _Memo[dt.date] = _Memo(
        lambda d: d if isinstance(d, dt.date) else dt.date.fromisoformat(d))
    date: _Memo[str] = _Memo(lambda d: '"' + day_of[d].isoformat() + '"')
    date[None] = "null"
    ordinal: _Memo[int] = _Memo(lambda d: day_of[d].toordinal())
    texts: _Memo[str] = _Memo(lambda s: "null" if s is None else _text(s))
    used: dict[tuple[Any, Any, int | None], str] = {}
    on_hand, day, today_text = views.ON_HAND, today.toordinal(), '"' + today.isoformat() + '"'
    for rows in pages:
        for (lot_id, lot_number, kind, description, recorded, quantity, unit, made, bud,
             bud_limit, bud_source, window, window_end, storage, made_by, checked_by) in rows:
            days_left = ordinal[bud] - day
            key = (made, bud, window)
            if key not in used:
                fraction = views.window_used(day_of[made], day_of[bud], window, today)
                used[key] = "null" if fraction is None else number[fraction * 100]
            remaining = 0.0 if recorded == "dispensed" else quantity - totals.get(lot_id, 0.0)
            yield _TEMPLATE.format(
                _text(lot_number), texts[kind], _text(description),
                texts["expired" if days_left < 0 and recorded in on_hand else recorded],
                "true" if days_left < 0 else "false", number[quantity], texts[unit],
                number[remaining], date[made], date[bud], days_left, texts[bud_limit],
                texts[bud_source], "null" if window is None else window, date[window_end],
                used[key], texts[storage], texts[made_by], texts[checked_by], today_text)
