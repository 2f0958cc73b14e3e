"""Batch: pick a prescription CSV (a tree of folders and .csv files, or a typed path that
completes), run it in a worker with a progress bar, then browse what came out: the results and
the errors, each row's full text shown under the table as the cursor moves.

It calls :func:`compound.batch.run_batch` (what ``compound batch`` calls), so
the files are the same: worksheet.csv, errors.csv and summary.json in the
output folder. The results and errors tables show the first rows of those
files, read in the worker.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.events import DescendantFocus
from textual.screen import Screen
from textual.widgets import (
    DataTable,
    Footer,
    Header,
    Input,
    Label,
    ProgressBar,
    Static,
    TabbedContent,
    TabPane,
)

from compound.errors import CompoundError, InputError
from compound.tui.screens.error import ErrorModal
from compound.tui.widgets.batch import CsvPathSuggester

if TYPE_CHECKING:
    from compound.batch import Summary

SHOWN_ROWS = 1000
"""Rows of worksheet.csv and errors.csv shown; the files hold them all."""
RESULT_COLUMNS = ("row", "rx", "form", "status", "findings")
"""worksheet.csv columns shown first (the others follow)."""


def output_dir(source: str) -> Path:
    """The default output folder: ``<file name>-out`` beside the prescription file."""
    path = Path(source).expanduser()
    return path.with_name(f"{path.stem}-out")


def head(path: Path, rows: int = SHOWN_ROWS) -> tuple[list[str], list[list[str]]]:
    """The header and first ``rows`` rows of a CSV the run wrote."""
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader, [])
        return header, [row for _, row in zip(range(rows), reader, strict=False)]


def row_text(header: list[str], row: list[str]) -> str:
    """A row of a table in full, ``column: value`` for each cell that holds something."""
    return " · ".join(f"{name}: {value}" for name, value in zip(header, row, strict=False)
                      if value)


class BatchScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+r", "run", "Run"),
                                             Binding("ctrl+o", "pick", "Pick a file")]
    AUTO_FOCUS = "#batch-file"

    def __init__(self) -> None:
        super().__init__()
        self.headers: dict[str, list[str]] = {}
        """Each table's columns, in the order shown."""

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(classes="field-row"):
            yield Label("Prescriptions", classes="field-label")
            yield Input(placeholder="a .csv path (→ completes), or ctrl+o to pick one",
                        id="batch-file", compact=True, suggester=CsvPathSuggester())
        with Horizontal(classes="field-row"):
            yield Label("Output folder", classes="field-label")
            yield Input(placeholder="blank: <file>-out beside the file", id="batch-out", compact=True)
        yield ProgressBar(id="batch-progress", show_eta=False)
        yield Static("Type the file's path (or ctrl+o: pick it) and press Enter (or ctrl+r) to run.",
                     id="batch-stage")
        with TabbedContent(id="batch-tabs"):
            with TabPane("Summary", id="batch-summary-tab"), VerticalScroll():
                yield Static(id="batch-summary")
            with TabPane("Results", id="batch-results-tab"):
                yield DataTable(id="batch-results", zebra_stripes=True, cursor_type="row")
            with TabPane("Errors", id="batch-errors-tab"):
                yield DataTable(id="batch-errors", zebra_stripes=True, cursor_type="row")
        yield Static(id="batch-row", markup=False)
        yield Footer()

    def action_pick(self) -> None:
        """A tree of folders and .csv files under the current folder."""
        from compound.tui.screens.pick_file import PickFileModal

        self.app.push_screen(PickFileModal(Path.cwd()), self._picked)

    def _picked(self, path: Path | None) -> None:
        field = self.query_one("#batch-file", Input)
        field.focus()
        if path is None:
            return
        field.value = str(path)
        self.query_one("#batch-stage", Static).update(
            f"Enter (or ctrl+r) runs {path.name}; results go to "
            f"{self.query_one('#batch-out', Input).value.strip() or output_dir(str(path))}")

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.has_focus:
            self._show_row(event.data_table)

    def on_descendant_focus(self, event: DescendantFocus) -> None:
        if isinstance(event.widget, DataTable):
            self._show_row(event.widget)
        else:
            self.query_one("#batch-row", Static).update("")

    def _show_row(self, table: DataTable) -> None:
        """The row under the cursor in full, under the table: a reason is often wider than
        the screen."""
        header = self.headers.get(table.id or "", [])
        if table.row_count and table.cursor_row < table.row_count:
            self.query_one("#batch-row", Static).update(
                row_text(header, [str(v) for v in table.get_row_at(table.cursor_row)]))

    @on(Input.Submitted)
    def action_run(self) -> None:
        source = self.query_one("#batch-file", Input).value.strip()
        if not source:
            self.app.push_screen(ErrorModal(InputError(
                "no prescription file given.", hint="Type the path of a .csv in “Prescriptions”.")))
            return
        out = self.query_one("#batch-out", Input).value.strip()
        self.query_one("#batch-stage", Static).update(f"Running {source}…")
        self._run(source, Path(out).expanduser() if out else output_dir(source))

    @work(thread=True, exclusive=True, group="batch")
    def _run(self, source: str, out: Path) -> None:
        from compound.batch import Options, run_batch
        from compound.batch.run import ERRORS, WORKSHEET

        def report(stage: str, done: int, rows: int) -> None:
            self.app.call_from_thread(self._progress, stage, done, rows)

        try:
            summary = run_batch(Path(source).expanduser(), out, options=Options(report=report))
            results, errors = head(out / WORKSHEET), head(out / ERRORS)
        except CompoundError as exc:
            self.app.call_from_thread(self._failed, exc)
            return
        except OSError as exc:
            self.app.call_from_thread(self._failed, InputError(
                f"could not read or write {exc.filename or source}: {exc.strerror or exc}."))
            return
        self.app.call_from_thread(self._done, summary, results, errors)

    def _progress(self, stage: str, done: int, rows: int) -> None:
        self.query_one("#batch-progress", ProgressBar).update(total=max(rows, 1), progress=done)
        self.query_one("#batch-stage", Static).update(f"{stage}: {done:,} of {rows:,} rows")

    def _failed(self, error: CompoundError) -> None:
        self.query_one("#batch-stage", Static).update("Not run: see the message.")
        self.app.push_screen(ErrorModal(error))

    def _done(self, summary: Summary, results: tuple[list[str], list[list[str]]],
              errors: tuple[list[str], list[list[str]]]) -> None:
        self.summary = summary
        self.query_one("#batch-stage", Static).update(
            f"Done: {summary.rows:,} rows. Files in {Path(next(iter(summary.files.values()))).parent}")
        self.query_one("#batch-summary", Static).update(summary.text())
        self._fill("#batch-results", *results, first=RESULT_COLUMNS)
        self._fill("#batch-errors", *errors)
        tabs = self.query_one("#batch-tabs", TabbedContent)
        tabs.get_tab("batch-errors-tab").label = f"Errors ({len(errors[1]):,})"
        tabs.active = "batch-summary-tab"

    def _fill(self, selector: str, header: list[str], rows: list[list[str]],
              first: tuple[str, ...] = ()) -> None:
        table = self.query_one(selector, DataTable)
        table.clear(columns=True)
        order = [header.index(c) for c in first if c in header]
        order += [n for n in range(len(header)) if n not in order]
        self.headers[table.id or ""] = [header[n] for n in order]
        table.add_columns(*(header[n] for n in order))
        table.add_rows([[row[n] if n < len(row) else "" for n in order] for row in rows])
