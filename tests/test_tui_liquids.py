"""The oral liquid, drops and dilution tabs: the same plans as ``compound plan liquid|drops|dilution``.

Expected numbers are worked by hand from the inputs (prior-art §6 T1/T2/T27,
domain.md §2.2), not read back from the code.
"""

from __future__ import annotations

from textual.widgets import Input, Select

from compound.tui.app import CompoundApp
from compound.tui.messages import CalculationFailed, PlanCalculated, PlanRefused
from compound.tui.screens.calculator import CalculatorScreen
from compound.tui.screens.error import ErrorModal
from compound.tui.widgets.plan import PlanResults


async def open_form(pilot, form: str, **values: str) -> None:
    screen = pilot.app.screen
    assert isinstance(screen, CalculatorScreen)
    await screen.show_form(form)
    await pilot.pause()
    for name, value in values.items():
        control = screen.query_one(f"#{form}-{name}")
        assert isinstance(control, (Input, Select))
        control.value = value
    await pilot.pause()


def amounts(app: CompoundApp, form: str) -> dict[str, str]:
    """The amounts on screen by JSON key, as printed (the pane's own record of its table)."""
    results = app.screen.query_one(f"#{form}-results", PlanResults)
    printed = results.text("amounts")
    for label, value in results.shown.values():  # the record matches what is drawn
        assert any(label[:20] in line and line.rstrip().endswith(value) for line in printed.splitlines())
    return {key: value for key, (_, value) in results.shown.items()}


def section(app: CompoundApp, form: str, name: str) -> str:
    """What a section of a form's results pane draws ("" when it is not shown)."""
    return app.screen.query_one(f"#{form}-results", PlanResults).text(name)


def posted(messages: list, kind: type) -> list:
    return list({id(m): m for m in messages if isinstance(m, kind)}.values())


async def test_oral_liquid_from_tablets_in_the_fawcett_vehicle():
    # 1 mg/mL × 100 mL = 100 mg = 2 × 50 mg tablets; a 4.5 mg dose is 4.5 mL;
    # 100 mL / 4.5 mL = 22.2 → 22 days. Fawcett 1997 per 100 mL: ascorbic acid 0.5 g.
    messages: list = []
    app = CompoundApp()
    async with app.run_test(size=(120, 40), message_hook=messages.append) as pilot:
        await pilot.pause()
        await open_form(pilot, "liquid", strength="1mg/mL", volume="100mL", dose="4.5mg")
        await pilot.press("enter")
        await pilot.pause()
        shown = amounts(app, "liquid")
        assert shown["api_mg"] == "100 mg"
        assert shown["tablets_to_crush"] == "2 tablets"
        assert shown["dose_volume_ml"] == "4.5 mL"
        assert shown["days_supply"] == "22 days"
        extra = section(app, "liquid", "extra")
        assert "Ascorbic acid, amount 500 mg" in extra
        assert len(posted(messages, PlanCalculated)) == 1


async def test_a_liquid_without_a_volume_or_dose_and_days_opens_the_error_modal():
    messages: list = []
    app = CompoundApp()
    async with app.run_test(size=(120, 40), message_hook=messages.append) as pilot:
        await pilot.pause()
        await open_form(pilot, "liquid", strength="1mg/mL")
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert isinstance(app.screen, ErrorModal)
        assert "volume" in str(app.screen.query_one("#error-message").render())
        assert posted(messages, CalculationFailed)[0].error.exit_code == 2
        await pilot.press("escape")
        await pilot.pause()
        assert app.focused is not None and app.focused.id == "liquid-volume"


async def test_a_liquid_dose_above_10mg_is_refused_with_no_amounts():
    messages: list = []
    app = CompoundApp()
    async with app.run_test(size=(120, 40), message_hook=messages.append) as pilot:
        await pilot.pause()
        await open_form(pilot, "liquid", strength="1mg/mL", volume="100mL", dose="11mg")
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert posted(messages, PlanRefused) and not posted(messages, PlanCalculated)
        assert amounts(app, "liquid") == {}
        assert "DOSE_BAND_ABOVE_LDN" in section(app, "liquid", "findings")
        assert not section(app, "liquid", "extra")


async def test_drops_dose_in_drops_needs_a_calibration_then_plans():
    # T27: 46 drops in 2 mL = 23 drops/mL; 0.5 mg/drop × 23 = 11.5 mg/mL;
    # 11.5 mg/mL × 30 mL = 345 mg API; 9 drops × 0.5 mg = 4.5 mg.
    app = CompoundApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await open_form(pilot, "drops", per_drop="0.5mg", volume="30mL", dose="9 drops")
        dose = app.screen.query_one("#drops-dose", Input)
        hint = str(app.screen.query_one("#drops-dose-hint").render())
        assert dose.has_class("-invalid") and "not calibrated" in hint

        await open_form(pilot, "drops", calibration="46 drops/2mL")
        assert not dose.has_class("-invalid")  # re-checked when the calibration was typed
        await pilot.press("ctrl+r")
        await pilot.pause()
        shown = amounts(app, "drops")
        assert shown["drops_per_ml"] == "23 drops/mL"
        assert shown["concentration_mg_per_ml"] == "11.5 mg/mL"
        assert shown["api_mg"] == "345 mg"
        assert shown["drops_per_dose"] == "9 drops"
        assert shown["dose_delivered_mg"] == "4.5 mg"


async def test_a_microgram_dilution_weighs_at_least_the_mwq():
    # 1 mcg/mL × 30 mL = 30 mcg of naltrexone HCl, far below the Class III MWQ
    # (6 mg / 5 % = 120 mg): the plan weighs ≥ 120 mg for a stock and dilutes it in stages.
    app = CompoundApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await open_form(pilot, "dilution", strength="1mcg/mL", volume="30mL", dose="5mcg")
        await pilot.press("ctrl+r")
        await pilot.pause()
        shown = amounts(app, "dilution")
        assert shown["api_mg"] == "30 mcg"
        plan = app.screen.query_one("#dilution-results").plan
        assert plan is not None and plan.amounts["api_to_weigh_mg"] >= 120
        assert shown["dose_volume_ml"] == "5 mL"  # 5 mcg ÷ 1 mcg/mL
        assert "Stages" in section(app, "dilution", "extra")
