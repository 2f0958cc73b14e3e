"""Text columns as codes into a table of distinct texts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from compound.batch.arrow import from_numpy


@dataclass
class Coded:
    """A text column as codes into a table of distinct texts (−1 = empty).

    A million rows of ``weighed`` cost one string: the table is neutralised
    for spreadsheets and turned into Arrow once, the rows are a take.
    """

    codes: np.ndarray
    values: np.ndarray

    @classmethod
    def of(cls, values: Sequence[Any], codes: np.ndarray) -> Coded:
        return cls(np.asarray(codes, dtype=np.int64), np.array(list(values), dtype=object))

    @classmethod
    def empty(cls, n: int) -> Coded:
        return cls(np.full(n, -1, dtype=np.int64), np.zeros(0, dtype=object))

    @classmethod
    def from_objects(cls, values: np.ndarray) -> Coded:
        """Codes for an object array of texts (None = empty), each distinct text once."""
        from compound.batch.arrow import factorize

        codes, uniques = factorize(np.asarray(values, dtype=object))
        return cls(codes, np.asarray(uniques, dtype=object))

    def __len__(self) -> int:
        return int(self.codes.size)

    def take(self, index: np.ndarray) -> Coded:
        return Coded(self.codes[index], self.values)

    def to_objects(self) -> np.ndarray:
        table = np.append(self.values, None).astype(object)
        return table[np.where(self.codes >= 0, self.codes, self.values.size)]

    def put(self, rows: np.ndarray, other: Coded) -> None:
        """Write ``other`` (aligned with ``rows``) into this column at ``rows``."""
        offset = self.values.size
        self.values = np.concatenate([self.values, other.values]).astype(object)
        self.codes[rows] = np.where(other.codes >= 0, other.codes + offset, -1)

    def blank(self, mask: np.ndarray) -> None:
        self.codes[mask] = -1

    def to_arrow(self, *, spreadsheet: bool = False) -> Any:
        """A pyarrow string array (the table neutralised for a spreadsheet first)."""
        import pyarrow as pa

        values = np.asarray(self.values, dtype=object).tolist()  # a list: no numpy.ma (from_numpy)
        dictionary = pa.array(values, type=pa.string(), from_pandas=True)
        if spreadsheet:
            from compound.batch.write_cells import neutralise

            dictionary = neutralise(dictionary)
        indices = from_numpy(np.where(self.codes >= 0, self.codes, 0).astype(np.int32), mask=self.codes < 0)
        return pa.DictionaryArray.from_arrays(indices, dictionary).cast(pa.string())
