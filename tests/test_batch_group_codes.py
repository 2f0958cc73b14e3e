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
