"""One line per compounded lot, for tables of the whole register (the TUI's Lots screen).

:meth:`Register.list_lots` reads every column, including each lot's plan
(kilobytes of JSON): 100,000 lots take seconds. A table needs nine narrow
columns, read here in one query, and the first screenful can be read alone
(``limit``) through the BUD index while the rest follows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from compound.register import schema, views


@dataclass(frozen=True, slots=True)
class LotSummary:
    """A lot as a table row: its status and stability as of ``today``."""

    lot_number: str
    kind: str
    description: str
    status: str
    """Effective status: a lot on hand past its BUD is ``expired``."""
    quantity: float
    quantity_unit: str
    compounded: dt.date
    beyond_use_date: dt.date
    stability_window_days: int | None
    days_left: int
    """Days from today to the BUD (0: the BUD is today; negative: past it)."""
    window_used: float | None
    """Fraction of the stability window elapsed (:func:`compound.register.views.window_used`)."""

    @property
    def on_hand(self) -> bool:
        return self.status in views.ON_HAND


def _summary(row: sa.Row, today: dt.date) -> LotSummary:
    window = row.stability_window_days
    return LotSummary(
        row.lot_number, row.kind, row.description,
        views.effective_status(row.status, row.beyond_use_date, today), row.quantity,
        row.quantity_unit, row.compounded, row.beyond_use_date, window,
        (row.beyond_use_date - today).days,
        views.window_used(row.compounded, row.beyond_use_date, window, today))


def lot_summaries(conn: sa.Connection, today: dt.date, *, limit: int | None = None,
                  offset: int = 0) -> list[LotSummary]:
    """Lots by BUD then lot number (as ``lots list``), ``limit`` of them from ``offset``."""
    t = schema.lots
    query = (sa.select(t.c.lot_number, t.c.kind, t.c.description, t.c.status, t.c.quantity,
                       t.c.quantity_unit, t.c.compounded, t.c.beyond_use_date,
                       t.c.stability_window_days)
             .order_by(t.c.beyond_use_date, t.c.lot_number).limit(limit).offset(offset or None))
    return [_summary(r, today) for r in conn.execute(query)]


def count(conn: sa.Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(schema.lots)).scalar() or 0)
