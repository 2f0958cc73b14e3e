"""group_rows numbers groups alike whether it looks keys up in a table or hashes them."""

from __future__ import annotations

import numpy as np
import pytest

from compound.batch import plan_explain
from compound.batch.plan_explain import group_rows


@pytest.mark.parametrize("seed", range(20))
def test_the_table_of_keys_and_the_hash_give_the_same_groups(monkeypatch: pytest.MonkeyPatch,
                                                             seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 3000))
    codes = [rng.integers(-1, int(rng.integers(1, 60)), n) for _ in range(int(rng.integers(1, 4)))]
    dense = group_rows(codes, n)
    monkeypatch.setattr(plan_explain, "DENSE_PER_ROW", 0)
    monkeypatch.setattr(plan_explain, "DENSE_MIN", 0)
    hashed = group_rows(codes, n)
    assert dense[0].tolist() == hashed[0].tolist()
    assert dense[1].tolist() == hashed[1].tolist()
    assert dense[0].dtype == hashed[0].dtype == np.int64 and dense[1].dtype == hashed[1].dtype == np.int64
    if n:  # numbered in order of first appearance, each group's first row its own
        assert dense[1].tolist() == sorted(dense[1].tolist())
        assert dense[0][dense[1]].tolist() == list(range(dense[1].size))


@pytest.mark.parametrize("seed", range(10))
def test_first_positions_is_each_keys_first_row_however_often_it_repeats(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, size = int(rng.integers(0, 5000)), int(rng.integers(1, 200))
    keys = rng.integers(0, size, n)
    at = plan_explain.first_positions(keys, size)
    present, first = np.unique(keys, return_index=True)
    want = np.full(size, n)
    want[present] = first
    assert at.tolist() == want.tolist()


@pytest.mark.parametrize("seed", range(10))
def test_dense_groups_numbers_rows_in_their_own_key_column(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 5000))
    size = max(1, n // 8) if seed % 2 else 2 * n  # a small table, and one of about a key a row
    keys = rng.integers(0, size, n).astype(np.int64)
    given = keys.copy()
    inverse, first = plan_explain.dense_groups(given, size, n)
    assert inverse is given  # the caller's key column, numbered in place: no new column
    _, first_of_key, by_key = np.unique(keys, return_index=True, return_inverse=True)
    order = np.argsort(first_of_key, kind="stable")  # groups numbered by first appearance
    number = np.empty(order.size, dtype=np.int64)
    number[order] = np.arange(order.size)
    assert inverse.tolist() == number[by_key.ravel()].tolist()
    assert first.tolist() == sorted(first_of_key.tolist()) and first.dtype == np.int64
