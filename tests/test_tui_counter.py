"""The counter details a new user tripped on (issue 14), at 80×24 where it matters:
labels and finding codes whole, checkboxes unmistakable, the TUI's own words, typed-ahead
keys in the right field, Enter calculating, screenshots saved where the app says; and the
keys, palette, help and themes (issue 12)."""

from __future__ import annotations

import re

from textual.geometry import Region

from compound.tui import forms
from compound.tui.app import MODES_SHOWN, CompoundApp
from compound.tui.forms.dating import DATING
from compound.tui.messages import PlanCalculated
from compound.tui.screens.calculator import CalculatorScreen
from compound.tui.screens.error import ErrorModal
from compound.tui.screens.help import HELP
from compound.tui.widgets.plan import PlanField
from compound.tui.widgets.plan.field import FlagBox
from test_tui_workflow import section, settle, text


def drawn(widget) -> list[str]:
    lines = widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))
    return [line.text.rstrip() for line in lines]


async def test_at_80x24_every_label_cell_is_whole_on_every_form():
    app = CompoundApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CalculatorScreen)
        for spec in forms.FORMS:
            await screen.show_form(spec.key)
            await pilot.pause()
            form = screen.query_one(f"#{spec.key}-form")
            fields = [f for f in form.query(PlanField) if f.display]
            assert {f.spec.name for f in fields} >= {d.name for d in DATING}
            for field in fields:
                label = field.query_one(".field-label")
                assert label.size.height == 1, field.spec.label
                assert drawn(label)[0].strip() == field.spec.label  # not cut, not wrapped
                assert label.region.right <= 80 and field.control.region.right <= 80


async def test_at_80x24_finding_codes_and_amounts_are_whole():
    messages: list = []
    app = CompoundApp()
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        await pilot.pause()
        await app.screen.show_form("liquid")
        await pilot.pause()
        screen = app.screen
        for name, value in {"strength": "1mg/mL", "volume": "30mL", "dose": "4.5mg"}.items():
            screen.query_one(f"#liquid-{name}").value = value
        await pilot.pause()
        screen.query_one("#liquid-strength").focus()
        await pilot.press("enter")
        await pilot.pause()
        plan = next(m.plan for m in messages if isinstance(m, PlanCalculated))
        codes = [f.code for f in plan.findings]
        assert codes
        results = screen.query_one("#liquid-results")
        assert results.region.right <= 80
        lines = section(app, "findings", "liquid").splitlines()
        for code in codes:  # each code whole, on one line, with its colon
            assert any(f"{code}:" in line for line in lines), (code, lines)
        found_words = {w for line in lines for w in re.findall(r"[A-Z][A-Z0-9_]{3,}", line)}
        assert found_words <= set(codes) | {"WARNING", "REFUSED", "HCL"}  # no code split in two


async def test_a_checkbox_shows_x_only_when_ticked_space_ticks_it_enter_calculates():
    messages: list = []
    app = CompoundApp()
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        await pilot.pause()
        screen = app.screen
        for name, value in {"strength": "4.5mg", "count": "30", "tablet_weight": "200mg"}.items():
            screen.query_one(f"#capsules-{name}").value = value
        box = screen.query_one("#capsules-opioid_use", FlagBox)
        box.focus()
        await pilot.pause()
        assert "X" not in drawn(box)[0].split("patient")[0]
        await pilot.press("space")
        await pilot.pause()
        assert box.value is True and "X" in drawn(box)[0].split("patient")[0]
        await pilot.press("enter")  # calculates (refused: opioids without an override)
        await pilot.pause()
        assert box.value is True
        assert section(app, "status").startswith("REFUSED")


async def test_keys_typed_ahead_land_in_the_field_focused_when_each_was_typed():
    app = CompoundApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        # One burst, as a barcode scanner or a fast typist sends it.
        await pilot.press(*"4.5mg", "tab", *"30", "tab", "backspace", *"5%")
        screen = app.screen
        assert screen.query_one("#capsules-strength").value == "4.5mg"
        assert screen.query_one("#capsules-count").value == "30"
        assert screen.query_one("#capsules-overage").value == "5%"


async def test_enter_in_a_dating_field_calculates_and_shows_the_bud():
    app = CompoundApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        for name, value in {"strength": "4.5mg", "count": "30", "tablet_weight": "200mg"}.items():
            screen.query_one(f"#capsules-{name}").value = value
        screen.query_one("#capsules-compounded").focus()
        await pilot.press(*"2025-03-10", "enter")
        await settle(pilot)
        assert "Beyond-use date  2025-09-05" in section(app, "bud")


async def test_errors_name_the_tui_field_not_the_cli_flag():
    app = CompoundApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        screen.query_one("#capsules-strength").value = "4.5mg"
        screen.query_one("#capsules-count").value = "30"
        screen.query_one("#capsules-route").value = "weighed"  # weighing needs the tablet weight
        await pilot.pause()
        screen.query_one("#capsules-strength").focus()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ErrorModal)
        words = text(app, "#error-message") + text(app, "#error-hint")
        assert "--" not in words and "“Tablet weight”" in words


def test_in_tui_words_replaces_only_flags_the_form_has():
    spec = forms.by_key("capsules")
    assert spec.in_tui_words("give --tablet-weight or --fill-weight") == \
        "give “Tablet weight” or “Fill weight”"
    assert spec.in_tui_words("--no-such-flag stays") == "--no-such-flag stays"


async def test_the_screenshot_key_saves_where_the_palette_says(tmp_path, monkeypatch):
    folder = tmp_path / "not" / "yet"
    monkeypatch.setenv("COMPOUND_SCREENSHOTS", str(folder))
    app = CompoundApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        command = next(c for c in app.get_system_commands(app.screen) if c.title == "Screenshot")
        assert str(folder) in command.help
        await pilot.press("f12")
        await settle(pilot)
        saved = list(folder.glob("*.svg"))
        assert len(saved) == 1 and "compound" in saved[0].read_text(encoding="utf-8")
        assert any(str(saved[0]) in str(n.message) for n in app._notifications)


async def test_screenshot_to_a_folder_that_cannot_be_made_says_so(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("COMPOUND_SCREENSHOTS", str(blocker / "sub"))
    app = CompoundApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("f12")
        await settle(pilot)
        assert any("Could not save" in str(n.message) and str(blocker) in str(n.message)
                   for n in app._notifications)


async def test_every_screen_has_a_key_a_palette_entry_and_a_help_line():
    help_text = HELP.read_text(encoding="utf-8")
    app = CompoundApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for mode in MODES_SHOWN:
            assert f"**{mode.binding.upper()}**" in help_text
            assert any(t.startswith(mode.title) for t in titles)
            await pilot.press(mode.binding)
            await pilot.pause()
            assert app.current_mode == mode.key
        for key in ("F1", "F9", "F12", "ctrl+s", "ctrl+r", "ctrl+p", "ctrl+q"):
            assert f"**{key}**" in help_text, key


async def test_f9_switches_between_light_and_dark_themes():
    app = CompoundApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        dark = app.current_theme.dark
        await pilot.press("f9")
        await pilot.pause()
        assert app.current_theme.dark is not dark
        await pilot.press("f9")
        await pilot.pause()
        assert app.current_theme.dark is dark
