"""Stability: what expires in the next 7, 30 or 90 days, and each lot's window on one axis.

The horizons and the "expiring" threshold are pharmacy policy in rules.toml
(``[stability_view]``). Lots are read in a worker, as on the Lots screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Header, Select, Static

from compound import paths
from compound.errors import CompoundError
from compound.planning import resolve
from compound.tui import store
from compound.tui.screens.error import ErrorModal
from compound.tui.screens.lots import soon_days
from compound.tui.widgets.stability import Timeline

if TYPE_CHECKING:
    from compound.register import LotSummary

STILL_HERE = ("quarantine", "released", "expired")
"""Effective statuses of lots in the pharmacy (expired ones wait to be destroyed)."""


def horizons() -> list[int]:
    return [int(d) for d in resolve.rule("stability_view")["horizons_days"]]


def expiring(rows: Sequence[LotSummary], within: int | None) -> list[LotSummary]:
    """Lots in the pharmacy whose BUD is at most ``within`` days away (None: all), expired first."""
    return [r for r in rows if r.status in STILL_HERE and (within is None or r.days_left <= within)]


def counts(rows: Sequence[LotSummary]) -> str:
    here = [r for r in rows if r.status in STILL_HERE]
    expired = sum(r.status == "expired" for r in here)
    parts = [f"{sum(0 <= r.days_left <= d for r in here):,} within {d} days" for d in horizons()]
    return (f"Expiring: {' · '.join(parts)} · {expired:,} expired on hand (destroy)"
            f" · {len(here):,} lots on hand")


class StabilityScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+r", "reload", "Reload")]
    AUTO_FOCUS = "#stability-within"

    def __init__(self) -> None:
        super().__init__()
        self.rows: Sequence[LotSummary] = ()

    def compose(self) -> ComposeResult:
        yield Header()
        options = [(f"BUD within {d} days", str(d)) for d in horizons()] + [("All on hand", "all")]
        yield Select(options, value=options[0][1], allow_blank=False, id="stability-within",
                     compact=True)
        yield Static("Reading the register…", id="stability-counts")
        yield Timeline(today=paths.today(), soon_days=soon_days(), id="stability-timeline")
        yield Footer()

    def on_screen_resume(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        self._read()

    @work(thread=True, exclusive=True, group="stability")
    def _read(self) -> None:
        try:
            rows, _ = store.lot_page(None)
        except CompoundError as exc:
            self.app.call_from_thread(self.app.push_screen, ErrorModal(exc))
            return
        self.app.call_from_thread(self._loaded, rows)

    def _loaded(self, rows: Sequence[LotSummary]) -> None:
        self.rows = rows
        self.query_one("#stability-counts", Static).update(counts(rows))
        self._show()

    @on(Select.Changed, "#stability-within")
    def _show(self) -> None:
        value = str(self.query_one("#stability-within", Select).value)
        self.query_one(Timeline).show(expiring(self.rows, None if value == "all" else int(value)))
