"""Titrate: a ladder or protocol → the dated calendar, dispensing options and directions.

The form is a :class:`~compound.tui.forms.FormSpec` like the plan forms, and
the schedule is :func:`compound.planning.titration.titrate` (what ``compound
titrate`` calls), shown as its worksheet.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from compound.errors import CompoundError
from compound.tui.forms.titration import TITRATION
from compound.tui.messages import CalculationRequested
from compound.tui.screens.error import ErrorModal
from compound.tui.widgets.plan import PlanForm
from compound.tui.widgets.plan.results import finding_lines


class TitrateScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+r", "calculate", "Calculate")]
    AUTO_FOCUS = ".plan-form Input"

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(classes="plan-panel"):
            yield PlanForm(TITRATION, dating=False)
            with VerticalScroll(id="titrate-results", classes="plan-results"):
                yield Static(Text("Type a ladder or pick a protocol, give Day 1, press Enter.",
                                  style="dim"), id="titrate-status", classes="plan-status")
                yield Static(id="titrate-findings", classes="plan-findings")
                yield Static(id="titrate-schedule", classes="plan-working")
        yield Footer()

    def action_calculate(self) -> None:
        self.query_one(PlanForm).submit()

    def on_calculation_requested(self, event: CalculationRequested) -> None:
        values = dict(event.values)
        if not str(values.get("ladder", "")).strip():
            values.pop("ladder", None)
        try:
            plan = TITRATION.calculate(values)
        except CompoundError as exc:
            self._show(Text("Not calculated: see the message.", style="dim"), Text(), "")
            self.app.push_screen(ErrorModal(exc, TITRATION.in_tui_words))
            return
        status = (Text("REFUSED  no schedule is given for a refused course.", style="bold red")
                  if plan.refused else Text.assemble(("OK  ", "bold green"),
                                                     "Read the options and directions below."))
        self._show(status, finding_lines(plan.to_dict()["findings"], TITRATION.in_tui_words),
                   "" if plan.refused else plan.worksheet())
        self.query_one("#titrate-status").set_classes(
            f"plan-status -{'refused' if plan.refused else 'ok'}")

    def _show(self, status: Text, findings: Text, schedule: str) -> None:
        self.query_one("#titrate-status", Static).update(status)
        self.query_one("#titrate-findings", Static).update(findings)
        self.query_one("#titrate-schedule", Static).update(Text(schedule))
