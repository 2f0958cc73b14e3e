"""worksheet.csv: each group's columns formatted once, each row assembled by one take.

Rows that share every planning input share every computed column (see
:mod:`compound.batch.group`), so the text of a group's columns (amounts
rounded by the output rule, counts as whole numbers, text quoted and
neutralised) is formatted once: numbers by the vectorised rule
(:func:`compound.core.rounding.number_texts`, each distinct value of a column
once, no Python string per value), text a distinct value at a time. A row is then a few pieces: its
own cells (row number, prescription fields, carried-through columns) and,
between them, "joints": the group's text with the separators and the quotes
of the neighbouring cells (a joint depends on the group and on which of its
two neighbours is empty). All pieces sit in one Arrow string array, and a
block of lines is a single ``take`` of it: the taken array's data buffer *is*
the block of the file, written as it is.

Why not ``pyarrow.csv.write_csv``: on this machine it formats float64 at
about 110 ms per million values (measured), and a worksheet has some forty
numeric columns. Text cells are RFC 4180 quoted (every text cell in double
quotes, ``"`` doubled), like pyarrow's writer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from compound.batch.arrow import factorize
from compound.batch.coded import Coded
from compound.batch.plan_forms import AMOUNT, COUNT
from compound.batch.write_cells import neutralise
from compound.batch.write_set import HashingFile
from compound.core.rounding import Texts, number_texts, round_sig
from compound.core.rounding import number_text as number_text
from compound.spreadsheet import neutralise_cell

# First bytes of the cells compound.spreadsheet.FORMULA_START may match: the ASCII starts, and the
# lead bytes of U+00A0 (C2), U+3000 (E3) and the full-width forms U+FF0B…U+FF20 (EF).
_RISKY_FIRST_BYTES = np.frombuffer(b"=+-@\t\r\n\x00 \xc2\xe3\xef", dtype=np.uint8)


def quote(text: str | None, *, spreadsheet: bool = True) -> str:
    """One text cell, CSV-quoted (empty for None), neutralised for a spreadsheet."""
    if text is None:
        return ""
    if spreadsheet:
        text = neutralise_cell(text)
    return '"' + text.replace('"', '""') + '"'


def header(names: list[str]) -> str:
    return ",".join(quote(n, spreadsheet=False) for n in names) + "\n"


@dataclass(frozen=True)
class Layout:
    """A worksheet line as per-row cells with runs of group-level columns between them."""

    cells: list[str]
    """The per-row columns, in order (``row`` is not quoted; the others are text)."""
    runs: list[list[str]]
    """``runs[j]``: the group-level columns just before ``cells[j]``; the last, after the last cell."""


def layout(names: Sequence[str], per_row: set[str]) -> Layout:
    cells: list[str] = []
    runs: list[list[str]] = [[]]
    for name in names:
        if name in per_row:
            cells.append(name)
            runs.append([])
        else:
            runs[-1].append(name)
    return Layout(cells, runs)


def run_texts(lay: Layout, columns: dict[str, Any], kinds: dict[str, str], groups: int,
              spreadsheet: bool = True) -> list[Any]:
    """Each run's text (its columns formatted and joined by commas) for each of ``groups`` rows.

    One pyarrow string array per run (None for a run with no columns).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    first = np.arange(groups)
    comma = pa.scalar(",", pa.large_string())
    out = []
    for run in lay.runs:
        texts = [_group_texts(columns[name], kinds[name], first, spreadsheet) for name in run]
        out.append((texts[0] if len(texts) == 1 else pc.binary_join_element_wise(*texts, comma))
                   if run else None)
    return out


def cell_text(values: Any, *, spreadsheet: bool = True) -> Any:
    """A per-row text column as it goes between its quotes: neutralised, ``"`` doubled, nulls kept.

    A pyarrow ``large_string`` chunked array, chunk by chunk as given (the line builder copies the
    chunks once, into its pieces).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(values, Coded):
        values = values.to_arrow()
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    out = []
    for chunk in chunks:
        arr = chunk.cast(pa.large_string())
        data = _data(arr)
        if spreadsheet and _first_bytes_risky(arr, data):
            arr = neutralise(chunk.cast(pa.string())).cast(pa.large_string())
            data = _data(arr)
        if data.size and np.any(data == ord('"')):
            arr = pc.replace_substring(arr, '"', '""')
        out.append(arr)
    return pa.chunked_array(out, type=pa.large_string())


def _data(arr: Any) -> np.ndarray:
    buf = arr.buffers()[2]
    return np.frombuffer(buf, dtype=np.uint8) if buf is not None else np.zeros(0, dtype=np.uint8)


def _first_bytes_risky(arr: Any, data: np.ndarray) -> bool:
    """Could a cell start like a formula? (A quick look at first bytes; neutralise() decides.)"""
    if data.size == 0:
        return False
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset:arr.offset + len(arr) + 1]
    starts = offsets[:-1][offsets[1:] > offsets[:-1]]
    return bool(np.isin(data[starts], _RISKY_FIRST_BYTES).any())


@dataclass
class _Joint:
    """Where a joint's rows find their text in the pieces array."""

    base: int
    groups: int
    """Groups in the run (its table is pattern by pattern); 0 when there is no run."""
    rank: np.ndarray
    """Pattern (2 × before given + after given) → its place among a group's texts."""
    fixed: int
    """The pattern's bits from a neighbour that is always (or never) empty."""
    before: np.ndarray | None
    after: np.ndarray | None
    rows: np.ndarray | None = None
    """Each row's position, when the table holds only the (group, pattern) pairs that occur."""

    def pattern(self, start: int, stop: int) -> Any:
        """2 × (the cell before is given) + (the cell after is given), for rows ``start`` … ``stop − 1``."""
        pattern: Any = self.fixed
        if self.before is not None:
            pattern = pattern + self.before[start:stop] * 2
        if self.after is not None:
            pattern = pattern + self.after[start:stop]
        return pattern

    def positions(self, gid: np.ndarray, start: int, stop: int) -> Any:
        if self.rows is not None:
            return self.rows[start:stop]
        at = self.base + self.rank[self.pattern(start, stop)] * max(self.groups, 1)
        return at + gid[start:stop] if self.groups else at


class LineBuilder:
    """Builds blocks of worksheet lines from per-group run texts and per-row cells.

    Parameters
    ----------
    lay
        The line layout.
    runs
        Per run, a pyarrow string array of its text for each group (None
        for a run with no columns). Each is let go (set to None in the list)
        once its joint is made.
    cells
        Per cell name, a pyarrow string array over all rows: the row numbers
        as digits, text cells as :func:`cell_text` made them (null = empty).
    gid
        Each row's group.
    """

    def __init__(self, lay: Layout, runs: list[Any], cells: dict[str, Any], gid: np.ndarray) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        n = int(gid.size)
        self.n = n
        self._gid = np.asarray(gid, dtype=np.int64)
        quoted = [name != "row" for name in lay.cells]
        given = [pc.is_valid(cells[name]).to_numpy(zero_copy_only=False).astype(np.int64) if q else None
                 for name, q in zip(lay.cells, quoted, strict=True)]
        # Every piece is written once into one buffer sized beforehand (a joint is made, copied and
        # let go), not gathered and then concatenated: that held each byte twice (~150 MB more for
        # a million distinct prescriptions).
        makers: list[tuple[int, int, Any]] = []  # (values, bytes, () -> arrays)
        for name in lay.cells:
            column = cells[name]
            for chunk in column.chunks if isinstance(column, pa.ChunkedArray) else [column]:
                chunk = _no_nulls(chunk)
                makers.append((len(chunk), _nbytes(chunk), lambda chunk=chunk: [chunk]))
        base = n * len(lay.cells)
        self._joints: list[_Joint | None] = []
        for j in range(len(lay.cells) + 1):
            has_before, has_after = j > 0, j < len(lay.cells)
            before = given[j - 1] if has_before else None
            after = given[j] if has_after else None
            run = runs[j] if lay.runs[j] else None
            chunks = (run.chunks if isinstance(run, pa.ChunkedArray) else [run]) if run is not None else []
            groups = sum(len(c) for c in chunks)
            # The patterns of empty neighbours that can occur (one, unless a cell is sometimes empty).
            b_values = _values(before)
            a_values = _values(after)
            patterns = [2 * bv + av for bv in b_values for av in a_values]
            rank = np.full(4, -1, dtype=np.int64)
            rank[patterns] = np.arange(len(patterns))
            fixed = ((2 * b_values[0] if len(b_values) == 1 else 0)
                     + (a_values[0] if len(a_values) == 1 else 0))
            joint = _Joint(base, groups if run is not None else 0, rank, fixed,
                           before if len(b_values) > 1 else None, after if len(a_values) > 1 else None)
            affixes = {p: _affixes(has_before, has_after, bool(p & 2), bool(p & 1), run is not None)
                       for p in range(4)}
            affix_bytes = np.array([len((affixes[p][0] + affixes[p][1]).encode()) for p in range(4)])
            if run is None:
                table = pa.array([affixes[p][0] + affixes[p][1] for p in patterns], type=pa.large_string())
                if not has_before and table.to_pylist() == [""]:
                    self._joints.append(None)  # nothing before the first cell: no piece
                    continue
                count, size = len(table), _nbytes(table)
                makers.append((count, size, lambda table=table: [table]))
            elif groups * len(patterns) <= n + 4096:
                # Every (pattern, group) text, pattern by pattern: a row's is base + rank × groups + group.
                count = groups * len(patterns)
                size = (sum(len(patterns) * _nbytes(c) for c in chunks)
                        + groups * int(affix_bytes[patterns].sum()))

                def joined(chunks: list[Any] = chunks, patterns: list[int] = patterns,
                           affixes: dict[int, tuple[str, str]] = affixes) -> Any:
                    for p in patterns:
                        for c in chunks:
                            yield pc.binary_join_element_wise(_large(affixes[p][0]), c, _large(affixes[p][1]),
                                                              _large(""))

                makers.append((count, size, joined))
            else:
                # Many groups and cells sometimes empty: only the (group, pattern) pairs that occur.
                key = self._gid * 4 + joint.pattern(0, n)
                used = np.zeros(groups * 4, dtype=bool)
                used[key] = True
                keys = np.flatnonzero(used)
                position = np.zeros(groups * 4, dtype=np.int64)
                position[keys] = base + np.arange(keys.size)
                joint.rows = position[key]
                lengths = np.concatenate([np.diff(_offsets(c)) for c in chunks])
                count = int(keys.size)
                size = int(lengths[keys >> 2].sum() + affix_bytes[keys & 3].sum())
                prefix = pa.array([affixes[p][0] for p in range(4)], type=pa.large_string())
                suffix = pa.array([affixes[p][1] for p in range(4)], type=pa.large_string())

                def picked(chunks: list[Any] = chunks, keys: np.ndarray = keys, prefix: Any = prefix,
                           suffix: Any = suffix) -> Any:
                    # keys ascend, so their groups do: each chunk's share is one slice of them.
                    bounds = np.cumsum([0] + [len(c) for c in chunks])
                    cuts = np.searchsorted(keys >> 2, bounds)
                    for c, lo, hi, g0 in zip(chunks, cuts[:-1], cuts[1:], bounds[:-1], strict=True):
                        part = keys[lo:hi]
                        at = pa.array(part & 3)
                        yield pc.binary_join_element_wise(prefix.take(at), c.take(pa.array((part >> 2) - g0)),
                                                          suffix.take(at), _large(""))

                makers.append((count, size, picked))
            self._joints.append(joint)
            base += count
            runs[j] = None  # the builder holds the run's chunks until its joint is written
        buffer = _Buffer(sum(m[0] for m in makers), sum(m[1] for m in makers))
        while makers:
            _, _, make = makers.pop(0)  # each maker (and what it holds) goes once written
            for piece in make():
                buffer.add(piece)
        self._pieces = buffer.array()
        self._cells = len(lay.cells)

    def block(self, start: int, stop: int) -> memoryview:
        """The bytes of lines ``start`` … ``stop − 1``."""
        import pyarrow as pa

        rows = stop - start
        order: list[Any] = []
        for j in range(self._cells + 1):
            joint = self._joints[j]
            if joint is not None:
                order.append(joint.positions(self._gid, start, stop))
            if j < self._cells:
                order.append(np.arange(start + j * self.n, stop + j * self.n))
        # int32 indices take faster; a pieces array that large would hold over 2**31 cells.
        index = np.empty((rows, len(order)), dtype=np.int32 if len(self._pieces) < 2**31 else np.int64)
        for k, column in enumerate(order):
            index[:, k] = column
        lines = self._pieces.take(pa.array(index.reshape(-1)))
        offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)
        first, last = offsets[lines.offset], offsets[lines.offset + len(lines)]
        data = lines.buffers()[2]
        return memoryview(data)[first:last] if data is not None else memoryview(b"")


class _Buffer:
    """One large_string array written piece by piece into buffers allocated once."""

    def __init__(self, count: int, size: int) -> None:
        import pyarrow as pa

        # From Arrow's pool, which reuses what the runs and joints just gave back.
        self._buffers = (pa.allocate_buffer(8 * (count + 1)), pa.allocate_buffer(max(size, 1)))
        self.offsets = np.frombuffer(self._buffers[0], dtype=np.int64)
        self.offsets[0] = 0
        self.data = np.frombuffer(self._buffers[1], dtype=np.uint8)[:size]
        self.count = 0
        self.size = 0

    def add(self, piece: Any) -> None:
        off = _offsets(piece)
        k, first, last = len(piece), int(off[0]), int(off[-1])
        np.add(off[1:], self.size - first, out=self.offsets[self.count + 1:self.count + k + 1],
               casting="unsafe")
        if last > first:
            data = np.frombuffer(piece.buffers()[2], dtype=np.uint8)
            self.data[self.size:self.size + last - first] = data[first:last]
        self.count += k
        self.size += last - first

    def array(self) -> Any:
        import pyarrow as pa

        assert self.count == self.offsets.size - 1 and self.size == self.data.size, "pieces sized wrongly"
        return pa.LargeStringArray.from_buffers(self.count, *self._buffers)


def _offsets(arr: Any) -> np.ndarray:
    """A string or large_string array's offsets, as int64 (its own slice of them)."""
    import pyarrow as pa

    kind = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    return np.frombuffer(arr.buffers()[1], dtype=kind)[arr.offset:arr.offset + len(arr) + 1]


def _nbytes(arr: Any) -> int:
    off = _offsets(arr)
    return int(off[-1]) - int(off[0])


def _no_nulls(arr: Any) -> Any:
    """Null cells as empty text (a null slot may span bytes; a take would write none)."""
    import pyarrow.compute as pc

    return pc.fill_null(arr, "") if arr.null_count else arr


def _large(text: str) -> Any:
    import pyarrow as pa

    return pa.scalar(text, type=pa.large_string())


def _values(given: np.ndarray | None) -> list[int]:
    """The values a 0/1 column takes (``[0]`` for no column)."""
    if given is None or given.size == 0:
        return [0] if given is None else [1]
    return [v for v in (0, 1) if (given.any() if v else not given.all())]


def _affixes(has_before: bool, has_after: bool, before_given: bool, after_given: bool,
             run: bool) -> tuple[str, str]:
    """What goes before and after a joint's run: the neighbours' quotes, the separators, the end.

    ``"RX1"`` then a run then ``"P"``: the joint is ``",<run>,"``; with no run, ``","``.
    """
    prefix = '"' if before_given else ""
    if has_before and (run or has_after):
        prefix += ","
    suffix = ("," if run and has_after else "") + ('"' if after_given else "") if has_after else "\n"
    return prefix, suffix


def _group_texts(col: Any, kind: str, first: np.ndarray, spreadsheet: bool) -> Any:
    """One column's text for each group (read at the group's first row): a pyarrow array.

    Text columns quote each distinct value once; number columns are printed by the vectorised
    rule (:func:`~compound.core.rounding.number_texts`), each distinct value once.
    """
    import pyarrow as pa

    if isinstance(col, Coded):
        table = pa.array([*(quote(v, spreadsheet=spreadsheet) for v in col.values), ""],
                         type=pa.large_string())
        codes = col.codes[first]
        return table.take(pa.array(np.where(codes >= 0, codes, col.values.size)))
    values = np.asarray(col, dtype=np.float64)[first]
    if kind == AMOUNT:
        values = round_sig(values)  # fewer distinct values to print (number_texts rounds them again: a no-op)
    elif kind != COUNT:
        raise TypeError(f"unexpected column type {type(col).__name__}")
    codes, uniques = factorize(values)  # NaN: −1, printed as the last text (empty)
    texts = number_texts(np.append(np.asarray(uniques, dtype=np.float64), np.nan), count=kind == COUNT)
    return arrow_texts(texts).take(pa.array(np.where(codes >= 0, codes, len(uniques))))


def arrow_texts(texts: Texts) -> Any:
    """A pyarrow ``large_string`` array over the kernel's buffers (no copy)."""
    import pyarrow as pa

    return pa.LargeStringArray.from_buffers(len(texts), pa.py_buffer(texts.offsets), pa.py_buffer(texts.data))


class LineSink:
    """worksheet.csv written block by block into the run's staging folder, hashed as it goes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: HashingFile | None = None
        self.sha256 = ""

    def start(self, names: list[str]) -> None:
        """Open the file and write the header."""
        self._file = HashingFile(self.path)
        self._file.write(header(names).encode("utf-8"))

    def write(self, data: Any) -> None:
        assert self._file is not None, "start() first"
        self._file.write(data)

    def close(self) -> None:
        if self._file is not None:
            self.sha256 = self._file.close()
            self._file = None  # closed once, even when closed early (to read it back for labels)

    def abort(self) -> None:
        if self._file is not None:
            self._file.abort()
