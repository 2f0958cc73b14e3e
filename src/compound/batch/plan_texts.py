"""Each planned group's worksheet text: its columns formatted once, a run of them joined.

Rows that share every planning input share every computed column (see
:mod:`compound.batch.group`), so the text of a group's columns (amounts rounded
by the output rule, counts as whole numbers, text quoted and neutralised) is
made once, here, as the groups are planned; :mod:`compound.batch.write_worksheet`
then puts each row's own cells between these runs.

A block's column is a small table of texts and, per group, which one
(:class:`Picked`): text a distinct value at a time; counts from a table of the
whole numbers; amounts from the process's table of rounded decimals
(:class:`DecimalTexts`), or each distinct value printed once by the vectorised
rule (:func:`compound.core.rounding.number_texts`). A run of columns is then
one ``take`` from its columns' tables (each but the first with a comma before
every text): the taken texts of a group lie end to end, and are its line of
the run. A column that holds one text for the whole block (a constant fill
weight, a trituration nobody needs) is joined with its constant neighbours
first: a file of distinct prescriptions has many. A run whose neighbouring
cells are the same in every row (:attr:`~compound.batch.write_worksheet.Layout.affixes`)
takes their quotes and separators as its first and last texts.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from compound.batch.arrow import from_numpy
from compound.batch.coded import Coded
from compound.batch.plan_forms import AMOUNT, COUNT
from compound.batch.write_worksheet import Layout, RunText, quote
from compound.core.figures import POWERS_OF_TEN, SIGNIFICANT_FIGURES
from compound.core.rounding import Texts, number_texts, round_sig


@dataclass(frozen=True)
class Picked:
    """A column's text for each group: ``table[pick[g]]``, or ``table[0]`` for every group when
    ``pick`` is None (``table``: a pyarrow ``large_string`` array)."""

    table: Any
    pick: np.ndarray | None
    after_comma: Any = None
    """``table`` with a comma before each text, when it is kept already (a shared table)."""

    @classmethod
    def constant(cls, text: str) -> Picked:
        import pyarrow as pa

        return cls(pa.array([text], type=pa.large_string()), None)

    def commas(self) -> Any:
        """``table`` with a comma before each text."""
        return self.after_comma if self.after_comma is not None else _after_comma(self.table)

    def texts(self, groups: int) -> list[str]:
        """Each group's text, as Python strings (for tests and small runs)."""
        table = self.table.to_pylist()
        return [table[0]] * groups if self.pick is None else [table[p] for p in self.pick.tolist()]


def run_texts(lay: Layout, columns: dict[str, Any], kinds: dict[str, str], groups: int,
              spreadsheet: bool = True, dictionaries: bool = False) -> list[Any]:
    """Each run's text (its columns formatted and joined by commas) for each of ``groups`` rows.

    One pyarrow ``large_string`` array per run (None for a run with no columns). A run with
    affixes (:attr:`Layout.affixes`: the neighbouring cells' quotes and the separators, the same
    in every row) has them joined on, in the same take: the line builder then takes its texts as
    they are, not joined again for every block of lines.

    ``dictionaries``: a run is a :class:`~compound.batch.write_worksheet.RunText` instead, its
    segments in turn its text columns (one joined text for each distinct combination of their
    texts, and each group's pick: a pyarrow dictionary array) and its number columns (a text
    for each group). A file of many distinct prescriptions then holds its text columns' texts
    (half of a capsule run's bytes: the product, the findings) once per distinct combination,
    not once per group, until its lines are written.
    """
    out: list[Any] = []
    for j, run in enumerate(lay.runs):
        if not run:
            out.append(None)
            continue
        prefix, suffix = (lay.affixes[j] or ("", "")) if j < len(lay.affixes) else ("", "")
        # (text, after a comma?): a prefix ends with its separator and a suffix starts with it
        # (:func:`~compound.batch.write_worksheet._affixes`), the comma of the text beside it.
        comma = prefix.endswith(",")
        prefix = prefix[:-1] if comma else prefix
        texts: list[tuple[Picked, bool]] = [(Picked.constant(prefix), False)] if prefix else []
        textual = [kinds[name] not in (AMOUNT, COUNT) for name in run]
        kind = textual[:1] * len(texts)  # each text's segment (the affixes: their neighbours')
        for name, is_text in zip(run, textual, strict=True):
            texts.append((group_texts(columns[name], kinds[name], groups, spreadsheet),
                          comma or bool(texts)))
            kind.append(is_text)
        if suffix:
            comma = suffix.startswith(",")
            texts.append((Picked.constant(suffix[1:] if comma else suffix), comma))
            kind.append(textual[-1])
        if not dictionaries:
            out.append(_join(_constants_joined(texts), groups))
            continue
        segments = []
        for is_text, part in itertools.groupby(zip(kind, texts, strict=True), key=lambda kt: kt[0]):
            joined = _constants_joined([t for _, t in part])
            segments.append(_dictionary(joined, groups) if is_text else _join(joined, groups))
        out.append(RunText(tuple(segments)))
    return out


def _dictionary(texts: list[tuple[Picked, bool]], groups: int) -> Any:
    """The texts joined, as a pyarrow dictionary array: each distinct combination of their picks
    joined once (by :func:`_join`), and each group's.

    A group's combination is numbered in mixed radix over the texts' tables, then renumbered
    densely: by a table of the numbers where they are few, else by Arrow's hash.
    """
    import pyarrow as pa

    key = np.zeros(groups, dtype=np.int64)
    size = 1
    for text, _ in texts:
        if text.pick is None:
            continue
        if size * len(text.table) >= 2**62:  # would overflow: renumber the combinations so far
            key, size = _dense(key, size)
        key = key * len(text.table) + text.pick
        size *= len(text.table)
    codes, size = _dense(key, size)
    some = np.empty(size, dtype=np.int64)
    some[codes] = np.arange(groups)  # a group of each combination (any: their texts are the same)
    picked = [(Picked(t.table, t.pick[some] if t.pick is not None else None, t.after_comma), comma)
              for t, comma in texts]
    return pa.DictionaryArray.from_arrays(from_numpy(codes.astype(np.int32)), _join(picked, size))


def _dense(key: np.ndarray, size: int) -> tuple[np.ndarray, int]:
    """``key`` (each below ``size``) renumbered 0 … n − 1, and n."""
    if size <= 4 * key.size + 1024:
        seen = np.zeros(size, dtype=bool)
        seen[key] = True
        slot = np.cumsum(seen) - 1
        return slot[key], int(slot[-1]) + 1 if size else 0
    encoded = from_numpy(key).dictionary_encode()
    return encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64), len(encoded.dictionary)


def _constants_joined(texts: list[tuple[Picked, bool]]) -> list[tuple[Picked, bool]]:
    """Neighbouring constants joined here, once: one text fewer to take for every group."""
    out: list[tuple[Picked, bool]] = []
    for text, comma in texts:
        if text.pick is None and out and out[-1][0].pick is None:
            last, last_comma = out.pop()
            text = Picked.constant(last.texts(1)[0] + ("," if comma else "") + text.texts(1)[0])
            comma = last_comma
        out.append((text, comma))
    return out


def _join(texts: list[tuple[Picked, bool]], groups: int) -> Any:
    """The texts joined (each a comma after the one before it, where marked), for each group:
    one take from their tables.

    The index is a matrix, a line per group and a column per text (its table's place among the
    tables, plus its pick): taken in that order, a group's texts lie end to end. Tables shared
    by several columns (the decimals) are concatenated once.
    """
    import pyarrow as pa

    k = len(texts)
    tables: list[Any] = []
    start: dict[int, int] = {}
    size = 0
    at: list[int] = []  # each text's table's place
    for text, comma in texts:
        table = text.commas() if comma else text.table
        if id(table) not in start:
            start[id(table)] = size
            tables.append(table)
            size += len(table)
        at.append(start[id(table)])
    # Taken as ``string`` with int32 indices (a block's few MB): Arrow takes those ~30% faster
    # than ``large_string`` with int64 ones (measured); the run is handed on as ``large_string``.
    index = np.empty((groups, k), dtype=np.int32 if size < 2**31 else np.int64)
    for j, (text, _) in enumerate(texts):
        index[:, j] = at[j] + (text.pick if text.pick is not None else 0)
    taken = pa.concat_arrays(tables).cast(pa.string()).take(from_numpy(index.reshape(-1)))
    ends = np.frombuffer(taken.buffers()[1], dtype=np.int32)[taken.offset:taken.offset + groups * k + 1]
    data = taken.buffers()[2] if groups else pa.py_buffer(b"")
    return pa.LargeStringArray.from_buffers(groups, pa.py_buffer(ends[::k].astype(np.int64)), data)


def _after_comma(table: Any) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    empty = pa.scalar("", pa.large_string())
    return pc.binary_join_element_wise(pa.scalar(",", pa.large_string()), table, empty)


def group_texts(col: Any, kind: str, groups: int, spreadsheet: bool) -> Picked:
    """One column's text for each of the first ``groups`` groups (never null: empty is "")."""
    import pyarrow as pa

    if isinstance(col, Coded):
        codes = col.codes[:groups]
        if codes.size and bool((codes == codes[0]).all()):
            return Picked.constant(quote(col.values[codes[0]], spreadsheet=spreadsheet) if codes[0] >= 0
                                   else "")
        table = pa.array([*(quote(v, spreadsheet=spreadsheet) for v in col.values), ""],
                         type=pa.large_string())
        return Picked(table, np.where(codes >= 0, codes, col.values.size))
    if kind not in (AMOUNT, COUNT):
        raise TypeError(f"unexpected column type {type(col).__name__}")
    count = kind == COUNT
    values = np.asarray(col, dtype=np.float64)[:groups]
    empty = np.isnan(values)
    sparse = bool(empty.any())
    if not values.size:
        return Picked.constant("")
    if bool(empty.all()) if sparse else bool((values == values[0]).all()):
        return Picked.constant(number_texts(values[:1], count=count).tolist()[0])
    if count and (whole := _small_counts(values, empty)) is not None:
        # A count's text is its whole part's: a table of the whole numbers up to a power of two
        # beyond the largest (printed once per process), then "".
        size = max(1024, 1 << int(whole.max()).bit_length())
        table, after_comma = _whole_numbers(size)
        return Picked(table, np.where(empty, size, whole), after_comma)
    if not count and values.size >= DECIMALS_FROM and (texts := DECIMALS.texts(values, empty)) is not None:
        return texts
    # The values given (only those: a column may be mostly empty), rounded first when amounts
    # (fewer distinct values to print; number_texts rounds them again, a no-op), hashed as their
    # bits: each distinct float printed once, and empty ("") after them.
    given = values[~empty] if sparse else values
    if not count:
        given = round_sig(given)
    encoded = from_numpy(given.view(np.int64)).dictionary_encode()
    uniques = encoded.dictionary.to_numpy(zero_copy_only=False).view(np.float64)
    table = arrow_texts(number_texts(np.append(uniques, np.nan), count=count))
    index = encoded.indices.to_numpy(zero_copy_only=False)
    if sparse:
        index = np.where(empty, uniques.size, 0).astype(index.dtype)
        index[~empty] = encoded.indices.to_numpy(zero_copy_only=False)
    return Picked(table, index)


def _small_counts(values: np.ndarray, empty: np.ndarray) -> np.ndarray | None:
    """The whole parts of a count column (0 where empty), when all lie in 0 … ~2 × its size."""
    given = np.where(empty, 0.0, values)
    if float(given.min()) < 0 or float(given.max()) >= max(1024, 2 * values.size):
        return None
    return given.astype(np.int64)  # truncates toward zero, as number_texts does


@functools.cache
def _whole_numbers(size: int) -> tuple[Any, Any]:
    """The texts of the counts 0 … ``size − 1``, then "", and the same with a comma before each."""
    table = arrow_texts(number_texts(np.append(np.arange(size, dtype=np.float64), np.nan), count=True))
    return table, _after_comma(table)


class DecimalTexts:
    """The text of every amount the rule rounds to, by its exponent and digits: printed once
    per process, so that a block's amount column is one take (no hash, nothing printed).

    An amount rounds to ``kept × 10**−digits`` (``kept`` a whole number up to 10**sig, ``digits``
    from its magnitude; :func:`compound.core.rounding.round_sig`, whose operations
    :meth:`texts` repeats). The table holds, for each ``digits`` met so far, the text of every
    ``kept`` from 0 to 10**sig (printed by :func:`~compound.core.rounding.number_texts`, from
    the same rounded float), then "" (empty) and "0". Negative, infinite, or very large or small
    amounts are left to the caller (None): a block's column holds them rarely.
    """

    #: The ``digits`` the table covers: amounts from about 1e-9 to 1e12.
    LOWEST, HIGHEST = -8, 12

    def __init__(self, sig: int = SIGNIFICANT_FIGURES) -> None:
        self.sig = sig
        self.size = 10**sig + 1
        # One snapshot (the segments' slots and their joined table), replaced as a whole: a run
        # in another thread reads either the old table or the new one, each consistent.
        self._state: tuple[dict[int, int], Any, Any] = ({}, None, None)

    def texts(self, values: np.ndarray, empty: np.ndarray) -> Picked | None:
        """Each value's text ("" where ``empty``), or None."""
        blank = values == 0
        blank |= empty
        sparse = bool(blank.any())
        # Only the amounts printed from the table are scaled (a block's column is often mostly
        # empty: a trituration, a shortcut), each step in place: a third less time a column.
        v = values[~blank] if sparse else values
        if v.size and not (float(v.min()) > 0 and float(v.max()) < np.inf):
            return None  # negative or infinite: printed one distinct value at a time
        digits = np.log10(v)
        np.floor(digits, out=digits)
        digits = digits.astype(np.int64)
        np.subtract(self.sig - 1, digits, out=digits)
        low, high = (int(digits.min()), int(digits.max())) if v.size else (self.sig - 1, self.sig - 1)
        if low < self.LOWEST or high > self.HIGHEST:
            return None
        if low == high:  # one decade (often, in a block): one scale, no table looked up per value
            kept = v * _POWERS[low] if low >= 0 else v / _POWERS[-low]
        elif low >= 0:  # amounts below 10**(sig − 1), the usual case: one branch
            kept = v * np.take(_POWERS, digits)
        else:
            scale = np.take(_POWERS, np.abs(digits))
            kept = np.where(digits >= 0, v * scale, v / scale)
        np.round(kept, out=kept)
        if kept.size and float(kept.max()) >= self.size:
            return None
        # Every segment from the lowest to the highest (a few not met are printed once per process,
        # not looked for in every column: a bincount of each column cost more).
        slots, table, after_comma = self._cover(list(range(low, high + 1)))
        base = np.zeros(self.HIGHEST - self.LOWEST + 1, dtype=np.int64)
        for d, slot in slots.items():
            base[d] = slot * self.size  # negative digits from the end: ``digits`` index it as they are
        index = kept.astype(np.int64)
        index += base[low] if low == high else np.take(base, digits)
        if not sparse:
            return Picked(table, index, after_comma)
        ends = len(slots) * self.size
        picked = np.where(empty, ends, ends + 1)  # "" (empty) or "0"
        picked[~blank] = index
        return Picked(table, picked, after_comma)

    def _cover(self, digits: list[int]) -> tuple[dict[int, int], Any, Any]:
        """Print the segments of ``digits`` not yet in the table: the slot of every segment, and
        the table they are in (and it with a comma before each text)."""
        import pyarrow as pa

        slots, table, after_comma = self._state
        new = [d for d in digits if d not in slots]
        if not new:
            return slots, table, after_comma
        slots = dict(slots)
        parts = [table.slice(0, len(slots) * self.size)] if table is not None else []
        kept = np.arange(self.size, dtype=np.float64)
        for d in new:
            slots[d] = len(slots)
            rounded = kept / _POWERS[d] if d >= 0 else kept * _POWERS[-d]  # round_sig's operations
            parts.append(arrow_texts(number_texts(rounded)))
        parts.append(arrow_texts(number_texts(np.array([np.nan, 0.0]))))
        table = pa.concat_arrays(parts)
        self._state = (slots, table, _after_comma(table))
        return self._state


#: 10**0 … 10**22 (exact doubles), the table round_sig scales by.
_POWERS: Final = np.array(POWERS_OF_TEN[:23])
#: Columns of at least this many groups are printed from :data:`DECIMALS` (a file of a few
#: prescriptions prints its few amounts, not a table of 10,001 texts).
DECIMALS_FROM: Final = 4096
DECIMALS: Final = DecimalTexts()


def arrow_texts(texts: Texts) -> Any:
    """A pyarrow ``large_string`` array over the kernel's buffers (no copy)."""
    import pyarrow as pa

    return pa.LargeStringArray.from_buffers(len(texts), pa.py_buffer(texts.offsets), pa.py_buffer(texts.data))
