"""One form field: a label, the control, and a hint line that says what to type.

Amount fields validate as they are typed with :func:`compound.core.units.parse`
(the parser behind every CLI option), so ``4,5mg``, ``4.5`` or ``9gtt`` are
refused here exactly as on the command line, with the same message and hint.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.suggester import SuggestFromList
from textual.validation import ValidationResult, Validator
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, Select, Static

from compound.core import units
from compound.errors import UnitInputError
from compound.tui.forms import FieldSpec


def describe(exc: UnitInputError) -> str:
    """The parser's message and its hint, as shown under a refused field."""
    return f"{exc.message}\n{exc.hint}" if exc.hint else exc.message


class AmountValidator(Validator):
    """Accepts exactly what the CLI accepts for this kind of amount."""

    def __init__(self, spec: FieldSpec) -> None:
        super().__init__()
        self.spec = spec

    def validate(self, value: str) -> ValidationResult:
        if not value.strip():
            if self.spec.required:
                example = self.spec.placeholder or "a value"
                return self.failure(f"{self.spec.label} is required.\nType it: {example}.")
            return self.success()
        try:
            if self.spec.kind == "overage":
                units.parse_overage(value, field=None)
            else:
                units.parse(value, self.spec.kind, field=None)  # type: ignore[arg-type]
        except UnitInputError as exc:
            return self.failure(describe(exc))
        return self.success()


class PlanField(Vertical):
    """A labelled control for one keyword of a plan function."""

    def __init__(self, form_key: str, spec: FieldSpec) -> None:
        super().__init__(id=f"{form_key}-{spec.name}-field", classes="plan-field")
        self.spec = spec
        self.control_id = f"{form_key}-{spec.name}"

    def compose(self) -> ComposeResult:
        spec = self.spec
        with Horizontal(classes="field-row"):
            yield Label(spec.label, classes="field-label")
            yield self._control()
        hint = Static(spec.help, id=f"{self.control_id}-hint", classes="field-hint", markup=False)
        hint.display = bool(spec.help)
        yield hint

    def _control(self) -> Widget:
        spec = self.spec
        if spec.kind == "choice":
            return Select(spec.options(), value=spec.initial(), allow_blank=False,
                          id=self.control_id, compact=True)
        if spec.kind == "flag":
            return Checkbox(spec.placeholder, value=spec.initial() == "yes", id=self.control_id,
                            compact=True)
        suggestions = [value for _, value in spec.options()]
        return Input(
            value=spec.initial(),
            placeholder=spec.placeholder,
            validators=[] if spec.kind == "text" else [AmountValidator(spec)],
            suggester=SuggestFromList(suggestions, case_sensitive=False) if suggestions else None,
            id=self.control_id,
            compact=True,
        )

    @property
    def control(self) -> Widget:
        return self.query_one(f"#{self.control_id}")

    @property
    def value(self) -> str | bool:
        control = self.control
        if isinstance(control, Checkbox):
            return control.value
        if isinstance(control, Select):
            return str(control.value)
        assert isinstance(control, Input)
        return control.value

    @property
    def is_valid(self) -> bool:
        control = self.control
        if isinstance(control, Input) and control.validators:
            result = control.validate(control.value)
            self._show(result)
            return result is None or result.is_valid
        return True

    def on_input_changed(self, event: Input.Changed) -> None:
        self._show(event.validation_result)

    def _show(self, result: ValidationResult | None) -> None:
        hint = self.query_one(".field-hint", Static)
        failed = result is not None and not result.is_valid
        hint.set_class(failed, "-error")
        text = "\n".join(result.failure_descriptions) if failed and result else self.spec.help
        hint.update(text)
        hint.display = bool(text)
