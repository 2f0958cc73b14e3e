"""The TUI's fields refuse exactly what the CLI refuses, with the parser's own hint."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from compound.core import units
from compound.errors import UnitInputError
from compound.tui.forms import CAPSULES, FieldSpec
from compound.tui.widgets.plan.field import AmountValidator


def validate(kind: str, text: str, *, required: bool = False):
    spec = FieldSpec("x", "X", kind, required=required, placeholder="e.g. 4.5mg")  # type: ignore[arg-type]
    return AmountValidator(spec).validate(text)


@pytest.mark.parametrize(
    ("kind", "text", "hint"),
    [
        ("mass", "4,5mg", "Use a decimal point: 4.5mg."),
        ("mass", "4.5", "it has no unit"),
        ("mass", ".5mg", "Write a leading zero, e.g. 0.5mg."),
        ("mass", "500ug", "write mcg for micrograms"),
        ("mass", "9gtt", "drops have no fixed volume"),
        ("mass", "4.5e0mg", "scientific notation"),
        ("volume", "5cc", "write mL"),
        ("volume", "1tsp", "household measures"),
        ("concentration", "1%", "ambiguous (w/v or w/w)"),
        ("fraction", "99.2", "needs the % sign"),
        ("count", "30 caps", "a count is a whole number"),
        ("count", "1.5", "a count is a whole number"),
        ("calibration", "46 drops", "drops counted per volume"),
        ("duration", "1 month", "months differ in length"),
    ],
)
def test_refused_text_fails_with_the_cli_parsers_message(kind, text, hint):
    result = validate(kind, text)
    assert not result.is_valid
    shown = "\n".join(result.failure_descriptions)
    assert hint in shown
    # The very same text is refused by the CLI's parser with the same words.
    with pytest.raises(UnitInputError) as refused:
        units.parse(text, kind)
    assert refused.value.message in shown


@pytest.mark.parametrize(
    ("kind", "text"),
    [("mass", "4.5mg"), ("mass", "500mcg"), ("mass", "1.2 g"), ("volume", "30mL"),
     ("concentration", "5mg/5mL"), ("fraction", "99.2%"), ("count", "30"),
     ("calibration", "46 drops/2mL"), ("duration", "14d"), ("mass", "-4.5mg")],
)
def test_accepted_text_passes(kind, text):
    # A negative amount is well formed: the plan refuses it as a finding, as on the CLI.
    assert validate(kind, text).is_valid


@pytest.mark.parametrize(("text", "ok"), [("1", True), ("5%", True), ("0", True), ("1.5", False),
                                          ("5", True), ("5 %", True), ("five", False)])
def test_overage_is_a_count_or_a_percentage(text, ok):
    assert validate("overage", text).is_valid is ok


def test_a_required_field_left_blank_says_what_to_type():
    result = validate("mass", "", required=True)
    assert not result.is_valid
    assert result.failure_descriptions == ["X is required.\nType it: e.g. 4.5mg."]
    assert validate("mass", "").is_valid  # optional: blank means "not given"


def test_every_capsule_amount_field_uses_a_parser_kind():
    kinds = {f.name: f.kind for f in CAPSULES.fields}
    assert kinds["strength"] == "mass" and kinds["count"] == "count"
    assert kinds["tablet_weight"] == "mass" and kinds["fill_weight"] == "mass"
    assert kinds["assay"] == "fraction" and kinds["water"] == "fraction"
    assert kinds["overage"] == "overage" and kinds["balance_sensitivity"] == "mass"


async def test_typing_a_comma_decimal_marks_the_field_and_shows_the_hint():
    from compound.tui.app import CompoundApp

    app = CompoundApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.focused is not None and app.focused.id == "capsules-strength"
        await pilot.press(*"4,5mg")
        await pilot.pause()
        field = app.screen.query_one("#capsules-strength", Input)
        hint = app.screen.query_one("#capsules-strength-hint")
        assert field.value == "4,5mg"
        assert field.has_class("-invalid")
        assert "Use a decimal point: 4.5mg." in str(hint.render())
        assert hint.has_class("-error")

        for _ in range(5):
            await pilot.press("backspace")
        await pilot.press(*"4.5mg")
        await pilot.pause()
        assert not field.has_class("-invalid")
        assert "decimal point" not in str(hint.render())


async def test_nothing_is_calculated_while_a_field_is_refused():
    from compound.tui.app import CompoundApp
    from compound.tui.messages import CalculationRequested

    messages: list = []
    app = CompoundApp()
    async with app.run_test(size=(120, 40), message_hook=messages.append) as pilot:
        await pilot.pause()
        await pilot.press(*"4.5")  # no unit
        await pilot.press("tab", *"30", "enter")
        await pilot.pause()
        assert not [m for m in messages if isinstance(m, CalculationRequested)]
        assert app.focused is not None and app.focused.id == "capsules-strength"
        assert "it has no unit" in str(app.screen.query_one("#capsules-strength-hint").render())
        assert app.screen.query_one("#capsules-results").plan is None


@pytest.mark.parametrize(
    ("text", "calibration", "problem"),
    [("4.5mg", "", None), ("9 drops", "46 drops/2mL", None),
     ("9 drops", "", "not calibrated"), ("9.5 drops", "23 drops/mL", "not a whole number of drops"),
     ("9gtt", "", "not calibrated"), ("4,5mg", "", "Use a decimal point")],
)
def test_a_drops_dose_is_a_mass_or_whole_drops_with_a_calibration(text, calibration, problem):
    from compound.tui.forms import DROPS
    from compound.tui.widgets.plan.field import check

    found = check(DROPS.field("dose"), text, {"calibration": calibration})
    assert (found is None) if problem is None else (problem in (found or ""))


@pytest.mark.parametrize(("text", "ok"), [("0.5mg", True), ("0.5mg/drop", True), ("500mcg", True),
                                          ("0.5", False), ("0.5mg/mL", False)])
def test_per_drop_accepts_a_mass_as_per_drop_like_the_plan(text, ok):
    from compound.tui.forms import DROPS
    from compound.tui.widgets.plan.field import check

    assert (check(DROPS.field("per_drop"), text, {}) is None) is ok
