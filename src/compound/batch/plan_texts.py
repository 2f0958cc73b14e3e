"""Each planned group's worksheet text: its columns formatted once, a run of them joined.

Rows that share every planning input share every computed column (see
:mod:`compound.batch.group`), so the text of a group's columns (amounts rounded
by the output rule, counts as whole numbers, text quoted and neutralised) is
made once, here, as the groups are planned; :mod:`compound.batch.write_worksheet`
then puts each row's own cells between these runs.

Numbers are printed by the vectorised rule
(:func:`compound.core.rounding.number_texts`), each distinct value of a block's
column once; text a distinct value at a time. A column that holds one text for
the whole block (a constant fill weight, a trituration nobody needs) is joined
as a scalar: a file of distinct prescriptions has many, and each would
otherwise be hashed, printed and taken for every group.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from compound.batch.arrow import from_numpy
from compound.batch.coded import Coded
from compound.batch.plan_forms import AMOUNT, COUNT
from compound.batch.write_worksheet import Layout, quote
from compound.core.rounding import Texts, number_texts, round_sig


def run_texts(lay: Layout, columns: dict[str, Any], kinds: dict[str, str], groups: int,
              spreadsheet: bool = True) -> list[Any]:
    """Each run's text (its columns formatted and joined by commas) for each of ``groups`` rows.

    One pyarrow string array per run (None for a run with no columns).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    comma = pa.scalar(",", pa.large_string())
    out: list[Any] = []
    for run in lay.runs:
        if not run:
            out.append(None)
            continue
        texts: list[Any] = []
        for name in run:
            text = group_texts(columns[name], kinds[name], groups, spreadsheet)
            if isinstance(text, pa.Scalar) and texts and isinstance(texts[-1], pa.Scalar):
                # Neighbouring constants joined here, once: the join costs as much per scalar
                # as per column (it broadcasts each to every group).
                text = pa.scalar(texts.pop().as_py() + "," + text.as_py(), pa.large_string())
            texts.append(text)
        if len(texts) == 1 and isinstance(texts[0], pa.Scalar):  # the same text for every group
            line = pa.array([texts[0].as_py()], type=pa.large_string())
            out.append(line.take(from_numpy(np.zeros(groups, dtype=np.int64))))
        elif len(texts) == 1:
            out.append(texts[0])
        else:
            out.append(pc.binary_join_element_wise(*texts, comma))
    return out


def group_texts(col: Any, kind: str, groups: int, spreadsheet: bool) -> Any:
    """One column's text for each of the first ``groups`` groups: a pyarrow array, or a
    ``large_string`` scalar when every group's text is the same (never null: empty is "")."""
    import pyarrow as pa

    if isinstance(col, Coded):
        codes = col.codes[:groups]
        if codes.size and bool((codes == codes[0]).all()):
            return pa.scalar(quote(col.values[codes[0]], spreadsheet=spreadsheet) if codes[0] >= 0
                             else "", pa.large_string())
        table = pa.array([*(quote(v, spreadsheet=spreadsheet) for v in col.values), ""],
                         type=pa.large_string())
        return table.take(from_numpy(np.where(codes >= 0, codes, col.values.size)))
    if kind not in (AMOUNT, COUNT):
        raise TypeError(f"unexpected column type {type(col).__name__}")
    count = kind == COUNT
    values = np.asarray(col, dtype=np.float64)[:groups]
    empty = np.isnan(values)
    sparse = bool(empty.any())
    constant = bool(empty.all()) if sparse else bool((values == values[0]).all())
    if values.size and constant:
        return pa.scalar(number_texts(values[:1], count=count).tolist()[0], pa.large_string())
    if count and (whole := _small_counts(values, empty)) is not None:
        # A count's text is its whole part's: each whole number up to the largest printed once.
        top = int(whole.max()) + 1
        table = arrow_texts(number_texts(np.append(np.arange(top, dtype=np.float64), np.nan), count=True))
        return table.take(from_numpy(np.where(empty, top, whole)))
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
    return table.take(from_numpy(index))


def _small_counts(values: np.ndarray, empty: np.ndarray) -> np.ndarray | None:
    """The whole parts of a count column (0 where empty), when all lie in 0 … ~2 × its size."""
    given = np.where(empty, 0.0, values)
    if float(given.min()) < 0 or float(given.max()) >= max(1024, 2 * values.size):
        return None
    return given.astype(np.int64)  # truncates toward zero, as number_texts does


def arrow_texts(texts: Texts) -> Any:
    """A pyarrow ``large_string`` array over the kernel's buffers (no copy)."""
    import pyarrow as pa

    return pa.LargeStringArray.from_buffers(len(texts), pa.py_buffer(texts.offsets), pa.py_buffer(texts.data))
