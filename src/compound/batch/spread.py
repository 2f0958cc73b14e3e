"""Plan each distinct prescription once, then spread the plans over the file's rows.

:mod:`compound.batch.group` numbers the groups of rows that share every
planning input; :func:`plan_groups` plans the first row of each group (a
column at a time, in blocks, with :func:`~compound.batch.plan.plan_block`)
and keeps, per group, everything a row of it writes: the text of its
worksheet columns, its error lines, its JSON and its share of the summary.
:class:`Spread` then turns a block of rows into worksheet lines, errors.csv
lines and JSON lines by indexing those per-group tables with each row's group.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from compound.batch import write_cells
from compound.batch.arrow import from_numpy
from compound.batch.columns import LABEL_FIELDS, is_pass_through
from compound.batch.group import RowGroups, group_frame, group_table, take_rows
from compound.batch.plan import RunCache, forms_present, plan_block
from compound.batch.plan_chunk import Chunk
from compound.batch.plan_texts import run_texts
from compound.batch.read import text_table
from compound.batch.summary import Summary
from compound.batch.threads import Done
from compound.batch.write_jsonl import JsonLines
from compound.batch.write_worksheet import Layout, LineBuilder, cell_text, layout, with_affixes

if TYPE_CHECKING:
    from concurrent.futures import Future

    import pandas as pd

#: Distinct prescriptions a run's caches may hold after a block (each takes about 3 kB).
CACHE_LIMIT: Final = 50_000


class Rows:
    """The file's rows: the pyarrow table of the fast CSV path, or a DataFrame."""

    def __init__(self, table: Any = None, frame: pd.DataFrame | None = None) -> None:
        if (table is None) == (frame is None):
            raise ValueError("give a table or a frame")
        self.table = table
        self._frame = frame
        self.names: list[str] = list(table.column_names) if table is not None else list(frame.columns)
        self.n = int(table.num_rows) if table is not None else len(frame)  # type: ignore[arg-type]

    def groups(self, read_errors: dict[int, Any], pool: Any = None) -> RowGroups:
        """The rows' groups (``pool``: an executor whose threads may encode a large file's columns)."""
        if self.table is not None:
            return group_table(self.table, read_errors, pool)
        return group_frame(self._frame, read_errors)  # type: ignore[arg-type]

    def forms(self, first: np.ndarray) -> list[str]:
        """The forms in the file (every distinct form cell is in some group's first row)."""
        if "form" not in self.names:
            return []
        if self.table is not None:
            # The column's distinct cells (Arrow's hash): the same forms as the groups' first rows
            # (a group's rows share their form cell), without taking 456k cells for a file of as
            # many distinct prescriptions and making a Python string of each.
            import pyarrow.compute as pc

            return forms_present(pc.unique(self.table.column("form")).to_pylist())
        return forms_present(self.frame()["form"].iloc[first])

    def take(self, positions: np.ndarray) -> Any:
        """These rows as ``plan_block`` reads them (a pyarrow table or DataFrame of text, numbered
        from 0): a CSV file's rows stay in Arrow, so a file run never imports pandas."""
        if self.table is not None:
            return take_rows(self.table, positions)
        return self.frame().iloc[positions].reset_index(drop=True)

    def frame(self) -> pd.DataFrame:
        if self._frame is None:
            import pandas  # noqa: F401  a statement, so a file run's guard lets it (compound.batch.arrow)

            self._frame = text_table(self.table).to_pandas()
        return self._frame

    def release(self) -> None:
        """Let the file's cells go (once planned, when only worksheet.csv and errors.csv remain to
        write: their per-row cells are already made)."""
        self.table = None
        self._frame = None

    def raw_text(self, name: str) -> Any:
        """A column as typed, over all rows: a pyarrow text (chunked) array (null = empty; a CSV
        file's label and carried columns are ``large_string``)."""
        if self.table is not None:
            return text_table(self.table.select([name])).column(0)
        return Chunk(self.frame()).raw_text(name)


@dataclass
class Spread:
    """Per group, what each of its rows writes; per row, its own cells."""

    rows: Rows
    groups: RowGroups
    names: list[str]
    lay: Layout
    runs: list[list[Any]]
    """Per run, each planned block's text of its groups (pyarrow string arrays; None where a run
    has no columns), until the line builder takes them over (:meth:`add_runs`)."""
    labels: list[str]
    passthrough: list[str]
    status: list[str] = field(default_factory=list)
    """Per group, its status, form and errors text: kept only for ``--worksheets``."""
    forms: list[str | None] = field(default_factory=list)
    errors: list[str | None] = field(default_factory=list)
    error_lines: Any = None
    """errors.csv lines of every group (pyarrow table; ``row`` holds the group)."""
    json_parts: tuple[Any, Any] | None = None
    """Per group, the JSON of its form and status, and of its inputs to its errors (pyarrow arrays)."""
    cells: Future[dict[str, Any]] | None = None
    """The per-row cells of worksheet.csv, being prepared by a second thread while groups are planned."""
    _builder: LineBuilder | None = None
    _line_start: np.ndarray | None = None
    _line_count: np.ndarray | None = None
    _raw: dict[str, Any] = field(default_factory=dict)
    _json: JsonLines | None = None

    def prepare(self, *, worksheet: bool = True, errors: bool = True, jsonl: bool = False,
                spreadsheet: bool = True) -> None:
        """Build what the blocks read, so that blocks can be assembled by several threads."""
        if worksheet and self._builder is None:
            cells = self.cells.result() if self.cells is not None else worksheet_cells(self.rows, spreadsheet)
            runs, self.runs = self.runs, []  # the builder takes them over
            self._builder = LineBuilder(self.lay, runs, cells, self.groups.gid)
            self.cells = None  # the builder holds them
        if errors and self._line_start is None:
            group = self.error_lines.column("row").to_numpy()
            self._line_count = np.bincount(group, minlength=len(self.groups)).astype(np.int64)
            self._line_start = np.cumsum(self._line_count) - self._line_count
        if jsonl and self._json is None:
            assert self.json_parts is not None, "plan_groups(..., jsonl=True) first"
            self._json = JsonLines(*self.json_parts, {n: self.raw(n) for n in self.labels},
                                   {n: self.raw(n) for n in self.passthrough}, self.groups.gid)
            self.json_parts = None  # the builder holds their one copy (1.7 GB for a million distinct rows)

    def add_runs(self, texts: list[Any]) -> None:
        """A planned block's run texts (:func:`~compound.batch.plan_texts.run_texts`): to the line
        builder once it is made (lines are being written while later groups are planned)."""
        if self._builder is not None:
            self._builder.extend(texts)
            return
        for run, text in zip(self.runs, texts, strict=True):
            run.append(text)

    def raw(self, name: str) -> Any:
        if name not in self._raw:
            self._raw[name] = self.rows.raw_text(name)
        return self._raw[name]

    def worksheet_block(self, start: int, stop: int) -> memoryview:
        """worksheet.csv lines of rows ``start`` … ``stop − 1`` (no header)."""
        self.prepare(errors=False)
        assert self._builder is not None
        return self._builder.block(start, stop)

    def error_block(self, start: int, stop: int) -> Any:
        """errors.csv lines of rows ``start`` … ``stop − 1``: each row's group's lines, in row order."""

        self.prepare(worksheet=False)
        assert self._line_count is not None and self._line_start is not None
        gid = self.groups.gid[start:stop]
        per_row = self._line_count[gid]
        has = np.flatnonzero(per_row)
        if has.size == 0:
            return self.error_lines.slice(0, 0)
        counts = per_row[has]
        total = int(counts.sum())
        first_line = np.repeat(self._line_start[gid[has]], counts)
        within = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
        lines = self.error_lines.take(from_numpy(first_line + within))
        row = from_numpy(np.repeat(has + start + 1, counts).astype(np.int64))
        return lines.set_column(0, "row", row)

    def json_block(self, start: int, stop: int) -> str:
        """JSON lines of rows ``start`` … ``stop − 1``, as ``compound batch --jsonl`` prints them."""
        return str(self.json_bytes(start, stop), "utf-8")

    def json_bytes(self, start: int, stop: int) -> memoryview:
        """The same lines as UTF-8 bytes (for a binary stream: no decoding, no re-encoding)."""
        self.prepare(worksheet=False, errors=False, jsonl=True)
        assert self._json is not None
        return self._json.block(start, stop)

    def sheet_rows(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per row: its status, form and errors text (for ``--worksheets``: planned with
        ``plan_groups(..., worksheets=True)``)."""
        assert len(self.status) == len(self.groups), "plan_groups(..., worksheets=True) first"
        gid = self.groups.gid[start:stop]
        status, forms, errors = (np.array(v, dtype=object)[gid]
                                 for v in (self.status, self.forms, self.errors))
        return status, forms, errors


def worksheet_cells(rows: Rows, spreadsheet: bool = True) -> dict[str, Any]:
    """The label and carried-through cells ready to quote (the row numbers: made for each block
    of lines by the line builder)."""
    names = [n for n in LABEL_FIELDS if n in rows.names] + [n for n in rows.names if is_pass_through(n)]
    return {name: cell_text(rows.raw_text(name), spreadsheet=spreadsheet) for name in names}


def _fragment(record: dict[str, Any]) -> str:
    """``"a":1,"b":2``: a record's JSON without its braces (json_lines' settings)."""
    text = json.dumps({k: write_cells._json_value(v) for k, v in record.items()}, ensure_ascii=False,
                      allow_nan=False, separators=(",", ":"))
    return text[1:-1]


def _add_texts(spread: Spread, texts: Any, planned: int, groups: int,
               on_block: Callable[[Spread, int], None] | None) -> None:
    """A block's run texts (a ``Future``) added; then ``on_block``, unless every group is planned."""
    spread.add_runs(texts.result())
    if on_block is not None and planned < groups:
        on_block(spread, planned)


def plan_groups(rows: Rows, groups: RowGroups, read_errors: dict[int, Any], *, block_rows: int,
                summary: Summary, jsonl: bool = False, spreadsheet: bool = True,
                worksheets: bool = False,
                advance: Callable[[int], None] = lambda n: None,
                cells: Future[dict[str, Any]] | None = None, pool: Any = None,
                on_block: Callable[[Spread, int], None] | None = None) -> Spread:
    """Plan the first row of every group, ``block_rows`` groups at a time.

    ``cells``: the worksheet's per-row cells (:func:`worksheet_cells`), if another thread is
    preparing them meanwhile. ``worksheets``: keep each group's status, form and errors text as
    Python objects (:meth:`Spread.sheet_rows`, for ``--worksheets``; ~1 ms a block of 25k
    groups, and a list of each, when nothing reads them). ``pool``: an executor (``submit``) on
    whose thread the next block's rows are taken from the file while a block is planned (Arrow's
    take releases the GIL: ~3 ms a block of 25k distinct rows off the planning thread), and on
    whose thread a block's worksheet text is made while the next block is planned (pyarrow's take
    and NumPy: ~20 ms a block of 25k distinct prescriptions, half the planning thread's time).
    ``on_block``: called with the spread and the number of groups planned so far once a block's
    texts are added, but the last's (:mod:`compound.batch.write_ahead` writes their rows meanwhile).
    """
    import pyarrow as pa

    form = groups.encoded.get("form")  # the form column's distinct cells, as grouping found them
    forms = forms_present(form.values) if form is not None else rows.forms(groups.first)
    cache = RunCache()
    spread: Spread | None = None
    line_tables = []
    json_parts: tuple[list[Any], list[Any]] = ([], [])
    starts = range(0, max(len(groups), 1), block_rows)
    # Groups planned in several blocks (a file of many distinct prescriptions): the runs' text
    # columns kept as dictionaries, their texts held once per distinct combination, not per group.
    several = len(groups) > block_rows

    def take(b0: int) -> tuple[Any, dict[str, Any]]:
        """A block's rows, and its columns grouping factorised already."""
        b1 = min(b0 + block_rows, len(groups))
        return (rows.take(groups.first[b0:b1]),
                {name: column.block(b0, b1) for name, column in groups.encoded.items()})

    taken = pool.submit(take, 0) if pool is not None else None
    made: tuple[Any, int] | None = None
    for b0 in starts:
        b1 = min(b0 + block_rows, len(groups))
        positions = groups.first[b0:b1]
        errors = ({i: read_errors[int(p)] for i, p in enumerate(positions.tolist()) if p in read_errors}
                  if read_errors else {})
        block, known = taken.result() if taken is not None else take(b0)
        taken = (pool.submit(take, b0 + block_rows)
                 if pool is not None and b0 + block_rows < len(groups) else None)
        planned = plan_block(block, forms=forms, read_errors=errors, cache=cache, known=known)
        del block, known
        cols, kinds = planned.output_columns()
        if spread is None:
            labels, carried = list(planned.labels), list(planned.passthrough)
            names = list(cols)
            lay = layout(names, {"row", *labels, *carried})
            lay = with_affixes(lay, {n: (rows.raw_text(n).null_count, rows.n)
                                     for n in lay.cells if n != "row"})
            spread = Spread(rows, groups, names, lay, [[] for _ in lay.runs], labels, carried, cells=cells)
        texts = (spread.lay, cols, kinds, b1 - b0, spreadsheet, several)
        # This block's texts asked for first: the pool's other thread starts them while the
        # block before's are finished (the planning waits for those before going on).
        before, made = made, (pool.submit(run_texts, *texts) if pool is not None else Done(run_texts(*texts)),
                              b1)
        if before is not None:  # the block before's texts, made on the pool's thread meanwhile
            _add_texts(spread, *before, len(groups), on_block)
        if worksheets:
            spread.status.extend(planned.status.to_objects().tolist())
            spread.forms.extend(planned.form.to_objects().tolist())
            spread.errors.extend(planned.errors.to_objects().tolist())
        summary.add(planned, weights=groups.sizes[b0:b1])
        line_tables.append(write_cells.arrow_table(
            planned.chunk.log.columns(np.arange(b0, b1, dtype=np.int64)), counts=["row"],
            spreadsheet=True))
        if jsonl:
            own = {"row", *spread.labels, *spread.passthrough}
            heads, middles = [], []
            for record in planned.records():
                heads.append(_fragment({"form": record["form"], "status": record["status"]}))
                middles.append(_fragment({k: v for k, v in record.items()
                                          if k not in own and k not in ("form", "status")}))
            json_parts[0].append(pa.array(heads, type=pa.large_string()))
            json_parts[1].append(pa.array(middles, type=pa.large_string()))
        advance(int(groups.sizes[b0:b1].sum()))
        cache.trim(CACHE_LIMIT)
    groups.encoded.clear()  # planned: grouping's codes are no longer read
    assert spread is not None and made is not None
    _add_texts(spread, *made, len(groups), on_block)
    if jsonl:
        spread.json_parts = (pa.concat_arrays(json_parts[0]), pa.concat_arrays(json_parts[1]))
    spread.error_lines = pa.concat_tables(line_tables).combine_chunks()
    return spread

