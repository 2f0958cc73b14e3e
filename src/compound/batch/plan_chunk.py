"""One block of prescription rows as the form planners see it.

Each input column is factorised once per block (:class:`Distinct`), whatever
the number of forms that read it; a planner takes the codes of its own rows
and parses only the distinct texts that occur there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from compound.batch.coded import Coded
from compound.batch.columns import Distinct, distinct, read_text
from compound.batch.log import ErrorLog
from compound.errors import InputError

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class Cells:
    """A column restricted to some rows: codes into the column's distinct values."""

    codes: np.ndarray
    uniques: np.ndarray
    name: str

    @property
    def given(self) -> np.ndarray:
        return self.codes >= 0

    def text(self, mask: np.ndarray | None = None) -> np.ndarray:
        """The cells as typed (None where empty), optionally only where ``mask``."""
        table = np.append(self.uniques, None).astype(object)
        codes = self.codes if mask is None else self.codes[mask]
        return table[np.where(codes >= 0, codes, len(self.uniques))]

    def lookup(self, log: ErrorLog, rows: np.ndarray, read: Callable[[Any], Any], *,
               missing: Any = np.nan, dtype: Any = np.float64) -> tuple[np.ndarray, np.ndarray]:
        """Read each distinct cell once: ``(table, index)`` with ``table[index]`` the row values.

        ``table`` has one entry per distinct value plus a last ``missing`` entry
        for empty cells; refused cells are logged (``rows`` are their block
        positions) and index ``missing`` too.
        """
        table, refused = self._table(log, rows, read, missing, dtype)
        k = len(self.uniques)
        if k == 0:  # an absent or empty column (most optional ones): every row reads ``missing``
            return table, np.zeros(self.codes.size, dtype=np.int64)
        index = np.where(self.codes >= 0, self.codes, k)
        if refused:
            index = np.where(np.isin(index, refused), k, index)
        return table, index

    def read(self, log: ErrorLog, rows: np.ndarray, read: Callable[[Any], Any], *,
             missing: Any = np.nan, dtype: Any = np.float64) -> np.ndarray:
        """Read each distinct cell once; refused cells are logged and left ``missing``.

        ``table[codes]``, no index: an empty cell's code (−1) reads the table's last entry
        (``missing``), and a refused cell's entry was never filled (``missing`` too).
        """
        return self._table(log, rows, read, missing, dtype)[0][self.codes]

    def _table(self, log: ErrorLog, rows: np.ndarray, read: Callable[[Any], Any], missing: Any,
               dtype: Any) -> tuple[np.ndarray, list[int]]:
        """Each distinct cell of these rows read (``missing`` where refused, and in a last entry),
        and the distinct cells refused (logged)."""
        k = len(self.uniques)
        table = np.empty(k + 1, dtype=dtype)
        table[:] = missing
        if k == 0:
            return table, []
        used = np.zeros(k + 1, dtype=bool)
        used[self.codes] = True  # an empty cell (−1) marks the last entry, never read
        failed: dict[str, list[int]] = {}
        todo = np.flatnonzero(used[:k])
        if table.dtype != object:
            # Numbers and flags: read into a list and stored at once (a refused cell reads them
            # again one by one, below, to log each refusal).
            try:
                table[todo] = [read(u) for u in self.uniques[todo]]
                todo = todo[:0]
            except InputError:
                pass
        for j in todo.tolist():
            try:
                table[j] = read(self.uniques[j])
            except InputError as exc:
                failed.setdefault(str(exc), []).append(j)
        for message, js in failed.items():
            sel = np.isin(self.codes, js)
            log.add(rows[sel], self.name, message, self.text(sel))
        return table, [j for js in failed.values() for j in js]


@dataclass
class Chunk:
    """Rows ``first_row … first_row + n − 1`` of a prescription file (text columns).

    ``frame``: a pyarrow table of text columns (a CSV file's rows, read without pandas)
    or a DataFrame (``plan_frame``'s, or an ``.xlsx`` file's).
    """

    frame: pd.DataFrame | Any
    first_row: int = 1
    known: dict[str, Distinct] | None = None
    """Columns already factorised (grouping's codes, :meth:`compound.batch.columns.Encoded.block`)."""
    log: ErrorLog = field(init=False)
    _distinct: dict[str, Distinct] = field(default_factory=dict, init=False)
    _arrow: bool = field(init=False)
    _names: tuple[str, ...] = field(init=False)
    _has: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        self._arrow = type(self.frame).__module__.partition(".")[0] == "pyarrow"
        # The block's columns, read once (a capsule block asks whether it has a column ~16 times).
        self._names = tuple(self.frame.column_names) if self._arrow else tuple(self.frame.columns)
        self._has = frozenset(self._names)
        self.log = ErrorLog(self.n)
        if self.known:
            self._distinct.update(self.known)

    @property
    def n(self) -> int:
        return int(self.frame.num_rows) if self._arrow else len(self.frame)

    @property
    def names(self) -> list[str]:
        return list(self._names)

    @property
    def row_numbers(self) -> np.ndarray:
        return np.arange(self.first_row, self.first_row + self.n, dtype=np.int64)

    def has(self, name: str) -> bool:
        return name in self._has

    def _values(self, name: str) -> Any:
        return self.frame.column(name) if self._arrow else self.frame[name]

    def column(self, name: str) -> Distinct:
        hit = self._distinct.get(name)
        if hit is None:
            values = self._values(name) if self.has(name) else None
            hit = distinct(values, self.n)
            self._distinct[name] = hit
        return hit

    def coded(self, name: str) -> Coded:
        """The column as typed, as a text column (every row)."""
        d = self.column(name)
        if self.has(name) and (self._arrow or _is_text(self.frame[name].dtype)):
            return Coded(d.codes, d.uniques)
        return Coded(d.codes, np.array([read_text(u) for u in d.uniques], dtype=object))

    def raw_text(self, name: str) -> Any:
        """A column carried through as typed: a pyarrow string array (not factorised)."""
        import pyarrow as pa

        if self._arrow:
            column = self.frame.column(name).combine_chunks()
            return column if column.type == pa.string() else column.cast(pa.string())
        column = self.frame[name]
        if not _is_text(column.dtype) or column.dtype == object:
            column = column.map(lambda v: None if v is None or (isinstance(v, float) and v != v)
                                else read_text(v))
        return pa.array(column, type=pa.string(), from_pandas=True)

    def cells(self, name: str, rows: np.ndarray) -> Cells:
        d = self.column(name)
        codes = d.codes if rows.size == self.n else d.codes[rows]  # rows are sorted and unique
        return Cells(codes, d.uniques, name)


def _is_text(dtype: Any) -> bool:
    import pandas as pd

    return bool(pd.api.types.is_string_dtype(dtype))
