"""A batch run: prescription file in; worksheet.csv, errors.csv, summary.json out.

The file is read once (pyarrow, all cells as text). Rows that share every
planning input are grouped (:mod:`compound.batch.group`) and each group's
first row is planned, :data:`BLOCK_ROWS` groups at a time (a file of a
million rows typically holds a few hundred distinct prescriptions; a file of
distinct rows is planned a block of rows at a time, as before). The plans are
then spread over the rows: blocks of :data:`LINE_ROWS` rows are assembled by
:data:`ASSEMBLERS` threads and written in order as they come (in a file of many distinct
prescriptions, from the first planned block on: :mod:`compound.batch.write_ahead`). A file that
cannot be read raises :class:`~compound.errors.InputError` before anything is
written; bad rows never stop the run.

Files written to the output directory, as one set (:mod:`compound.batch.write_set`:
the folder is replaced as a whole, never left holding a mix of two runs):

* ``worksheet.csv``: one row per input row, in order (see
  :mod:`compound.batch.plan` for the columns);
* ``errors.csv``: ``row, column, value, error`` for every cell or row that
  could not be read (header only when there are none);
* with ``--worksheets``: ``worksheets/<row>-<rx>.txt``, each row's working;
* ``summary.json``, written last: rows per form and status, what to pull from
  stock, and the manifest (the row count and the SHA-256 of every file).

A folder holding an earlier run is replaced only with ``overwrite``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final

from compound.batch import read_warmup, threads, write_set
from compound.batch.arrow import jemalloc
from compound.batch.progress import Report, bar
from compound.batch.read import read_prescriptions
from compound.errors import InputError

if TYPE_CHECKING:
    from concurrent.futures import Future

    from compound.batch.spread import Spread
    from compound.batch.summary import Summary

BLOCK_ROWS: Final = 100_000
#: Rows assembled and written at a time (a few MB: the take runs in cache, the write reads it there).
LINE_ROWS: Final = 16_384
#: Threads assembling blocks of lines while the main thread writes them.
ASSEMBLERS: Final = 2
#: Distinct prescriptions planned at a time (bounds the memory of a file of many distinct rows).
GROUP_ROWS: Final = 25_000
WORKSHEET: Final = "worksheet.csv"
ERRORS: Final = "errors.csv"
SUMMARY: Final = "summary.json"
WORKSHEETS: Final = "worksheets"
LABELS: Final = ("labels.pdf", "labels.zpl", "labels.csv")
#: What a run writes: a folder holding only these holds an earlier run.
RUN_FILES: Final = frozenset({WORKSHEET, ERRORS, SUMMARY, WORKSHEETS, *LABELS})


@dataclass
class Options:
    encoding: str | None = None
    delimiter: str = ","
    sheet: str | None = None
    block_rows: int = BLOCK_ROWS
    progress: bool | None = None
    worksheets: bool = False
    """Also write worksheets/<row>-<rx>.txt, the working of every row (small files only)."""
    overwrite: bool = False
    """Replace the output folder when it holds an earlier run."""
    report: Report | None = None
    """Called with (stage, rows done, rows) as the run goes (instead of the terminal bar)."""
    labels: Callable[[Path, Path], list[tuple[int, str, str, str]]] | None = None
    """Called with the finished worksheet.csv and the staging folder: writes the run's labels
    there and returns (row, column, value, error) for rows that get none (added to errors.csv)."""


def run_batch(path: str | Path, out_dir: str | Path | None = None, *,
              jsonl: IO[str] | IO[bytes] | None = None,
              options: Options | None = None) -> Summary:
    """Plan every row of a prescription file.

    Parameters
    ----------
    path : path
        The ``.csv`` (or ``.xlsx``) prescription file.
    out_dir : path, optional
        Where worksheet.csv, errors.csv and summary.json go (created if
        missing). None writes no files (with ``jsonl``, for pipes).
    jsonl : text or binary stream, optional
        Receives one JSON object per row, in order (a binary stream, as UTF-8).

    Raises
    ------
    InputError
        The file is missing, empty, not text in its encoding, or its header
        cannot be used; or the output folder holds anything but an earlier
        run, holds one and ``overwrite`` is not set, or another run is
        writing to it.
    """
    opts = options or Options()
    if opts.block_rows < 1:
        raise InputError("the block size must be at least 1 row.")
    if out_dir is None:
        return _run(path, None, jsonl, opts)
    with write_set.RunFolder(out_dir, run_files=RUN_FILES, overwrite=opts.overwrite,
                             inputs=[path]) as folder:
        return _run(path, folder, jsonl, opts)


def _run(path: str | Path, folder: write_set.RunFolder | None, jsonl: IO[str] | IO[bytes] | None,
         opts: Options) -> Summary:
    with jemalloc():  # from before the read (its table is the run's largest allocation) to the end
        return _run_in_pool(path, folder, jsonl, opts)


def _run_in_pool(path: str | Path, folder: write_set.RunFolder | None,
                 jsonl: IO[str] | IO[bytes] | None, opts: Options) -> Summary:
    ready = read_warmup.start(path)  # what the run needs next, on a thread while pyarrow reads the file
    try:
        read = read_prescriptions(path, encoding=opts.encoding, delimiter=opts.delimiter,
                                  sheet=opts.sheet)
    finally:
        ready()
    from compound.batch import write_cells
    from compound.batch.spread import Rows, plan_groups, worksheet_cells
    from compound.batch.summary import Summary
    from compound.batch.write_ahead import WriteAhead
    from compound.batch.write_worksheet import LineSink

    rows = Rows(table=read.table) if read.table is not None else Rows(frame=read.frame)
    if opts.worksheets:
        from compound.batch import write_texts

        if folder is None:
            raise InputError("--worksheets needs an output directory.", hint="Add -o OUT.")
        write_texts.check_size(rows.n)
    summary = Summary(source=str(path))
    staging = folder.staging if folder is not None else None
    sinks: dict[str, Any] = {}
    if staging is not None:
        sinks = {WORKSHEET: LineSink(staging / WORKSHEET),
                 ERRORS: write_cells.CsvSink(staging / ERRORS)}
    step = min(opts.block_rows, LINE_ROWS)  # rows assembled and written at a time
    try:
        with threads.pool(ASSEMBLERS, rows.n > step) as pool:
            with bar(rows.n, opts.progress, report=opts.report) as advance, \
                    threads.pool(2, rows.n > step) as prep, \
                    WriteAhead(sinks.get(WORKSHEET), step, pool) as early_lines:
                # The worksheet's own cells of each row (numbers, labels) are made ready on a thread
                # (pyarrow kernels, which release the GIL) while the rows are grouped (their columns
                # encoded on the pool's threads: the second takes them while the first makes the
                # cells, then both) and planned.
                cells = prep.submit(worksheet_cells, rows) if WORKSHEET in sinks else None
                groups = rows.groups(read.read_errors, prep)
                # Lines of rows whose groups are planned are written while later groups are planned.
                early = WORKSHEET in sinks and jsonl is None and rows.n > step
                spread = plan_groups(rows, groups, read.read_errors,
                                     block_rows=min(opts.block_rows, GROUP_ROWS),
                                     summary=summary, jsonl=jsonl is not None, worksheets=opts.worksheets,
                                     advance=advance, cells=cells, pool=prep,
                                     on_block=early_lines.planned if early else None)
                ahead_rows = early_lines.finish()
            del read
            if jsonl is None and not opts.worksheets and cells is not None:
                cells.result()
                rows.release()  # the file as read (~60 MB for a million rows), no longer read
            with bar(rows.n, opts.progress, "Writing", opts.report) as advance:
                spread.prepare(worksheet=WORKSHEET in sinks, errors=ERRORS in sinks, jsonl=jsonl is not None)
                cells = None  # the line builder holds them
                if WORKSHEET in sinks and not ahead_rows:
                    sinks[WORKSHEET].start(spread.names)
                advance(ahead_rows)
                # Blocks are assembled by a pool of threads (pyarrow's take releases the GIL) and
                # written here, in order, while the next ones are assembled (the rows written ahead:
                # their errors.csv lines only).
                pending: deque[tuple[Future[dict[str, Any]], int]] = deque()
                for start in range(0, max(rows.n, 1), step):
                    stop = min(start + step, rows.n)
                    ahead_of = stop <= ahead_rows and start < stop
                    outputs = [name for name in sinks if not (ahead_of and name == WORKSHEET)]
                    pending.append((pool.submit(_block, spread, start, stop, outputs, jsonl is not None),
                                    0 if ahead_of else stop - start))
                    if len(pending) > ASSEMBLERS:
                        _write(*pending.popleft(), sinks, jsonl, advance)
                while pending:
                    _write(*pending.popleft(), sinks, jsonl, advance)
                if staging is not None and opts.worksheets:
                    from compound.batch import write_texts

                    write_texts.write_rows(spread, staging / WORKSHEETS)
                if staging is not None and opts.labels is not None:
                    sinks[WORKSHEET].close()
                    missing = opts.labels(staging / WORKSHEET, staging)
                    if missing:
                        sinks[ERRORS].write(write_cells.error_rows(missing))
    except BaseException:
        for sink in sinks.values():
            sink.abort()
        raise
    for sink in sinks.values():
        sink.close()
    if folder is not None:
        summary.files = {name: str(folder.given / name) for name in (WORKSHEET, ERRORS, SUMMARY)}

        def manifest(files: dict[str, Any]) -> dict[str, Any]:
            return {**summary.to_dict(), "manifest": {"rows": rows.n, "files": files}}

        folder.publish(SUMMARY, manifest, known={WORKSHEET: sinks[WORKSHEET].sha256})
    return summary


def _block(spread: Spread, start: int, stop: int, outputs: list[str], jsonl: bool) -> dict[str, Any]:
    """What rows ``start`` … ``stop − 1`` write to each of ``outputs`` (and the JSON lines)."""
    parts: dict[str, Any] = {}
    if WORKSHEET in outputs:
        parts[WORKSHEET] = spread.worksheet_block(start, stop)
    if ERRORS in outputs:
        parts[ERRORS] = spread.error_block(start, stop)
    if jsonl:
        parts["jsonl"] = spread.json_bytes(start, stop)
    return parts


def _write(block: Future[dict[str, Any]], rows: int, sinks: dict[str, Any],
           jsonl: IO[str] | IO[bytes] | None,
           advance: Any) -> None:
    parts = block.result()  # a failure while assembling stops the run here
    for name, sink in sinks.items():
        if name in parts:
            sink.write(parts[name])
    if jsonl is not None:
        from compound.batch.write_jsonl import write_lines

        write_lines(jsonl, parts["jsonl"])
    advance(rows)
