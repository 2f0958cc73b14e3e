"""Output edge: neutralised cells, numbers without float noise, grouping, the rounding fast path."""

from __future__ import annotations

import itertools

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compound.batch.coded import Coded
from compound.batch.plan_explain import group_rows
from compound.batch.plan_texts import group_texts, run_texts
from compound.batch.write_cells import neutralise
from compound.batch.write_worksheet import LineBuilder, cell_text, layout, number_text, quote, with_affixes
from compound.core.rounding import number_texts, round_sig
from compound.spreadsheet import neutralise_cell


@pytest.mark.parametrize(("cell", "expected"), [
    ("=1+1", "'=1+1"), ("+44 20 7946", "'+44 20 7946"), ("-5mg", "'-5mg"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tcmd", "'\tcmd"), ("\rcmd", "'\rcmd"), ("-3", "-3"), ("+2.5", "+2.5"), ("RX1001", "RX1001"),
    ("a=b", "a=b"), ("", ""),
    # Issue 10: leading spaces or line feeds before a formula, a line feed or NUL first, and the
    # full-width forms Excel reads as = + - @.
    (" =1+1", "' =1+1"), ("\n=cmd", "'\n=cmd"), ("\ncmd", "'\ncmd"), ("\x00x", "'\x00x"),
    ("\u3000@x", "'\u3000@x"), ("\uff1d1+1", "'\uff1d1+1"), ("\uff0bx", "'\uff0bx"),
    ("\uff0d5", "'\uff0d5"), ("\uff20SUM(A1)", "'\uff20SUM(A1)"), ("  J. Doe", "  J. Doe"),
])
def test_neutralise_cell(cell, expected):
    assert neutralise_cell(cell) == expected
    assert neutralise(pa.array([cell, None])).to_pylist() == [expected, None]


def test_neutralise_a_dictionary_array():
    arr = pa.DictionaryArray.from_arrays(pa.array([0, 1, 0]), pa.array(["=x", "y"]))
    assert neutralise(arr).dictionary.to_pylist() == ["'=x", "y"]


@pytest.mark.parametrize(("value", "text"), [
    (139.5, "139.5"), (3100.0, "3100"), (0.3, "0.3"), (1.234e-7, "0.0000001234"), (float("nan"), ""),
    (-0.5, "-0.5"), (12345678.0, "12350000"),
    # Between 1e15 and 1e16 repr writes "4253000000000000.0": the text never has a trailing zero.
    (4252508561613677.5, "4253000000000000"),
    # Beyond 1e±22 the rounded float prints with noise (5.998999999999999e-255); the text never does.
    (5.998766972429661e-255, "0." + "0" * 254 + "5999"), (1.2345e30, "1234" + "0" * 27),
])
def test_number_text_has_no_noise_no_trailing_zero_no_exponent(value, text):
    assert number_text(value) == text
    assert number_texts([value]).tolist() == [text]


def test_rounded_sums_print_without_float_noise():
    assert number_text(float(round_sig(0.1 + 0.2))) == "0.3"
    assert number_text(31.0, count=True) == "31"
    assert number_text(12345678.0, count=True) == "12345678"  # a count is whole, not rounded


def test_quote_doubles_quotes_and_neutralises():
    assert quote('say "hi"') == '"say ""hi"""'
    assert quote("=cmd") == "\"'=cmd\""
    assert quote("=cmd", spreadsheet=False) == '"=cmd"'
    assert quote(None) == ""


def test_lines_join_group_text_and_row_fields():
    names = ["row", "rx", "amount_mg", "count", "route"]
    lay = layout(names, {"row", "rx"})
    per_group = {"amount_mg": np.array([139.5, np.nan]), "count": np.array([31.0, np.nan]),
                 "route": Coded.of(["weighed"], np.array([0, -1]))}
    kinds = {"amount_mg": "amount", "count": "count", "route": "text"}
    runs = run_texts(lay, per_group, kinds, 2)
    cells = {"row": pa.array(["1", "2", "3"]), "rx": cell_text(pa.array(["A", None, 'q"x']))}
    builder = LineBuilder(lay, runs, cells, np.array([0, 0, 1]))
    assert bytes(builder.block(0, 3)).decode() == ('1,"A",139.5,31,"weighed"\n'
                                                   '2,,139.5,31,"weighed"\n'
                                                   '3,"q""x",,,\n')
    assert bytes(builder.block(2, 3)).decode() == '3,"q""x",,,\n'

    assert builder._joints[0] is None  # nothing goes before the row number: no empty piece a row


def test_a_builder_given_no_row_numbers_makes_each_blocks_own():
    """worksheet_cells no longer makes a file's row numbers at once (~23 MB a million rows):
    each block's are made with it, the same text from 1."""
    from compound.batch.spread import Rows, worksheet_cells

    names = ["row", "rx", "amount_mg"]
    lay = layout(names, {"row", "rx"})
    runs = run_texts(lay, {"amount_mg": np.array([139.5, 2.0])}, {"amount_mg": "amount"}, 2)
    gid = np.array([0, 1] * 6)
    rx = cell_text(pa.array([f"R{i}" for i in range(12)]))
    given = LineBuilder(lay, list(runs), {"row": pa.array([str(i) for i in range(1, 13)]), "rx": rx}, gid)
    made = LineBuilder(lay, list(runs), {"rx": rx}, gid)
    for start, stop in [(0, 12), (0, 5), (5, 12), (9, 10), (11, 12), (4, 4)]:
        assert bytes(made.block(start, stop)) == bytes(given.block(start, stop))
    assert bytes(made.block(9, 11)).decode() == '10,"R9",2\n11,"R10",139.5\n'
    table = pa.table({"form": pa.array(["capsules"] * 3, pa.large_string()),
                      "rx": pa.array(["A", "B", "C"], pa.large_string())})
    assert "row" not in worksheet_cells(Rows(table=table))


@pytest.mark.parametrize(("start", "stop"), [(0, 16384), (9990, 10010), (9998, 30000), (123456, 123460),
                                           (999_990, 1_000_010), (99_999_990, 100_000_020),
                                           (10**8 - 10**4 - 5, 10**8 + 3 * 10**4), (10**11 - 5, 10**11 + 5),
                                           (10**12 - 3, 10**12 + 3), (5, 5)])
def test_a_blocks_row_numbers_are_their_decimal_text(start, stop):
    """The row numbers' views, written a word at a time from the 4-digit table: the text of each
    number, across the 10,000s, the powers of ten and the 12 digits a view holds inline."""
    from compound.batch.write_worksheet import _row_numbers

    views, buffers = _row_numbers(start, stop)
    texts = pa.Array.from_buffers(pa.string_view(), stop - start, [None, pa.py_buffer(views), *buffers])
    assert texts.cast(pa.string()).to_pylist() == [str(i) for i in range(start + 1, stop + 1)]


def test_row_numbers_made_for_each_block_across_ten_thousand_are_those_given():
    names = ["row", "rx", "amount_mg"]
    lay = layout(names, {"row", "rx"})
    runs = run_texts(lay, {"amount_mg": np.array([139.5, 2.0])}, {"amount_mg": "amount"}, 2)
    n = 30_000
    gid = np.arange(n) % 2
    rx = cell_text(pa.array([f"R{i}" for i in range(n)]))
    given = LineBuilder(lay, list(runs), {"row": pa.array([str(i) for i in range(1, n + 1)]), "rx": rx}, gid)
    made = LineBuilder(lay, list(runs), {"rx": rx}, gid)
    for start, stop in [(0, n), (9_000, 25_384), (16_384, n), (19_999, 20_001)]:
        assert bytes(made.block(start, stop)) == bytes(given.block(start, stop))


def test_looking_for_risky_first_bytes_and_quotes_holds_a_few_hundred_kb_not_a_columns_worth():
    """A million rows' look made ~11 MB of temporaries a column (fresh pages: time on the VMs);
    a column is now looked at in slices, wherever in it the risky cell or the quote is."""
    import tracemalloc

    from compound.batch import write_worksheet as ww

    n, scan_rows, scan_bytes = 400_000, getattr(ww, "SCAN_ROWS", 1 << 15), getattr(ww, "SCAN_BYTES", 1 << 18)
    for special, at in [(None, 0), ("=x", n - 1), ('a"b', n - 2), ("+x", scan_rows + 3)]:
        cells = [f"RX{i:06d}" for i in range(n)]
        if special is not None:
            cells[at] = special
        column = pa.chunked_array([pa.array(cells, pa.large_string())])
        tracemalloc.start()
        try:
            out = cell_text(column)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 2 * scan_bytes  # the column's text is 3.2 MB, its offsets 3.2 MB more
        expected = {None: None, "=x": "'=x", 'a"b': 'a""b', "+x": "'+x"}[special]
        assert out[at].as_py() == (expected if special is not None else "RX000000")


@pytest.mark.parametrize("rx", [["A", "B"], ["A", None], [None, None]])
def test_a_line_starting_with_a_text_cell_opens_its_quote_only_where_it_is_given(rx):
    lay = layout(["rx", "amount_mg"], {"rx"})
    runs = run_texts(lay, {"amount_mg": np.array([139.5])}, {"amount_mg": "amount"}, 1)
    cells = {"rx": cell_text(pa.array(rx, pa.string()))}
    builder = LineBuilder(lay, runs, cells, np.zeros(2, dtype=np.int64))
    assert bytes(builder.block(0, 2)).decode() == "".join(f"{quote(r)},139.5\n" for r in rx)


def test_lines_quote_each_row_cell_by_whether_it_and_its_neighbours_are_empty():
    """Adjacent row cells, a run between them, and cells after the last run; formulas neutralised."""
    names = ["row", "form", "rx", "patient", "status", "note", "x_ward"]
    lay = layout(names, {"row", "rx", "patient", "note", "x_ward"})
    per_group = {"form": Coded.of(["capsules"], np.array([0])), "status": Coded.of(["ok"], np.array([0]))}
    runs = run_texts(lay, per_group, dict.fromkeys(per_group, "text"), 1)
    cells = {"row": pa.array(["1", "2", "3", "4"]),
             "rx": cell_text(pa.array(["R1", None, "R3", None])),
             "patient": cell_text(pa.array(["P", "=cmd", None, None])),
             "note": cell_text(pa.array([None, "-3", "n", None])),
             "x_ward": cell_text(pa.array(["W", None, "+x", None]))}
    builder = LineBuilder(lay, runs, cells, np.zeros(4, dtype=np.int64))
    assert bytes(builder.block(0, 4)).decode() == ('1,"capsules","R1","P","ok",,"W"\n'
                                                   '2,"capsules",,"\'=cmd","ok","-3",\n'
                                                   '3,"capsules","R3",,"ok","n","\'+x"\n'
                                                   '4,"capsules",,,"ok",,\n')


@pytest.mark.parametrize(("rx", "patient", "note"), [
    (["R1", "R2", "R3"], ["P", "Q", "=x"], ["n", "m", "o"]),  # every cell given: every run joined
    ([None, None, None], ["P", "Q", "R"], [None, None, None]),  # never given: joined too
    (["R1", None, "R3"], ["P", "Q", "R"], ["n", None, None]),  # sometimes: those runs not joined
])
def test_runs_joined_with_their_neighbours_quotes_write_the_same_lines(rx, patient, note):
    """A run whose neighbouring cells are given in every row (or in none) is planned with their
    quotes and separators around it: the lines are the same as when each block adds them."""
    names = ["row", "form", "rx", "amount_mg", "patient", "count", "note", "status", "route"]
    per_row = {"row", "rx", "patient", "note"}
    per_group = {"form": Coded.of(["capsules"], np.array([0, 0])), "amount_mg": np.array([139.5, np.nan]),
                 "count": np.array([31.0, 4.0]), "status": Coded.of(["ok"], np.array([0, 0])),
                 "route": Coded.of(["weighed"], np.array([0, -1]))}
    kinds = {"form": "text", "amount_mg": "amount", "count": "count", "status": "text", "route": "text"}
    rows = {"row": pa.array(["1", "2", "3"]), "rx": pa.array(rx, pa.string()),
            "patient": pa.array(patient, pa.string()), "note": pa.array(note, pa.string())}
    gid = np.array([1, 0, 1])
    lines = []
    nulls = {n: (rows[n].null_count, 3) for n in per_row - {"row"}}
    for lay in (layout(names, per_row), with_affixes(layout(names, per_row), nulls)):
        cells = {n: cell_text(v) if n != "row" else v for n, v in rows.items()}
        builder = LineBuilder(lay, run_texts(lay, per_group, kinds, 2), cells, gid)
        lines.append(bytes(builder.block(0, 3)).decode())
        joined = [j is not None and j.joined for j in builder._joints]
    assert lines[0] == lines[1] == "".join(
        f'{i + 1},"capsules",{quote(rx[i])},{("139.5", "")[g]},{quote(patient[i])},{(31, 4)[g]},'
        f'{quote(note[i])},"ok",{(quote("weighed"), "")[g]}\n' for i, g in enumerate(gid.tolist()))
    rx_, patient_, note_ = (len({v is None for v in c}) == 1 for c in (rx, patient, note))  # fixed?
    assert joined == [False, rx_, rx_ and patient_, patient_ and note_, note_]


@pytest.mark.parametrize(("cuts", "step"), [((0, 1000, 2000, 3000), 1000), ((0, 1100, 2200, 3000), 1100),
                                             ((0, 1200, 2000, 3000), 0), ((0, 1000, 2000, 2500, 3000), 0)])
@pytest.mark.parametrize("joined", [False, True])
def test_blocks_of_rows_with_many_groups_in_several_chunks_take_each_rows_text(joined, cuts, step):
    """Many groups beside a block's rows (a file of distinct prescriptions), their run texts in
    chunks of one size or not: each row's text is its group's, whatever its chunk."""
    rng = np.random.default_rng(7)
    groups, n = 3000, 5000
    gid = rng.integers(0, groups, n)
    rx = [f"R{i}" for i in range(n)]
    note = [None if joined or rng.random() < 0.4 else f"n{i}" for i in range(n)]  # fixed or mixed
    lay = layout(["row", "rx", "amount_mg", "count", "note", "route"], {"row", "rx", "note"})
    if joined:
        lay = with_affixes(lay, {"rx": (0, n), "note": (n, n)})
    amount, count = np.arange(groups) % 997 + 0.5, np.arange(groups) % 13
    route = Coded.of(["weighed", "=x"], np.arange(groups) % 3 - 1)
    parts = [run_texts(lay, {"amount_mg": amount[b:e], "count": count[b:e].astype(float),
                             "route": Coded(route.codes[b:e], route.values)},
                       {"amount_mg": "amount", "count": "count", "route": "text"}, e - b)
             for b, e in itertools.pairwise(cuts)]  # chunks as plan_groups plans them, or not
    runs = [pa.chunked_array([p[j] for p in parts]) if parts[0][j] is not None else None
            for j in range(len(lay.runs))]
    cells = {"row": pa.array([str(i + 1) for i in range(n)]), "rx": cell_text(pa.array(rx)),
             "note": cell_text(pa.array(note, pa.string()))}
    builder = LineBuilder(lay, runs, cells, gid)
    assert [j is not None and j.joined for j in builder._joints] == [False, False, joined, joined]
    route_text = ['', '"weighed"', "\"'=x\""]
    expected = "".join(f"{i + 1},{quote(rx[i])},{amount[g]},{count[g]},{quote(note[i])},{route_text[g % 3]}\n"
                       for i, g in enumerate(gid.tolist()))
    blocks = "".join(bytes(builder.block(a, min(a + 300, n))).decode() for a in range(0, n, 300))
    assert blocks == expected
    assert bytes(builder.block(0, n)).decode() == expected


@pytest.mark.parametrize("sometimes", [False, True])
def test_a_block_copies_each_text_once_from_where_it_was_made(monkeypatch, sometimes):
    """Rows of many groups numbered as met (a file of distinct prescriptions), run texts planned in
    blocks: a row's pieces are string views into the run texts and cells as they were made, and a
    block of lines copies their bytes once (no ``take``: it copied the pieces concatenated, and a
    run's texts taken first). Long cells (not inline in a view), in several chunks; a patient
    always given (the runs joined with their quotes) or sometimes (a prefix and suffix a row)."""
    import pyarrow.compute as pc

    rng = np.random.default_rng(9)
    n, step = 4000, 500
    gid, met = np.empty(n, dtype=np.int64), 0
    for i in range(n):
        if met == 0 or rng.random() < 0.5:
            gid[i], met = met, met + 1
        else:
            gid[i] = rng.integers(0, met)
    lay = with_affixes(layout(["row", "rx", "amount_mg", "patient", "count"], {"row", "rx", "patient"}),
                       {"rx": (0, n), "patient": (int(sometimes), n)})
    amount, count = np.arange(met) % 997 + 0.5, (np.arange(met) % 13).astype(float)
    runs = [[] if r else None for r in lay.runs]
    for b in range(0, met, step):
        texts = run_texts(lay, {"amount_mg": amount[b:b + step], "count": count[b:b + step]},
                          {"amount_mg": "amount", "count": "count"}, min(step, met - b))
        for j, t in enumerate(texts):
            if t is not None:
                runs[j].append(t)
    rx = [f"RX{i:05d}-a-long-prescription-number" for i in range(n)]
    patient = [None if sometimes and i % 7 == 3 else f"Patient {i} of ward {i % 5}, a long name"
               for i in range(n)]
    chunked = pa.chunked_array([pa.array(patient[a:a + 1234], pa.large_string()) for a in range(0, n, 1234)])
    cells = {"rx": cell_text(pa.chunked_array([rx[:999], rx[999:]])), "patient": cell_text(chunked)}
    builder = LineBuilder(lay, runs, cells, gid)
    assert [j is not None and j.joined for j in builder._joints] == [False, False] + [not sometimes] * 2

    def no_take(*args: object, **kwargs: object) -> None:
        raise AssertionError("a block took its pieces")

    monkeypatch.setattr(pc, "take", no_take)
    expected = "".join(f"{i + 1},{quote(rx[i])},{amount[g]},{quote(patient[i])},{int(count[g])}\n"
                       for i, g in enumerate(gid.tolist()))
    assert "".join(bytes(builder.block(a, min(a + 300, n))).decode() for a in range(0, n, 300)) == expected
    assert bytes(builder.block(0, n)).decode() == expected


def test_lines_of_many_groups_with_cells_sometimes_empty_equal_the_text_written_by_hand():
    """More (group, empty-cell) pairs than rows: the joint table keeps only the pairs that occur."""
    rng = np.random.default_rng(1)
    n = 6000
    gid = np.arange(n)[::-1].copy()  # every row its own group
    rx = [None if rng.random() < 0.5 else f"R{i}" for i in range(n)]
    note = [None if rng.random() < 0.3 else f'n"{i}' for i in range(n)]
    lay = layout(["row", "rx", "amount_mg", "note"], {"row", "rx", "note"})
    runs = run_texts(lay, {"amount_mg": np.arange(n) % 1000 + 0.5}, {"amount_mg": "amount"}, n)
    cells = {"row": pa.array([str(i + 1) for i in range(n)]), "rx": cell_text(pa.array(rx)),
             "note": cell_text(pa.array(note))}
    builder = LineBuilder(lay, runs, cells, gid)
    expected = "".join(f"{i + 1},{quote(rx[i])},{gid[i] % 1000 + 0.5},{quote(note[i])}\n" for i in range(n))
    assert bytes(builder.block(0, n)).decode() == expected
    assert bytes(builder.block(10, 20)).decode() == "".join(expected.splitlines(keepends=True)[10:20])


def test_group_rows_groups_identical_code_tuples_in_order_of_appearance():
    a = np.array([0, 1, 0, -1, 1, 0])
    b = np.array([5, 5, 5, 5, 5, 6])
    inverse, first = group_rows([a, b], 6)
    assert inverse.tolist() == [0, 1, 0, 2, 1, 3]
    assert first.tolist() == [0, 1, 3, 5]


def test_group_rows_survives_many_wide_columns():
    rng = np.random.default_rng(1)
    cols = [rng.integers(-1, 5000, 1000) for _ in range(12)]
    inverse, first = group_rows(cols, 1000)
    keys = list(zip(*cols, strict=True))
    for i in range(1000):
        assert keys[first[inverse[i]]] == keys[i]
    assert len(first) == len(set(keys))


def test_coded_put_and_blank():
    col = Coded.empty(4)
    col.put(np.array([1, 3]), Coded.of(["x", "y"], np.array([1, 0])))
    assert col.to_objects().tolist() == [None, "y", None, "x"]
    col.blank(np.array([False, True, False, False]))
    assert col.to_objects().tolist() == [None, None, None, "x"]


@settings(max_examples=500, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True, width=64))
def test_round_sig_scalar_fast_path_gives_the_array_bits(x):
    """The scalar path (plans, findings) and the column path (batch) must print the same number."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        scalar = round_sig(x)
        column = round_sig(np.array([x]))[0]
    assert scalar.shape == ()
    assert np.array_equal(scalar, column, equal_nan=True)
    assert scalar.tobytes() == np.float64(column).tobytes() or (np.isnan(scalar) and np.isnan(column))


def test_round_sig_scalar_fast_path_on_a_million_values():
    rng = np.random.default_rng(7)
    values = rng.uniform(-10, 10, 200_000) * 10.0 ** rng.integers(-12, 12, 200_000)
    column = round_sig(values)
    scalar = np.array([round_sig(float(v)) for v in values])
    assert np.array_equal(column.view(np.int64), scalar.view(np.int64))


_FLOATS = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(
    [0.0, -0.0, 0.5, 139.5, 1e-320, 5e-324, 2.0**62, 2.0**63, 1e300, float("nan")]))


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # round_sig of a subnormal: NaN, as stated
@settings(max_examples=300, deadline=None)
@given(st.lists(_FLOATS, max_size=40), st.booleans(), st.integers(0, 3))
def test_a_columns_group_texts_equal_number_text_of_each_value(values, count, repeat):
    """Every value printed by the scalar rule, whether the column is constant (joined as one
    scalar), all empty, or mixed (hashed by its bits: NaNs of any sign or payload are one)."""
    column = np.array(values * (repeat + 1) or [np.nan], dtype=np.float64)
    column[::3] = np.where(np.isnan(column[::3]), -np.nan, column[::3])  # a NaN with its sign bit set
    if count:
        column[np.isinf(column)] = 7.0  # an infinite count has no text (number_text raises)
    kind = "count" if count else "amount"
    got = group_texts(column, kind, column.size, True)
    expected = [number_text(float(v), count=count) for v in column]
    if got.pick is None:
        assert len(set(expected)) == 1
    assert got.texts(column.size) == expected


def test_a_count_columns_small_whole_numbers_are_printed_from_a_table_of_them():
    """Counts from 0 to a few hundred (some empty, some not whole, -0.0) are printed from a
    table of the whole numbers up to the largest: each group's text is number_text's."""
    rng = np.random.default_rng(3)
    column = rng.integers(0, 300, 5000).astype(np.float64)
    column[::7] = np.nan
    column[1::11] += 0.75
    column[2::13] = -0.0
    got = group_texts(column, "count", column.size, True)
    assert got.texts(column.size) == [number_text(float(v), count=True) for v in column]
    column[6] = 3000.0  # beyond the first table (0 … 1023): the next power of two's
    got = group_texts(column, "count", column.size, True)
    assert len(got.table) == 4097
    assert got.texts(column.size) == [number_text(float(v), count=True) for v in column]
    column[5] = -3.0  # a negative count: hashed, printed the same way
    got = group_texts(column, "count", column.size, True)
    assert got.texts(column.size) == [number_text(float(v), count=True) for v in column]


def _amounts(rng, n):
    """Amounts of every magnitude the table covers and beyond, with the cases rounding is about."""
    values = rng.uniform(1, 10, n) * 10.0 ** rng.integers(-12, 15, n)
    values[::5] = np.round(values[::5], 2)  # prescriptions' hundredths, and their products
    values[1::5] = rng.integers(1, 10_000, values[1::5].size) + 0.5  # ties at the 4th figure
    values[2::17] = 10.0 ** rng.integers(-9, 13, values[2::17].size)  # powers of ten
    values[3::17] = np.nextafter(10.0 ** rng.integers(-9, 13, values[3::17].size), 0)  # just below
    values[4::17] = 9999.5 * 10.0 ** rng.integers(-12, 9, values[4::17].size)  # rounds up a figure
    values[5::23] = np.nan
    values[6::23] = 0.0
    values[7::29] = -0.0
    return values


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # round_sig of a subnormal: NaN, as stated
@pytest.mark.parametrize("extra", [None, -2.5, np.inf, 5e-324, 1e300])
def test_a_large_amount_columns_texts_from_the_table_equal_number_text_of_each_value(extra):
    """A block's amounts printed from the run's table of rounded decimals (or, with a negative,
    infinite, subnormal or huge value among them, a distinct value at a time): every text is
    the scalar rule's, and that of the value round_sig rounds it to; each table entry is its
    rounded decimal's."""
    from compound.batch.plan_texts import DECIMALS, DECIMALS_FROM

    rng = np.random.default_rng(5)
    values = _amounts(rng, 3 * DECIMALS_FROM)
    in_range = np.isnan(values) | (values == 0) | ((values > 2e-9) & (values < 9e11))
    for column in (values[in_range], values):
        if extra is not None:
            column = np.append(column, extra)
        got = group_texts(column, "amount", column.size, True)
        assert got.texts(column.size) == [number_text(float(v)) for v in column]
        assert got.texts(column.size) == number_texts(round_sig(column)).tolist()
    assert DECIMALS.texts(values[in_range], np.isnan(values[in_range])) is not None  # the table's path
    assert DECIMALS.texts(values, np.isnan(values)) is None  # beyond it: hashed
    slots, table, after_comma = DECIMALS._state
    for d, slot in slots.items():
        kept = np.arange(DECIMALS.size, dtype=np.float64)
        rounded = kept / 10.0**d if d >= 0 else kept * 10.0**-d
        texts = table.slice(slot * DECIMALS.size, DECIMALS.size).to_pylist()
        assert after_comma.slice(slot * DECIMALS.size, DECIMALS.size).to_pylist() == ["," + t for t in texts]
        sample = rng.integers(1000, DECIMALS.size, 300)
        assert [texts[k] for k in sample] == [number_text(float(rounded[k])) for k in sample]


@pytest.mark.parametrize(("low", "high", "blanks"), [(1, 10, 0.0), (1, 10, 0.8), (0.001, 0.01, 0.3),
                                                     (1e4, 1e5, 0.0), (1e4, 1e5, 0.5), (1, 1, 1.0),
                                                     (0.5, 5e6, 0.0), (0.5, 5e6, 0.6)])
def test_a_columns_amounts_of_one_decade_or_many_some_empty_or_zero_are_printed_from_the_table(
        low, high, blanks):
    """The table's path as a block's columns take it: amounts of one decade (one scale), of
    several (above and below 10**(sig − 1)), with empty and zero cells among them, or only those."""
    from compound.batch.plan_texts import DECIMALS, DECIMALS_FROM

    rng = np.random.default_rng(11)
    column = rng.uniform(low, high, DECIMALS_FROM)
    column[::7] = np.round(column[::7], 2)
    blank = rng.random(column.size) < blanks
    column[blank] = np.where(rng.random(int(blank.sum())) < 0.7, np.nan, 0.0)
    picked = DECIMALS.texts(column, np.isnan(column))
    assert picked is not None
    texts = picked.table.take(picked.pick).to_pylist()
    assert texts == [number_text(float(v)) for v in column]
    assert group_texts(column, "amount", column.size, True).texts(column.size) == texts


@pytest.mark.parametrize("codes", [[0, 0, 0], [-1, -1], [1, 0, -1, 1]])
def test_a_text_columns_group_texts_quote_each_value_constant_or_not(codes):
    col = Coded(np.array(codes), np.array(["=x", 'a"b'], dtype=object))
    got = group_texts(col, "text", len(codes), True)
    expected = [quote(col.values[c]) if c >= 0 else "" for c in codes]
    assert (got.pick is None) == (len(set(codes)) == 1)
    assert got.texts(len(codes)) == expected


def test_a_run_of_constant_columns_is_one_text_for_every_group():
    lay = layout(["row", "a_mg", "b", "c"], {"row"})
    runs = run_texts(lay, {"a_mg": np.full(3, 2.5), "b": np.full(3, np.nan),
                           "c": Coded.of(["x"], np.zeros(3, dtype=np.int64))},
                     {"a_mg": "amount", "b": "count", "c": "text"}, 3)
    assert runs[0] is None and runs[1].to_pylist() == ['2.5,,"x"'] * 3


def test_a_run_mixing_constant_and_varying_columns_joins_them_in_order():
    """Neighbouring constants are joined before the run: the same text as column by column."""
    names = ["row", "a_mg", "b", "c_mg", "d", "e", "f_mg", "g", "h"]
    n = 4
    columns = {"a_mg": np.full(n, 2.5), "b": np.full(n, np.nan), "c_mg": np.arange(n) + 0.25,
               "d": Coded.of(["x"], np.zeros(n, dtype=np.int64)), "e": np.full(n, 3.0),
               "f_mg": np.array([1.0, np.nan, 1.0, 7.0]), "g": Coded.of(["y"], np.full(n, -1)),
               "h": np.full(n, 9.0)}
    kinds = {"a_mg": "amount", "b": "count", "c_mg": "amount", "d": "text", "e": "count",
             "f_mg": "amount", "g": "text", "h": "count"}
    runs = run_texts(layout(names, {"row"}), columns, kinds, n)
    f = ["1", "", "1", "7"]
    assert runs[1].to_pylist() == [f'2.5,,{i + 0.25},"x",3,{f[i]},,9' for i in range(n)]


@pytest.mark.parametrize("values", [3, 4000])
@pytest.mark.parametrize("groups", [0, 1, 5000])
def test_a_runs_text_columns_kept_as_a_dictionary_give_each_group_the_same_text(groups, values):
    """A file of many groups keeps a run's text columns (with the affixes beside them) as one
    dictionary a segment: each distinct combination joined once, numbered by a table of the
    combinations or, where the tables are large (4000 texts each), by Arrow's hash. Each group's
    text is the one joined column by column."""
    import pyarrow as pa

    rng = np.random.default_rng(5)
    names = ["row", "form", "status", "rx", "a_mg", "route", "b", "note", "c", "d"]
    lay = with_affixes(layout(names, {"row", "rx"}), {"rx": (0, 1)})
    words = np.array([f"word {i}" for i in range(values)], dtype=object)
    columns = {"form": Coded(rng.integers(0, 2, groups), np.array(["capsules", "=x"], dtype=object)),
               "status": Coded(rng.integers(-1, 2, groups), np.array(["ok", "warning"], dtype=object)),
               "a_mg": rng.uniform(0.1, 500, groups), "route": Coded(rng.integers(-1, values, groups), words),
               "b": np.full(groups, 3.0), "note": Coded(np.zeros(groups, dtype=np.int64), words),
               "c": Coded(rng.integers(-1, values, groups), words), "d": rng.integers(0, 9, groups) * 1.0}
    kinds = {"form": "text", "status": "text", "a_mg": "amount", "route": "text", "b": "count",
             "note": "text", "c": "text", "d": "count"}
    plain = run_texts(lay, columns, kinds, groups)
    kept = run_texts(lay, columns, kinds, groups, dictionaries=True)
    assert plain[0] is None and kept[0] is None
    for j in (1, 2):
        assert kept[j].to_pylist() == plain[j].to_pylist()
    segments = [[pa.types.is_dictionary(s.type) for s in kept[j].segments] for j in (1, 2)]
    assert segments == [[True], [False, True, False, True, False]]  # text columns together
    pairs = {(columns["note"].codes[g], columns["c"].codes[g]) for g in range(groups)}
    assert len(kept[2].segments[3].dictionary) == len(pairs)  # each distinct pair once
    if groups:
        assert plain[1].to_pylist()[0].startswith(",") and plain[1].to_pylist()[0].endswith(',"')


@pytest.mark.parametrize("groups", [0, 1, 5000])
def test_a_runs_text_is_its_columns_texts_joined_by_commas(groups):
    """One take from the columns' tables (the decimals' table shared by two amount columns, one
    of them first) gives each group's texts end to end, as joining them by hand does."""
    rng = np.random.default_rng(11)
    a = rng.uniform(0.1, 500, groups)
    b = np.where(rng.random(groups) < 0.2, np.nan, rng.uniform(1, 9000, groups))
    c = Coded.of(["weighed", 'say "x"'], rng.integers(-1, 2, groups))
    d = rng.integers(0, 90, groups).astype(np.float64)
    columns = {"a_mg": a, "b": Coded.of(["k"], np.zeros(groups, dtype=np.int64)), "c_mg": b,
               "d": np.full(groups, 7.0), "e": c, "f": d}
    kinds = {"a_mg": "amount", "b": "text", "c_mg": "amount", "d": "count", "e": "text", "f": "count"}
    runs = run_texts(layout(["row", *columns], {"row"}), columns, kinds, groups)
    expected = [",".join([number_text(float(a[g])), '"k"', number_text(float(b[g])), "7",
                          quote(c.values[c.codes[g]]) if c.codes[g] >= 0 else "",
                          number_text(float(d[g]), count=True)]) for g in range(groups)]
    assert runs[0] is None and runs[1].to_pylist() == expected
