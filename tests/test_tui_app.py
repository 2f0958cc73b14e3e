"""The calculator as a pharmacist drives it: type, calculate, read the plan.

Expected numbers are worked by hand from the inputs (domain.md §1.4: 50 mg
tablets), not read back from the code.
"""

from __future__ import annotations

import pytest
from textual.widgets import Checkbox, Select

from compound.tui.app import CompoundApp
from compound.tui.messages import CalculationFailed, PlanCalculated, PlanRefused
from compound.tui.screens.error import ErrorModal
from compound.tui.screens.help import HelpScreen
from compound.tui.widgets.plan import PlanResults


def amounts(app: CompoundApp, form: str = "capsules") -> dict[str, str]:
    """The amounts on screen by JSON key, as printed (the pane's own record of its table)."""
    results = app.screen.query_one(f"#{form}-results", PlanResults)
    printed = results.text("amounts")
    for label, value in results.shown.values():  # the record matches what is drawn
        assert any(label[:20] in line and line.rstrip().endswith(value) for line in printed.splitlines())
    return {key: value for key, (_, value) in results.shown.items()}


def posted(messages: list, kind: type) -> list:
    """Each message once (the hook sees it again at every node it bubbles through)."""
    return list({id(m): m for m in messages if isinstance(m, kind)}.values())


def text_of(app: CompoundApp, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


def section(app: CompoundApp, name: str, form: str = "capsules") -> str:
    """What a section of a form's results pane draws ("" when it is not shown)."""
    return app.screen.query_one(f"#{form}-results", PlanResults).text(name)


async def fill(pilot, **values: str | bool) -> None:
    """Set fields of the capsule form the way a paste would (typing is tested separately)."""
    screen = pilot.app.screen
    for name, value in values.items():
        control = screen.query_one(f"#capsules-{name}")
        if isinstance(control, Checkbox):
            control.value = bool(value)
        elif isinstance(control, Select):
            control.value = value
        else:
            control.value = value
    await pilot.pause()


async def test_typed_capsule_plan_from_tablets():
    # 4.5 mg × 30 + 1 overage = 31 capsules; 4.5 × 31 = 139.5 mg HCl;
    # 139.5 / 50 = 2.79 → 3 tablets; 139.5 / 50 × 200 mg = 558 mg of tablet powder.
    messages: list = []
    app = CompoundApp()
    async with app.run_test(size=(120, 40), message_hook=messages.append) as pilot:
        await pilot.pause()
        await pilot.press(*"4.5mg", "tab", *"30", "tab", "backspace", "1")
        await fill(pilot, tablet_weight="200mg", fill_weight="100mg")
        app.screen.query_one("#capsules-strength").focus()
        await pilot.press("enter")
        await pilot.pause()

        shown = amounts(app)
        assert shown["capsules_to_prepare"].startswith("31")
        assert shown["api_required_mg"] == "139.5 mg"
        assert shown["tablets_to_crush"].startswith("3")
        assert shown["tablet_powder_mg"] == "558 mg"
        assert "api_to_weigh_mg" not in shown  # not the API route: null, not shown
        assert section(app, "status").startswith(("OK", "WARNING"))
        assert "Working" in section(app, "working")

        calculated = posted(messages, PlanCalculated)
        assert len(calculated) == 1
        plan = calculated[0].plan
        assert plan.amounts["capsules_to_prepare"] == 31
        assert plan.amounts["tablet_powder_mg"] == pytest.approx(558.0, rel=1e-12)
        assert app.screen.query_one("#capsules-results", PlanResults).plan is plan


async def test_a_refused_plan_shows_the_refusal_and_no_amounts():
    messages: list = []
    app = CompoundApp()
    async with app.run_test(size=(120, 40), message_hook=messages.append) as pilot:
        await pilot.pause()
        await fill(pilot, strength="11mg", count="30", tablet_weight="200mg")
        await pilot.press("ctrl+r")
        await pilot.pause()

        assert posted(messages, PlanRefused)
        assert not posted(messages, PlanCalculated)
        assert amounts(app) == {}
        assert not section(app, "amounts")
        assert not section(app, "working")
        assert not section(app, "extra")
        assert section(app, "status").startswith("REFUSED")
        findings = section(app, "findings")
        assert "REFUSED" in findings and "DOSE_BAND_ABOVE_LDN" in findings
        assert "mg" not in section(app, "status")  # no quantity in the verdict


async def test_opioid_use_is_refused_until_a_reason_is_given():
    messages: list = []
    app = CompoundApp()
    async with app.run_test(size=(120, 40), message_hook=messages.append) as pilot:
        await pilot.pause()
        await fill(pilot, strength="4.5mg", count="30", tablet_weight="200mg", opioid_use=True)
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert "OPIOID_USE" in section(app, "findings")
        assert amounts(app) == {}

        await fill(pilot, override_opioid="prescriber confirmed, opioid-free 14 days")
        await pilot.press("ctrl+r")
        await pilot.pause()
        findings = section(app, "findings")
        assert "OPIOID_USE_OVERRIDDEN" in findings and "prescriber confirmed" in findings
        assert amounts(app)["api_required_mg"] == "135 mg"  # 4.5 mg × 30 capsules, no overage
        refused, calculated = posted(messages, PlanRefused), posted(messages, PlanCalculated)
        assert len(refused) == 1 and len(calculated) == 1


async def test_a_compound_error_opens_the_error_modal_and_the_app_stays_usable():
    messages: list = []
    app = CompoundApp()
    async with app.run_test(size=(120, 40), message_hook=messages.append) as pilot:
        await pilot.pause()
        await fill(pilot, strength="4.5mg", count="30", tablet_weight="200mg", filler="chalk")
        await pilot.press("ctrl+r")
        await pilot.pause()

        assert isinstance(app.screen, ErrorModal)
        assert "chalk" in text_of(app, "#error-message")
        assert "mcc" in text_of(app, "#error-hint")  # the known fillers: what to type instead
        failed = posted(messages, CalculationFailed)
        assert len(failed) == 1 and failed[0].error.exit_code == 2

        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, ErrorModal)
        assert app.focused is not None and app.focused.id == "capsules-filler"

        await pilot.press("ctrl+a", *"mcc")  # fix it where the cursor landed
        await fill(pilot, filler="mcc")
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert amounts(app)["tablet_powder_mg"] == "540 mg"  # 4.5 × 30 / 50 × 200


async def test_changing_an_input_clears_the_results():
    app = CompoundApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await fill(pilot, strength="4.5mg", count="30", tablet_weight="200mg")
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert amounts(app)
        await pilot.press("backspace")  # the strength field has the cursor
        await pilot.pause()
        results = app.screen.query_one("#capsules-results", PlanResults)
        assert results.plan is None and amounts(app) == {}
        assert "Inputs changed" in section(app, "status")


async def test_the_api_route_shows_the_api_fields_only():
    app = CompoundApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert screen.query_one("#capsules-tablet_weight-field").display
        assert not screen.query_one("#capsules-assay-field").display
        await fill(pilot, source="api")
        assert not screen.query_one("#capsules-tablet_weight-field").display
        assert screen.query_one("#capsules-assay-field").display
        assert screen.query_one("#capsules-water-field").display


async def test_help_opens_on_f1_and_closes_on_escape():
    app = CompoundApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


async def test_the_command_palette_has_an_entry_per_form():
    app = CompoundApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert {"Plan capsules", "Plan oral liquid", "Plan sublingual drops", "Plan dilution (mcg)",
                "Help"} <= set(titles)

        app.screen.query_one("#capsules-count").focus()
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"plan capsules")
        await app.workers.wait_for_complete()  # the palette searches in a worker
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert app.focused is not None and app.focused.id == "capsules-strength"


async def test_a_new_calculation_updates_the_results_pane_in_place():
    # Every calculation redraws the pane: its parts are updated, never mounted again (a mount
    # re-lays out the whole screen and loses the scroll position's widget).
    app = CompoundApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await fill(pilot, strength="4.5mg", count="30", tablet_weight="200mg", fill_weight="100mg")
        await pilot.press("ctrl+r")
        await pilot.pause()
        results = app.screen.query_one("#capsules-results", PlanResults)
        first = amounts(app)
        await fill(pilot, strength="3mg")  # the pane is cleared for the changed input
        assert results.plan is None
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert app.screen.query_one("#capsules-results") is results  # drawn again, not mounted
        assert not results.children
        second = amounts(app)
        assert first["api_required_mg"] == "135 mg" and second["api_required_mg"] == "90 mg"
        working = section(app, "working")
        assert "3 mg" in working and "4.5 mg" not in working
