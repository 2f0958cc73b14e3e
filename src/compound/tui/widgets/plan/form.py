"""A calculator form built from a :class:`~compound.tui.forms.FormSpec`.

The form only collects text: it shows the fields that apply (tablet weight for
tablets, assay and water for API), refuses to submit while a field is invalid,
and posts :class:`~compound.tui.messages.CalculationRequested`. The screen
runs the plan.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Button, Input, Select, Static

from compound.tui.forms import FormSpec, dating
from compound.tui.messages import CalculationRequested
from compound.tui.widgets.plan.field import FlagBox, PlanField
from compound.tui.widgets.plan.sized import SizedByLayout


class PlanForm(SizedByLayout, VerticalScroll):
    """The fields of one preparation type and a Calculate button."""

    def __init__(self, spec: FormSpec, *, dating: bool = True) -> None:
        super().__init__(id=f"{spec.key}-form", classes="plan-form")
        self.spec = spec
        self.dating = dating
        """Also ask for the compounding date and ingredient lots (the BUD and saving)."""
        self._switches = {f"{spec.key}-{f.show_when[0]}" for f in spec.fields if f.show_when}
        """The controls whose value shows or hides other fields (the source, for the API's)."""

    def compose(self) -> ComposeResult:
        for field in self.spec.fields:
            yield PlanField(self.spec.key, field, self.values)
        if self.dating:
            yield Static("Beyond-use date and lot", classes="form-section")
            for field in dating.DATING:
                yield PlanField(self.spec.key, field, self.values)
        yield Button("Calculate  (Enter / ctrl+r)", id=f"{self.spec.key}-calculate",
                     variant="primary", classes="calculate")

    def on_mount(self) -> None:
        self._show_applicable()

    def fields(self) -> list[PlanField]:
        # The form's own children (compose yields them): no walk of every field's widgets.
        return [child for child in self.children if isinstance(child, PlanField)]

    def values(self, fields: list[PlanField] | None = None) -> dict[str, str | bool]:
        return {f.spec.name: f.value for f in (self.fields() if fields is None else fields)}

    def submit(self) -> bool:
        """Post the values if every visible field is valid; else point at the first bad one."""
        fields = self.fields()
        visible = self._visible(fields)
        invalid = [f for f in fields if f.spec.name in visible and not f.revalidate()]
        if invalid:
            invalid[0].control.focus()
            self.notify(f"Check {', '.join(f.spec.label for f in invalid)}: the hint says what to type.",
                        title="Not calculated", severity="error")
            return False
        self.post_message(CalculationRequested(self.spec.key, self.values(fields)))
        return True

    def _visible(self, fields: list[PlanField] | None = None) -> set[str]:
        shown = {f.name for f in self.spec.visible(self.values(fields))}
        return shown | dating.NAMES if self.dating else shown

    @on(Input.Submitted)
    @on(FlagBox.Submitted)
    @on(Button.Pressed, ".calculate")
    def _calculate(self) -> None:
        self.submit()

    @on(Input.Changed)
    def _recheck_dependent_fields(self, event: Input.Changed) -> None:
        # A dose in drops is valid only with a calibration: re-check it when the calibration changes.
        for field in self.fields():
            if field.spec.kind == "drop_dose" and field.control is not event.input:
                field.revalidate()

    @on(Select.Changed)
    def _switched(self, event: Select.Changed) -> None:
        # Every Select posts Changed as the form mounts: only a switch can change what applies.
        if event.select.id in self._switches:
            self._show_applicable()

    def _show_applicable(self) -> None:
        fields = self.fields()
        visible = self._visible(fields)
        for field in fields:
            field.display = field.spec.name in visible
