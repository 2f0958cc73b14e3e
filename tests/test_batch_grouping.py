"""Rows that share a prescription are planned once: a row's output never depends on its neighbours."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compound.batch import plan_frame
from compound.batch.group import group_frame, group_table
from compound.batch.read import read_prescriptions


def frame(*rows: dict[str, str]) -> pd.DataFrame:
    columns = list(dict.fromkeys(k for r in rows for k in r))
    return pd.DataFrame({c: [r.get(c) for r in rows] for c in columns}, dtype="str")


CAPSULES = {"form": "capsules", "strength": "4.5mg", "count": "30", "overage": "1", "source": "tablet",
            "tablet_weight": "200mg", "fill_weight": "100mg"}


def test_an_unreadable_tablet_weight_does_not_stop_the_next_row_of_the_same_kind():
    out = plan_frame(frame({**CAPSULES, "tablet_weight": "0mg"}, CAPSULES))
    assert out["status"].tolist() == ["error", "ok"]
    assert out.loc[0, "errors"].startswith("tablet_weight: tablet weight must be greater than zero")
    # The second row as worked by hand: 30 + 1 = 31 capsules; 4.5 mg × 31 = 139.5 mg HCl;
    # 139.5 / 50 × 200 mg = 558 mg powder from ⌈139.5 / 50⌉ = 3 tablets.
    assert out.loc[1, "tablet_powder_mg"] == 558
    assert out.loc[1, "tablets_to_crush"] == 3


def test_a_rows_errors_are_the_same_alone_and_beside_a_readable_row():
    bad = {**CAPSULES, "assay": "99.2"}  # no % sign, and an assay describes API, not tablets
    alone = plan_frame(frame(bad)).loc[0, "errors"]
    after = plan_frame(frame({**CAPSULES, "assay": "99.2%"}, bad)).loc[1, "errors"]
    before = plan_frame(frame(bad, {**CAPSULES, "assay": "99.2%"})).loc[0, "errors"]
    assert alone == after == before
    assert "a percentage needs the % sign" in alone
    assert "--assay and --water describe API powder, not tablets" in alone


EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "ldn-prescriptions.csv"


@pytest.mark.parametrize("engine", [False, True])
def test_rows_that_differ_only_in_labels_share_a_group_and_a_blank_form_row_keeps_its_reason(
        tmp_path, monkeypatch, engine):
    """The same groups from the pyarrow table (compound batch) and the DataFrame (plan_frame);
    with ``engine``, the table by its dictionary codes (a large file's path: blank forms found
    from the form column's dictionary)."""
    if engine:
        from compound.batch import group

        monkeypatch.setattr(group, "ENGINE_ROWS", 0)
    path = tmp_path / "rx.csv"
    path.write_text("form,strength,count,rx,x_ward\n"
                    "capsules,4.5mg,30,RX1,W1\n"
                    "capsules,4.5mg,30,RX2,\n"         # labels differ: same group as row 1
                    "capsules, 4.5mg,30,RX3,W1\n"      # a planning cell typed differently: own group
                    ",,,RX4,\n"                        # no form but an rx: "no value given"
                    ",,,,\n"                           # nothing at all: an empty row
                    ",,,,W2\n"                         # no form, a carried cell: like row 4
                    "capsules,4.5mg,30,,\n", encoding="utf-8")
    read = read_prescriptions(path)
    assert read.table is not None
    from_table = group_table(read.table)
    from_frame = group_frame(read.frame)
    for got in (from_table, from_frame):
        assert got.gid.tolist() == [0, 0, 1, 2, 3, 2, 0]
        assert got.first.tolist() == [0, 2, 3, 4]
        assert got.sizes.tolist() == [3, 1, 2, 1]
    errors = plan_frame(read.frame)["errors"].tolist()
    assert errors[3] == errors[5] == "form: no value given: type capsules, liquid or drops."
    assert errors[4] == "the row is empty: nothing to plan."


def test_a_malformed_record_is_its_own_group(tmp_path):
    path = tmp_path / "rx.csv"
    path.write_text("form,strength,count\ncapsules,4.5mg,30\ncapsules,4,5mg,30\ncapsules,4,5mg,60\n",
                    encoding="utf-8")
    read = read_prescriptions(path)
    assert set(read.read_errors) == {1, 2}
    groups = group_frame(read.frame, read.read_errors)
    assert groups.gid.tolist() == [0, 1, 2]


def test_every_row_of_the_example_equals_its_plan_alone():
    """Planning the file at once (rows grouped) = planning each row on its own, column for column."""
    frame = pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False).replace("", None)
    together = plan_frame(frame)
    for i in range(len(frame)):
        alone = plan_frame(frame.iloc[[i]]).iloc[0]
        for column in together.columns:
            if column == "row":
                continue
            a = together.loc[i, column]
            b = alone[column] if column in alone.index else None  # another form's column: empty
            assert (pd.isna(a) and pd.isna(b)) or a == b, (i, column, a, b)


ROW_POOL = [
    {"form": "capsules", "strength": "4.5mg", "count": "30", "tablet_weight": "200mg"},
    {"form": "capsules", "strength": "4.5mg", "count": "30", "tablet_weight": "0mg"},
    {"form": "capsules", "strength": "0.5mg", "count": "60", "source": "api", "assay": "99.2"},
    {"form": "capsules", "strength": "4.5g", "count": "30"},
    {"form": "liquid", "strength": "1mg/mL", "volume": "50mL", "dose": "4.5mg", "compounded": "2025-03-10"},
    {"form": "drops", "per_drop": "0.5mg/drop", "volume": "30mL", "calibration": "46 drops/2mL"},
    {"form": "", "rx": "RX9"},
    {},
]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, len(ROW_POOL) - 1), st.sampled_from(["", "RX1", "=x", 'q"'])),
                min_size=1, max_size=10))
def test_repeated_prescriptions_with_any_labels_equal_their_plans_alone(picks):
    rows = [{**ROW_POOL[k], "rx": rx or ROW_POOL[k].get("rx") or None} for k, rx in picks]
    together = plan_frame(frame(*rows, {"form": None, "x_ward": None})).iloc[:-1]
    for i, row in enumerate(rows):
        alone = plan_frame(frame(row, {"form": None, "x_ward": None})).iloc[0]
        for column in together.columns:
            if column == "row":
                continue
            a = together.iloc[i][column]
            b = alone[column] if column in alone.index else None
            assert (pd.isna(a) and pd.isna(b)) or a == b, (i, column, a, b)


def test_clearing_the_run_caches_changes_nothing(tmp_path, monkeypatch):
    """Caches cleared after every block of two prescriptions: the same files."""
    from compound.batch import spread
    from compound.batch.run import Options, run_batch

    run_batch(EXAMPLE, tmp_path / "kept", options=Options(block_rows=2))
    monkeypatch.setattr(spread, "CACHE_LIMIT", 1)
    run_batch(EXAMPLE, tmp_path / "cleared", options=Options(block_rows=2))
    for name in ("worksheet.csv", "errors.csv"):
        assert (tmp_path / "kept" / name).read_bytes() == (tmp_path / "cleared" / name).read_bytes()


def test_take_rows_equals_table_take_across_batches():
    import numpy as np
    import pyarrow as pa

    from compound.batch.group import take_rows

    batches = [pa.record_batch({"rx": [f"R{i}" for i in range(s, s + 5)], "n": list(range(s, s + 5))})
               for s in range(0, 20, 5)]
    table = pa.Table.from_batches(batches)
    for positions in ([0, 4, 5, 19], [19, 0, 7, 7, 3], [], [12]):
        at = np.array(positions, dtype=np.int64)
        assert take_rows(table, at).equals(table.take(at))
        assert take_rows(table, at, ["n"]).equals(table.select(["n"]).take(at))


def test_arrows_group_by_and_the_column_codes_give_the_same_groups(tmp_path, monkeypatch):
    """A small file is grouped by its columns' codes as group_frame reads them, a large one by
    their dictionary codes: the same groups, and the same files, whichever is used."""
    from compound.batch import group
    from compound.batch.run import run_batch

    path = tmp_path / "rx.csv"
    text = EXAMPLE.read_text(encoding="utf-8")
    path.write_text(text + text.split("\n", 1)[1], encoding="utf-8")  # every row twice
    read = read_prescriptions(path)
    assert read.table is not None and read.table.num_rows < group.ENGINE_ROWS
    small = group_table(read.table)
    run_batch(path, tmp_path / "codes")
    monkeypatch.setattr(group, "ENGINE_ROWS", 0)
    engine = group_table(read.table)
    run_batch(path, tmp_path / "engine")
    assert len(small) < read.table.num_rows  # some rows share a prescription
    for name in ("gid", "first", "sizes"):
        assert getattr(small, name).tolist() == getattr(engine, name).tolist(), name
    for name in ("worksheet.csv", "errors.csv"):
        assert (tmp_path / "codes" / name).read_bytes() == (tmp_path / "engine" / name).read_bytes()


def test_the_same_cells_in_different_chunks_of_the_file_share_a_group(monkeypatch):
    """pyarrow reads a large file in chunks: a text's code is the same in every chunk."""
    import pyarrow as pa

    from compound.batch import group

    monkeypatch.setattr(group, "ENGINE_ROWS", 0)  # the large files' path

    schema = pa.schema([("form", pa.string()), ("strength", pa.string()), ("rx", pa.string())])
    table = pa.Table.from_batches([
        pa.record_batch([pa.array(["capsules", "capsules"]), pa.array(["4.5mg", "1mg"]),
                         pa.array(["RX1", "RX2"])], schema=schema),
        pa.record_batch([pa.array(["capsules", "capsules", "capsules"]), pa.array(["1mg", "4.5mg", None]),
                         pa.array(["RX3", "RX4", "RX5"])], schema=schema),
    ])
    assert table.column("form").num_chunks == 2
    groups = group_table(table)
    assert groups.gid.tolist() == [0, 1, 1, 0, 2]
    assert groups.first.tolist() == [0, 1, 4]
    assert groups.sizes.tolist() == [2, 2, 1]


def test_an_amount_cell_is_read_once_per_text_kind_and_column_and_a_refusal_raises_each_time():
    from compound.batch.plan_forms import read_amount
    from compound.core import units
    from compound.errors import InputError

    for _ in range(2):
        assert read_amount("4.5mg", "mass", "strength") == units.coerce("4.5mg", "mass", field="strength")
        assert read_amount("30", "count", "count") == 30.0
        with pytest.raises(InputError, match="strength"):
            read_amount("30", "mass", "strength")  # the same text, another kind: refused


def test_a_columns_codes_read_the_same_text_as_one_code_across_the_readers_chunks():
    """The CSV reader encodes each chunk on its own: a text has one code in every chunk, an empty
    cell one code of its own, and a column of one cell in every row (or none) no codes at all."""
    import pyarrow as pa

    from compound.batch.group import _codes

    def chunked(*chunks: list[str | None]) -> pa.ChunkedArray:
        return pa.chunked_array([pa.array(c, type=pa.string()).dictionary_encode() for c in chunks])

    def cells(column: pa.ChunkedArray) -> list[str | None]:
        codes, dictionary = _codes(column)
        assert codes is not None and codes.dtype == np.uint8  # a byte a row: up to 256 texts
        return [dictionary.to_pylist()[c] for c in codes]

    for parts in ([["b", "a"], ["a", None, "c"], [], [None, "b"]], [["x", " "], [""]]):
        column = chunked(*parts)
        assert cells(column) == [v for chunk in parts for v in chunk]
        assert cells(column.cast(pa.string())) == cells(column)  # a text column: the same cells
    codes, dictionary = _codes(chunked(["b", "a"], ["a", None, "c"]))
    assert codes.tolist() == [0, 1, 1, 3, 2] and dictionary.to_pylist() == ["b", "a", "c", None]
    assert _codes(chunked(["mcc", "mcc"], ["mcc"]))[0] is None
    assert _codes(chunked([None, None], [None]))[0] is None
    assert _codes(chunked(["mcc", "mcc"], ["mcd"]))[0] is not None
    assert _codes(chunked(["mcc"], [None]))[0] is not None  # one text, and empty cells: two
    many = [f"{i}mg" for i in range(300)]
    codes, dictionary = _codes(chunked(many[:200], [*many[100:], None]))
    assert codes.dtype == np.uint16 and len(dictionary) == 301
    assert [dictionary.to_pylist()[c] for c in codes] == [*many[:200], *many[100:], None]


@pytest.mark.parametrize("dense", [True, False])
def test_grouping_by_a_table_of_combinations_equals_hashing_them(monkeypatch, dense):
    """The large files' grouping of dictionary codes (a table of every combination, or past
    its size, hashing the combined codes) numbers groups as group_rows does."""
    import numpy as np

    from compound.batch import group, plan_explain
    from compound.batch.plan_explain import group_rows

    hashed: list[int] = []
    monkeypatch.setattr(group, "group_rows",
                        lambda codes, n, by_hash=group.group_rows: hashed.append(n) or by_hash(codes, n))
    if not dense:
        monkeypatch.setattr(plan_explain, "DENSE_PER_ROW", 0)
        monkeypatch.setattr(plan_explain, "DENSE_MIN", 0)
    rng = np.random.default_rng(7)
    widths = [1, 5, 3, 7]
    n = 2000
    codes = [rng.integers(0, w, n).astype(np.int32) for w in widths]
    gid, first = group._group_codes(codes, widths, n)
    want_gid, want_first = group_rows(codes, n)
    assert gid.tolist() == want_gid.tolist()
    assert first.tolist() == want_first.tolist()
    assert hashed == ([] if dense else [n])
    assert group._group_codes([], [], 3)[0].tolist() == [0, 0, 0]


def test_a_large_files_columns_encoded_on_a_pool_give_the_same_groups(tmp_path, monkeypatch):
    """compound batch encodes a large file's planning columns on its threads: the same groups."""
    from concurrent.futures import ThreadPoolExecutor

    from compound.batch import group

    monkeypatch.setattr(group, "ENGINE_ROWS", 0)
    path = tmp_path / "rx.csv"
    text = EXAMPLE.read_text(encoding="utf-8")
    path.write_text(text + text.split("\n", 1)[1], encoding="utf-8")
    table = read_prescriptions(path).table
    alone = group_table(table)
    with ThreadPoolExecutor(max_workers=2) as pool:
        pooled = group_table(table, pool=pool)
    assert len(alone) < table.num_rows
    for name in ("gid", "first", "sizes"):
        assert getattr(pooled, name).tolist() == getattr(alone, name).tolist(), name


def test_empty_quoted_empty_and_whitespace_planning_cells_plan_alike_on_either_path(tmp_path, monkeypatch):
    """An empty cell, a quoted empty one ("") and a whitespace one are all empty to the planner.
    A large file groups by the cells as typed (whitespace apart from empty, which only splits a
    group); a small one as the planner reads them. Either way, the same files."""
    import csv

    from compound.batch import group
    from compound.batch.run import run_batch

    path = tmp_path / "rx.csv"
    path.write_text("form,strength,count,source,tablet_weight,fill_weight,rx\n"
                    "capsules,4.5mg,30,tablet,200mg,,RX1\n"
                    'capsules,4.5mg,30,tablet,200mg,"",RX2\n'
                    'capsules,4.5mg,30,tablet,200mg," ",RX3\n'
                    "capsules,4.5mg,30,tablet,200mg,100mg,RX4\n"
                    'capsules," ",30,tablet,200mg,100mg,RX5\n'
                    "capsules,,30,tablet,200mg,100mg,RX6\n", encoding="utf-8")
    read = read_prescriptions(path)
    assert group_table(read.table).gid.tolist() == [0, 0, 0, 1, 2, 2]
    run_batch(path, tmp_path / "small")
    monkeypatch.setattr(group, "ENGINE_ROWS", 0)
    assert group_table(read.table).gid.tolist() == [0, 0, 1, 2, 3, 4]
    run_batch(path, tmp_path / "large")
    for name in ("worksheet.csv", "errors.csv"):
        assert (tmp_path / "small" / name).read_bytes() == (tmp_path / "large" / name).read_bytes()
    with (tmp_path / "large" / "worksheet.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    planned = [{k: v for k, v in r.items() if k not in ("row", "rx")} for r in rows]
    assert planned[0] == planned[1] == planned[2] and planned[4] == planned[5]
    assert planned[3] != planned[0] and planned[4]["status"] == "error"
    assert plan_frame(read.frame)["status"].tolist() == [r["status"] for r in rows]
