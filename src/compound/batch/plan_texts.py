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

    first = np.arange(groups)
    comma = pa.scalar(",", pa.large_string())
    out: list[Any] = []
    for run in lay.runs:
        if not run:
            out.append(None)
            continue
        texts: list[Any] = []
        for name in run:
            text = group_texts(columns[name], kinds[name], first, spreadsheet)
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


def group_texts(col: Any, kind: str, first: np.ndarray, spreadsheet: bool) -> Any:
    """One column's text for each group (read at the group's first row): a pyarrow array, or a
    ``large_string`` scalar when every group's text is the same (never null: empty is "")."""
    import pyarrow as pa

    if isinstance(col, Coded):
        codes = col.codes[first]
        if codes.size and bool((codes == codes[0]).all()):
            return pa.scalar(quote(col.values[codes[0]], spreadsheet=spreadsheet) if codes[0] >= 0
                             else "", pa.large_string())
        table = pa.array([*(quote(v, spreadsheet=spreadsheet) for v in col.values), ""],
                         type=pa.large_string())
        return table.take(from_numpy(np.where(codes >= 0, codes, col.values.size)))
    values = np.asarray(col, dtype=np.float64)[first]
    if kind == AMOUNT:
        values = round_sig(values)  # fewer distinct values to print (number_texts rounds them again: a no-op)
    elif kind != COUNT:
        raise TypeError(f"unexpected column type {type(col).__name__}")
    empty = np.isnan(values)
    if values.size and (bool(empty.all()) or (not empty.any() and bool((values == values[0]).all()))):
        return pa.scalar(number_texts(values[:1], count=kind == COUNT).tolist()[0], pa.large_string())
    # Every NaN made the one NaN, and the values hashed as their bits: one dictionary entry per
    # distinct float (NaN printed empty), with no validity mask to build, fill or convert.
    bits = np.where(empty, np.nan, values).view(np.int64)
    encoded = from_numpy(bits).dictionary_encode()
    uniques = encoded.dictionary.to_numpy(zero_copy_only=False).view(np.float64)
    return arrow_texts(number_texts(uniques, count=kind == COUNT)).take(encoded.indices)


def arrow_texts(texts: Texts) -> Any:
    """A pyarrow ``large_string`` array over the kernel's buffers (no copy)."""
    import pyarrow as pa

    return pa.LargeStringArray.from_buffers(len(texts), pa.py_buffer(texts.offsets), pa.py_buffer(texts.data))
