"""Rows that share every input share every finding: group them, explain each group once.

Within a block of rows, the text that explains a row (findings, catalog
context, BUD) is built once per distinct combination of the inputs it depends
on and spread back over its rows. (A batch run first groups the file's rows by
every planning cell, :mod:`compound.batch.group`, and plans one row per
group; these groupings then work on those rows.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np

from compound.batch.arrow import factorize

_LIMIT = 1 << 61  # keys stay well inside int64


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
    cardinality = 1  # Python ints: the product is checked without overflow
    for c in codes:
        c = np.asarray(c, dtype=np.int64) + 1
        width = int(c.max()) + 1 if c.size else 1
        if cardinality * width >= _LIMIT:
            key = factorize(key)[0]
            cardinality = int(key.max()) + 1 if key.size else 1
        key = key * width + c
        cardinality *= width
    if is_dense(cardinality, n):
        return dense_groups(key, cardinality, n)
    inverse = factorize(key)[0]
    k = int(inverse.max()) + 1 if inverse.size else 0
    return inverse, first_positions(inverse, k).astype(np.int64)


#: Combined keys up to this many per row (and at least DENSE_MIN) are grouped through a table of
#: every key (a few MB at most), not hashed: a block's keys of a few columns usually are.
DENSE_PER_ROW: Final = 4
DENSE_MIN: Final = 1 << 16


def is_dense(cardinality: int, n: int) -> bool:
    """Are ``n`` rows' keys of ``0 … cardinality − 1`` grouped through a table of every key?"""
    return cardinality <= max(DENSE_PER_ROW * n, DENSE_MIN) and n < 2**31


def first_positions(keys: np.ndarray, size: int) -> np.ndarray:
    """Each key's first position in ``keys`` (keys ``0 … size − 1``; ``len(keys)`` for a key
    that is absent), int32 below 2**31 positions (a table of every key: 4 bytes a slot).

    ``np.minimum.at``, not an assignment in reverse order: NumPy does not promise which of
    repeated indices an assignment writes last.
    """
    n = keys.size
    kind = np.int32 if n < 2**31 else np.int64
    at = np.full(size, n, dtype=kind)
    np.minimum.at(at, keys, np.arange(n, dtype=kind))
    return at


def dense_groups(key: np.ndarray, cardinality: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`group_rows` of keys ``0 … cardinality − 1``: each key's first row read from a table
    of every key (:func:`first_positions`), the groups numbered by marking the first rows and
    reading them back in row order, without sorting them (an argsort of 456k first rows, ~25 ms,
    for the benchmark's distinct file).

    ``key`` (an int64 column its caller is done with) becomes the returned groups: the rows'
    numbers are read into it in place, and the table of first rows numbers the groups in turn,
    so a million rows take no new 8 MB column, nor a second table (fresh memory is slow to
    touch on the VMs this runs on).
    """
    at = first_positions(key, cardinality)
    is_first = np.zeros(n, dtype=bool)
    is_first[at[at < n]] = True
    first = np.flatnonzero(is_first).astype(np.int64)
    del is_first
    if key.dtype != np.int64 or not key.flags.writeable or not key.flags.c_contiguous:
        key = np.array(key, dtype=np.int64)
    if cardinality <= n // 4:
        # A small table (a typical file's few hundred prescriptions): int64, read straight into
        # key (clip: no bounds buffer; every key is in range).
        number = at.astype(np.int64)
        number[key[first]] = np.arange(first.size, dtype=np.int64)
        np.take(number, key, out=key, mode="clip")
    else:
        # A table of about a key a row stays int32 (half the memory its random reads go over).
        at[key[first]] = np.arange(first.size, dtype=at.dtype)
        key[...] = at[key]
    return key, first


class Members:
    """The rows of each group (ascending), from ``group_rows``' inverse; sorted once, when first asked.

    ``np.flatnonzero(inverse == g)`` for every group that needs its rows is quadratic when many
    groups do (a file of many distinct bad prescriptions).
    """

    def __init__(self, inverse: np.ndarray) -> None:
        self._inverse = np.asarray(inverse, dtype=np.int64)
        self._order: np.ndarray | None = None
        self._start = np.zeros(1, dtype=np.int64)

    def __call__(self, group: int) -> np.ndarray:
        if self._order is None:
            self._order = np.argsort(self._inverse, kind="stable")
            self._start = np.concatenate([[0], np.cumsum(np.bincount(self._inverse))])
        if not 0 <= group < self._start.size - 1:
            return np.zeros(0, dtype=np.int64)
        return self._order[self._start[group]:self._start[group + 1]]
