"""``lots list --json`` at 100,000 lots: each lot's JSON text built straight from its row.

The text equals ``json.dumps(Lot.to_dict(full=False), ensure_ascii=False)`` for the same lot
(a test compares them lot by lot). Building a :class:`compound.register.views.Lot` and its
dict, then encoding the dict, cost ~30 µs a lot (3 s at 100,000); here a row's columns are
encoded one by one into a fixed template (:func:`compound.register.rows.lots_json`), and the
values that repeat across lots (dates, quantities, stability fractions) are encoded once each.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any, Final

import sqlalchemy as sa

from compound.register import reading, rows, schema

_t = schema.lots
COLUMNS: Final = (_t.c.id, _t.c.lot_number, _t.c.kind, _t.c.description, _t.c.status,
                  _t.c.quantity, _t.c.quantity_unit, _t.c.compounded, _t.c.beyond_use_date,
                  _t.c.bud_limit, _t.c.bud_source, _t.c.stability_window_days,
                  _t.c.stability_window_end, _t.c.storage, _t.c.compounded_by,
                  _t.c.checked_by)


def _raw_dates(dialect: str, column: sa.Column[Any]) -> sa.Column[Any] | sa.Label[Any]:
    """``column`` as the database gives it: on SQLite a date column's stored ISO text, not
    parsed per value (three dates a lot, ~0.1 s at 100,000); the text is parsed once per
    distinct date (rows.lots_json). PostgreSQL gives dates already (its driver parses them)."""
    if dialect == "sqlite" and isinstance(column.type, sa.Date):
        return sa.type_coerce(column, sa.String).label(column.name)
    return column


def lots_query(today: dt.date, status: str | None, expiring_within_days: int | None,
               dialect: str) -> sa.Select[Any]:
    """:func:`reading.lots_query` with the columns :func:`rows.lots_json` reads."""
    columns = [_raw_dates(dialect, c) for c in COLUMNS]
    return reading.lots_query(today, status, expiring_within_days).with_only_columns(*columns)


def page_keys(dialect: str) -> tuple[Any, ...]:
    """The paging key: the BUD as it is read (ISO text sorts as the date does), lot number."""
    return (_raw_dates(dialect, _t.c.beyond_use_date), _t.c.lot_number)


def iter_lots_json(conn: sa.Connection, today: dt.date, status: str | None,
                   expiring_within_days: int | None) -> Iterator[str]:
    """The lots of :func:`reading.iter_lots`, in its order, each as its JSON text."""
    dialect = conn.dialect.name
    query = lots_query(today, status, expiring_within_days, dialect)
    # Every lot's total at once (one row per lot ever dispensed): asking per page names a
    # thousand ids a query, and compiling those parameters cost more than the sums.
    totals = reading.dispensed_totals(conn)
    yield from rows.lots_json(reading.in_batches(conn, query, page_keys(dialect),
                                                 reading.LIST_BATCH), totals, today)
