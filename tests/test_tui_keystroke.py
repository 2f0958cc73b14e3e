"""A keystroke redraws what it changed, and lays the screen out only when a size changes
(issue 12: a keystroke within one frame). Textual places every widget of the screen again
(~150, the form's mostly) for each layout, so these count layouts and widget updates, never
seconds (benchmarks/keystroke_benchmark.py times them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual._compositor import Compositor
from textual.screen import Screen
from textual.widgets import Static

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


async def test_a_calculation_lays_the_screen_out_once_its_scrollbar_stays(layouts):
    # A refused plan (status and findings) fits in the pane: no scrollbar comes or goes, so one
    # layout places the results; Textual asked for a second (the pane's and each part's new
    # size), and revalidating the fields for a third.
    app = CompoundApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await filled(pilot)
        app.screen.query_one("#capsules-strength").value = "60mg"  # type: ignore[attr-defined]
        await pilot.pause()
        app.screen.query_one("#capsules-strength").focus()
        results = app.screen.query_one("#capsules-results", PlanResults)
        layouts.clear()
        await pilot.press("enter")
        await pilot.pause()
        assert results.plan is not None and results.plan.refused
        assert not results.show_vertical_scrollbar
        assert len(layouts) == 1


async def test_enter_again_on_the_same_inputs_computes_nothing(layouts):
    messages: list = []
    app = CompoundApp()
    async with app.run_test(size=(100, 30), message_hook=messages.append) as pilot:
        await filled(pilot)
        app.screen.query_one("#capsules-strength").focus()
        await pilot.press("enter")
        await pilot.pause()
        layouts.clear()
        await pilot.press("enter")
        await pilot.pause()
        assert len({id(m) for m in messages if isinstance(m, PlanCalculated)}) == 1
        assert layouts == []
        await pilot.press("backspace", "g", "enter")  # the same text, typed again: computed
        await pilot.pause()
        assert len({id(m) for m in messages if isinstance(m, PlanCalculated)}) == 2
        assert app.screen.query_one("#capsules-results", PlanResults).plan is not None


async def test_a_cleared_part_holds_nothing(layouts):
    app = CompoundApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await filled(pilot)
        app.screen.query_one("#capsules-strength").focus()
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("backspace")
        await pilot.pause()
        for part in ("findings", "amounts", "extra", "working"):
            widget = app.screen.query_one(f"#capsules-{part}", Static)
            assert not widget.display and not str(widget.render()).strip()


async def test_each_layout_places_the_widgets_once(layouts, monkeypatch):
    # Textual 8.2.8 marks a layout's map stale when a widget updated before it was off
    # screen, and placed every widget again at the next look-up: the screen keeps the map.
    placed = recorded(monkeypatch, Compositor, "_arrange_root")
    app = CompoundApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await filled(pilot)
        app.screen.query_one("#capsules-strength").focus()
        await pilot.press("enter")  # the parts come on screen (and go off it, below the fold)
        await pilot.pause()
        layouts.clear()
        placed.clear()
        await pilot.press("backspace")  # and are hidden (a calculation that brings the scrollbar
        await pilot.pause()  # arranges once more, inside Textual's layout: not counted here)
        assert app.screen.query_one("#capsules-results", PlanResults).plan is None
        assert layouts and len(placed) == len(layouts)


@pytest.mark.parametrize("size", [(100, 30), (80, 24)])
async def test_the_scrollbar_comes_and_goes_in_the_layout_of_the_content(layouts, size):
    # A plan overflows the pane, the message that clears it does not: the scrollbar is placed
    # in the one layout the new content asks for, not in a second one after it.
    app = CompoundApp()
    async with app.run_test(size=size) as pilot:
        await filled(pilot)
        app.screen.query_one("#capsules-strength").focus()
        results = app.screen.query_one("#capsules-results", PlanResults)
        await pilot.press("enter", "backspace", "g")  # the scrollbar made (a layout, once)
        await pilot.pause()
        for key, scrolls in (("enter", True), ("backspace", False), ("g", False), ("enter", True)):
            layouts.clear()
            await pilot.press(key)
            await pilot.pause()
            assert results.show_vertical_scrollbar is scrolls
            assert results.vertical_scrollbar.display is scrolls
            assert (results.virtual_size.height > results.container_size.height) is scrolls
            # "backspace": the hint turns to an error and the pane clears, one layout for both;
            # "g": the hint is the field's help again (its height changes), the pane was clear.
            assert len(layouts) == 1, key
        assert results.plan is not None


async def test_a_part_of_the_results_is_measured_once_per_content(monkeypatch):
    # Measuring wraps the text (the working is long): the pane measures its parts to place its
    # scrollbar, the screen's layout asks again, at the same width.
    measured: list[tuple[str, int]] = []
    measure = Static.get_content_height

    def counted(static, container, viewport, width):
        if (static.id or "").startswith("capsules-") and not (static.id or "").endswith("-hint"):
            measured.append((static.id or "", width))
        return measure(static, container, viewport, width)

    app = CompoundApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await filled(pilot)
        app.screen.query_one("#capsules-strength").focus()
        await pilot.press("enter", "backspace", "g")  # the results' scrollbar made, once
        await pilot.pause()
        monkeypatch.setattr(Static, "get_content_height", counted)
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.query_one("#capsules-results", PlanResults).plan is not None
        assert measured and len(measured) == len({part for part, _ in measured})  # once each
