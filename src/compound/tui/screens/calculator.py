"""The calculator: one tab per preparation type, each a form beside its results.

The screen runs the plan function the CLI runs (a plan takes well under 10 ms,
so it runs on the event loop). A :class:`~compound.errors.CompoundError` opens
the :class:`ErrorModal` and leaves the form as it was; the results pane is
cleared whenever an input changes, so a number never stays on screen for
inputs it was not computed from.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Checkbox, Footer, Header, Input, Select, TabbedContent, TabPane

from compound.errors import CompoundError, InputError
from compound.tui import forms
from compound.tui.messages import CalculationFailed, CalculationRequested, PlanCalculated, PlanRefused
from compound.tui.screens.error import ErrorModal
from compound.tui.widgets.plan import PlanForm, PlanResults


class CalculatorScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+r", "calculate", "Calculate")]
    AUTO_FOCUS = ".plan-form Input"  # the first field, not the tab strip: typing goes straight in

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="forms"):
            for n, spec in enumerate(forms.FORMS):
                with TabPane(spec.title, id=spec.key), Horizontal(id=f"{spec.key}-panel",
                                                                  classes="plan-panel"):
                    if n == 0:  # the others are built when first opened: a quicker start
                        yield PlanForm(spec)
                        yield PlanResults(spec.key)
        yield Footer()

    async def _build(self, key: str) -> PlanForm:
        panel = self.query_one(f"#{key}-panel", Horizontal)
        if not panel.children:
            await panel.mount(PlanForm(forms.by_key(key)), PlanResults(key))
        return self.query_one(f"#{key}-form", PlanForm)

    async def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id:
            await self._build(event.pane.id)

    @property
    def active_form(self) -> PlanForm:
        key = self.query_one("#forms", TabbedContent).active
        return self.query_one(f"#{key}-form", PlanForm)

    async def show_form(self, key: str) -> None:
        """Bring a form to the front and put the cursor in its first field."""
        self.query_one("#forms", TabbedContent).active = key
        form = await self._build(key)
        form.fields()[0].control.focus()

    def action_calculate(self) -> None:
        self.active_form.submit()

    def on_calculation_requested(self, event: CalculationRequested) -> None:
        results = self.query_one(f"#{event.form}-results", PlanResults)
        try:
            plan = forms.by_key(event.form).calculate(event.values)
        except CompoundError as exc:
            error = exc  # the except target is unbound after the block; the callback needs it
            results.clear("Not calculated: see the message.")
            self.post_message(CalculationFailed(event.form, error))
            self.app.push_screen(ErrorModal(error), lambda _: self._focus_field(event.form, error))
            return
        results.show(plan)
        self.post_message(PlanRefused(event.form, plan) if plan.refused
                          else PlanCalculated(event.form, plan))

    def _focus_field(self, form: str, error: CompoundError) -> None:
        """After the dialog, put the cursor in the field the error names, if the form has it."""
        name = error.field if isinstance(error, InputError) else None
        if name:
            found = self.query(f"#{form}-{name}")
            if found:
                found.first().focus()

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    def _inputs_changed(self, event: Input.Changed | Select.Changed | Checkbox.Changed) -> None:
        form = event.control.id.split("-", 1)[0] if event.control.id else None
        if form is None:
            return
        results = self.query(f"#{form}-results").results(PlanResults)
        for pane in results:
            if pane.plan is not None:
                pane.clear("Inputs changed: press Enter (or ctrl+r) to calculate again.")
