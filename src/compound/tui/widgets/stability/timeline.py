"""Each lot's life on one line: compounded → beyond-use date, with today marked.

Bars share one time axis, from the earliest compounding date shown to the
latest BUD, so a 360-day study window and a 14-day liquid read at the same
scale. The part already lived is solid, what is left is shaded; ``│`` is
today. Only the rows on screen are drawn (line API), as in the lot table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

if TYPE_CHECKING:
    from compound.register import LotSummary

LOT_WIDTH = 17
DAYS_WIDTH = 6
LIVED, LEFT, TODAY = "█", "░", "│"


def bar(row: LotSummary, start: dt.date, days_per_cell: float, width: int, today: dt.date) -> str:
    """The row's bar on an axis of ``width`` cells from ``start``; today drawn as ``│``."""
    def cell(day: dt.date) -> int:
        return int((day - start).days / days_per_cell)

    first, last, now = cell(row.compounded), cell(row.beyond_use_date), cell(today)
    chars = []
    for x in range(width):
        if x == now:
            chars.append(TODAY)
        elif first <= x <= last:
            chars.append(LIVED if x < now else LEFT)
        else:
            chars.append(" ")
    return "".join(chars)


class Timeline(ScrollView, can_focus=True):
    COMPONENT_CLASSES: ClassVar[set[str]] = {"timeline--header", "timeline--expired",
                                             "timeline--expiring"}

    def __init__(self, *, today: dt.date, soon_days: int, **widget: Any) -> None:
        super().__init__(**widget)
        self.today, self.soon_days = today, soon_days
        self.rows: Sequence[LotSummary] = ()
        self.start, self.end = today, today

    def show(self, rows: Sequence[LotSummary]) -> None:
        self.rows = rows
        if rows:
            self.start = min(min(r.compounded for r in rows), self.today)
            self.end = max(max(r.beyond_use_date for r in rows), self.today)
        self.virtual_size = Size(self.size.width, len(rows) + 1)
        self.refresh()

    def axis(self, width: int) -> tuple[int, float]:
        cells = max(width - LOT_WIDTH - DAYS_WIDTH - 2, 10)
        return cells, max((self.end - self.start).days + 1, 1) / cells

    def header(self, width: int) -> str:
        cells, per = self.axis(width)
        now = int((self.today - self.start).days / per)
        line = [" "] * cells
        label = f"today {self.today.isoformat()}"
        at = min(max(now - len(label) // 2, 0), max(cells - len(label), 0))
        line[at:at + len(label)] = label
        return (f"{self.start.isoformat():<{LOT_WIDTH}} " + "".join(line)[:cells]
                + f" {'left':>{DAYS_WIDTH}}")

    def line(self, row: LotSummary, width: int) -> str:
        cells, per = self.axis(width)
        return (f"{row.lot_number[:LOT_WIDTH]:<{LOT_WIDTH}} "
                + bar(row, self.start, per, cells, self.today) + f" {row.days_left:>{DAYS_WIDTH}}")

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if y == 0:
            return Strip([Segment(self.header(width)[:width].ljust(width),
                                  self.get_component_rich_style("timeline--header"))], width)
        index = int(self.scroll_offset.y) + y - 1
        if index >= len(self.rows):
            return Strip.blank(width, self.rich_style)
        row = self.rows[index]
        style = self.rich_style
        if row.status == "expired":
            style += self.get_component_rich_style("timeline--expired")
        elif row.days_left <= self.soon_days:
            style += self.get_component_rich_style("timeline--expiring")
        return Strip([Segment(self.line(row, width)[:width].ljust(width), style or Style())], width)

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.rows) + 1)
