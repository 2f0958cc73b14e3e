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


@pytest.mark.parametrize("cells", [
    ["mcc"] * 5,
    ["  ", None, "mcc", "  "],
    ["3", "4", "3", None, "5"],
    [None, None],
])
def test_dictionary_encoded_text_factorises_as_the_text_does(cells):
    """The CSV reader's planning columns: each chunk with a dictionary of its own (a block of rows
    taken from the file keeps every entry, used or not)."""
    text = pa.chunked_array([cells[:2], cells[2:]], type=pa.string())
    chunks = [pa.array(["unused", *c], pa.string()).dictionary_encode().slice(1)
              for c in (cells[:2], cells[2:])]
    coded = distinct(pa.chunked_array(chunks), len(cells))
    want = distinct(text, len(cells))
    assert coded.codes.tolist() == want.codes.tolist()
    assert coded.uniques.tolist() == want.uniques.tolist()
