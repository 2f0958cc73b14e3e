"""Grouping's dictionary codes, kept for the planner, factorise a block as hashing its cells does."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from compound.batch import group
from compound.batch.columns import distinct
from compound.batch.group import group_table


def _table(n: int) -> pa.Table:
    rng = np.random.default_rng(7)
    strengths = np.array(["4.5mg", "3mg", " ", "", "1.5 mg", None, "4.5mg ", "2mg"], dtype=object)
    return pa.table({
        "form": pa.array(["capsules"] * n),
        "strength": pa.array(strengths[rng.integers(0, strengths.size, n)].tolist(), pa.string()),
        "count": pa.array([str(c) for c in rng.integers(1, 40, n)]),
        "filler": pa.array([None] * n, pa.string()),
        "rx": pa.array([f"RX{i}" for i in range(n)]),
    })


@pytest.mark.parametrize("block", [1, 7, 50, 1000])
def test_kept_codes_give_each_block_the_same_codes_and_texts(monkeypatch: pytest.MonkeyPatch,
                                                            block: int) -> None:
    monkeypatch.setattr(group, "ENGINE_ROWS", 10)  # the large-file path, on a small file
    table = _table(600)
    groups = group_table(table)
    assert set(groups.encoded) == {"form", "strength", "count", "filler"}  # planning columns only
    assert groups.encoded["form"].codes is None  # one text in every row
    for b0 in range(0, len(groups), block):
        b1 = min(b0 + block, len(groups))
        rows = table.take(pa.array(groups.first[b0:b1]))
        for name, column in groups.encoded.items():
            hashed, kept = distinct(rows.column(name), b1 - b0), column.block(b0, b1)
            assert kept.codes.tolist() == hashed.codes.tolist(), (name, b0)
            assert kept.uniques.tolist() == hashed.uniques.tolist(), (name, b0)


def test_a_small_file_keeps_no_codes() -> None:
    assert group_table(_table(60)).encoded == {}


def test_the_forms_of_a_large_file_are_read_from_the_kept_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    from compound.batch.plan import forms_present
    from compound.batch.spread import Rows

    monkeypatch.setattr(group, "ENGINE_ROWS", 10)
    forms = [" Liquid", "drops", None, "", "DROPS ", "drops"] * 10
    table = _table(len(forms)).set_column(0, "form", pa.array(forms, pa.string()))
    groups = group_table(table)
    assert forms_present(groups.encoded["form"].values) == ["liquid", "drops"]
    assert Rows(table=table).forms(groups.first) == ["liquid", "drops"]


def test_columns_encoded_on_a_pool_and_this_thread_group_as_on_one(monkeypatch: pytest.MonkeyPatch) -> None:
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setattr(group, "ENGINE_ROWS", 10)
    table = _table(900)
    alone = group_table(table)
    with ThreadPoolExecutor(max_workers=2) as pool:
        busy = pool.submit(lambda: sum(range(10**5)))  # one pool thread busy at first, as in a run
        shared = group_table(table, pool=pool)
        busy.result()
    assert shared.gid.tolist() == alone.gid.tolist() and shared.first.tolist() == alone.first.tolist()
    assert {n: c.values.tolist() for n, c in shared.encoded.items()} == \
        {n: c.values.tolist() for n, c in alone.encoded.items()}


def test_codes_read_from_the_readers_chunks_name_each_rows_text() -> None:
    """Chunks as the CSV reader makes them (each with its own dictionary), some sliced (an offset
    into their buffers), some with empty cells whose index slots hold any value (Arrow leaves a
    null's slot undefined): each row's code names its own text, an empty cell the last (null)."""
    rng = np.random.default_rng(3)
    words = ["4.5mg", "3mg", "", " 1.5mg", "2mg"]
    for trial in range(60):
        chunks = []
        for _ in range(int(rng.integers(1, 5))):
            size = int(rng.integers(5, 40))
            vocab = list(rng.permutation(words)[: int(rng.integers(1, len(words) + 1))])
            index = rng.integers(0, len(vocab), size).astype(np.int32)
            empty = rng.random(size) < (0.5 if trial % 2 else 0.0)
            index[empty] = rng.integers(-9, 1 << 20, int(empty.sum()))  # any value in an empty slot
            chunk = pa.DictionaryArray.from_arrays(pa.array(index, mask=empty), pa.array(vocab))
            chunks.append(chunk.slice(int(rng.integers(0, 3))) if rng.random() < 0.5 else chunk)
        column = pa.chunked_array(chunks, type=pa.dictionary(pa.int32(), pa.string()))
        codes, dictionary = group._codes(column)
        texts = column.cast(pa.string()).to_pylist()
        if codes is None:
            assert len(set(texts)) == 1, trial
            continue
        assert [dictionary[int(c)].as_py() for c in codes] == texts, trial
        assert codes.dtype == np.uint8
