"""Lots: the register as a table to sort and filter; Enter opens a lot.

The first screenful is read alone (one indexed query), then every lot, both
in a worker; sorting and filtering run on the rows already read. The app reads
the first page ahead after its own first paint, so F3 shows rows at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Select, Static

from compound.errors import CompoundError
from compound.planning import resolve
from compound.tui import store
from compound.tui.app import CompoundApp
from compound.tui.screens.error import ErrorModal
from compound.tui.screens.lot_detail import LotDetailScreen
from compound.tui.widgets.lots import COLUMNS, LotTable, arrange
from compound.tui.widgets.lots.rows import SHOW

if TYPE_CHECKING:
    from compound.register import LotSummary

FIRST_PAGE = 200
"""Rows read before the rest: more than any terminal shows."""


def soon_days() -> int:
    return int(resolve.rule("stability_view")["expiring_soon_days"])


class LotsScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter"),
        Binding("escape", "table", "To table", show=False),
        Binding("ctrl+r", "reload", "Reload"),
        *(Binding(str(n), f"sort('{c.key}')", f"Sort by {c.title}", show=False)
          for n, c in enumerate(COLUMNS, start=1)),
    ]
    AUTO_FOCUS = "#lots-table"

    def __init__(self) -> None:
        super().__init__()
        self.all_rows: Sequence[LotSummary] = ()
        self.total = 0
        self.complete = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="lots-bar"):
            yield Input(placeholder="Filter: lot, description or status  (/)", id="lots-filter",
                        compact=True)
            yield Select(SHOW, value="all", allow_blank=False, id="lots-show", compact=True)
        yield Static("Reading the register…", id="lots-count")
        yield LotTable(soon_days=soon_days(), id="lots-table")
        yield Footer()

    @property
    def table(self) -> LotTable:
        return self.query_one("#lots-table", LotTable)

    def on_mount(self) -> None:
        # The app read the first page ahead (after its own first paint): shown in this
        # screen's first frame, and every lot is read after it.
        app = self.app
        if isinstance(app, CompoundApp) and app.lots_read_ahead is not None:
            first, total = app.lots_read_ahead
            app.lots_read_ahead = None
            self._loaded(first, total, len(first) >= total)

    def on_screen_resume(self) -> None:
        if self.all_rows:  # rows to show: drawn before a read that holds the GIL for long stretches
            self.call_after_refresh(self.action_reload)
        else:
            self.action_reload()

    def action_reload(self) -> None:
        self._read()

    @work(thread=True, exclusive=True, group="lots")
    def _read(self) -> None:
        """Every lot; first the first page alone when no rows are shown yet. Rows shown stay
        until the new ones are read (a reload, or the page the app read ahead)."""
        try:
            if not self.all_rows:
                first, total = store.lot_page(FIRST_PAGE)
                painted = threading.Event()
                self.app.call_from_thread(self._loaded, first, total, len(first) >= total,
                                          painted.set)
                # Reading every lot holds the GIL for long stretches: let the first rows be
                # drawn before it starts.
                painted.wait(timeout=2)
                if len(first) >= total:
                    return
            rows, total = store.lot_page(None)
            self.app.call_from_thread(self._loaded, rows, total, True)
        except CompoundError as exc:
            self.app.call_from_thread(self.app.push_screen, ErrorModal(exc))

    def _loaded(self, rows: Sequence[LotSummary], total: int, complete: bool,
                then: Callable[[], None] | None = None) -> None:
        self.all_rows, self.total, self.complete = rows, total, complete
        self.rearrange()
        if then is not None:
            self.call_after_refresh(then)

    def rearrange(self) -> None:
        table = self.table
        current = table.current
        shown = arrange(self.all_rows, text=self.query_one("#lots-filter", Input).value,
                        show=str(self.query_one("#lots-show", Select).value),
                        sort=table.sort_key, descending=table.descending, soon_days=table.soon_days)
        table.show(shown, keep=current.lot_number if current else None)
        if not self.total:
            count = "No lots in the register yet: save one from Formulate (ctrl+s)."
        else:
            count = f"{len(shown):,} of {self.total:,} lots"
            count += "" if self.complete else f" (reading the other {self.total - len(self.all_rows):,}…)"
            count += f"   red: expired · yellow: BUD within {table.soon_days} days"
        self.query_one("#lots-count", Static).update(count)

    @on(Input.Changed, "#lots-filter")
    @on(Select.Changed, "#lots-show")
    def _refilter(self) -> None:
        self.rearrange()

    @on(Input.Submitted, "#lots-filter")
    def action_table(self) -> None:
        self.table.focus()

    def action_filter(self) -> None:
        self.query_one("#lots-filter", Input).focus()

    def action_sort(self, key: str) -> None:
        table = self.table
        table.descending = not table.descending if table.sort_key == key else False
        table.sort_key = key
        self.rearrange()

    @on(LotTable.Chosen)
    def _open(self, event: LotTable.Chosen) -> None:
        self.app.push_screen(LotDetailScreen(event.lot_number))
