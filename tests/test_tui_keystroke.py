"""A keystroke redraws what it changed, and lays the screen out only when a size changes
(issue 12: a keystroke within one frame). Textual places every widget of the screen again
(~150, the form's mostly) for each layout, so these count layouts, widget updates and text
wrapping, never seconds (benchmarks/keystroke_benchmark.py times them). A calculation and
the keystroke that clears it lay nothing out: the results pane is one widget that draws
its lines itself, at a size that does not follow its content.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

import pytest
from textual._compositor import Compositor
from textual.content import Content
from textual.geometry import Region
from textual.screen import Screen
from textual.visual import Visual
from textual.widgets import Input, Select, Static

from compound.tui.app import CompoundApp
from compound.tui.messages import PlanCalculated
from compound.tui.widgets.plan import PlanResults

VALUES = {"strength": "4.5mg", "count": "30", "tablet_weight": "200mg", "fill_weight": "100mg"}


def recorded(monkeypatch, owner: type, name: str, what: Callable[[Any], Any] = lambda o: o) -> list:
    """Each call of ``owner.name``, as it happens: ``what`` of the object it is called on."""
    done: list = []
    original = getattr(owner, name)

    def counted(obj, *args, **kwargs):
        done.append(what(obj))
        return original(obj, *args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return done


@pytest.fixture
def layouts(monkeypatch) -> list[Screen]:
    """Each layout of a screen, as it happens."""
    return recorded(monkeypatch, Screen, "_refresh_layout")


@pytest.fixture
def updates(monkeypatch) -> list[str]:
    """The id of each Static updated (a hint, a part of the results pane)."""
    return recorded(monkeypatch, Static, "update", lambda static: static.id or "")


async def filled(pilot) -> None:
    for name, value in VALUES.items():
        pilot.app.screen.query_one(f"#capsules-{name}").value = value
    await pilot.pause()


async def calculated(pilot, **changed: str) -> PlanResults:
    """The form filled (:data:`VALUES`, then ``changed``), Enter pressed in the strength
    field: the results pane, the plan on it."""
    await filled(pilot)
    for name, value in changed.items():
        pilot.app.screen.query_one(f"#capsules-{name}").value = value
    pilot.app.screen.query_one("#capsules-strength").focus()
    await pilot.press("enter")
    await pilot.pause()
    return pilot.app.screen.query_one("#capsules-results", PlanResults)


async def test_a_character_typed_into_a_valid_field_lays_nothing_out(layouts, updates):
    app = CompoundApp()
    async with app.run_test(size=(100, 30)) as pilot:
        app.screen.query_one("#capsules-count").focus()
        await pilot.press("3")  # valid already: the hint stays the field's help
        await pilot.pause()
        layouts.clear()
        updates.clear()
        await pilot.press("0")
        await pilot.pause()
        assert app.screen.query_one("#capsules-count").value == "30"  # type: ignore[attr-defined]
        assert layouts == []  # the text's width is the field's business (it scrolls within it)
        assert updates == []  # the hint did not change: not updated


async def test_a_hint_that_changes_is_shown(layouts):
    app = CompoundApp()
    async with app.run_test(size=(100, 30)) as pilot:
        app.screen.query_one("#capsules-count").focus()
        await pilot.press("3", "x")
        await pilot.pause()
        hint = app.screen.query_one("#capsules-count-hint", Static)
        assert hint.has_class("-error") and "3x" in str(hint.render())
        await pilot.press("backspace")
        await pilot.pause()
        assert not hint.has_class("-error") and "3x" not in str(hint.render())


async def test_enter_revalidates_the_fields_without_redrawing_their_hints(updates):
    app = CompoundApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await filled(pilot)
        app.screen.query_one("#capsules-strength").focus()
        updates.clear()
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.query_one("#capsules-results", PlanResults).plan is not None
        assert not [name for name in updates if name.endswith("-hint")]


async def typed_into_strength(pilot, key: str) -> None:
    """A key typed after "4.5" of "4.5mg": "2" makes 4.25mg, "delete" 4.5mg again (valid both,
    so the field's hint stays its help: only the pane changes); "enter" calculates."""
    if key != "enter":
        pilot.app.screen.query_one("#capsules-strength").cursor_position = 2
    await pilot.press(key)
    await pilot.pause()


def scrollbar_drawn(results: PlanResults) -> list[str]:
    """The pane's scrollbar as drawn: a line of it per row, "" where it is blank."""
    bar = results.vertical_scrollbar
    return [line.text.strip() + ("#" if any(s.style and s.style.reverse for s in line) else "")
            for line in bar.render_lines(Region(0, 0, bar.size.width, bar.size.height))]


@pytest.mark.parametrize("size", [(100, 30), (80, 24), (120, 40)])
async def test_a_calculation_and_the_key_that_clears_it_lay_nothing_out(layouts, updates, size):
    # Enter fills the pane (a plan overflows it: the scrollbar's thumb comes), a character typed
    # clears it (the thumb goes), and back: the screen is laid out for none of them, and no
    # widget of the pane is updated (it has none: it draws its lines itself).
    app = CompoundApp()
    async with app.run_test(size=size) as pilot:
        results = await calculated(pilot)
        for key, planned in (("2", False), ("delete", False), ("enter", True), ("2", False),
                             ("enter", True)):
            layouts.clear()
            updates.clear()
            await typed_into_strength(pilot, key)
            assert (results.plan is not None) is planned, key
            assert layouts == [], key
            assert updates == [], key
            assert not results.children


@pytest.mark.parametrize("size", [(100, 30), (80, 24)])
async def test_the_scrollbar_follows_the_content_in_the_same_frame(layouts, size):
    # The scrollbar is always placed (one that comes and goes lays the screen out): its thumb is
    # drawn when the content overflows the pane, and nothing (a blank column) when it fits.
    app = CompoundApp()
    async with app.run_test(size=size) as pilot:
        await filled(pilot)
        app.screen.query_one("#capsules-strength").focus()
        results = app.screen.query_one("#capsules-results", PlanResults)
        await pilot.pause()
        assert results.show_vertical_scrollbar
        assert not any(scrollbar_drawn(results))  # the message that invites a calculation fits
        for key, scrolls in (("enter", True), ("2", False), ("delete", False), ("enter", True)):
            layouts.clear()
            await typed_into_strength(pilot, key)
            overflows = results.virtual_size.height > results.scrollable_content_region.height
            assert overflows is scrolls, key
            assert results.vertical_scrollbar.window_virtual_size == results.virtual_size.height
            assert any(scrollbar_drawn(results)) is scrolls, key
            assert layouts == [], key


async def test_the_results_scroll_from_the_keyboard():
    app = CompoundApp()
    async with app.run_test(size=(100, 30)) as pilot:
        results = await calculated(pilot)
        top = results.render_line(0).text
        assert top.strip().startswith(("OK", "WARNING"))
        results.focus()
        await pilot.press("pagedown")
        await pilot.pause()
        assert results.scroll_offset.y > 0 and results.render_line(0).text != top
        before = scrollbar_drawn(results)
        await pilot.press("end")
        await pilot.pause()
        assert results.scroll_offset.y == results.max_scroll_y > 0
        assert scrollbar_drawn(results) != before  # the thumb moved down
        await pilot.press("home")
        await pilot.pause()
        assert results.scroll_offset.y == 0 and results.render_line(0).text == top


async def test_enter_again_on_the_same_inputs_computes_nothing(layouts):
    messages: list = []
    app = CompoundApp()
    async with app.run_test(size=(100, 30), message_hook=messages.append) as pilot:
        await calculated(pilot)
        layouts.clear()
        await pilot.press("enter")
        await pilot.pause()
        assert len({id(m) for m in messages if isinstance(m, PlanCalculated)}) == 1
        assert layouts == []
        await pilot.press("backspace", "g", "enter")  # the same text, typed again: computed
        await pilot.pause()
        assert len({id(m) for m in messages if isinstance(m, PlanCalculated)}) == 2
        assert app.screen.query_one("#capsules-results", PlanResults).plan is not None


async def test_a_cleared_pane_holds_nothing_but_its_message():
    app = CompoundApp()
    async with app.run_test(size=(100, 30)) as pilot:
        results = await calculated(pilot)
        assert results.text("working")
        await pilot.press("backspace")
        await pilot.pause()
        assert list(results.sections) == ["status"]
        assert results.text("status").startswith("Inputs changed")
        for part in ("findings", "amounts", "extra", "working"):
            assert results.look(part) is None and results.text(part) == ""
        assert results.virtual_size.height == 3  # the message, wrapped at 100 columns, and a blank


async def test_each_layout_places_the_widgets_once(layouts, monkeypatch):
    # Textual 8.2.8 marks a layout's map stale when a widget updated before it was off
    # screen, and placed every widget again at the next look-up: the screen keeps the map.
    placed = recorded(monkeypatch, Compositor, "_arrange_root")
    app = CompoundApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await calculated(pilot)
        layouts.clear()
        placed.clear()
        await pilot.press("backspace")  # "4.5m": the field's error hint appears (it had none)
        await pilot.pause()
        assert app.screen.query_one("#capsules-results", PlanResults).plan is None
        assert app.screen.query_one("#capsules-strength-hint").has_class("-error")
        assert layouts and len(placed) == len(layouts)


async def test_the_text_is_wrapped_once_and_drawn_where_it_is_seen(monkeypatch):
    # A calculation wraps the pane's text once, at its width (its number of lines is the
    # scrollable height), and draws the lines in view; scrolling draws the others, once each.
    # Textual's own Static wrapped a text to measure it and again to draw all of it.
    wrapped: list[str] = []
    drawn: list[tuple[int, int]] = []  # each line the pane draws: what it is drawn from, which

    def counting(original, name):
        def counted(content, *args, **kwargs):
            if "\nAs entered: " in content.plain:  # the whole working, not one of its lines
                wrapped.append(name)
            return original(content, *args, **kwargs)
        return counted

    for name in ("wrap", "render_strips", "get_height"):
        monkeypatch.setattr(Content, name, counting(getattr(Content, name), name))
    to_strips = Visual.to_strips

    def drawing(widget, visual, *args, **kwargs):
        strips = to_strips(widget, visual, *args, **kwargs)
        if isinstance(widget, PlanResults) and widget.plan is not None:
            drawn.extend((id(visual), line) for line in range(len(strips)))
        return strips

    monkeypatch.setattr(Visual, "to_strips", drawing)
    app = CompoundApp()
    async with app.run_test(size=(100, 30)) as pilot:
        results = await calculated(pilot)
        assert results.plan is not None and len(wrapped) == 1
        in_view = results.scrollable_content_region.height
        amounts = results.text("amounts").count("\n") + 1  # a table: drawn whole, ~20 lines
        assert 0 < len(drawn) <= in_view + amounts < results.virtual_size.height
        results.focus()
        await pilot.press("pagedown", "pagedown", "end")  # scrolling draws the lines made
        await pilot.pause()
        assert results.scroll_offset.y > 0
        assert len(wrapped) == 1
        assert len(drawn) == len(set(drawn))  # each line once


async def test_the_lines_made_once_follow_a_change_of_theme():
    # The pane keeps the lines it made (colours in them): after a theme switch the verdict is
    # drawn on the new theme's error colour and the findings on its background, not the old's.
    from textual.color import Color

    app = CompoundApp()
    async with app.run_test(size=(100, 30)) as pilot:
        results = await calculated(pilot, strength="60mg")
        assert results.look("status") == "refused"
        findings = results.text("status").count("\n") + 2  # the line after the verdict's space
        backgrounds = []
        for theme in ("textual-light", "textual-dark"):
            app.theme = theme
            await pilot.pause()
            error = Color.parse(app.theme_variables["error"]).rich_color
            assert {segment.style.bgcolor for segment in results.render_line(0)} == {error}, theme
            background = results.visual_style.rich_style.bgcolor
            assert {segment.style.bgcolor for segment in results.render_line(findings)} == {background}
            backgrounds.append(background)
        assert backgrounds[0] != backgrounds[1]


async def test_a_changed_field_clears_the_results_as_it_changes():
    # A text field clears the pane the moment its text changes (drawn in the frame that draws
    # the character), not when its Changed message has climbed the form a frame later; a
    # choice clears it when its message arrives.
    app = CompoundApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await filled(pilot)
        strength = app.screen.query_one("#capsules-strength", Input)
        strength.focus()
        results = app.screen.query_one("#capsules-results", PlanResults)
        for change in ("text", "dating text", "choice"):
            await pilot.press("enter")
            await pilot.pause()
            assert results.plan is not None
            if change == "text":
                strength.value = "4.25mg"
            elif change == "dating text":
                app.screen.query_one("#capsules-compounded", Input).value = "2025-03-10"
            else:
                app.screen.query_one("#capsules-source", Select).value = "api"
                assert results.plan is not None  # its message is on its way
                await pilot.pause()
            assert results.plan is None, change
            assert results.text("status").startswith("Inputs changed"), change


async def test_the_results_can_be_selected_with_the_mouse_and_copied():
    # The pane draws its lines itself: it also says which text is under the mouse, shows what
    # is selected, and hands it over (as Textual's Static did), the BUD's edge left out.
    app = CompoundApp()
    async with app.run_test(size=(100, 30)) as pilot:
        results = await calculated(pilot, compounded="2025-03-10")
        bud = results.text("status").count("\n") + 2  # the BUD's first line
        x, y = results.content_region.offset
        await pilot.mouse_down(offset=(x + 3, y + bud))  # on "Beyond-use date", past its edge
        await pilot.hover(offset=(x + 30, y + bud + 1))
        await pilot.mouse_up(offset=(x + 30, y + bud + 1))
        await pilot.pause()
        selected = app.screen.get_selected_text()
        assert selected is not None
        assert selected.startswith("eyond-use date  2025-09-05") and "█" not in selected
        style = app.screen.get_component_rich_style("screen--selection")
        assert any(segment.style and segment.style.bgcolor == style.bgcolor
                   for segment in results.render_line(bud))


async def test_what_start_up_made_is_frozen_for_the_session_and_let_go_when_the_app_ends():
    # A full collection walked every object imported at start-up: one keystroke in about twenty
    # took 80-100 ms more (keystroke_benchmark's maxima). Frozen after the warm-up, they are
    # not walked; a process that goes on after the app collects them as usual.
    gc.unfreeze()
    app = CompoundApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()  # the warm-up
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0
