"""Findings a column at a time: the same findings as one plan at a time, each message built once."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from compound.batch.plan import plan_block
from compound.core.findings import ColumnRule, Finding, FindingColumns, Severity
from compound.errors import InputError
from compound.planning.capsules import plan_capsules
from test_batch_equality import SETTINGS, capsule_rows, frame_of, kwargs_of


def _columns(made: list[tuple[str, float]]) -> FindingColumns:
    """Four rows: an info finding whose message names an amount, and a warning on two rows."""
    amount = np.array([1.0, 2.0, 1.0, 2.0])

    def info(mg: float) -> Finding:
        made.append(("INFO_AMOUNT", mg))
        return Finding("INFO_AMOUNT", Severity.INFO, f"{mg} mg")

    def warning(limit: float) -> Finding:
        made.append(("WARN_LIMIT", limit))
        return Finding("WARN_LIMIT", Severity.WARNING, f"over {limit}")

    return FindingColumns(4, [
        ColumnRule("INFO_AMOUNT", np.ones(4, dtype=bool), np.zeros(4, dtype=np.int64), {"mg": amount}, info),
        ColumnRule("WARN_LIMIT", np.array([False, True, True, False]), np.ones(4, dtype=np.int64),
                   {"limit": np.array([0.0, 5.0, 6.0, 0.0])}, warning),
    ])


def test_rows_list_their_findings_in_rule_order_and_each_message_is_built_once():
    made: list[tuple[str, float]] = []
    found = _columns(made)
    assert made == []  # nothing is built until asked for
    assert [f.message for f in found.row(1)] == ["2.0 mg", "over 5.0"]
    assert [f.message for f in found.row(3)] == ["2.0 mg"]
    assert made == [("INFO_AMOUNT", 2.0), ("WARN_LIMIT", 5.0)]
    assert found.worst().tolist() == [0, 1, 1, 0]


def test_rows_at_once_are_the_rows_one_at_a_time_built_once():
    made: list[tuple[str, float]] = []
    rules = _columns(made).rules
    # A broadcast severity (one for every row) and a per-row one agree on the worst.
    found = FindingColumns(4, [*rules, ColumnRule("REFUSE_LAST", np.array([False, False, False, True]),
                                  np.broadcast_to(np.int64(2), (4,)), {}, lambda: Finding(
                                      "REFUSE_LAST", Severity.REFUSAL, "no"))])
    assert found.worst().tolist() == [0, 1, 1, 2]
    at_once = found.rows([3, 1, 2, 1])
    assert [[f.message for f in row] for row in at_once] == [
        ["2.0 mg", "no"], ["2.0 mg", "over 5.0"], ["1.0 mg", "over 6.0"], ["2.0 mg", "over 5.0"]]
    assert at_once == [found.row(i) for i in (3, 1, 2, 1)]
    assert sorted(made) == [("INFO_AMOUNT", 1.0), ("INFO_AMOUNT", 2.0), ("WARN_LIMIT", 5.0),
                            ("WARN_LIMIT", 6.0)]  # each distinct message once


def test_identity_tells_rows_apart_by_codes_and_shown_messages_only():
    found = _columns([])
    ids = np.stack(found.identity(), axis=1)
    same = [[bool((ids[i] == ids[j]).all()) for j in range(4)] for i in range(4)]
    # Rows 0 and 3 differ only in an info message (not shown on a worksheet): alike.
    assert same[0][3] and not same[0][1]
    # Rows 1 and 2 both warn, with different messages: not alike.
    assert not same[1][2]


def test_a_rule_whose_code_varies_keeps_its_codes_apart():
    found = FindingColumns(2, [ColumnRule(
        "BAND", np.ones(2, dtype=bool), np.zeros(2, dtype=np.int64), {"band": np.array([0, 1])},
        lambda band: Finding(f"BAND_{band}", Severity.INFO, "m"), code_id=np.array([0, 1]))])
    ids = np.stack(found.identity(), axis=1)
    assert not (ids[0] == ids[1]).all()


@SETTINGS
@given(st.lists(capsule_rows(), min_size=1, max_size=12))
def test_every_row_of_a_block_has_the_findings_of_its_own_plan(rows):
    """Each row's findings (messages included, as ``--jsonl`` prints them) and worksheet text."""
    planned = plan_block(frame_of(rows))
    records = list(planned.records())
    texts = planned.frame()["findings"].tolist()
    for i, row in enumerate(rows):
        try:
            single = plan_capsules(row["strength"], row["count"],
                                   **kwargs_of(row, ("form", "strength", "count")))
        except InputError:
            assert records[i]["status"] == "error"
            continue
        expected = single.to_dict()["findings"]
        assert records[i]["findings"] == expected, row
        shown = " | ".join(f"{'REFUSED' if f['severity'] == 'refusal' else 'WARNING'} {f['code']}: "
                           f"{f['message']}" for f in expected if f["severity"] != "info")
        assert (texts[i] if isinstance(texts[i], str) else "") == shown, row


def test_identity_is_the_same_whether_a_rule_has_one_severity_or_one_per_row():
    rules = _columns([]).rules
    broadcast = [ColumnRule(r.code, r.present, np.broadcast_to(r.severity[:1], (4,)), r.keys, r.make)
                 for r in rules]
    ids = np.stack(FindingColumns(4, rules).identity(), axis=1)
    fast = np.stack(FindingColumns(4, broadcast).identity(), axis=1)
    assert _alike(fast) == _alike(ids)
    assert FindingColumns(4, broadcast).worst().tolist() == [0, 1, 1, 0]


def _alike(ids: np.ndarray) -> list[list[bool]]:
    """Which rows agree on every identity column."""
    return [[bool((a == b).all()) for b in ids] for a in ids]


def test_identity_holds_the_presence_of_many_rules_of_one_severity():
    # 70 rules of one code and severity each (more than one column of presence bits holds), each
    # present on the rows whose number has its bit: rows are alike exactly when they are equal.
    rng = np.random.default_rng(7)
    n = 40
    row_bits = rng.integers(0, 4, size=(n, 70)) == 0
    row_bits[5], row_bits[9] = row_bits[3], row_bits[3]  # three rows with the same findings
    row_bits[11] = row_bits[3]
    row_bits[11, 69] = ~row_bits[11, 69]  # one with every finding but the last alike
    row_bits[13] = row_bits[3]
    row_bits[13, 0] = ~row_bits[13, 0]  # and one with every finding but the first
    rules = [ColumnRule(f"R{r}", row_bits[:, r].copy(), np.broadcast_to(np.int64(r % 3), (n,)), {},
                        lambda: Finding("R", Severity.INFO, "")) for r in range(70)]
    alike = _alike(np.stack(FindingColumns(n, rules).identity(), axis=1))
    assert alike == [[bool((a == b).all()) for b in row_bits] for a in row_bits]
    assert alike[3][5] and alike[3][9] and not alike[3][11] and not alike[3][13]


def test_shown_messages_tell_rows_apart_by_their_keys_alone():
    # A warning's keys: floats (NaN alike, −0.0 as 0.0), bools, small and large whole numbers.
    rng = np.random.default_rng(11)
    n = 300
    keys = {"mg": rng.choice([1.5, 2.0, np.nan, 0.0, -0.0, 1e300], n), "flag": rng.integers(0, 2, n) == 1,
            "band": rng.integers(-1, 3, n), "big": rng.choice([0, 2**62, -(2**62)], n).astype(np.int64),
            "u": rng.integers(0, 5, n).astype(np.uint8)}
    present = rng.integers(0, 3, n) > 0
    rule = ColumnRule("W", present, np.broadcast_to(np.int64(1), (n,)), keys,
                      lambda **v: Finding("W", Severity.WARNING, ""))
    alike = _alike(np.stack(FindingColumns(n, [rule]).identity(), axis=1))

    def key(i: int) -> tuple[object, ...]:
        return (bool(present[i]),) + (tuple("nan" if v != v else v + 0.0 if isinstance(v, float) else v
                                             for v in (k[i].item() for k in keys.values()))
                                      if present[i] else ())
    assert alike == [[key(i) == key(j) for j in range(n)] for i in range(n)]
    assert sum(map(sum, alike)) > n  # some rows alike besides themselves


def test_rows_as_shown_make_no_info_message_of_a_rule_of_one_code():
    made: list[tuple[str, float]] = []
    info, warning = _columns(made).rules
    one_level = ColumnRule(info.code, info.present, np.broadcast_to(np.int64(0), (4,)), info.keys, info.make)
    band = ColumnRule("BAND", np.ones(4, dtype=bool), np.zeros(4, dtype=np.int64),
                      {"band": np.array([0, 1, 0, 1])},
                      lambda band: Finding(f"BAND_{band}", Severity.INFO, f"band {band}"),
                      code_id=np.array([0, 1, 0, 1]))
    found = FindingColumns(4, [one_level, warning, band])
    shown = found.rows([1, 3], shown_from=Severity.WARNING)
    assert [f.message for f in shown[0]] == ["", "over 5.0", "band 1"]  # the info amount by code only
    assert made == [("WARN_LIMIT", 5.0)]
    full = found.rows([1, 3])
    assert [[(f.code, f.severity) for f in row] for row in shown] == \
        [[(f.code, f.severity) for f in row] for row in full]
    assert made == [("WARN_LIMIT", 5.0), ("INFO_AMOUNT", 2.0)]  # made for the full rows only


def test_the_worst_goes_on_from_the_worst_of_the_first_rules():
    info, warning = _columns([]).rules
    refusal = ColumnRule("REFUSE_LAST", np.array([False, False, False, True]),
                         np.broadcast_to(np.int64(2), (4,)), {},
                         lambda: Finding("REFUSE_LAST", Severity.REFUSAL, "no"))
    whole = FindingColumns(4, [info, warning, refusal]).worst()
    first = FindingColumns(4, [info]).worst()
    assert whole.tolist() == [0, 1, 1, 2]
    assert FindingColumns(4, [info, warning, refusal], worst=(1, first)).worst().tolist() == whole.tolist()
    # What the caller knew of the first rules is taken as it is (not worked out again).
    known = np.array([-1, -1, -1, -1])
    assert FindingColumns(4, [info, warning, refusal], worst=(1, known)).worst().tolist() == [-1, 1, 1, 2]
    assert known.tolist() == [-1, -1, -1, -1]  # and left unchanged
