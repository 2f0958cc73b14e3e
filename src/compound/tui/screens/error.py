"""The dialog for a CompoundError: what was wrong and what to type instead."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from compound.errors import CompoundError

_KIND = {2: "Cannot use this input", 3: "Refused", 4: "Register integrity", 5: "Catalog problem",
         6: "Register operation not allowed"}


class ErrorModal(ModalScreen[None]):
    """Shows ``error.message`` and ``error.hint``; any of Enter, Escape or OK closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("enter", "close", "Close", show=False),
    ]

    def __init__(self, error: CompoundError, words: Callable[[str], str] = str) -> None:
        super().__init__(classes="error-modal")
        self.error = error
        self.words = words
        """Rewrites the message in the TUI's words (a field's label for a CLI flag)."""

    def compose(self) -> ComposeResult:
        with Vertical(id="error-dialog"):
            yield Label(_KIND.get(self.error.exit_code, "Error"), id="error-title")
            yield Static(self.words(self.error.message), id="error-message", markup=False)
            if self.error.hint:
                yield Static(self.words(self.error.hint), id="error-hint", markup=False)
            yield Button("OK", id="error-ok", variant="error")

    def on_mount(self) -> None:
        self.query_one("#error-ok", Button).focus()

    def on_button_pressed(self) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
