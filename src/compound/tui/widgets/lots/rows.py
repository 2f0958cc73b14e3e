"""Which lots the table shows, and in what order: a filter and a sort over table rows.

Plain functions on :class:`~compound.register.LotSummary` values (no Textual),
so the Lots screen and its tests agree on what "expiring" means.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from compound.tui.widgets.lots.table import COLUMNS

if TYPE_CHECKING:
    from compound.register import LotSummary

SHOW: tuple[tuple[str, str], ...] = (
    ("All lots", "all"),
    ("On hand", "on-hand"),
    ("Expiring or expired", "expiring"),
    ("Quarantine", "quarantine"),
    ("Released", "released"),
    ("Expired", "expired"),
    ("Dispensed", "dispensed"),
    ("Recalled", "recalled"),
    ("Destroyed", "destroyed"),
)
"""The status filter's choices: (label, value)."""


def wanted(row: LotSummary, show: str, soon_days: int) -> bool:
    if show == "all":
        return True
    if show == "on-hand":
        return row.on_hand
    if show == "expiring":
        return row.status == "expired" or (row.on_hand and row.days_left <= soon_days)
    return row.status == show


def arrange(rows: Sequence[LotSummary], *, text: str = "", show: str = "all", sort: str = "bud",
            descending: bool = False, soon_days: int) -> list[LotSummary]:
    """The rows matching ``text`` (in lot number, description or status, any case) and the
    ``show`` choice, sorted by column ``sort``; ties keep the register's order (BUD, lot)."""
    needle = text.strip().lower()
    if show == "all" and not needle:  # as read: no test per row (100,000 of them)
        found = list(rows)
    else:
        found = [r for r in rows
                 if wanted(r, show, soon_days)
                 and (not needle or needle in r.lot_number.lower()
                      or needle in r.description.lower() or needle in r.status)]
    if sort != "bud" or descending:
        order = next(c.order for c in COLUMNS if c.key == sort)
        found.sort(key=order, reverse=descending)
    return found
