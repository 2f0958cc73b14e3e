"""A batch run: prescription file in; worksheet.csv, errors.csv, summary.json out.

The file is read once (pyarrow, all cells as text), then planned and written
in blocks of :data:`BLOCK_ROWS` rows, so memory stays bounded and the
progress bar moves; block k is written by a second thread while block k + 1
is planned. Every block has the same columns (the computed columns of the
forms present anywhere in the file), and what a distinct prescription needs
in words (catalog context, findings, BUD, its worksheet text) is worked out
once per run and reused by every block. A file that cannot be read raises
:class:`~compound.errors.InputError` before anything is written; bad rows never
stop the run.

Files written to the output directory (each replaced only when complete):

* ``worksheet.csv``: one row per input row, in order (see
  :mod:`compound.batch.frame` for the columns);
* ``errors.csv``: ``row, column, value, error`` for every cell or row that
  could not be read (header only when there are none);
* ``summary.json``: rows per form and status, and what to pull from stock;
* with ``--worksheets``: ``worksheets/<row>-<rx>.txt``, each row's working.
"""

from __future__ import annotations

import json
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final

import numpy as np

from compound.batch import output
from compound.batch.frame import Planned, RunCache, forms_present, plan_block
from compound.batch.lines import LineSink
from compound.batch.progress import bar
from compound.batch.reader import read_prescriptions
from compound.batch.summary import Summary
from compound.errors import InputError

BLOCK_ROWS: Final = 100_000
WORKSHEET: Final = "worksheet.csv"
ERRORS: Final = "errors.csv"
SUMMARY: Final = "summary.json"
WORKSHEETS: Final = "worksheets"


@dataclass
class Options:
    encoding: str | None = None
    delimiter: str = ","
    sheet: str | None = None
    block_rows: int = BLOCK_ROWS
    progress: bool | None = None
    worksheets: bool = False
    """Also write worksheets/<row>-<rx>.txt, the working of every row (small files only)."""


def run_batch(path: str | Path, out_dir: str | Path | None = None, *, jsonl: IO[str] | None = None,
              options: Options | None = None) -> Summary:
    """Plan every row of a prescription file.

    Parameters
    ----------
    path : path
        The ``.csv`` (or ``.xlsx``) prescription file.
    out_dir : path, optional
        Where worksheet.csv, errors.csv and summary.json go (created if
        missing). None writes no files (with ``jsonl``, for pipes).
    jsonl : text stream, optional
        Receives one JSON object per row, in order.

    Raises
    ------
    InputError
        The file is missing, empty, not text in its encoding, or its header
        cannot be used.
    """
    opts = options or Options()
    if opts.block_rows < 1:
        raise InputError("the block size must be at least 1 row.")
    table = read_prescriptions(path, encoding=opts.encoding, delimiter=opts.delimiter, sheet=opts.sheet)
    frame = table.frame
    if opts.worksheets:
        from compound.batch import worksheets

        if out_dir is None:
            raise InputError("--worksheets needs an output directory.", hint="Add -o OUT.")
        worksheets.check_size(len(frame))
    forms = forms_present(frame["form"])
    summary = Summary(source=str(path))
    cache = RunCache()
    sheets: tuple[Path, dict[Any, str]] | None = None
    directory = Path(out_dir) if out_dir is not None else None
    sinks: dict[str, Any] = {}
    if directory is not None:
        if directory.exists() and not directory.is_dir():
            raise InputError(f"{directory} exists and is not a directory.",
                             hint="Give -o a directory for the output files.")
        directory.mkdir(parents=True, exist_ok=True)
        sinks = {WORKSHEET: LineSink(directory / WORKSHEET),
                 ERRORS: output.CsvSink(directory / ERRORS)}
        if opts.worksheets:
            sheets = (directory / WORKSHEETS, {})
    try:
        with bar(len(frame), opts.progress) as advance, ThreadPoolExecutor(max_workers=1) as writer:
            # Block k is written (one thread, so in order) while block k + 1 is planned: pyarrow's
            # string kernels and numpy release the GIL, so the two overlap on a second core.
            pending: Future[None] | None = None
            for start in range(0, max(len(frame), 1), opts.block_rows):
                block = frame.iloc[start:start + opts.block_rows]
                errors = {i - start: v for i, v in table.read_errors.items()
                          if start <= i < start + opts.block_rows}
                planned = plan_block(block.reset_index(drop=True), first_row=start + 1, forms=forms,
                                     read_errors=errors, cache=cache)
                if pending is not None:
                    pending.result()  # a failure in the writer stops the run here
                pending = writer.submit(_finish, planned, sinks, jsonl, summary, advance,
                                        sheets, len(frame))
            if pending is not None:
                pending.result()
    except BaseException:
        for sink in sinks.values():
            sink.abort()
        raise
    for sink in sinks.values():
        sink.close()
    if directory is not None:
        summary.files = {name: str(directory / name) for name in (WORKSHEET, ERRORS, SUMMARY)}
        (directory / SUMMARY).write_text(json.dumps(summary.to_dict(), indent=2, ensure_ascii=False)
                                         + "\n", encoding="utf-8")
    return summary


def _finish(planned: Planned, sinks: dict[str, Any], jsonl: IO[str] | None, summary: Summary,
            advance: Any, sheets: tuple[Path, dict[Any, str]] | None, total: int) -> None:
    _write(planned, sinks, jsonl)
    if sheets is not None:
        from compound.batch import worksheets

        worksheets.write(planned, sheets[0], total, sheets[1])
    summary.add(planned)
    advance(len(planned))


def _write(planned: Planned, sinks: dict[str, Any], jsonl: IO[str] | None) -> None:
    if WORKSHEET in sinks:
        sinks[WORKSHEET].write(planned.column_names(), planned.write_csv)
    if ERRORS in sinks:
        errors = planned.chunk.log.frame(planned.row)
        sinks[ERRORS].write(output.arrow_table(
            {name: errors[name].to_numpy(dtype=object if name != "row" else np.float64)
             for name in errors.columns}, counts=["row"], spreadsheet=True))
    if jsonl is not None:
        output.json_lines(list(planned.records()), jsonl)
