"""One form field: a label, the control, and a hint line that says what to type.

Amount fields validate as they are typed with :func:`compound.core.units.parse`
(the parser behind every CLI option), so ``4,5mg``, ``4.5`` or ``9gtt`` are
refused here exactly as on the command line, with the same message and hint.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.geometry import Size
from textual.message import Message
from textual.reactive import Reactive
from textual.suggester import SuggestFromList
from textual.validation import ValidationResult, Validator
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, Select, Static

from compound.core import dates, units
from compound.errors import DateInputError, UnitInputError
from compound.planning.drops import _DROP_DOSE as DROP_DOSE  # the plan's own "9 drops" pattern
from compound.tui.forms import FieldSpec
from compound.tui.widgets.plan.sized import SizedByLayout

Values = Mapping[str, str | bool]


def describe(exc: UnitInputError | DateInputError) -> str:
    """The parser's message and its hint, as shown under a refused field."""
    return f"{exc.message}\n{exc.hint}" if exc.hint else exc.message


def check(spec: FieldSpec, text: str, values: Values) -> str | None:
    """None if ``text`` is acceptable for this field, else what is wrong and what to type.

    Mirrors what the plan function does with the same text (``plan_drops``
    reads ``0.5mg`` as per drop, and a dose in drops only with a calibration).
    """
    if not text.strip():
        if spec.required:
            return f"{spec.label} is required.\nType it: {spec.placeholder or 'a value'}."
        return None
    try:
        if spec.kind == "overage":
            units.parse_overage(text, field=None)
        elif spec.kind == "per_drop":
            units.parse(text if "/" in text else f"{text}/drop", "mass_per_drop")
        elif spec.kind == "drop_dose" and (drops := DROP_DOSE.match(text)):
            if not str(values.get("calibration", "")).strip():
                return (f"{text!r} is in drops, but the dropper is not calibrated.\n"
                        "Give the dose in mg (e.g. 4.5mg), or fill in the dropper calibration.")
            if not float(drops.group("n")).is_integer():
                return f"{text!r} is not a whole number of drops.\nType whole drops, e.g. 9 drops."
        elif spec.kind == "date":
            dates.parse_date(text, field=None)
        elif spec.kind == "drop_dose":
            units.parse(text, "mass")
        else:
            units.parse(text, spec.kind)  # type: ignore[arg-type]
    except (UnitInputError, DateInputError) as exc:
        return describe(exc)
    return None


class AmountValidator(Validator):
    """Accepts exactly what the CLI accepts for this field."""

    def __init__(self, spec: FieldSpec, values: Callable[[], Values] = dict) -> None:
        super().__init__()
        self.spec = spec
        self.values = values

    def validate(self, value: str) -> ValidationResult:
        # Only a dose in drops reads the other fields (the calibration): the form's values are
        # every field's, read for each field validated (Enter revalidates them all).
        values = self.values() if self.spec.kind == "drop_dose" else {}
        problem = check(self.spec, value, values)
        return self.failure(problem) if problem else self.success()


class FlagBox(Checkbox):
    """A checkbox whose two states cannot be confused: ``X`` when ticked, blank when not
    (the stock one draws an ``X`` in both, told apart only by colour).

    Space ticks it; Enter calculates, as in every other field.
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("space", "toggle_button", "Tick", show=False),
                                             Binding("enter", "submit", "Calculate", show=False)]

    @dataclass
    class Submitted(Message):
        flag: FlagBox

    def render(self) -> Content:
        self.BUTTON_INNER = "X" if self.value else " "
        return super().render()

    def action_submit(self) -> None:
        self.post_message(self.Submitted(self))


class FieldInput(Input):
    """Textual's Input, but the width of its text (its scrollable size, which every typed
    character changes) does not lay the whole screen out again: the field's own size stays,
    and the text scrolls within it as before."""

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)


class FieldHint(SizedByLayout, Static):
    """What to type, or what is wrong with what was typed, under a field."""


class PlanField(SizedByLayout, Vertical):
    """A labelled control for one keyword of a plan function."""

    def __init__(self, form_key: str, spec: FieldSpec, values: Callable[[], Values] = dict) -> None:
        super().__init__(id=f"{form_key}-{spec.name}-field", classes="plan-field")
        self.spec = spec
        self.control_id = f"{form_key}-{spec.name}"
        self._values = values
        self._found: Widget | None = None
        self._shown = (spec.help, False)
        """The hint on screen and whether it is an error: a keystroke that leaves it as it is
        (most do) updates nothing; an update lays the whole screen out again."""

    def compose(self) -> ComposeResult:
        spec = self.spec
        with Horizontal(classes="field-row"):
            yield Label(spec.label, classes="field-label")
            yield self._control()
        hint = FieldHint(spec.help, id=f"{self.control_id}-hint", classes="field-hint", markup=False)
        hint.display = bool(spec.help)
        yield hint

    def _control(self) -> Widget:
        spec = self.spec
        if spec.kind == "choice":
            return Select(spec.options(), value=spec.initial(), allow_blank=False,
                          id=self.control_id, compact=True)
        if spec.kind == "flag":
            return FlagBox(spec.placeholder, value=spec.initial() == "yes", id=self.control_id,
                           compact=True)
        suggestions = [value for _, value in spec.options()]
        return FieldInput(
            value=spec.initial(),
            placeholder=spec.placeholder,
            validators=[] if spec.kind == "text" else [AmountValidator(spec, self._values)],
            suggester=SuggestFromList(suggestions, case_sensitive=False) if suggestions else None,
            id=self.control_id,
            compact=True,
        )

    @property
    def control(self) -> Widget:
        if self._found is None:  # looked up once: Enter revalidates every field
            self._found = self.query_one(f"#{self.control_id}")
        return self._found

    @property
    def value(self) -> str | bool:
        control = self._found
        if control is None:  # looked up once: the form reads every field on every calculation
            found = self.query(f"#{self.control_id}")
            if not found:  # not composed yet (a sibling's event during mount): the default stands
                return self.spec.initial()
            control = self._found = found.first()
        if isinstance(control, Checkbox):
            return control.value
        if isinstance(control, Select):
            return str(control.value)
        assert isinstance(control, Input)
        return control.value

    def revalidate(self) -> bool:
        """Validate now and show the hint; True for controls that cannot hold bad text."""
        control = self.control
        if isinstance(control, Input) and control.validators:
            result = control.validate(control.value)
            self._show(result)
            return result is None or result.is_valid
        return True

    def on_input_changed(self, event: Input.Changed) -> None:
        self._show(event.validation_result)

    def _show(self, result: ValidationResult | None) -> None:
        failed = result is not None and not result.is_valid
        text = "\n".join(result.failure_descriptions) if failed and result else self.spec.help
        if (text, failed) == self._shown:  # as on screen: no update, so no layout of the screen
            return
        self._shown = (text, failed)
        hint = self.query_one(".field-hint", Static)
        hint.set_class(failed, "-error")
        hint.update(text)
        hint.display = bool(text)
