"""Start-up (issue 12): the first frame is a light shell, the first form follows it unasked,
and a prescription can be typed and planned as soon as it is there.

Figures are for ``benchmarks/tui_benchmark.py``; these tests check what is on screen and
what is imported, never how long it took.
"""

from __future__ import annotations

import json
import subprocess
import sys

from rich.style import Style
from textual.app import App
from textual.widgets import Footer, Header, Input, TabbedContent

from compound.tui import forms
from compound.tui.app import CompoundApp
from compound.tui.forms.dating import DATING
from compound.tui.messages import PlanCalculated
from compound.tui.screens.calculator import CalculatorScreen
from compound.tui.widgets.plan import PlanField, PlanForm
from test_tui_app import amounts, posted, section


def top_line(app: CompoundApp) -> list[tuple[str, object]]:
    """The screen's first line as seen: each cell's character and style, a blank's background
    only (its foreground colour is not seen; links and meta, such as click actions, neither)."""
    strip = app.screen._compositor.render_strips()[0]
    return [(char, style.clear_meta_and_links() if char != " " else style.bgcolor)
            for segment in strip for char in segment.text
            for style in [segment.style or Style()]]


class Watched(CompoundApp):
    """Records what the screen holds when the first frame has been drawn."""

    first_frame: list[str] | None = None

    def on_mount(self) -> None:
        super().on_mount()
        self.call_after_refresh(self._record)  # before the screen's own after-paint build

    def _record(self) -> None:
        screen = self.screen
        self.first_frame = [type(w).__name__ for w in screen.walk_children()]
        assert isinstance(screen, CalculatorScreen)
        self.first_frame_text = str(screen.query_one("#forms-loading").render())
        self.first_top_line = top_line(self)


async def test_the_first_frame_is_the_shell_and_the_first_form_follows_unasked():
    app = Watched()
    async with App.run_test(app, size=(100, 30)) as pilot:  # Textual's: no wait for the form
        await pilot.pause()
        assert app.first_frame is not None
        assert "ShellHeader" in app.first_frame and "Header" not in app.first_frame
        assert not {"TabbedContent", "Footer", "PlanForm", "PlanField"} & set(app.first_frame)
        assert app.first_frame_text == "Loading the capsules form…"

        await app.first_form_built.wait()  # nothing pressed: it is built after the first frame
        await pilot.pause()
        screen = app.screen
        assert not screen.query("#forms-loading")
        assert screen.query_one(Header) and screen.query_one(Footer)
        assert not screen.query("ShellHeader")
        # The shell's one-widget header looks like Textual's Header that replaces it: the same
        # characters in the same places, in the same colours.
        assert "⭘" in "".join(char for char, _ in app.first_top_line)
        assert "compound — LDN compounding" in "".join(char for char, _ in app.first_top_line)
        assert app.first_top_line == top_line(app)
        form = screen.query_one("#capsules-form", PlanForm)
        assert len(form.query(PlanField)) == len(forms.CAPSULES.fields) + len(DATING)
        assert app.focused is screen.query_one("#capsules-strength")
        # The other tabs are built when first opened.
        for spec in forms.FORMS[1:]:
            assert not screen.query(f"#{spec.key}-form")
        assert screen.query_one("#forms", TabbedContent).active == "capsules"


async def test_a_prescription_typed_right_after_start_is_planned():
    # 4.5 mg × 30 capsules from 200 mg tablets: 4.5 × 30 = 135 mg HCl; 135 / 50 = 2.7 → 3
    # tablets; 135 / 50 × 200 mg = 540 mg of tablet powder.
    messages: list = []
    app = CompoundApp()
    async with app.run_test(size=(100, 30), message_hook=messages.append) as pilot:
        # Typed as in the tmux test: strength, count, then Tab past overage, size, filler,
        # fill weight, source and product to the tablet weight.
        await pilot.press(*"4.5mg", "tab", *"30", *["tab"] * 7, *"200mg", "enter")
        await pilot.pause()
        shown = amounts(app)
        assert shown["api_required_mg"] == "135 mg"
        assert shown["tablets_to_crush"].startswith("3")
        assert shown["tablet_powder_mg"] == "540 mg"
        assert section(app, "status").startswith(("OK", "WARNING"))
        assert len(posted(messages, PlanCalculated)) == 1


async def test_keys_typed_before_the_first_form_exists_land_in_it_in_order(monkeypatch):
    # The first form is built when the test says, so every key below is typed before any field
    # exists; they are handed to the form, Tabs and Enter included, once it has the cursor.
    build = CalculatorScreen._build_first

    async def not_yet(self: CalculatorScreen) -> None:
        pass

    monkeypatch.setattr(CalculatorScreen, "_build_first", not_yet)
    messages: list = []
    app = CompoundApp()
    async with App.run_test(app, size=(100, 30), message_hook=messages.append) as pilot:
        await pilot.press(*"4.5mg", "tab", *"30", *["tab"] * 7, *"200mg", "enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CalculatorScreen)
        assert not screen.query(PlanField) and not app.first_form_built.is_set()
        await build(screen)
        await app.first_form_built.wait()
        for _ in range(10):  # the handed-on keys pass through the fields' queues, then Enter
            await pilot.pause()
            if posted(messages, PlanCalculated):
                break
        assert screen.query_one("#capsules-strength", Input).value == "4.5mg"
        assert screen.query_one("#capsules-count", Input).value == "30"
        assert screen.query_one("#capsules-tablet_weight", Input).value == "200mg"
        assert amounts(app)["api_required_mg"] == "135 mg"
        assert len(posted(messages, PlanCalculated)) == 1
        await pilot.press("x")  # once the form is up, keys go straight to the focused field
        assert screen.query_one("#capsules-tablet_weight", Input).value == "200mgx"


async def test_quit_is_not_held_while_the_first_form_is_built(monkeypatch):
    async def never(self: CalculatorScreen) -> None:
        pass

    monkeypatch.setattr(CalculatorScreen, "_build_first", never)
    app = CompoundApp()
    async with App.run_test(app, size=(100, 30)) as pilot:
        await pilot.press("4", "ctrl+q")
        await pilot.pause()
        assert app._exit  # quitting: it was not held for a form that never comes
        assert app._held_keys is not None and [k.key for k in app._held_keys] == ["4"]


async def test_another_tab_opened_before_the_first_form_is_built_gets_its_form():
    app = CompoundApp()
    async with App.run_test(app, size=(100, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, CalculatorScreen)
        await screen.show_form("liquid")
        await app.first_form_built.wait()
        await pilot.pause()
        assert screen.query_one("#forms", TabbedContent).active == "liquid"
        assert app.focused is screen.query_one("#liquid-strength")  # not pulled back to capsules
        assert screen.query_one("#capsules-form", PlanForm)


def test_the_first_paint_needs_neither_the_planning_modules_nor_pint_nor_numpy():
    """What ``compound.tui.run`` loads before the app starts: the catalog read (a broken
    catalog still fails before the terminal is taken over) and the shell's modules."""
    code = ("from compound.tui import forms\nforms.preflight()\n"
            "import compound.tui.app\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout))
    assert "compound.tui.forms.shared" in loaded and "compound.catalog.loader" in loaded
    assert not {"pint", "numpy", "compound.core.units", "compound.tui.widgets.plan"} & loaded
    # Nor what only a calculation or a save needs: imported after the first frame.
    assert not {"compound.tui.store", "compound.tui.messages", "compound.tui.screens.error",
                "compound.tui.screens.sign", "compound.tui.forms.dating"} & loaded
    assert not [m for m in loaded if m.startswith("compound.planning")]
