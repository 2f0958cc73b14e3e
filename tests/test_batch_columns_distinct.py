"""A block's input column factorised from Arrow text: the same codes and texts as from pandas."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from compound.batch.columns import distinct


@pytest.mark.parametrize("cells", [
    ["mcc"] * 5,                      # one text in every row (compared, not hashed)
    ["  "] * 4,                       # one blank text: every cell empty
    ["3", "4", "3", "3", "3"],        # first, middle and last cells alike, the second not
    ["3", "4", "3"],
    ["mcc", None, "mcc"],             # a missing cell
    ["a", "a", "a", "a", "b"],        # varies only in the last cell
    ["x"],
])
def test_arrow_text_factorises_as_pandas_does(cells):
    arrow = distinct(pa.chunked_array([cells[:2], cells[2:]], type=pa.string()), len(cells))
    frame = distinct(pd.Series(cells, dtype=object), len(cells))
    assert arrow.codes.tolist() == frame.codes.tolist()
    assert arrow.uniques.tolist() == frame.uniques.tolist()
