"""Writing batch results: rounded numbers, whole counts, neutralised text.

* Amount columns are rounded by the one output rule
  (:func:`compound.core.rounding.round_sig`, 4 significant figures, on the
  whole column at once), so no ``0.30000000000000004`` reaches a file.
* Count columns are integers and print as ``31``, never ``31.0``.
* CSVs meant for a spreadsheet (worksheet.csv, errors.csv) neutralise text
  cells that a spreadsheet would run as a formula (the rule is
  :mod:`compound.spreadsheet`'s: ``=``, ``+``, ``-``, ``@``, their full-width
  forms, after any leading spaces or line feeds; a tab, CR, LF or NUL first)
  with a leading ``'`` (OWASP CSV injection, CWE-1236). A plain number such as
  ``-3`` is left as it is, and numeric columns are never touched.
* The writer is pyarrow's CSV writer (about 8× faster than ``DataFrame.to_csv``
  on a million rows).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np

from compound.batch.arrow import factorize, from_numpy
from compound.batch.coded import Coded
from compound.core.rounding import round_sig
from compound.spreadsheet import FORMULA_START, PLAIN_NUMBER

# Below this an amount would print with an exponent (1.234e-7); such columns are
# written as fixed-point text instead.
_EXPONENT_BELOW = 1e-6


def neutralise(array: Any) -> Any:
    """A pyarrow string array with formula-like cells prefixed by ``'``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(array.type):
        return pa.DictionaryArray.from_arrays(array.indices, neutralise(array.dictionary))
    risky = pc.and_(pc.match_substring_regex(array, FORMULA_START),
                    pc.invert(pc.match_substring_regex(array, PLAIN_NUMBER)))
    if not pc.any(risky).as_py():
        return array
    return pc.if_else(risky, pc.binary_join_element_wise("'", array, ""), array)


def rounded(values: np.ndarray) -> np.ndarray:
    """An amount column rounded by the output rule (NaN stays NaN)."""
    return round_sig(np.asarray(values, dtype=np.float64))


def fixed_point_text(values: np.ndarray) -> np.ndarray:
    """Rounded floats as fixed-point text (``0.0000001234``), each distinct value once."""
    codes, uniques = factorize(values)
    texts = np.array([np.format_float_positional(u, trim="-") for u in uniques] + [None],
                     dtype=object)
    return texts[np.where(codes >= 0, codes, len(uniques))]


def arrow_table(columns: Mapping[str, Any], *, counts: Iterable[str] = (),
                amounts: Iterable[str] = (), spreadsheet: bool = True) -> Any:
    """Columns (numpy arrays or a DataFrame) as a pyarrow table ready to write.

    ``amounts`` are float columns to round by the output rule; ``counts`` are
    written as integers; every other column is text, neutralised for a
    spreadsheet when ``spreadsheet``.
    """
    import pyarrow as pa

    count_set, amount_set = set(counts), set(amounts)
    arrays, names = [], []
    for name in columns:
        col = columns[name]
        if name in count_set:
            values = np.asarray(col, dtype=np.float64)
            arr = from_numpy(values, mask=~np.isfinite(values)).cast(pa.int64())
        elif name in amount_set:
            values = rounded(np.asarray(col, dtype=np.float64))
            finite = values[np.isfinite(values) & (values != 0)]
            if finite.size and np.abs(finite).min() < _EXPONENT_BELOW:
                arr = pa.array(fixed_point_text(values), type=pa.string())
            else:
                arr = from_numpy(values, mask=~np.isfinite(values))
        elif isinstance(col, Coded):
            arr = col.to_arrow(spreadsheet=spreadsheet)
        elif isinstance(col, (pa.Array, pa.ChunkedArray)):
            arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
            if spreadsheet:
                arr = neutralise(arr)
        else:
            arr = pa.array(np.asarray(col, dtype=object).tolist(), type=pa.string(), from_pandas=True)
            if spreadsheet:
                arr = neutralise(arr)
        arrays.append(arr)
        names.append(str(name))
    return pa.Table.from_arrays(arrays, names=names)


def error_rows(rows: list[tuple[int, str, str, str]]) -> Any:
    """errors.csv lines from (row, column, value, error) tuples, neutralised for a spreadsheet."""
    import pyarrow as pa

    row, column, value, error = zip(*rows, strict=True)
    return pa.table({"row": pa.array(row, pa.int64()), "column": pa.array(column, pa.string()),
                     "value": neutralise(pa.array(value, pa.string())),
                     "error": neutralise(pa.array(error, pa.string()))})


class CsvSink:
    """A CSV file written in chunks with one header (pyarrow's incremental writer).

    The file is created, never reused (``x`` mode: a planted symlink makes it
    fail rather than write through it); a run writes it in its staging folder.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer: Any = None
        self._fh: IO[bytes] | None = None
        self._schema: Any = None

    def write(self, table: Any) -> None:
        import pyarrow.csv as pacsv

        if self._writer is None:
            self._schema = table.schema
            self._fh = self.path.open("xb")
            self._writer = pacsv.CSVWriter(self._fh, table.schema,
                                           write_options=pacsv.WriteOptions(quoting_style="needed"))
        elif table.schema != self._schema:
            table = table.cast(self._schema)
        self._writer.write_table(table)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        if self._fh is not None:
            self._fh.close()

    def abort(self) -> None:
        self.close()


def _json_value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else (int(value) if float(value).is_integer()
                                               and abs(value) < 2**53 else float(value))
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def json_lines(records: Sequence[dict[str, Any]], out: IO[str]) -> None:
    """One compact JSON object per line (already rounded values)."""
    for record in records:
        out.write(json.dumps({k: _json_value(v) for k, v in record.items()},
                             ensure_ascii=False, allow_nan=False, separators=(",", ":")))
        out.write("\n")
