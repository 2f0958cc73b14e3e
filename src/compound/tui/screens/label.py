"""A lot's stock label as it will print (its layout from :mod:`compound.labels`), and its
export as PDF, ZPL or CSV: the same files ``compound labels`` writes.

The preview places each text of the layout on a character grid at its position on the
4 × 2 in label (one column for 4 pt, one line for 8 pt); the barcode is drawn as bars
where it prints. Reading the lot and writing files run in workers.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from compound.errors import CompoundError
from compound.tui import store
from compound.tui.screens.error import ErrorModal

if TYPE_CHECKING:
    from compound.labels import Layout

POINTS_PER_COLUMN = 4.0
POINTS_PER_LINE = 8.0
EXPORTS = {"p": "pdf", "z": "zpl", "c": "csv"}


def labels_dir() -> Path:
    """Where exported labels go: ``COMPOUND_LABELS``, else ``labels`` in the current folder."""
    return Path(os.environ.get("COMPOUND_LABELS") or Path.cwd() / "labels").absolute()


def preview(layout: Layout) -> Text:
    """The label drawn in characters inside a frame, bold where it prints bold."""
    columns = int(layout.width / POINTS_PER_COLUMN)
    lines = int(layout.height / POINTS_PER_LINE)
    grid = [[" "] * columns for _ in range(lines)]
    bold = [[False] * columns for _ in range(lines)]
    bar = layout.barcode
    row = min(int(bar.y / POINTS_PER_LINE), lines - 1)
    for x in range(int(bar.x / POINTS_PER_COLUMN), min(int((bar.x + bar.width) / POINTS_PER_COLUMN),
                                                        columns)):
        grid[row][x] = "▌"
    for item in layout.texts:
        row = min(int(item.y / POINTS_PER_LINE), lines - 1)
        start = int(item.x / POINTS_PER_COLUMN)
        for n, char in enumerate(item.text[: columns - start]):
            grid[row][start + n] = char
            bold[row][start + n] = item.bold
    out = Text("┌" + "─" * columns + "┐\n")
    for chars, strong in zip(grid, bold, strict=True):
        out.append("│")
        for char, is_bold in zip(chars, strong, strict=True):
            out.append(char, style="bold" if is_bold else "")
        out.append("│\n")
    out.append("└" + "─" * columns + "┘")
    return out


class LabelScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        *(Binding(key, f"export('{fmt}')", f"Export {fmt.upper()}") for key, fmt in EXPORTS.items()),
    ]

    def __init__(self, lot_number: str) -> None:
        super().__init__()
        self.lot_number = lot_number
        self.label: Layout | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"Stock label of lot {self.lot_number}: p PDF · z ZPL · c CSV, saved in "
                     f"{labels_dir()}", id="label-where")
        yield Static(f"Laying out the label of {self.lot_number}…", id="label-preview")
        yield Footer()

    def on_mount(self) -> None:
        self._read()

    @work(thread=True, exclusive=True, group="label")
    def _read(self) -> None:
        try:
            layout = store.label_layout(self.lot_number)
        except CompoundError as exc:
            self.app.call_from_thread(self._refused, exc)
            return
        self.app.call_from_thread(self._show, layout)

    def _refused(self, error: CompoundError) -> None:
        self.query_one("#label-preview", Static).update(Text("No label: see the message.",
                                                             style="bold red"))
        self.app.push_screen(ErrorModal(error))

    def _show(self, layout: Layout) -> None:
        self.label = layout
        self.query_one("#label-preview", Static).update(preview(layout))

    def action_export(self, fmt: str) -> None:
        self._export(fmt, labels_dir())

    @work(thread=True, group="label-export")
    def _export(self, fmt: str, folder: Path) -> None:
        try:
            path = store.export_label(self.lot_number, fmt, folder)
        except CompoundError as exc:
            self.app.call_from_thread(self.app.push_screen, ErrorModal(exc))
            return
        except OSError as exc:
            self.app.call_from_thread(self.notify, f"Could not save in {folder}: "
                                      f"{exc.strerror or exc}.", title="Label not saved",
                                      severity="error")
            return
        self.app.call_from_thread(self.notify, f"Saved {path}", title=f"{fmt.upper()} label")
