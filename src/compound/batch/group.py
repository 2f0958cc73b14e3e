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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from compound.batch.arrow import from_numpy
from compound.batch.columns import LABEL_FIELDS, distinct, is_pass_through
from compound.batch.plan_explain import group_rows

if TYPE_CHECKING:
    import pandas as pd


#: Rows from which Arrow's multithreaded group-by is worth importing its query engine for.
ENGINE_ROWS: Final = 50_000


@dataclass(frozen=True)
class RowGroups:
    """Each row's group, and each group's first row and size."""

    gid: np.ndarray
    """Per row, its group (numbered in order of first appearance)."""
    first: np.ndarray
    """Per group, the position of its first row (the one that is planned)."""
    sizes: np.ndarray
    """Per group, its number of rows."""

    def __len__(self) -> int:
        return int(self.first.size)


def planning_columns(names: Sequence[str]) -> list[str]:
    """The columns that decide a row's plan: all but label fields and carried-through columns."""
    return [n for n in names if n not in LABEL_FIELDS and not is_pass_through(n)]


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


def group_table(table: Any, read_errors: Mapping[int, Any] | None = None) -> RowGroups:
    """Group the rows of a pyarrow table of text columns (names already normalised).

    Below :data:`ENGINE_ROWS` rows the columns are factorised one by one, as
    :func:`group_frame` does (a whitespace-only cell then groups with an empty one; both are
    planned as empty, so the rows' plans are the same either way). From there each planning
    column is dictionary-encoded (Arrow's hash, on the text as typed: a null and an empty cell
    differ, which only splits a group), and the rows are grouped by their tuples of codes
    (:func:`~compound.batch.plan_explain.group_rows`): a few int arrays, where Arrow's hash
    group-by listing each group's rows held about 200 MB for a million distinct rows.
    """
    import pyarrow.compute as pc

    n = table.num_rows
    names = list(table.column_names)
    planning = planning_columns(names)
    blank: np.ndarray | None = None
    if n == 0:
        gid, first = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    elif n < ENGINE_ROWS:
        gid, first = group_rows([distinct(table.column(c), n).codes for c in planning], n)
    else:
        codes = []
        for name in planning:
            # One memo over all chunks: a code means the same text in every chunk.
            encoded = pc.dictionary_encode(table.column(name), null_encoding="encode")
            codes.append(np.concatenate([c.indices.to_numpy(zero_copy_only=False) for c in encoded.chunks]))
            if name == "form":
                # Each distinct form text read once, from the last chunk's dictionary (every entry
                # of the memo), not each group's first form cell taken from the file's batches.
                blank = _blanks(encoded.chunks[-1].dictionary.to_pylist())[codes[-1]]
        gid, first = group_rows(codes, n)
        blank = blank[first] if blank is not None else None

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
    return _refine(gid, first, blank, others_given, read_errors or {})


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
