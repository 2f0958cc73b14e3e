"""Rows that share every input share every finding: group them, explain each group once.

A million prescriptions typically hold a few hundred distinct combinations of
inputs. The core runs on every row (vectorised); the text that explains a row
(findings, catalog context) is built once per distinct combination and spread
back over its rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

_LIMIT = np.int64(1) << np.int64(61)


def group_rows(codes: Sequence[np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Group ``n`` rows by identical code tuples.

    Parameters
    ----------
    codes : sequence of int arrays
        One factorised column each (−1 allowed for an empty cell).

    Returns
    -------
    inverse : int64 array
        The group of each row, numbered in order of first appearance.
    first : int64 array
        For each group, the position of its first row.
    """
    key = np.zeros(n, dtype=np.int64)
    cardinality = np.int64(1)
    for c in codes:
        c = np.asarray(c, dtype=np.int64) + 1
        width = np.int64(c.max() + 1) if c.size else np.int64(1)
        if cardinality * width >= _LIMIT or cardinality >= _LIMIT // max(width, 1):
            key = np.asarray(pd.factorize(key)[0], dtype=np.int64)
            cardinality = np.int64(key.max() + 1) if key.size else np.int64(1)
        key = key * width + c
        cardinality = cardinality * width
    inverse = np.asarray(pd.factorize(key)[0], dtype=np.int64)
    k = int(inverse.max()) + 1 if inverse.size else 0
    first = np.full(k, -1, dtype=np.int64)
    # Assigning in reverse leaves each group's first position (the last write wins).
    first[inverse[::-1]] = np.arange(n, dtype=np.int64)[::-1]
    return inverse, first
