"""worksheet.csv: each group's columns formatted once, each row's bytes copied once.

Rows that share every planning input share every computed column (see
:mod:`compound.batch.group`), so the text of a group's columns (amounts
rounded by the output rule, counts as whole numbers, text quoted and
neutralised) is formatted once, as the groups are planned
(:mod:`compound.batch.plan_texts`). A row is then a few pieces: its
own cells (row number, prescription fields, carried-through columns) and,
between them, "joints": the group's text with the separators and the quotes
of the neighbouring cells (a joint depends on the group and on which of its
two neighbours is empty). Where the neighbours are given in every row, or in
none (:attr:`Layout.affixes`), the group's text is planned with their quotes
and separators already around it, and a block takes it as it is. Every piece
of a block is an Arrow string view (16 bytes: the text inline, or where it lies)
into the text as it was made; the views are placed in NumPy, row after row, and
one cast to ``string`` copies the bytes: its data buffer *is* the block of the
file, written as it is.

Why not ``pyarrow.csv.write_csv``: on this machine it formats float64 at
about 110 ms per million values (measured), and a worksheet has some forty
numeric columns. Text cells are RFC 4180 quoted (every text cell in double
quotes, ``"`` doubled), like pyarrow's writer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from compound.batch.arrow import from_numpy
from compound.batch.coded import Coded
from compound.batch.write_cells import neutralise
from compound.batch.write_set import HashingFile
from compound.core.rounding import number_text as number_text
from compound.spreadsheet import neutralise_cell

# First bytes of the cells compound.spreadsheet.FORMULA_START may match: the ASCII starts, and the
# lead bytes of U+00A0 (C2), U+3000 (E3) and the full-width forms U+FF0B…U+FF20 (EF).
_RISKY_FIRST_BYTES = np.frombuffer(b"=+-@\t\r\n\x00 \xc2\xe3\xef", dtype=np.uint8)
#: Per byte value: is it one of those? (A lookup, not np.isin, which imports numpy.ma.)
_RISKY_BYTE = np.zeros(256, dtype=bool)
_RISKY_BYTE[_RISKY_FIRST_BYTES] = True
#: Rows, and bytes, of a column's text looked at a time for risky first bytes and quotes.
SCAN_ROWS = 1 << 15
SCAN_BYTES = 1 << 18


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
    affixes: tuple[tuple[str, str] | None, ...] = ()
    """Per run, when its neighbouring cells are given in every row or in none: the quotes and
    separators around it (:func:`_affixes`), which :mod:`~compound.batch.plan_texts` then joins
    into each group's run text (no per-row join at write time). None, or no entry: the run is
    only its columns, and each block of lines adds its affixes."""


def with_affixes(lay: Layout, nulls: dict[str, tuple[int, int]]) -> Layout:
    """``lay`` with the affixes of every run whose neighbouring cells are never, or always, empty.

    ``nulls``: per quoted cell, its (empty cells, rows), as the cells' validity will be (the row
    number is never empty and not quoted).
    """
    def values(name: str) -> list[int]:
        if name == "row":
            return [0]  # not quoted: no quote either side, as LineBuilder reads it
        empty, rows = nulls[name]
        return [v for v in (0, 1) if (empty < rows if v else empty > 0)] or [1]

    out: list[tuple[str, str] | None] = []
    for j, run in enumerate(lay.runs):
        before = values(lay.cells[j - 1]) if j > 0 else [0]
        after = values(lay.cells[j]) if j < len(lay.cells) else [0]
        fixed = run and len(before) == 1 and len(after) == 1
        out.append(_affixes(j > 0, j < len(lay.cells), bool(before[0]), bool(after[0]), True)
                   if fixed else None)
    return Layout(lay.cells, lay.runs, tuple(out))


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


@dataclass(frozen=True)
class RunText:
    """A run's text for each group of a block, in segments one after the other: pyarrow text
    arrays, or dictionary arrays (:func:`compound.batch.plan_texts.run_texts`)."""

    segments: tuple[Any, ...]

    def __len__(self) -> int:
        return len(self.segments[0])

    def to_pylist(self) -> list[str]:
        """Each group's text (for tests and small runs)."""
        return ["".join(parts) for parts in zip(*(s.to_pylist() for s in self.segments), strict=True)]


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
        if _has_quote(data):
            arr = pc.replace_substring(arr, '"', '""')
        out.append(arr)
    return pa.chunked_array(out, type=pa.large_string())


def _data(arr: Any) -> np.ndarray:
    buf = arr.buffers()[2]
    return np.frombuffer(buf, dtype=np.uint8) if buf is not None else np.zeros(0, dtype=np.uint8)


def _first_bytes_risky(arr: Any, data: np.ndarray) -> bool:
    """Could a cell start like a formula? (A quick look at first bytes; neutralise() decides.)

    :data:`SCAN_ROWS` rows at a time: the temporaries of a million rows' look (~11 MB) were
    fresh pages, which cost more than the look on this project's VMs; a few hundred kB are reused.
    """
    if data.size == 0:
        return False
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset:arr.offset + len(arr) + 1]
    for lo in range(0, offsets.size - 1, SCAN_ROWS):
        part = offsets[lo:lo + SCAN_ROWS + 1]
        if _RISKY_BYTE[data[part[:-1][part[1:] > part[:-1]]]].any():
            return True
    return False


def _has_quote(data: np.ndarray) -> bool:
    """Does a ``"`` occur in these bytes? (:data:`SCAN_BYTES` at a time, for the reason above.)"""
    return any(bool((data[lo:lo + SCAN_BYTES] == ord('"')).any()) for lo in range(0, data.size, SCAN_BYTES))


#: A string view (Arrow's ``string_view``, 16 bytes) as four int32: the text's length, then the
#: text itself when it is at most this long, else its first 4 bytes, its buffer's place among
#: the array's data buffers and its offset in it.
_INLINE = 12


def _views(texts: Any) -> tuple[np.ndarray, list[Any]]:
    """An Arrow text array's string views (an ``(n, 4)`` int32 array; a null's is empty) and the
    buffers they point into: the array's own (casting to ``string_view`` copies no text)."""
    import pyarrow as pa

    cast = texts.cast(pa.string_view())
    if isinstance(cast, pa.ChunkedArray):
        cast = pa.concat_arrays(cast.chunks) if cast.num_chunks != 1 else cast.chunk(0)
    if not len(cast):
        return np.zeros((0, 4), dtype=np.int32), []
    views = np.frombuffer(cast.buffers()[1], dtype=np.int32).reshape(-1, 4)
    views = views[cast.offset:cast.offset + len(cast)]
    if cast.null_count:
        views = views.copy()
        views[~np.asarray(cast.is_valid())] = 0  # empty, whatever Arrow left in a null's view
    return views, cast.buffers()[2:]


class _Runs(NamedTuple):
    """A run's text per group, as string views into the planned blocks' texts: a row's text is
    its group's view, and the bytes are copied once, into the row's line. Replaced as a whole
    when a block is added: a thread assembling lines meanwhile reads the old or the new, each
    consistent (a block of lines reads only groups planned before it was asked for, whose views
    are written before the new one is made)."""

    views: np.ndarray
    """``(groups, 4)`` int32, made for every group of the file at once and filled as blocks come."""
    buffers: tuple[Any, ...]
    """The data buffers the views point into (the planned blocks' texts)."""
    filled: int
    """The groups added so far."""

    @classmethod
    def empty(cls, groups: int) -> _Runs:
        return cls(np.empty((groups, 4), dtype=np.int32), (), 0)

    def added(self, chunks: list[Any]) -> _Runs:
        views, buffers, count = self.views, list(self.buffers), self.filled
        for chunk in chunks:
            new, data = _views(chunk)
            if count + len(new) > len(views):  # more groups than the rows refer to (a test's runs)
                grown = np.empty((max(count + len(new), 2 * len(views)), 4), dtype=np.int32)
                grown[:count] = views[:count]
                views = grown
            out = views[count:count + len(new)]
            out[...] = new
            out[out[:, 0] > _INLINE, 2] += len(buffers)
            buffers.extend(data)
            count += len(new)
        return _Runs(views, tuple(buffers), count)

    def taken(self, gid: np.ndarray) -> tuple[np.ndarray, list[Any]]:
        """The views of groups ``gid`` (a view a row, 16 bytes moved as one) and their buffers."""
        return _whole(self.views)[gid].view(np.int32).reshape(-1, 4), list(self.buffers)


class _Picks(NamedTuple):
    """A run's segment kept as a dictionary (its text columns, :class:`RunText`): each distinct
    text's view once, and each group's place among them (4 bytes a group, not a 16-byte view).
    Replaced as a whole when a block is added, as :class:`_Runs`."""

    table: np.ndarray
    """``(texts, 4)`` int32: the views of every block's distinct texts so far."""
    buffers: tuple[Any, ...]
    codes: np.ndarray
    """Each group's text's place in ``table`` (int32), made for every group of the file at once."""
    filled: int

    @classmethod
    def empty(cls, groups: int) -> _Picks:
        return cls(np.zeros((0, 4), dtype=np.int32), (), np.empty(groups, dtype=np.int32), 0)

    def added(self, chunks: list[Any]) -> _Picks:
        table, buffers, codes, count = self.table, list(self.buffers), self.codes, self.filled
        for chunk in chunks:
            new, data = _views(chunk.dictionary)
            new = new.copy()
            new[new[:, 0] > _INLINE, 2] += len(buffers)
            picks = chunk.indices.to_numpy(zero_copy_only=False)
            if count + picks.size > codes.size:  # more groups than the rows refer to (a test's runs)
                codes = np.concatenate([codes[:count], np.empty(max(picks.size, codes.size), dtype=np.int32)])
            np.add(picks, len(table), out=codes[count:count + picks.size], casting="unsafe")
            table = np.concatenate([table, new])
            buffers.extend(data)
            count += picks.size
        return _Picks(table, tuple(buffers), codes, count)

    def taken(self, gid: np.ndarray) -> tuple[np.ndarray, list[Any]]:
        """As :meth:`_Runs.taken`."""
        return _whole(self.table)[self.codes[gid]].view(np.int32).reshape(-1, 4), list(self.buffers)


@dataclass
class _Joint:
    """What goes between two per-row cells: a run's group text with the neighbours' affixes."""

    fixed: int
    """The pattern's bits from a neighbour that is always (or never) empty."""
    before: np.ndarray | None
    after: np.ndarray | None
    affixes: list[tuple[np.ndarray, list[Any]]]
    """The views of what goes around the run, per pattern (2 × before given + after given): with
    no run, their join; else the prefixes and the suffixes (none when the run holds them)."""
    runs: list[_Runs | _Picks] | None = None
    """The run's text per group, in its segments (:class:`RunText`); None for a joint without a run."""
    joined: bool = False
    """The run's texts hold the affixes already (:attr:`Layout.affixes`): taken as they are."""

    def pattern(self, start: int, stop: int) -> Any:
        """2 × (the cell before is given) + (the cell after is given), for rows ``start`` … ``stop − 1``."""
        pattern: Any = np.int64(self.fixed)  # the 0/1 columns are int8: the sum is int64
        if self.before is not None:
            pattern = pattern + self.before[start:stop] * 2
        if self.after is not None:
            pattern = pattern + self.after[start:stop]
        return pattern

    def pieces(self, start: int, stop: int, gid: np.ndarray) -> list[tuple[np.ndarray, list[Any]]]:
        """The joint's pieces of rows ``start`` … ``stop − 1`` (``gid``: their groups), in order:
        each a view a row and the buffers they point into."""
        runs = self.runs  # read once: a block may be added meanwhile
        pattern = self.pattern(start, stop)
        rows = stop - start
        out = [(np.broadcast_to(views[pattern], (rows, 4)), data) for views, data in self.affixes]
        if runs is not None:  # between the prefix and the suffix
            half = len(out) // 2
            out[half:half] = [r.taken(gid) for r in runs]
        return out


class LineBuilder:
    """Builds blocks of worksheet lines from per-group run texts and per-row cells.

    A line is a few pieces: its cells and, between them, its group's run texts (with the
    neighbouring cells' quotes and separators). Every piece of a block is a string view (Arrow's
    ``string_view``: 16 bytes, the text inline or where it lies) into the text as it was made, the
    run texts of each planned block and the file's cells: the views are placed in NumPy, row by
    row, and one cast to ``string`` copies the bytes, once, into the block of the file. (A
    ``take`` of the pieces concatenated copied each twice, and a row's run text taken from its
    block three times.) Nothing is made for the whole file at once but a view per group.

    Parameters
    ----------
    lay
        The line layout.
    runs
        Per run, a pyarrow string array (or chunked array, or list of arrays) of its text for
        each group, or its :class:`RunText` (or a list of them, in its segments); None for a
        run with no columns. The builder takes them over (the list is emptied).
    cells
        Per cell name, a pyarrow string array over all rows: the row numbers
        as digits, text cells as :func:`cell_text` made them (null = empty). Without ``row``,
        each block makes its rows' numbers.
    gid
        Each row's group.
    """

    def __init__(self, lay: Layout, runs: list[Any], cells: dict[str, Any], gid: np.ndarray) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        n = int(gid.size)
        self.n = n
        self._gid = np.asarray(gid, dtype=np.int64)
        groups = int(self._gid.max()) + 1 if n else 0
        quoted = [name != "row" for name in lay.cells]
        # One byte a row (int64 was 8 MB a million rows, each: fresh pages); patterns add in int64.
        given = [pc.is_valid(cells[name]).to_numpy(zero_copy_only=False).astype(np.int8) if q else None
                 for name, q in zip(lay.cells, quoted, strict=True)]
        self._cells: list[Any] = []
        for name in lay.cells:
            if name == "row" and name not in cells:
                self._cells.append(None)  # the row numbers: made for each block (_row_numbers)
                continue
            column = cells[name]
            self._cells.append(column if isinstance(column, pa.ChunkedArray) else pa.chunked_array([column]))
        self._joints: list[_Joint | None] = []
        for j in range(len(lay.cells) + 1):
            has_before, has_after = j > 0, j < len(lay.cells)
            before = given[j - 1] if has_before else None
            after = given[j] if has_after else None
            run = runs[j] if lay.runs[j] else None
            # The patterns of empty neighbours that can occur (one, unless a cell is sometimes empty).
            b_values = _values(before)
            a_values = _values(after)
            fixed = ((2 * b_values[0] if len(b_values) == 1 else 0)
                     + (a_values[0] if len(a_values) == 1 else 0))
            affixes = [_affixes(has_before, has_after, bool(p & 2), bool(p & 1), run is not None)
                       for p in range(4)]
            varying = (before if len(b_values) > 1 else None, after if len(a_values) > 1 else None)
            occur = {2 * b + a for b in b_values for a in a_values}
            if run is None:
                if not has_before and not has_after:
                    raise ValueError("a line needs a cell")
                # Nothing before the first cell in any pattern its cell gives (the row number, never
                # quoted, gives one): no piece (a million empty strings fewer to place).
                if all(affixes[p] == ("", "") for p in occur):
                    self._joints.append(None)
                    continue
                self._joints.append(_Joint(fixed, *varying, [_table([a + b for a, b in affixes])]))
                continue
            joined = j < len(lay.affixes) and lay.affixes[j] is not None
            if joined and (varying != (None, None) or affixes[fixed] != lay.affixes[j]):
                raise ValueError(f"run {j}'s texts were joined with {lay.affixes[j]!r}, "
                                 f"its cells need {affixes[fixed]!r}")
            # Around a run not joined, a prefix and a suffix a row (none where empty in every row).
            around = [] if joined else [_table(t) for t in zip(*affixes, strict=True)
                                        if any(t[p] for p in occur)]
            if len(around) == 1:  # the run's place is between them: an empty one keeps it
                around.insert(0 if any(affixes[p][1] for p in occur) else 1, _table([""] * 4))
            segments = [(_Picks if chunks and pa.types.is_dictionary(chunks[0].type) else _Runs)
                        .empty(groups).added(chunks) for chunks in _segments(run)]
            self._joints.append(_Joint(fixed, *varying, around, segments, joined))
        runs.clear()  # the joints hold the runs' texts now

    def extend(self, runs: list[Any]) -> None:
        """Add the next groups' run texts (a planned block's, as ``runs`` in the constructor).

        Blocks of lines may be assembled meanwhile, on other threads, from the groups before.
        """
        for joint, run in zip(self._joints, runs, strict=True):  # a joint per run (None: no run)
            if joint is not None and joint.runs is not None:
                joint.runs = [r.added(chunks) for r, chunks in zip(joint.runs, _segments(run), strict=True)]

    def block(self, start: int, stop: int) -> memoryview:
        """The bytes of lines ``start`` … ``stop − 1``."""
        rows = stop - start
        if rows <= 0:
            return memoryview(b"")
        gid = self._gid[start:stop]
        pieces: list[tuple[np.ndarray, list[Any]]] = []
        for j in range(len(self._cells) + 1):
            joint = self._joints[j]
            if joint is not None:
                pieces.extend(joint.pieces(start, stop, gid))
            if j < len(self._cells):
                column = self._cells[j]
                pieces.append(_views(column.slice(start, rows)) if column is not None
                              else _row_numbers(start, stop))
        return _copied(pieces, rows)


def _copied(pieces: list[tuple[np.ndarray, list[Any]]], rows: int) -> memoryview:
    """The pieces' texts, row after row, copied once into one buffer (its bytes)."""
    import pyarrow as pa

    views = np.empty((rows, len(pieces), 4), dtype=np.int32)
    whole = _whole(views)  # a view a cell: NumPy moves those ten times faster than 4 int32s
    buffers: list[Any] = []
    for k, (piece, data) in enumerate(pieces):
        whole[:, k] = _whole(piece)
        if buffers and data:  # a piece's buffers follow those before it: their places move on
            np.add(views[:, k, 2], len(buffers), out=views[:, k, 2], where=views[:, k, 0] > _INLINE)
        buffers.extend(data)
    size = int(views[:, :, 0].sum(dtype=np.int64))
    return _gathered(pa.Array.from_buffers(pa.string_view(), rows * len(pieces),
                                           [None, pa.py_buffer(views), *buffers]), size)


def _gathered(views: Any, size: int) -> memoryview:
    """The texts of a ``string_view`` array end to end (``size`` bytes): one copy of each."""
    import pyarrow as pa

    # int32 offsets where they fit: the cast writes them faster than int64 ones.
    data = views.cast(pa.string() if size < 2**31 else pa.large_string()).buffers()[2]
    return memoryview(data)[:size] if data is not None else memoryview(b"")


def _whole(views: np.ndarray) -> np.ndarray:
    """``(…, 4)`` int32 string views as one 16-byte number each (to move, not to read)."""
    return views.view(np.complex128)[..., 0]


def _row_numbers(start: int, stop: int) -> tuple[np.ndarray, list[Any]]:
    """Rows ``start`` … ``stop − 1``'s numbers (from 1) as string views: a block's, not the file's
    at once (a million rows' text were ~23 MB of fresh pages held to the end of the run).

    From 10,000 to 10**12 − 1 a number is its view's inline text: the digits before its last four,
    the same for up to 10,000 rows in a row (the numbers ascend), then its last four, from a table
    of 0000 … 9999 (a slice of it: they ascend too). A quarter of the time of Arrow's cast of
    the numbers to text, which was a quarter of a typical file's lines.
    """
    if start + 1 < 10**4 or stop >= 10**12:  # the first rows, and numbers past 12 digits: Arrow's
        import pyarrow as pa
        import pyarrow.compute as pc

        return _views(pc.cast(from_numpy(np.arange(start + 1, stop + 1, dtype=np.int64)), pa.string()))
    views = np.zeros((stop - start, 4), dtype="<u4")  # the length, then 12 bytes (three words)
    at = start
    while at < stop:
        high, low = divmod(at + 1, 10**4)
        end = min(stop, at + 10**4 - low)  # the rows whose numbers start with ``high``
        head = str(high).encode()
        rows = slice(at - start, end - start)
        views[rows, 0] = len(head) + 4
        views[rows, 1:3] = np.frombuffer(head.ljust(8, b"\0"), dtype="<u4")
        _unaligned(views, rows, 4 + len(head))[...] = _DIGITS4[low:low + end - at]
        at = end
    return views.view(np.int32), []


def _unaligned(views: np.ndarray, rows: slice, byte: int) -> np.ndarray:
    """A word of each of ``views``' ``rows`` (16 bytes each), from ``byte``: a uint32 view."""
    start = rows.start * 16 + byte
    return np.ndarray((rows.stop - rows.start,), dtype="<u4", buffer=views, offset=start, strides=(16,))


#: The text of 0000 … 9999, each four ASCII digits as one word.
_DIGITS4 = (np.arange(10**4)[:, None] // np.array([1000, 100, 10, 1]) % 10 + ord("0")).astype(np.uint8).view(
    "<u4")[:, 0]


def _segments(run: Any) -> list[list[Any]]:
    """A run's texts per segment, each a list of arrays: given as :class:`RunText` (or a list of
    them, a block's each), or as one array, a chunked array or a list of arrays (one segment)."""
    import pyarrow as pa

    blocks = list(run.chunks) if isinstance(run, pa.ChunkedArray) else run if isinstance(run, list) else [run]
    if blocks and isinstance(blocks[0], RunText):
        return [list(segment) for segment in zip(*(b.segments for b in blocks), strict=True)]
    return [blocks]


def _table(texts: Sequence[str]) -> tuple[np.ndarray, list[Any]]:
    """The views of a few texts (an affix per pattern) and their buffers."""
    import pyarrow as pa

    return _views(pa.array(texts, type=pa.string()))


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
