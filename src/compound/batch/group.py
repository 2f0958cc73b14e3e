"""Rows that share every planning input share every output but their own fields: find them.

A row's plan (amounts, status, findings, errors, BUD) is a function of its
planning cells alone: every column except the prescription fields printed on
labels (``rx``, ``patient``, ``prescriber``, ``directions``) and the columns
carried through (``note``, ``x_…``). A million prescriptions typically hold a
few hundred distinct combinations, so a run plans one representative row of
each combination and spreads the result over its rows; when every row is
distinct, that is every row, as before.

Two things about a row are not in its planning cells and split groups further:
a malformed record (its own group: its error quotes the raw record), and, for
a row without a form, whether its other cells are all empty (an empty row is
reported as such).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from compound.batch.arrow import from_numpy
from compound.batch.columns import Encoded, distinct, encoded, planning_columns
from compound.batch.plan_explain import dense_groups, group_rows, is_dense

if TYPE_CHECKING:
    import pandas as pd


#: Rows from which Arrow's multithreaded group-by is worth importing its query engine for.
ENGINE_ROWS: Final = 50_000
#: Distinct texts of a column up to which its codes are kept for the planner (2 bytes a group).
KEPT_WIDTH: Final = 1 << 16


@dataclass(frozen=True)
class RowGroups:
    """Each row's group, and each group's first row and size."""

    gid: np.ndarray
    """Per row, its group (numbered in order of first appearance)."""
    first: np.ndarray
    """Per group, the position of its first row (the one that is planned)."""
    sizes: np.ndarray
    """Per group, its number of rows."""
    encoded: dict[str, Encoded] = field(default_factory=dict, compare=False)
    """A large file's planning columns as grouping encoded them, per group (for the planner;
    emptied once planned)."""

    def __len__(self) -> int:
        return int(self.first.size)


def _blank(value: Any) -> bool:
    """An empty cell as :func:`compound.batch.columns.distinct` reads one."""
    if isinstance(value, str):
        return value.strip() == ""
    if value is None:
        return True
    if isinstance(value, float):
        return value != value
    if "pandas" not in sys.modules:  # a CSV file's cells are text or None; pandas' own missing values
        return False                 # (NA, NaT) come only in a DataFrame, with pandas loaded
    import pandas as pd

    missing = pd.isna(value)
    return bool(missing) if isinstance(missing, (bool, np.bool_)) else False


def _blanks(cells: Any) -> np.ndarray:
    """:func:`_blank` of each cell: a list, or a pyarrow column (each distinct text read once)."""
    if isinstance(cells, (list, tuple)):
        return np.array([_blank(v) for v in cells], dtype=bool)
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(cells.combine_chunks())
    table = np.array([_blank(v) for v in encoded.dictionary.to_pylist()] + [True], dtype=bool)
    return table[pc.fill_null(encoded.indices, len(table) - 1).to_numpy()]  # null: blank


def _refine(gid: np.ndarray, first: np.ndarray, blank: np.ndarray,
            others_given: Callable[[np.ndarray], np.ndarray],
            read_errors: Mapping[int, Any]) -> RowGroups:
    """Split the groups by what is not in the planning cells (see the module documentation).

    ``blank``: per group, is its form cell blank (:func:`_blank`)?
    """
    n = gid.size
    keys = [gid]
    if blank.any():
        rows = np.flatnonzero(blank[gid])
        flag = np.zeros(n, dtype=np.int64)
        flag[rows] = others_given(rows)
        keys.append(flag)
    if read_errors:
        own = np.zeros(n, dtype=np.int64)
        at = np.fromiter(read_errors, dtype=np.int64, count=len(read_errors))
        own[at] = np.arange(1, at.size + 1)
        keys.append(own)
    if len(keys) > 1:
        gid, first = group_rows(keys, n)
    sizes = np.bincount(gid, minlength=first.size).astype(np.int64)
    return RowGroups(gid, first, sizes)


def group_frame(frame: pd.DataFrame, read_errors: Mapping[int, Any] | None = None) -> RowGroups:
    """Group the rows of a DataFrame of prescriptions (columns already normalised)."""
    n = len(frame)
    names = list(frame.columns)
    planning = planning_columns(names)
    gid, first = group_rows([distinct(frame[c], n).codes for c in planning], n)

    def others_given(rows: np.ndarray) -> np.ndarray:
        given = np.zeros(rows.size, dtype=bool)
        for c in names:
            if c not in planning:
                given |= distinct(frame[c].iloc[rows], rows.size).codes >= 0
        return given

    form = frame["form"].iloc[first].tolist() if "form" in names else [None] * first.size
    return _refine(gid, first, _blanks(form), others_given, read_errors or {})


def group_table(table: Any, read_errors: Mapping[int, Any] | None = None, pool: Any = None) -> RowGroups:
    """Group the rows of a pyarrow table of text columns (names already normalised).

    Below :data:`ENGINE_ROWS` rows the columns are factorised one by one, as
    :func:`group_frame` does (a whitespace-only cell then groups with an empty one; both are
    planned as empty, so the rows' plans are the same either way). From there the rows are
    grouped by their tuples of each planning column's dictionary codes (:func:`_codes`, from the
    CSV reader's encoding; a null and an empty cell differ, which only splits a group) with
    :func:`_group_codes`: a few int arrays, where Arrow's hash group-by listing each group's rows
    held about 200 MB for a million distinct rows.

    ``pool``: an executor (``submit``) on whose threads the large files' columns are encoded.
    """
    n = table.num_rows
    names = list(table.column_names)
    planning = planning_columns(names)
    blank: np.ndarray | None = None
    columns: dict[str, tuple[np.ndarray | None, Any]] = {}
    if n == 0:
        gid, first = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    elif n < ENGINE_ROWS:
        gid, first = group_rows([distinct(table.column(c), n).codes for c in planning], n)
    else:
        columns = _encode_all(planning, lambda name: _codes(table.column(name)), pool)
        varying = [(c, len(d)) for c, d in columns.values() if c is not None]
        gid, first = _group_codes([c for c, _ in varying], [w for _, w in varying], n)
        del varying
        if "form" in columns:
            # Each distinct form text read once, then looked up for each group's first row.
            form, dictionary = columns["form"]
            blank = _blanks(dictionary.to_pylist())[form[first] if form is not None else 0]

    def others_given(rows: np.ndarray) -> np.ndarray:
        # str.strip, as columns.distinct reads a blank cell (rows without a form are few).
        given = np.zeros(rows.size, dtype=bool)
        for c in names:
            if c not in planning:
                cells = take_rows(table, rows, [c]).column(c).to_pylist()
                given |= np.array([not _blank(v) for v in cells], dtype=bool)
        return given

    if blank is None:
        blank = _blanks(take_rows(table, first, ["form"]).column("form") if "form" in names
                        else [None] * first.size)
    blank = np.broadcast_to(blank, first.shape)
    groups = _refine(gid, first, blank, others_given, read_errors or {})
    # Each kept column's code at each group's first row (a group's rows share it).
    return replace(groups, encoded={
        name: encoded(c[groups.first].astype(np.uint16) if c is not None else None, dictionary)
        for name, (c, dictionary) in columns.items() if len(dictionary) <= KEPT_WIDTH})


def _encode_all(names: list[str], encode: Callable[[str], Any], pool: Any) -> dict[str, Any]:
    """``encode`` of each column (in ``names``' order), shared out between this thread and the
    pool's (Arrow's hash releases the GIL): a column goes to whichever is free first, so this
    thread, which would wait for them, encodes too while a pool thread is still busy (making the
    worksheet's cells)."""
    if pool is None:
        return {name: encode(name) for name in names}
    import threading

    waiting, lock, done = iter(names), threading.Lock(), {}

    def work() -> None:
        while True:
            with lock:
                name = next(waiting, None)
            if name is None:
                return
            done[name] = encode(name)

    helpers = [pool.submit(work) for _ in range(2)]
    work()
    for helper in helpers:
        helper.result()  # a failure on a pool thread is raised here
    return {name: done[name] for name in names}


def _codes(column: Any) -> tuple[np.ndarray | None, Any]:
    """A text column's codes (one per row, of the smallest type that holds them; None: the same
    cell in every row) into its distinct texts (a pyarrow string array, with a last null entry
    where some cells are empty).

    The CSV reader dictionary-encodes each chunk of the file on its own: the chunks' dictionaries
    (a few entries each, mostly) are hashed together once, and each chunk's codes translated.
    A text column (a table made in memory) is dictionary-encoded here first.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pa.types.is_dictionary(column.type):
        column = pc.dictionary_encode(column)
    chunks = [c for c in column.chunks if len(c)]
    n, nulls = len(column), column.null_count
    merged = pc.dictionary_encode(pa.concat_arrays([c.dictionary for c in chunks]) if chunks
                                  else pa.array([], pa.string()))
    dictionary = merged.dictionary
    if nulls:
        dictionary = pa.concat_arrays([dictionary, pa.nulls(1, dictionary.type)])
    if nulls == n or (not nulls and len(dictionary) == 1):
        # The same cell in every row splits no group (most files' form, filler, capsule size).
        return None, dictionary
    to_code = merged.indices.to_numpy(zero_copy_only=False)
    # A byte a row for up to 256 texts (a typical file's every column): 1 MB a million rows, not 4.
    kind = np.uint8 if len(dictionary) <= 1 << 8 else np.uint16 if len(dictionary) <= 1 << 16 else np.int32
    codes = np.empty(n, dtype=kind)
    at = start = 0
    for chunk in chunks:
        size = len(chunk.dictionary)
        _translate(chunk.indices, to_code[start:start + size].astype(kind), len(dictionary) - 1,
                   codes[at:at + len(chunk)])
        at, start = at + len(chunk), start + size
    return codes, dictionary


def _translate(indices: Any, translate: np.ndarray, null_code: int, out: np.ndarray) -> None:
    """``out`` = each row's code: ``translate`` of its index into its chunk's dictionary (a pyarrow
    integer array), ``null_code`` where the cell is empty (null).

    Read from the indices' buffers: no filled copy of them (Arrow's fill_null was half a column's
    time when a third of its cells are empty). A null's slot holds any index (Arrow leaves it
    undefined): it is clipped into range, then replaced.
    """
    if translate.size == 0:  # no text in the chunk: every cell empty
        out[:] = null_code
        return
    length, offset = len(indices), indices.offset
    validity, values = indices.buffers()[:2]
    index = np.frombuffer(values, dtype=indices.type.to_pandas_dtype(), count=offset + length)[offset:]
    np.take(translate, index, out=out, mode="clip")
    if indices.null_count:
        valid = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), count=offset + length,
                              bitorder="little")[offset:]
        # 0 where empty, then the empty cells' code added there: 0/1 arithmetic, a pass over a
        # byte a row each (np.putmask with a boolean mask took ten times as long).
        out *= valid
        empty = (valid ^ 1).astype(out.dtype, copy=False)
        empty *= out.dtype.type(null_code)
        out += empty


def _group_codes(codes: list[np.ndarray], widths: list[int], n: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`~compound.batch.plan_explain.group_rows` of dictionary codes (``0 … width − 1``, no −1).

    When every combination of the codes fits a table of a few entries per row
    (:func:`~compound.batch.plan_explain.is_dense`), each row's combination indexes that
    table directly: no hash of a million combined keys.
    """
    cardinality = 1
    for width in widths:
        cardinality *= max(width, 1)
    if not codes:
        return np.zeros(n, dtype=np.int64), np.zeros(1 if n else 0, dtype=np.int64)
    if not is_dense(cardinality, n):
        return group_rows(codes, n)
    # The smallest type that holds every combination: 2 bytes a row for a typical file's few
    # hundred (a fourth of int64's passes over memory). In place: one key, not one for each column.
    kind = np.uint16 if cardinality <= 1 << 16 else np.uint32 if cardinality <= 1 << 32 else np.int64
    key = codes[0].astype(kind)
    for c, width in zip(codes[1:], widths[1:], strict=True):
        key *= width
        np.add(key, c, out=key, casting="unsafe")  # c < width: the sum stays below the cardinality
    return dense_groups(key, cardinality, n)


def take_rows(table: Any, positions: np.ndarray, columns: list[str] | None = None) -> Any:
    """Rows of a pyarrow table, taken batch by batch (``Table.take`` first joins each column's chunks)."""
    import pyarrow as pa

    table = table.select(columns) if columns is not None else table
    batches = table.to_batches()
    starts = np.cumsum([0] + [b.num_rows for b in batches])
    which = np.searchsorted(starts, positions, side="right") - 1
    order = np.argsort(which, kind="stable")
    parts = [batches[b].take(from_numpy(positions[order][which[order] == b] - starts[b]))
             for b in np.flatnonzero(np.bincount(which, minlength=len(batches))).tolist()]
    taken = pa.Table.from_batches(parts, schema=table.schema)
    if positions.size and np.any(np.diff(order) < 0):
        taken = taken.take(from_numpy(np.argsort(order, kind="stable")))  # back to the order asked for
    return taken
