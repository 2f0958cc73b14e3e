"""A dialog to pick a prescription CSV from a tree of folders and .csv files.

A dialog rather than a pane of the Batch screen: the tree keeps a loader running
while it is shown, and is closed once a file is picked. Returns the file, or None
(Escape).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DirectoryTree, Label

from compound.tui.widgets.batch import CsvTree


class PickFileModal(ModalScreen[Path | None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder

    def compose(self) -> ComposeResult:
        with Vertical(id="pick-dialog"):
            yield Label(f"Pick a prescription CSV under {self.folder}", id="pick-title",
                        markup=False)
            yield Label("↑/↓ move · Enter opens a folder or picks a file · Escape cancels",
                        id="pick-keys")
            yield CsvTree(self.folder, id="pick-tree")

    def on_mount(self) -> None:
        self.query_one(CsvTree).focus()

    @on(DirectoryTree.FileSelected)
    def _picked(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        self.dismiss(event.path)

    def action_cancel(self) -> None:
        self.dismiss(None)
