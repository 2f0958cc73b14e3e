"""Row errors: which cell of which row could not be read, and why.

Errors are collected per column as groups of rows sharing one message, so a
column of a million identical bad cells costs one message, not a million.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from compound.batch.coded import Coded


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

    def text(self) -> Coded:
        """Per row, its errors joined (``column: message; …``); empty where none."""
        if not self.groups:
            return Coded.empty(self.n)
        rows = np.unique(np.concatenate([g.rows for g in self.groups]))
        where = np.full(self.n, -1, dtype=np.int64)
        where[rows] = np.arange(rows.size)
        texts = pd.Series([None] * rows.size, dtype="object")
        for g in self.groups:
            entry = g.message if g.message.startswith(f"{g.column}:") or g.column == "row" \
                else f"{g.column}: {g.message}"
            at = where[g.rows]
            current = texts.iloc[at]
            texts.iloc[at] = np.where(current.isna(), entry, current.astype(str) + "; " + entry)
        per_error_row = Coded.from_objects(texts.to_numpy())
        codes = np.full(self.n, -1, dtype=np.int64)
        codes[rows] = per_error_row.codes
        return Coded(codes, per_error_row.values)

    def frame(self, row_numbers: np.ndarray) -> pd.DataFrame:
        """One line per (row, column) error, in row order: the errors.csv table."""
        parts = []
        for order, g in enumerate(self.groups):
            values = g.values if g.values is not None else np.full(g.rows.size, None, dtype=object)
            parts.append(pd.DataFrame({
                "row": row_numbers[g.rows], "column": g.column,
                "value": pd.array(values, dtype="str"), "error": g.message, "_order": order,
            }))
        if not parts:
            return pd.DataFrame({"row": pd.array([], dtype="int64"), "column": pd.array([], dtype="str"),
                                 "value": pd.array([], dtype="str"), "error": pd.array([], dtype="str")})
        out = pd.concat(parts, ignore_index=True).sort_values(["row", "_order"], kind="stable")
        return out.drop(columns="_order").reset_index(drop=True)
