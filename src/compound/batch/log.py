"""Row errors: which cell of which row could not be read, and why.

Errors are collected per column as groups of rows sharing one message, so a
column of a million identical bad cells costs one message, not a million.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from compound.batch.coded import Coded

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class ErrorGroup:
    rows: np.ndarray
    """Positions (0-based, within the frame) of the rows with this error."""
    column: str
    message: str
    values: np.ndarray | None = None
    """The offending cell text per row (None: the row as a whole)."""


@dataclass
class ErrorLog:
    n: int
    groups: list[ErrorGroup] = field(default_factory=list)

    def add(self, rows: np.ndarray, column: str, message: str,
            values: np.ndarray | None = None) -> None:
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size:
            self.groups.append(ErrorGroup(rows, column, message, values))

    def add_parsed(self, rows: np.ndarray, column: str, parsed_codes: np.ndarray,
                   messages: list[str], raw_text: np.ndarray) -> None:
        """Errors of a column read with :func:`compound.batch.columns.parse_distinct`.

        ``parsed_codes`` and ``raw_text`` are aligned with ``rows``.
        """
        bad = parsed_codes >= 0
        if not bad.any():
            return
        for k, message in enumerate(messages):
            hit = bad & (parsed_codes == k)
            if hit.any():
                self.add(rows[hit], column, message, raw_text[hit])

    def mask(self) -> np.ndarray:
        """True for every row with at least one error."""
        out = np.zeros(self.n, dtype=bool)
        for g in self.groups:
            out[g.rows] = True
        return out

    def _by_row(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every (row, group) pair ordered by row, then by when it was logged: (order, rows, groups).

        ``order`` sorts the pairs as the groups list them; ``rows`` and ``groups`` are sorted.
        """
        rows = np.concatenate([g.rows for g in self.groups])
        which = np.repeat(np.arange(len(self.groups)), [g.rows.size for g in self.groups])
        order = np.lexsort((which, rows))
        return order, rows[order], which[order]

    def text(self) -> Coded:
        """Per row, its errors joined (``column: message; …``); empty where none."""
        if not self.groups:
            return Coded.empty(self.n)
        entries = [g.message if g.message.startswith(f"{g.column}:") or g.column == "row"
                   else f"{g.column}: {g.message}" for g in self.groups]
        _, rows, which = self._by_row()
        starts = np.flatnonzero(np.diff(rows, prepend=-1))
        stops = np.append(starts[1:], rows.size)
        texts = np.array(["; ".join(entries[w] for w in which[a:b].tolist())
                          for a, b in zip(starts.tolist(), stops.tolist(), strict=True)], dtype=object)
        per_error_row = Coded.from_objects(texts)
        codes = np.full(self.n, -1, dtype=np.int64)
        codes[rows[starts]] = per_error_row.codes
        return Coded(codes, per_error_row.values)

    def columns(self, row_numbers: np.ndarray) -> dict[str, np.ndarray]:
        """The errors.csv table as arrays (``row`` float64, the rest text or None), without pandas."""
        if not self.groups:
            return {"row": np.zeros(0, dtype=np.float64),
                    **{name: np.zeros(0, dtype=object) for name in ("column", "value", "error")}}
        order, rows, which = self._by_row()
        values = np.concatenate([np.asarray(g.values, dtype=object) if g.values is not None
                                 else np.full(g.rows.size, None, dtype=object) for g in self.groups])
        column = np.array([g.column for g in self.groups], dtype=object)
        message = np.array([g.message for g in self.groups], dtype=object)
        return {"row": np.asarray(row_numbers)[rows].astype(np.float64), "column": column[which],
                "value": np.array([_text(v) for v in values[order].tolist()], dtype=object),
                "error": message[which]}

    def frame(self, row_numbers: np.ndarray) -> pd.DataFrame:
        """One line per (row, column) error, in row order: the errors.csv table."""
        import pandas as pd

        if not self.groups:
            return pd.DataFrame({"row": pd.array([], dtype="int64"), "column": pd.array([], dtype="str"),
                                 "value": pd.array([], dtype="str"), "error": pd.array([], dtype="str")})
        order, rows, which = self._by_row()
        values = np.concatenate([np.asarray(g.values, dtype=object) if g.values is not None
                                 else np.full(g.rows.size, None, dtype=object) for g in self.groups])
        column = np.array([g.column for g in self.groups], dtype=object)
        message = np.array([g.message for g in self.groups], dtype=object)
        return pd.DataFrame({
            "row": np.asarray(row_numbers)[rows],
            "column": pd.array(column[which], dtype="str"),
            "value": pd.array(values[order], dtype="str"),
            "error": pd.array(message[which], dtype="str"),
        })


def _text(value: object) -> str | None:
    """A cell as errors.csv shows it: text as typed, None when empty (as ``pd.array(…, dtype="str")``)."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    return value if isinstance(value, str) else str(value)
