"""The register as a table that draws only the rows on screen (Textual's line API).

Textual's DataTable builds every row up front (about 24 s for 100,000 lots);
this table keeps the rows as :class:`~compound.register.LotSummary` values and
renders the ones in view, so showing, scrolling, sorting or filtering 100,000
lots costs what a screenful costs plus a sort in Python.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rich.cells import set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.events import Click
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

if TYPE_CHECKING:
    from compound.register import LotSummary


def window_used_text(used: float | None) -> str:
    """Percent of the stability window elapsed, in whole percent (floor: 99.6 % is not yet 100)."""
    return "—" if used is None else f"{int(used * 100)}%"


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    width: int
    """Cells wide; 0 takes what the others leave."""
    cell: Callable[[LotSummary], str]
    order: Callable[[LotSummary], Any]
    right: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("lot", "Lot", 17, lambda r: r.lot_number, lambda r: r.lot_number),
    Column("status", "Status", 10, lambda r: r.status, lambda r: r.status),
    Column("description", "Description", 0, lambda r: r.description, lambda r: r.description),
    Column("bud", "BUD", 10, lambda r: r.beyond_use_date.isoformat(), lambda r: r.beyond_use_date),
    Column("days", "Days", 6, lambda r: str(r.days_left), lambda r: r.days_left, right=True),
    Column("used", "Used", 6, lambda r: window_used_text(r.window_used),
           lambda r: -1.0 if r.window_used is None else r.window_used, right=True),
)
MIN_DESCRIPTION = 8
"""Narrowest the description column gets; below that it is dropped (80 columns keep it)."""


def widths(total: int) -> list[int]:
    """Each column's width for a table ``total`` cells wide (one space between columns)."""
    fixed = sum(c.width for c in COLUMNS) + len(COLUMNS) - 1
    flexible = max(total - fixed, 0)
    return [c.width or (flexible if flexible >= MIN_DESCRIPTION else 0) for c in COLUMNS]


class LotTable(ScrollView, can_focus=True):
    """Rows of lots with a cursor; Enter posts :class:`LotTable.Chosen` for the lot under it."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "lot-table--header", "lot-table--cursor", "lot-table--expired", "lot-table--expiring",
        "lot-table--closed",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "move(-1e9)", "First", show=False),
        Binding("end", "move(1e9)", "Last", show=False),
        Binding("enter", "choose", "Open lot"),
    ]

    cursor: reactive[int] = reactive(0)

    @dataclass
    class Chosen(Message):
        lot_number: str

    def __init__(self, *, soon_days: int, **widget: Any) -> None:
        super().__init__(**widget)
        self.rows: Sequence[LotSummary] = ()
        self.soon_days = soon_days
        self.sort_key = "bud"
        self.descending = False

    # -- data -----------------------------------------------------------------------------------

    def show(self, rows: Sequence[LotSummary], *, keep: str | None = None) -> None:
        """Show these rows (already sorted and filtered); the cursor stays on lot ``keep``."""
        self.rows = rows
        self.virtual_size = Size(self.size.width, len(rows) + 1)  # + the header line
        index = next((n for n, r in enumerate(rows) if r.lot_number == keep), 0) if keep else 0
        self.cursor = min(index, max(len(rows) - 1, 0))
        self._follow_cursor()
        self.refresh()

    @property
    def current(self) -> LotSummary | None:
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    # -- keys -----------------------------------------------------------------------------------

    def action_move(self, by: float) -> None:
        if self.rows:
            self.cursor = int(min(max(self.cursor + by, 0), len(self.rows) - 1))

    def action_page(self, pages: int) -> None:
        self.action_move(pages * max(self.scrollable_content_region.height - 1, 1))

    def action_choose(self) -> None:
        if self.current is not None:
            self.post_message(self.Chosen(self.current.lot_number))

    def on_click(self, event: Click) -> None:
        row = int(self.scroll_offset.y) + event.y - 1
        if 0 <= row < len(self.rows):
            if row == self.cursor and event.chain > 1:
                self.action_choose()
            self.cursor = row

    def watch_cursor(self, old: int, new: int) -> None:
        self._follow_cursor()
        self.refresh()

    def _follow_cursor(self) -> None:
        visible = max(self.scrollable_content_region.height - 1, 1)
        top = int(self.scroll_offset.y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + visible:
            self.scroll_to(y=self.cursor - visible + 1, animate=False, immediate=True)

    # -- drawing --------------------------------------------------------------------------------

    def header_text(self, width: int) -> str:
        cells = []
        for column, w in zip(COLUMNS, widths(width), strict=True):
            if not w:
                continue
            title = column.title
            if column.key == self.sort_key:
                title += " ▼" if self.descending else " ▲"
            cells.append(set_cell_size(title.rjust(w) if column.right else title, w))
        return " ".join(cells)

    def row_text(self, row: LotSummary, width: int) -> str:
        cells = []
        for column, w in zip(COLUMNS, widths(width), strict=True):
            if not w:
                continue
            text = column.cell(row)
            cells.append(set_cell_size(text.rjust(w) if column.right else text, w))
        return " ".join(cells)

    def row_style(self, row: LotSummary) -> Style:
        if row.status == "expired":
            return self.get_component_rich_style("lot-table--expired")
        if row.on_hand and row.days_left <= self.soon_days:
            return self.get_component_rich_style("lot-table--expiring")
        if not row.on_hand:
            return self.get_component_rich_style("lot-table--closed")
        return Style()

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if y == 0:
            text = set_cell_size(self.header_text(width), width)
            return Strip([Segment(text, self.get_component_rich_style("lot-table--header"))], width)
        index = int(self.scroll_offset.y) + y - 1
        if index >= len(self.rows):
            return Strip.blank(width, self.rich_style)
        row = self.rows[index]
        style = self.rich_style + self.row_style(row)
        if index == self.cursor:
            style += self.get_component_rich_style("lot-table--cursor")
        return Strip([Segment(set_cell_size(self.row_text(row, width), width), style)], width)

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.rows) + 1)
