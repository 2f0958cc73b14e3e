"""The dialog that signs a register write: who does it (initials) and, where asked, why.

Returns the typed values by field name, or None when cancelled (Escape). The
register checks the initials; a refusal comes back as an error dialog.

"As of" dates a late entry as ``--as-of DATE --reason TEXT`` does on the command
line: the values go to the same register call, which records the real time
beside the date given and refuses alike (no reason, a date after today).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static


@dataclass(frozen=True)
class Ask:
    name: str
    label: str
    placeholder: str
    required: bool = False
    default: str = ""


BY = Ask("by", "Your initials", "e.g. AB", required=True)
CHECKED_BY = Ask("checked_by", "Checked by", "initials, optional")
REASON = Ask("reason", "Reason", "optional, recorded in the audit trail")
RX = Ask("rx", "Rx number", "optional: the prescription it fills")
AS_OF = Ask("as_of", "As of", "optional, late entry: YYYY-MM-DD + Reason")
LATE_REASON = Ask("reason", "Reason", "with As of: why it is entered late")


def in_words(asks: tuple[Ask, ...]) -> Callable[[str], str]:
    """Rewrites a register message in the dialog's words: ``--rx`` and a leading ``rx:``
    become the field's label ("Rx number"); the TUI has no flags to type. A hint that names a
    ``compound`` command to run keeps its flags: they are typed at the shell."""
    labels = {a.name: a.label for a in asks}
    # A flag and its metavar ("--reason TEXT"), or a field's name opening a line ("rx: …",
    # "as_of 2025-03-08 needs a reason").
    flag_or_field = re.compile(r"--([a-z][a-z-]*)(?: [A-Z]{2,}\b)?|^([a-z_]+)(:|(?= ))",
                               re.MULTILINE)

    def words(text: str) -> str:
        def name(match: re.Match[str]) -> str:
            label = labels.get((match.group(1) or match.group(2)).replace("-", "_"))
            if label is None or (match.group(1) and "compound " in text):
                return match.group(0)
            return f"“{label}”" + (match.group(3) or "")

        return flag_or_field.sub(name, text)

    return words


class SignModal(ModalScreen[dict[str, str] | None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, detail: str, asks: tuple[Ask, ...], *, verb: str) -> None:
        super().__init__(classes="sign-modal")
        self.title_text, self.detail, self.asks, self.verb = title, detail, asks, verb

    def compose(self) -> ComposeResult:
        with Vertical(id="sign-dialog"):
            yield Label(self.title_text, id="sign-title")
            yield Static(self.detail, id="sign-detail", markup=False)
            for ask in self.asks:
                with Horizontal(classes="field-row"):
                    yield Label(ask.label, classes="field-label")
                    yield Input(ask.default, placeholder=ask.placeholder, id=f"sign-{ask.name}",
                                compact=True)
            with Horizontal(id="sign-buttons"):
                yield Button(f"{self.verb}  (Enter)", id="sign-ok", variant="primary")
                yield Button("Cancel  (Esc)", id="sign-cancel")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def values(self) -> dict[str, str]:
        return {a.name: self.query_one(f"#sign-{a.name}", Input).value.strip() for a in self.asks}

    @on(Input.Submitted)
    @on(Button.Pressed, "#sign-ok")
    def _confirm(self) -> None:
        values = self.values()
        missing = [a for a in self.asks if a.required and not values[a.name]]
        if missing:
            self.query_one(f"#sign-{missing[0].name}", Input).focus()
            self.notify(f"{missing[0].label} is required.", severity="error")
            return
        self.dismiss(values)

    @on(Button.Pressed, "#sign-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
