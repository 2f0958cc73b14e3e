"""worksheet.csv: each group's columns formatted once, each row assembled by one take.

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
and separators already around it, and a block takes it as it is. All pieces
sit in one Arrow string array, and a block of lines is a single ``take`` of
it: the taken array's data buffer *is* the block of the file, written as it is.

Why not ``pyarrow.csv.write_csv``: on this machine it formats float64 at
about 110 ms per million values (measured), and a worksheet has some forty
numeric columns. Text cells are RFC 4180 quoted (every text cell in double
quotes, ``"`` doubled), like pyarrow's writer.
"""

from __future__ import annotations

import itertools
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


class _Parts(NamedTuple):
    """A run's text per group, in chunks (one per planned block), replaced as a whole when a
    block is added: a thread assembling lines meanwhile reads the old chunks or the new, each
    consistent (a block of lines reads only groups planned before it was asked for)."""

    chunks: tuple[Any, ...]
    bounds: np.ndarray
    """The first group of each chunk, and the number of groups last."""
    step: int
    """The chunks' size when all have it but a shorter last (as plan_groups plans them): a
    group's chunk is ``group // step``; 0 otherwise."""

    def added(self, chunks: list[Any]) -> _Parts:
        import pyarrow as pa

        chunks = [*self.chunks, *(c.cast(pa.large_string()) for c in chunks)]
        bounds = np.cumsum([0] + [len(c) for c in chunks]).astype(np.int64)
        sizes = np.diff(bounds)
        step = int(sizes[0]) if sizes.size and bool((sizes[:-1] == sizes[0]).all()) else 0
        return _Parts(tuple(chunks), bounds, step if step and 0 < sizes[-1] <= step else 0)


_NO_PARTS = _Parts((), np.zeros(1, dtype=np.int64), 0)


@dataclass
class _Joint:
    """What goes between two per-row cells: a run's group text with the neighbours' affixes."""

    fixed: int
    """The pattern's bits from a neighbour that is always (or never) empty."""
    before: np.ndarray | None
    after: np.ndarray | None
    affixes: Any
    """Per pattern (2 × before given + after given): the prefix and suffix, or with no run their join."""
    parts: _Parts | None = None
    """The run's text per group, in chunks; None for a joint without a run."""
    joined: bool = False
    """The run's texts hold the affixes already (:attr:`Layout.affixes`): taken as they are."""

    @property
    def step(self) -> int:
        return self.parts.step if self.parts is not None else 0

    def pattern(self, start: int, stop: int) -> Any:
        """2 × (the cell before is given) + (the cell after is given), for rows ``start`` … ``stop − 1``."""
        pattern: Any = np.int64(self.fixed)  # the 0/1 columns are int8: the sum is int64
        if self.before is not None:
            pattern = pattern + self.before[start:stop] * 2
        if self.after is not None:
            pattern = pattern + self.after[start:stop]
        return pattern

    def texts(self, parts: _Parts, keys: np.ndarray, cuts: np.ndarray | None = None) -> list[Any]:
        """The joint's text for each ``group × 4 + pattern`` of ``keys``, in parts.

        ``parts``: the run's chunks as the block read them once (more may be added meanwhile).
        ``keys`` ascending, or in the order of their groups' chunks with ``cuts`` (where each
        chunk's keys start, and their number last).
        """
        import pyarrow as pa
        import pyarrow.compute as pc

        groups = keys >> 2
        if cuts is None:
            cuts = np.searchsorted(groups, parts.bounds)
        taken = [parts.chunks[c].take(from_numpy(groups[lo:hi] - parts.bounds[c]))
                 for c, (lo, hi) in enumerate(itertools.pairwise(cuts.tolist())) if hi > lo]
        if self.joined:
            return taken  # copied once more only by the block's concatenation of its pieces
        runs = pa.concat_arrays(taken) if len(taken) > 1 else taken[0]
        at = from_numpy(keys & 3)
        prefix, suffix = self.affixes
        return [pc.binary_join_element_wise(prefix.take(at), runs, suffix.take(at), _large(""))]


class LineBuilder:
    """Builds blocks of worksheet lines from per-group run texts and per-row cells.

    A block is one ``take`` from an array of its pieces: its rows' cells (slices, no copy) and
    the joints of the (group, pattern) pairs its rows use, each made for the block. Nothing is
    made for the whole file at once: a file of a million distinct prescriptions would hold all
    its joints' text (and the runs' it is made from) at the same time.

    Parameters
    ----------
    lay
        The line layout.
    runs
        Per run, a pyarrow string array (or chunked array) of its text for each group (None
        for a run with no columns). The builder takes them over (the list is emptied).
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
        self._met: np.ndarray | None = None
        """Per row, the highest group up to it (made when a block of many groups first asks)."""
        self._keys = 4 * (int(self._gid.max()) + 1 if n else 0)  # group × 4 + pattern stays below
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
            column = column if isinstance(column, pa.ChunkedArray) else pa.chunked_array([column])
            self._cells.append(column.cast(pa.large_string()))
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
            if run is None:
                if not has_before and not has_after:
                    raise ValueError("a line needs a cell")
                joined = pa.array([a + b for a, b in affixes], type=pa.large_string())
                # Nothing before the first cell in any pattern its cell gives (the row number, never
                # quoted, gives one): no piece (a million empty strings fewer for the take).
                if all(affixes[2 * b + a] == ("", "") for b in b_values for a in a_values):
                    self._joints.append(None)
                    continue
                self._joints.append(_Joint(fixed, *varying, joined))
                continue
            pair = (pa.array([a for a, _ in affixes], type=pa.large_string()),
                    pa.array([b for _, b in affixes], type=pa.large_string()))
            joined = j < len(lay.affixes) and lay.affixes[j] is not None
            if joined and (varying != (None, None) or affixes[fixed] != lay.affixes[j]):
                raise ValueError(f"run {j}'s texts were joined with {lay.affixes[j]!r}, "
                                 f"its cells need {affixes[fixed]!r}")
            self._joints.append(_Joint(fixed, *varying, pair, _NO_PARTS.added(_chunks(run)), joined))
        runs.clear()  # the joints hold the runs' chunks now

    def extend(self, runs: list[Any]) -> None:
        """Add the next groups' run texts (a planned block's, as ``runs`` in the constructor).

        Blocks of lines may be assembled meanwhile, on other threads, from the groups before.
        """
        for joint, run in zip(self._joints, runs, strict=True):  # a joint per run (None: no run)
            if joint is not None and joint.parts is not None:
                joint.parts = joint.parts.added(_chunks(run))

    def block(self, start: int, stop: int) -> memoryview:
        """The bytes of lines ``start`` … ``stop − 1``."""
        import pyarrow as pa

        rows = stop - start
        gid = self._gid[start:stop]
        pieces: list[Any] = []
        order: list[Any] = []
        base = 0
        for j in range(len(self._cells) + 1):
            joint = self._joints[j]
            if joint is not None:
                pattern = joint.pattern(start, stop)
                parts = joint.parts  # read once: a block may be added meanwhile
                if parts is None:
                    pieces.append(joint.affixes)
                    order.append(base + np.broadcast_to(pattern, (rows,)))
                    base += len(joint.affixes)
                elif rows:
                    if self._keys > 8 * rows:
                        texts, inverse = self._by_chunk(joint, parts, gid, pattern, start)
                    else:
                        keys, inverse = _unique(gid * 4 + pattern, self._keys)
                        texts = joint.texts(parts, keys)
                    pieces.extend(texts)
                    order.append(base + inverse.reshape(-1))
                    base += sum(len(t) for t in texts)
            if j < len(self._cells):
                column = self._cells[j]
                pieces.extend(column.slice(start, rows).chunks if column is not None
                              else [_row_numbers(start, stop)])
                order.append(np.arange(base, base + rows))
                base += rows
        if rows == 0:
            return memoryview(b"")
        # int32 indices take faster; a block that large would hold over 2**31 pieces.
        index = np.empty((rows, len(order)), dtype=np.int32 if base < 2**31 else np.int64)
        for k, column in enumerate(order):
            index[:, k] = column
        lines = pa.concat_arrays(pieces).take(from_numpy(index.reshape(-1)))
        offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)
        first, last = offsets[lines.offset], offsets[lines.offset + len(lines)]
        data = lines.buffers()[2]
        return memoryview(data)[first:last] if data is not None else memoryview(b"")


    def _by_chunk(self, joint: _Joint, parts: _Parts, gid: np.ndarray, pattern: Any,
                  start: int) -> tuple[list[Any], np.ndarray]:
        """A joint's pieces for rows of many groups (a file of distinct prescriptions: 98% of a
        block's rows have a group of their own in it), and where each row's text is among them.

        Each row's text is taken, in its chunk's turn, instead of sorting the block's keys to take
        each once. A joined run's groups first met in these rows (about half the rows of such a
        file) are one range, each used: its texts go in as slices of their chunks (copied once,
        with the block's pieces), not taken first.
        """
        rows = gid.size
        fresh: np.ndarray | None = None
        if joint.joined:
            low = self._groups_before(start)
            fresh = gid >= low
            high, met = int(gid.max()) + 1, int(np.count_nonzero(fresh))
            if not met or high - low > 2 * met:
                fresh = None  # none, or groups not numbered as met (a caller's own order): all taken
        if fresh is not None:
            bounds = parts.bounds
            slices = [parts.chunks[c].slice(max(low - lo, 0), min(high, hi) - max(low, lo))
                      for c, (lo, hi) in enumerate(itertools.pairwise(bounds.tolist()))
                      if lo < high and hi > low]
            older = np.flatnonzero(~fresh)
            texts, at = self._taken(joint, parts, gid[older], pattern)
            inverse = np.empty(rows, dtype=np.int64)
            inverse[fresh] = gid[fresh] - low
            inverse[older] = at + (high - low)
            return slices + texts, inverse
        return self._taken(joint, parts, gid, pattern)

    @staticmethod
    def _taken(joint: _Joint, parts: _Parts, gid: np.ndarray, pattern: Any) -> tuple[list[Any], np.ndarray]:
        """Each row's text taken from its group's chunk, chunk after chunk; each row's place."""
        rows = gid.size
        if rows == 0:
            return [], np.zeros(0, dtype=np.int64)
        keys = gid * 4 + pattern
        bounds = parts.bounds
        chunk = gid // parts.step if parts.step else np.searchsorted(bounds, gid, side="right") - 1
        small = np.int16 if bounds.size < 2**15 else np.int64  # 16 bits: a radix sort
        turn = np.argsort(chunk.astype(small), kind="stable")
        cuts = np.zeros(bounds.size, dtype=np.int64)
        np.cumsum(np.bincount(chunk, minlength=bounds.size - 1), out=cuts[1:])
        texts = joint.texts(parts, keys[turn], cuts)
        inverse = np.empty(rows, dtype=np.int64)
        inverse[turn] = np.arange(rows)
        return texts, inverse

    def _groups_before(self, start: int) -> int:
        """The number of groups met before row ``start`` (groups numbered as met: one more than
        the highest group before it)."""
        if start == 0:
            return 0
        if self._met is None:
            self._met = np.maximum.accumulate(self._gid)  # once; a race makes it twice, alike
        return int(self._met[start - 1]) + 1


def _row_numbers(start: int, stop: int) -> Any:
    """Rows ``start`` … ``stop − 1``'s numbers (from 1) as text: a block's, not the file's at once
    (a million rows' were ~23 MB of fresh pages held to the end of the run)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.cast(from_numpy(np.arange(start + 1, stop + 1, dtype=np.int64)), pa.large_string())


def _chunks(run: Any) -> list[Any]:
    """A run's texts as a list of arrays: given as one array, a chunked array or a list."""
    import pyarrow as pa

    return list(run.chunks) if isinstance(run, pa.ChunkedArray) else run if isinstance(run, list) else [run]


def _unique(keys: np.ndarray, bound: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(keys, return_inverse=True)`` for keys in ``0 … bound − 1``.

    When the range is small beside the block (a file of a few hundred prescriptions), a table
    of it replaces the sort, which was a third of a block's time; many groups keep the sort.
    """
    if bound > 8 * keys.size:
        return np.unique(keys, return_inverse=True)
    seen = np.zeros(bound, dtype=bool)
    seen[keys] = True
    unique = np.flatnonzero(seen)
    slot = np.empty(bound, dtype=np.intp)
    slot[unique] = np.arange(unique.size)
    return unique, slot[keys]


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
