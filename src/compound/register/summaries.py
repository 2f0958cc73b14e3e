"""One line per compounded lot, for tables of the whole register (the TUI's Lots screen).

:meth:`Register.list_lots` reads every column, including each lot's plan
(kilobytes of JSON): 100,000 lots take seconds. A table needs nine narrow
columns, read here in one query from one index that holds them all
(:data:`compound.register.schema.LOTS_LISTED`, in BUD order: the table's rows
are never visited), and the first screenful can be read alone (``limit``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

import sqlalchemy as sa

from compound.register import schema, views


class LotSummary(NamedTuple):
    """A lot as a table row: its status and stability as of ``today``.

    A named tuple, not a dataclass: 100,000 of them are built at a time, and a tuple is
    built in a third of the time a frozen dataclass takes.
    """

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


def lot_summaries_query(limit: int | None, offset: int) -> sa.Select[Any]:
    """The columns of a table row, by BUD then lot number: all in :data:`schema.LOTS_LISTED`."""
    t = schema.lots
    return (sa.select(t.c.lot_number, t.c.kind, t.c.description, t.c.status, t.c.quantity,
                      t.c.quantity_unit, t.c.compounded, t.c.beyond_use_date,
                      t.c.stability_window_days)
            .order_by(t.c.beyond_use_date, t.c.lot_number).limit(limit).offset(offset or None))


def lot_summaries(conn: sa.Connection, today: dt.date, *, limit: int | None = None,
                  offset: int = 0) -> list[LotSummary]:
    """Lots by BUD then lot number (as ``lots list``), ``limit`` of them from ``offset``."""
    query = lot_summaries_query(limit, offset)
    # Lots made the same day with the same dating share their fraction used: worked out once.
    used: dict[tuple[dt.date, dt.date, int | None], float | None] = {}
    on_hand, expired, day = views.ON_HAND, "expired", today.toordinal()
    rows = []
    for number, kind, description, status, quantity, unit, made, bud, window in conn.execute(query):
        days_left = bud.toordinal() - day
        key = (made, bud, window)
        if key not in used:
            used[key] = views.window_used(made, bud, window, today)
        # The status as views.effective_status gives it, inline: it runs 100,000 times.
        rows.append(LotSummary(number, kind, description,
                               expired if days_left < 0 and status in on_hand else status,
                               quantity, unit, made, bud, window, days_left, used[key]))
    return rows


def count(conn: sa.Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(schema.lots)).scalar() or 0)
