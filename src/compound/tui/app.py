"""The compound TUI: modes, bindings and the command palette; screens do the work.

Modes give each future screen (lot register, titration, labels) its own screen
stack: add it to ``MODES`` and a binding, and the calculator is untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from compound.tui import forms
from compound.tui.screens.calculator import CalculatorScreen
from compound.tui.screens.help import HelpScreen


class CompoundApp(App[None]):
    TITLE = "compound"
    SUB_TITLE = "LDN formulation calculator"
    CSS_PATH = "compound.tcss"
    MODES: ClassVar[dict[str, str | Callable[[], Screen]]] = {"calculator": CalculatorScreen}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "help", "Help"),
        Binding("question_mark", "help", "Help", show=False),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def on_mount(self) -> None:
        # Not DEFAULT_MODE: with it, headless runs lost key presses (engineering notes B.2).
        self.switch_mode("calculator")

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    async def show_form(self, key: str) -> None:
        await self.switch_mode("calculator")
        screen = self.screen
        if isinstance(screen, CalculatorScreen):
            await screen.show_form(key)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for spec in forms.FORMS:
            yield SystemCommand(f"Plan {spec.title.lower()}", f"Open the {spec.title.lower()} form",
                                partial(self.show_form, spec.key))
        yield SystemCommand("Help", "Keys, fields and how results are shown", self.action_help)
