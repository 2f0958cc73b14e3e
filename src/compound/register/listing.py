"""``lots list --json`` at 100,000 lots: each lot's JSON text built straight from its row.

The text equals ``json.dumps(Lot.to_dict(full=False), ensure_ascii=False)`` for the same lot
(a test compares them lot by lot). Building a :class:`compound.register.views.Lot` and its
dict, then encoding the dict, cost ~30 µs a lot (3 s at 100,000); here a row's columns are
encoded one by one into a fixed template, and the values that repeat across lots (dates,
quantities, stability fractions) are encoded once each.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import Any, Final, TypeVar

import sqlalchemy as sa

from compound.core.figures import json_number
from compound.register import reading, schema, views

# The same encoders json.dumps(..., ensure_ascii=False) uses for a str, an int and a float.
_text: Final[Callable[[str], str]] = json.encoder.encode_basestring

_t = schema.lots
_COLUMNS: Final = (_t.c.id, _t.c.lot_number, _t.c.kind, _t.c.description, _t.c.status,
                   _t.c.quantity, _t.c.quantity_unit, _t.c.compounded, _t.c.beyond_use_date,
                   _t.c.bud_limit, _t.c.bud_source, _t.c.stability_window_days,
                   _t.c.stability_window_end, _t.c.storage, _t.c.compounded_by,
                   _t.c.checked_by)

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


def _raw_dates(conn: sa.Connection, column: sa.Column[Any]) -> sa.Column[Any] | sa.Label[Any]:
    """``column`` as the database gives it: on SQLite a date column's stored ISO text, not
    parsed per value (three dates a lot, ~0.1 s at 100,000); the text is parsed once per
    distinct date below. PostgreSQL gives dates already (its driver parses them)."""
    if conn.dialect.name == "sqlite" and isinstance(column.type, sa.Date):
        return sa.type_coerce(column, sa.String).label(column.name)
    return column


def iter_lots_json(conn: sa.Connection, today: dt.date, status: str | None,
                   expiring_within_days: int | None) -> Iterator[str]:
    """The lots of :func:`reading.iter_lots`, in its order, each as its JSON text."""
    columns = [_raw_dates(conn, c) for c in _COLUMNS]
    query = reading.lots_query(today, status, expiring_within_days).with_only_columns(*columns)
    # The paging key compares the BUD as it is read (ISO text sorts as the date does).
    keys = (_raw_dates(conn, _t.c.beyond_use_date), _t.c.lot_number)
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
    # Every lot's total at once (one row per lot ever dispensed): asking per page names a
    # thousand ids a query, and compiling those parameters cost more than the sums.
    totals = reading.dispensed_totals(conn)
    for rows in reading.in_batches(conn, query, keys, reading.LIST_BATCH):
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
