"""Labels: pick a released lot (and, for a patient label, an Rx recorded against it), see the
label as it will print, and save it as PDF, ZPL or CSV in the labels folder.

The content comes from :mod:`compound.labels.export`, what ``compound labels``
calls, so the screen prints what the command prints and refuses what it refuses
(a lot not released, a patient label with no prescription, text that does not
fit). A refusal replaces the preview in red; saving a refused label is an error
dialog. The register is read and files are written in workers.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.suggester import SuggestFromList
from textual.widgets import Footer, Header, Input, Label, Select, Static

from compound.errors import CompoundError, InputError, LabelRefused
from compound.tui import store
from compound.tui.screens.error import ErrorModal
from compound.tui.widgets.labels import preview

if TYPE_CHECKING:
    from compound.labels.content import LabelContent
    from compound.labels.export import LabelOrder
    from compound.register import Lot

EXPORTS = {"p": "pdf", "z": "zpl", "c": "csv"}
KINDS = (("Patient", "patient"), ("Stock", "stock"))


def labels_dir() -> Path:
    """Where saved labels go: ``COMPOUND_LABELS``, else ``labels`` in the current folder."""
    return Path(os.environ.get("COMPOUND_LABELS") or Path.cwd() / "labels").absolute()


def shown_dir(folder: Path) -> str:
    """The folder as the pharmacist knows it: ``./labels`` under the current folder."""
    try:
        return f"./{folder.relative_to(Path.cwd())}"
    except ValueError:
        return str(folder)


def copies_from(text: str) -> int:
    """The Copies field as a whole number (1 when empty); 1 to 999 is checked with the label."""
    if not text.strip():
        return 1
    try:
        return int(text.strip())
    except ValueError:
        raise InputError(f"copies: {text.strip()!r} is not a whole number.",
                         hint="Type how many labels to print, e.g. 2.", field="copies") from None


def no_prescription(lot: str) -> LabelRefused:
    """What a patient label of a lot with no Rx recorded against it says (``compound labels``
    without ``--rx`` says the same; the hint is the TUI's way to record one)."""
    return LabelRefused(f"lot {lot}: a patient label needs the Rx number, the patient and "
                        "directions, and no prescription is recorded against the lot.",
                        hint="Dispense it to an Rx from its page (F3, Enter, d), or choose a "
                             "Stock label.")


def refusal(error: CompoundError) -> Text:
    out = Text("No label: ", style="bold red")
    out.append(error.message, style="red")
    if error.hint:
        out.append(f"\n{error.hint}")
    return out


class LabelsScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+r", "preview", "Preview"),
        *(Binding(key, f"export('{fmt}')", f"Save {fmt.upper()}") for key, fmt in EXPORTS.items()),
    ]
    AUTO_FOCUS = "#labels-lot"

    def __init__(self, lot_number: str | None = None) -> None:
        """``lot_number``: the lot to show at once (from a lot's page); else one is typed."""
        super().__init__()
        self.lot_number = lot_number
        self.lot: Lot | None = None
        self.label: LabelContent | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(classes="field-row"):
            yield Label("Lot (released)", classes="field-label")
            yield Input(self.lot_number or "", placeholder="e.g. LDN-20250310-0001, then Enter",
                        id="labels-lot", compact=True)
        with Horizontal(classes="field-row"):
            yield Label("Label", classes="field-label")
            yield Select(KINDS, value="patient", allow_blank=False, id="labels-kind", compact=True)
            yield Label(" Copies ", id="labels-copies-label")
            yield Input("1", id="labels-copies", compact=True)
        with Horizontal(classes="field-row"):
            yield Label("Rx number", classes="field-label")
            yield Select([], prompt="(none recorded against the lot)", id="labels-rx", compact=True)
        yield Static(f"p PDF · z ZPL · c CSV (outside a field) save in {shown_dir(labels_dir())}",
                     id="labels-where", markup=False)
        with VerticalScroll(id="labels-sheet", can_focus=True):
            yield Static("Type a released lot's number and press Enter.", id="label-preview")
        yield Footer()

    def on_mount(self) -> None:
        self._suggest_lots()
        if self.lot_number:
            self._read_lot(self.lot_number, focus_sheet=True)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return action != "back" or len(self.app.screen_stack) > 1

    def action_back(self) -> None:
        """Back to the lot's page when opened from one; as a screen of its own, nothing."""
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()

    @work(thread=True, group="labels-lots")
    def _suggest_lots(self) -> None:
        try:
            numbers = store.released_lots()
        except CompoundError:
            return  # completion is a help, not a need: the lot is read (and refused) when typed
        self.app.call_from_thread(self._suggest, numbers)

    def _suggest(self, numbers: list[str]) -> None:
        self.query_one("#labels-lot", Input).suggester = SuggestFromList(numbers,
                                                                         case_sensitive=False)

    # -- choosing -------------------------------------------------------------------------------

    @on(Input.Submitted, "#labels-lot")
    def _lot_typed(self) -> None:
        number = self.query_one("#labels-lot", Input).value.strip()
        if number:
            self._read_lot(number, focus_sheet=True)

    @on(Input.Submitted, "#labels-copies")
    def action_preview(self) -> None:
        if self.lot is None:
            self._lot_typed()
        else:
            self._preview(self._order(), self._copies_or_refuse())

    @work(thread=True, exclusive=True, group="labels")
    def _read_lot(self, number: str, *, focus_sheet: bool) -> None:
        try:
            found, rxs = store.label_lot(number)
        except CompoundError as exc:
            self.app.call_from_thread(self._refused, exc)
            return
        self.app.call_from_thread(self._chose_lot, found, rxs, focus_sheet)

    def _chose_lot(self, lot: Lot, rxs: list[str], focus_sheet: bool) -> None:
        self.lot = None  # the changes below must not each preview the label
        with self.prevent(Select.Changed):
            rx = self.query_one("#labels-rx", Select)
            rx.set_options([(number, number) for number in rxs])
            if rxs:
                rx.value = rxs[0]
            self.query_one("#labels-kind", Select).value = "patient" if rxs else "stock"
            rx.disabled = not rxs
        self.lot = lot
        self.query_one("#labels-lot", Input).value = lot.lot_number
        self._preview(self._order(), self._copies_or_refuse())
        if focus_sheet:
            self.query_one("#labels-sheet").focus()

    @on(Select.Changed)
    def _choice_changed(self) -> None:
        if self.lot is not None:
            self._preview(self._order(), self._copies_or_refuse())

    def _order(self) -> LabelOrder:
        from compound.labels.export import LabelOrder

        assert self.lot is not None
        kind = str(self.query_one("#labels-kind", Select).value)
        rx = self.query_one("#labels-rx", Select).value
        return LabelOrder(self.lot.lot_number, kind,
                          rx=rx if kind == "patient" and isinstance(rx, str) else None)

    def _copies_or_refuse(self) -> int | InputError:
        try:
            return copies_from(self.query_one("#labels-copies", Input).value)
        except InputError as exc:
            return exc

    # -- the preview ----------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="labels")
    def _preview(self, order: LabelOrder, copies: int | InputError) -> None:
        from compound.labels.content import copies_of
        from compound.labels.layout import lay_out

        if isinstance(copies, InputError):
            self.app.call_from_thread(self._refused, copies)
            return
        if order.kind == "patient" and order.rx is None:
            self.app.call_from_thread(self._refused, no_prescription(order.lot))
            return
        try:
            label = store.label(order)
            layout = lay_out(copies_of(label, copies)[0])  # copies_of checks 1 to 999
        except CompoundError as exc:
            self.app.call_from_thread(self._refused, exc)
            return
        self.app.call_from_thread(self._show, label, preview(layout), copies)

    def _refused(self, error: CompoundError) -> None:
        self.label = None
        self.query_one("#label-preview", Static).update(refusal(error))

    def _show(self, label: LabelContent, drawn: Text, copies: int) -> None:
        self.label = label
        which = "stock label" if label.kind == "stock" else f"patient label, Rx {label.rx}"
        count = f"{copies} copies" if copies != 1 else "1 copy"
        self.query_one("#labels-where", Static).update(
            f"{label.lot}: {which}, {count}. p PDF · z ZPL · c CSV (outside a field) save in "
            f"{shown_dir(labels_dir())}")
        self.query_one("#label-preview", Static).update(drawn)

    # -- saving ---------------------------------------------------------------------------------

    def action_export(self, fmt: str) -> None:
        if self.lot is None or self.label is None:
            self.app.push_screen(ErrorModal(InputError(
                "there is no label to save.",
                hint="Type a released lot's number and press Enter; a refused label is not "
                     "saved.")))
            return
        copies = self._copies_or_refuse()
        if isinstance(copies, InputError):
            self.app.push_screen(ErrorModal(copies))
            return
        self._export(self._order(), fmt, labels_dir(), copies)

    @work(thread=True, group="label-export")
    def _export(self, order: LabelOrder, fmt: str, folder: Path, copies: int) -> None:
        try:
            path = store.save_label(order, fmt, folder, copies=copies)
        except CompoundError as exc:
            self.app.call_from_thread(self.app.push_screen, ErrorModal(exc))
            return
        except OSError as exc:
            self.app.call_from_thread(self.notify, f"Could not save in {folder}: "
                                      f"{exc.strerror or exc}.", title="Label not saved",
                                      severity="error")
            return
        self.app.call_from_thread(self.notify, f"Saved {path}", title=f"{fmt.upper()} label")
