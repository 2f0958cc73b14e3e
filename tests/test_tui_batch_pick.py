"""Batch (F6): pick the prescription CSV from a tree of folders and .csv files (ctrl+o) or
complete a typed path, run it, and read each error row in full (row number and reason).

At 80×24, in a temporary folder holding two prescription rows (one with a comma
decimal, which ``compound batch`` puts in errors.csv), a text file the tree must
not offer and a sub-folder.
"""

from __future__ import annotations

import csv
import shutil

import pytest
from textual.widgets import DataTable

from compound.tui.app import CompoundApp
from compound.tui.screens.batch import BatchScreen
from compound.tui.screens.pick_file import PickFileModal
from compound.tui.widgets.batch import CsvTree, complete_path
from test_tui_workflow import EXAMPLES, settle, text


@pytest.fixture
def folder(tmp_path, monkeypatch):
    with (EXAMPLES / "ldn-prescriptions.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))[:3]
    rows[2][rows[0].index("strength")] = "4,5mg"  # refused: a comma decimal
    with (tmp_path / "today.csv").open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    (tmp_path / "notes.txt").write_text("not a prescription file\n", encoding="utf-8")
    (tmp_path / "archive").mkdir()
    shutil.copy(tmp_path / "today.csv", tmp_path / "archive" / "old.CSV")
    monkeypatch.chdir(tmp_path)
    return tmp_path


async def test_ctrl_o_picks_a_csv_from_the_tree_and_the_errors_show_row_and_reason(folder):
    app = CompoundApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f6")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, BatchScreen)
        await pilot.press("ctrl+o")
        dialog = app.screen
        assert isinstance(dialog, PickFileModal)
        tree = dialog.query_one(CsvTree)
        assert tree.has_focus
        # The tree reads the folder in a worker and keeps a loader running while it is shown
        # (so no waiting for every worker): wait, a bounded number of frames, for its entries.
        for _ in range(500):
            if tree.root.children:
                break
            await pilot.pause()
        assert [node.label.plain for node in tree.root.children] == ["archive", "today.csv"]
        await pilot.press("down", "down", "enter")  # the root, archive, today.csv
        await settle(pilot)
        assert app.screen is screen
        assert screen.query_one("#batch-file").value == str(folder / "today.csv")
        assert screen.query_one("#batch-file").has_focus
        await pilot.press("enter")  # runs it
        await settle(pilot)
        assert screen.query_one("#batch-progress").percentage == 1.0
        with (folder / "today-out" / "errors.csv").open(newline="", encoding="utf-8") as f:
            header, *errors = list(csv.reader(f))
        assert errors and all(e[header.index("row")] == "2" for e in errors)
        table = screen.query_one("#batch-errors", DataTable)
        assert table.row_count == len(errors)
        screen.query_one("#batch-tabs").active = "batch-errors-tab"
        table.focus()
        await settle(pilot)
        full = " ".join(text(app, "#batch-row").split())
        first = dict(zip(header, errors[0], strict=True))
        assert f"row: {first['row']}" in full and " ".join(first["error"].split()) in full
        assert "Use a decimal point" in full


def test_a_typed_path_completes_to_a_folder_or_a_csv_file(folder):
    assert complete_path("to") == "today.csv"
    assert complete_path("arc") == "archive/"
    assert complete_path("archive/") == "archive/old.CSV"
    assert complete_path("no") is None  # notes.txt is not a prescription file
    assert complete_path(str(folder / "tod")) == str(folder / "today.csv")
    assert complete_path("missing/x") is None


async def test_the_path_field_suggests_the_completion(folder):
    app = CompoundApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f6")
        await settle(pilot)
        await pilot.press("t", "o")
        await settle(pilot)
        field = app.screen.query_one("#batch-file")
        assert field._suggestion == "today.csv"
        await pilot.press("right")  # accepts it
        assert field.value == "today.csv"
