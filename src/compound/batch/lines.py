"""worksheet.csv, written a group at a time.

Rows that share every input share every computed column, so each distinct
group's columns (amounts rounded by the output rule, counts as whole
numbers, text quoted and neutralised) are formatted once, in Python, and each
row is its group's text joined with the row's own fields (row number,
prescription fields, errors) by pyarrow string kernels.

Why not ``pyarrow.csv.write_csv``: on this machine it formats float64 at
about 110 ms per million values (measured), and a worksheet has some forty
numeric columns: several seconds for a million rows. Formatting each distinct
group once makes the numbers cost nothing per row; text cells are still
RFC 4180 quoted (every text cell in double quotes, ``"`` doubled), like
pyarrow's writer.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from compound.batch.coded import Coded
from compound.batch.forms import AMOUNT, COUNT
from compound.batch.output import neutralise, neutralise_cell
from compound.core.rounding import round_sig


def quote(text: str | None, *, spreadsheet: bool = True) -> str:
    """One text cell, CSV-quoted (empty for None), neutralised for a spreadsheet."""
    if text is None:
        return ""
    if spreadsheet:
        text = neutralise_cell(text)
    return '"' + text.replace('"', '""') + '"'


def number_text(value: float, *, count: bool = False) -> str:
    """A rounded amount or a count as CSV text: ``139.5``, ``3100``, ``0.0000012``; NaN is empty."""
    if value != value:  # NaN
        return ""
    if count or (value.is_integer() and abs(value) < 1e15):
        return str(int(value))
    text = repr(value)
    if "e" in text or "E" in text:
        return np.format_float_positional(value, trim="-")
    return text


def _quoted_array(arr: Any, spreadsheet: bool) -> Any:
    """A pyarrow string array with every non-null cell quoted (and neutralised)."""
    import pyarrow.compute as pc

    if spreadsheet:
        arr = neutralise(arr)
    escaped = pc.replace_substring(arr, '"', '""')
    return pc.binary_join_element_wise('"', escaped, '"', "")


def _coded_quoted(coded: Coded, spreadsheet: bool) -> Any:
    return Coded(coded.codes, np.array([quote(v, spreadsheet=spreadsheet) for v in coded.values],
                                       dtype=object)).to_arrow()


def header(names: list[str]) -> str:
    return ",".join(quote(n, spreadsheet=False) for n in names) + "\n"


def write_block(columns: dict[str, Any], kinds: dict[str, str], group: np.ndarray,
                first: np.ndarray, per_row: set[str], out: IO[bytes], *,
                spreadsheet: bool = True, group_keys: list[Any] | None = None,
                text_cache: dict[Any, str] | None = None) -> None:
    """Write the rows of one block.

    Parameters
    ----------
    columns, kinds
        The output columns in order (numpy arrays, :class:`Coded` text or
        pyarrow string arrays) and their kinds.
    group : int array
        Each row's group: every column not in ``per_row`` is the same for all
        rows of a group.
    first : int array
        A row of each group (the one its values are read from).
    per_row : set of str
        Columns that vary within a group (row number, prescription fields,
        errors, carried-through columns).
    group_keys, text_cache
        A key per group that names it across blocks (None: do not cache), and
        the run's cache of formatted text, so a group seen in an earlier block
        is not formatted again.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    names = list(columns)
    parts: list[Any] = []
    run: list[str] = []  # consecutive group-level columns, formatted together

    def flush() -> None:
        if not run:
            return
        tag = (run[0], len(run))
        joined = np.empty(first.size, dtype=object)
        todo = np.arange(first.size)
        if group_keys is not None and text_cache is not None:
            hits = [text_cache.get((k, tag)) if k is not None else None for k in group_keys]
            missing = np.array([h is None for h in hits], dtype=bool)
            joined[~missing] = [h for h in hits if h is not None]
            todo = np.flatnonzero(missing)
        if todo.size:
            texts = [_group_texts(columns[name], kinds[name], first[todo], spreadsheet) for name in run]
            fresh = [",".join(row) for row in zip(*texts, strict=True)]
            joined[todo] = fresh
            if group_keys is not None and text_cache is not None:
                for j, text in zip(todo.tolist(), fresh, strict=True):
                    if group_keys[j] is not None:
                        text_cache[(group_keys[j], tag)] = text
        parts.append(Coded(group, joined).to_arrow())
        run.clear()

    for name in names:
        if name not in per_row:
            run.append(name)
            continue
        flush()
        col = columns[name]
        if name == "row":
            parts.append(pc.cast(pa.array(np.asarray(col, dtype=np.int64)), pa.string()))
        elif isinstance(col, Coded):
            parts.append(_coded_quoted(col, spreadsheet))
        else:
            parts.append(_quoted_array(col, spreadsheet))
    flush()
    line = pc.binary_join_element_wise(*parts, ",", null_handling="replace", null_replacement="")
    line = pc.binary_join_element_wise(line, "", "\n")
    if len(line) == 0:
        return
    if isinstance(line, pa.ChunkedArray):
        line = line.combine_chunks()
    line = line.cast(pa.large_string())
    offsets = np.frombuffer(line.buffers()[1], dtype=np.int64)
    start, end = offsets[line.offset], offsets[line.offset + len(line)]
    out.write(memoryview(line.buffers()[2])[start:end])


def _group_texts(col: Any, kind: str, first: np.ndarray, spreadsheet: bool) -> np.ndarray:
    """One column's text for each group (read at the group's first row), each distinct value once."""
    if isinstance(col, Coded):
        table = np.array([*(quote(v, spreadsheet=spreadsheet) for v in col.values), ""], dtype=object)
        codes = col.codes[first]
        return table[np.where(codes >= 0, codes, col.values.size)]
    values = np.asarray(col, dtype=np.float64)[first]
    if kind == AMOUNT:
        values = round_sig(values)
    elif kind != COUNT:
        raise TypeError(f"unexpected column type {type(col).__name__}")
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    table = np.array([*(number_text(u, count=kind == COUNT) for u in uniques.tolist()), ""], dtype=object)
    return table[np.where(codes >= 0, codes, len(uniques))]


class LineSink:
    """A CSV file written block by block, moved into place when complete."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._tmp = path.with_name(path.name + ".partial")
        self._fh: IO[bytes] | None = None

    def write(self, names: list[str], write: Any) -> None:
        if self._fh is None:
            self._fh = self._tmp.open("wb")
            self._fh.write(header(names).encode("utf-8"))
        write(self._fh)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            # Unlink, then rename: replacing a file by rename makes ext4 flush it to disk first
            # (auto_da_alloc), a fifth of a second on a big worksheet.
            self.path.unlink(missing_ok=True)
            self._tmp.rename(self.path)

    def abort(self) -> None:
        if self._fh is not None:
            self._fh.close()
        self._tmp.unlink(missing_ok=True)
