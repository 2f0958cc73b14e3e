"""``compound batch --jsonl`` assembled by Arrow kernels: the same bytes as the per-row Python it replaced.

The reference is the per-row implementation (``Spread.json_block`` before issue 4), kept
here verbatim: each row's line built with ``json.dumps(value, ensure_ascii=False,
allow_nan=False)`` for every label and carried cell.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compound.batch.read import read_prescriptions
from compound.batch.run import run_batch
from compound.batch.spread import Rows, Spread, plan_groups
from compound.batch.summary import Summary
from compound.batch.write_jsonl import binary_stdout, escape, json_strings, write_lines
from compound.errors import InputError

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "ldn-prescriptions.csv"

#: The characters JSON escapes, and others that are easy to get wrong (DEL, U+2028, emoji).
AWKWARD = '"\\\x00\x01\x07\x08\t\n\x0b\x0c\r\x1b\x1f\x7f ,;é中\u2028\u2029\U0001f48a\ufeff'
#: Any text Arrow can hold: every character but the lone surrogates (see the test of those below).
texts = st.text(alphabet=st.one_of(st.sampled_from(AWKWARD), st.characters(codec="utf-8")), max_size=12)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def reference_json_block(spread: Spread, start: int, stop: int) -> str:
    """The per-row implementation the Arrow one replaced (call it before ``json_block``)."""
    assert spread.json_parts is not None
    extra = {name: spread.raw(name).slice(start, stop - start).to_pylist()
             for name in (*spread.labels, *spread.passthrough)}
    keys = {name: json.dumps(name) + ":" for name in extra}
    gid = pa.array(spread.groups.gid[start:stop])
    heads, middles = (part.take(gid).to_pylist() for part in spread.json_parts)
    out = []
    for k, (head, middle) in enumerate(zip(heads, middles, strict=True)):
        labels = "".join("," + keys[n] + _dumps(extra[n][k]) for n in spread.labels
                         if extra[n][k] is not None)
        carried = "".join("," + keys[n] + _dumps(extra[n][k]) for n in spread.passthrough
                          if extra[n][k] is not None)
        out.append(f'{{"row":{start + k + 1},{head}{labels},{middle}{carried}}}\n')
    return "".join(out)


def spread_of(path: Path) -> Spread:
    read = read_prescriptions(path)
    rows = Rows(table=read.table) if read.table is not None else Rows(frame=read.frame)
    groups = rows.groups(read.read_errors)
    return plan_groups(rows, groups, read.read_errors, block_rows=7, summary=Summary(), jsonl=True)


def write_file(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, *rows])
    return path


def assert_blocks_match(spread: Spread, cuts: list[int]) -> None:
    """Blocks cut anywhere: the same text as the reference, and json_bytes is its UTF-8."""
    n = spread.rows.n
    bounds = sorted({0, n, *(c % (n + 1) for c in cuts)})
    pairs = list(itertools.pairwise(bounds))
    expected = [reference_json_block(spread, a, b) for a, b in pairs]
    for (a, b), want in zip(pairs, expected, strict=True):
        assert spread.json_block(a, b) == want
        assert bytes(spread.json_bytes(a, b)) == want.encode("utf-8")
    assert "".join(expected).count("\n") == n


# --- escaping: json.dumps(text, ensure_ascii=False), quotes included ---------------------------


@given(st.lists(st.one_of(st.none(), texts), max_size=30), st.integers(0, 30), st.integers(0, 30))
@settings(max_examples=300, deadline=None)
def test_json_strings_equal_json_dumps_for_any_text(values, cut, length):
    arr = pa.array(values, type=pa.string())
    want = [None if v is None else _dumps(v) for v in values]
    assert json_strings(arr).to_pylist() == want
    # A slice (an offset into shared buffers) and a chunked column escape the same way.
    assert json_strings(arr.slice(cut, length)).to_pylist() == want[cut:cut + length]
    chunked = pa.chunked_array([arr.slice(0, cut), arr.slice(cut)], type=pa.string())
    assert json_strings(chunked).to_pylist() == want


def test_each_escape_by_hand():
    # json.dumps' table: \" \\ \b \f \n \r \t, other controls \u00xx in lower-case hex,
    # DEL, non-ASCII and U+2028 as they are.
    values = ['say "hi"', "a\\b", "\x08\x0c\n\r\t", "\x00\x1b\x1f", "\x7f é 💊 \u2028"]
    assert json_strings(pa.array(values)).to_pylist() == [
        '"say \\"hi\\""', '"a\\\\b"', '"\\b\\f\\n\\r\\t"', '"\\u0000\\u001b\\u001f"',
        '"\x7f é 💊 \u2028"']


def test_text_without_special_characters_is_not_copied():
    arr = pa.array(["RX1", "J. Doe", None], type=pa.large_string())
    assert escape(arr) is arr


def test_lone_surrogates_cannot_reach_the_lines(tmp_path):
    # Arrow strings are UTF-8: a lone surrogate cannot be held, and a file that encodes one
    # (CESU-style bytes ED A0 80) is refused by the reader before anything is planned.
    with pytest.raises(UnicodeEncodeError):
        pa.array(["\ud800"], type=pa.string())
    path = tmp_path / "rx.csv"
    path.write_bytes(b"form,rx\ncapsules,\xed\xa0\x80x\n")
    with pytest.raises(InputError, match="not UTF-8 text"):
        read_prescriptions(path)


# --- whole lines against the per-row reference ---------------------------------------------

HEADER = ["form", "strength", "count", "tablet_weight", "rx", "patient", "prescriber", "directions",
          "note", "x_ward"]
PLANS = [["capsules", "4.5mg", "30", "200mg"], ["capsules", "1.5mg", "60", "203.4mg"],
         ["capsules", "4,5mg", "30", "200mg"], ["liquid", "1mg/mL", "", ""], ["", "", "", ""]]


@given(st.lists(st.tuples(st.integers(0, len(PLANS) - 1), st.lists(st.one_of(st.just(""), texts),
                                                                    min_size=6, max_size=6)),
                min_size=1, max_size=12),
       st.lists(st.integers(0, 40), max_size=3), st.booleans())
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_lines_equal_the_per_row_reference(tmp_path, rows, cuts, malformed):
    body = [PLANS[plan] + cells for plan, cells in rows]
    if malformed:
        body.append(["capsules", "4.5mg", "30", "200mg", "RX9", "", "", "", "", "", "extra"])  # slow reader
    path = write_file(tmp_path / "rx.csv", HEADER, body)
    assert_blocks_match(spread_of(path), cuts)


@pytest.mark.parametrize("bud", [True, False], ids=["with BUD columns", "without"])
def test_the_example_file_gives_the_same_lines(tmp_path, bud):
    with EXAMPLE.open(newline="", encoding="utf-8") as fh:
        records = list(csv.reader(fh))
    keep = [i for i, name in enumerate(records[0]) if bud or name not in ("compounded", "storage")]
    path = write_file(tmp_path / "rx.csv", [records[0][i] for i in keep],
                      [[r[i] for i in keep] for r in records[1:]])
    assert_blocks_match(spread_of(path), [17, 18, 40])


def test_odd_column_names_keep_their_keys(tmp_path):
    # Keys of the row's own cells are written by json.dumps(name): ASCII-escaped, as before.
    path = write_file(tmp_path / "rx.csv", ["form", "rx", "prescriber", "x_café", 'x_"q\\'],
                      [["capsules", "R1", "", "a", "b"], ["capsules", "", "", "", ""]])
    spread = spread_of(path)
    assert_blocks_match(spread, [1])
    first, second = (json.loads(line) for line in spread.json_block(0, 2).splitlines())
    assert (first["x_café"], first['x_"q\\'], first["rx"]) == ("a", "b", "R1")
    assert "prescriber" not in first and "rx" not in second and "x_café" not in second
    assert '"x_caf\\u00e9":"a"' in spread.json_block(0, 1)


def test_a_file_of_no_rows_writes_nothing(tmp_path):
    path = tmp_path / "rx.csv"
    path.write_text("form,rx\n", encoding="utf-8")
    spread = spread_of(path)
    assert spread.json_block(0, 0) == "" and bytes(spread.json_bytes(0, 0)) == b""


# --- streams: a binary stream gets the bytes, a text stream text ------------------------------


def test_text_and_binary_streams_receive_the_same_lines(tmp_path):
    text, binary = io.StringIO(), io.BytesIO()
    run_batch(EXAMPLE, None, jsonl=text)
    run_batch(EXAMPLE, None, jsonl=binary)
    assert binary.getvalue() == text.getvalue().encode("utf-8")
    assert len(text.getvalue().splitlines()) == 51


def test_write_lines_decodes_for_text_streams_only():
    data = memoryview("é\n".encode())
    text, binary = io.StringIO(), io.BytesIO()
    write_lines(text, data)
    write_lines(binary, data)
    assert text.getvalue() == "é\n" and binary.getvalue() == "é\n".encode()


class Trickle(io.RawIOBase):
    """An unbuffered stream that takes three bytes per write (as a pipe may take part of one)."""

    def __init__(self) -> None:
        self.got = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.got += bytes(data[:3])
        return min(3, len(data))


def test_an_unbuffered_stream_gets_every_byte():
    # python -u (or PYTHONUNBUFFERED) makes stdout's byte stream a raw FileIO.
    stream = Trickle()
    write_lines(stream, memoryview('{"rx":"é"}\n'.encode()))
    assert bytes(stream.got) == '{"rx":"é"}\n'.encode()


def test_binary_stdout_only_for_utf8_text_that_keeps_newlines():
    raw = io.BytesIO()
    utf8 = io.TextIOWrapper(raw, encoding="utf-8")
    utf8.write("before\n")  # pending text is flushed first, so it comes first
    assert binary_stdout(utf8) is raw and raw.getvalue() == b"before\n"
    cp1252 = io.TextIOWrapper(io.BytesIO(), encoding="cp1252")
    assert binary_stdout(cp1252) is cp1252
    plain = io.StringIO()
    assert binary_stdout(plain) is plain


@pytest.mark.skipif(os.linesep != "\n", reason="stdout translates newlines on this platform")
def test_the_command_writes_the_same_bytes_to_a_real_stdout(tmp_path):
    path = write_file(tmp_path / "rx.csv", HEADER,
                      [["capsules", "4.5mg", "30", "200mg", 'R"1', "J\\D", "tab\there", "line\nbreak",
                        "💊", "é"], ["capsules", "4,5mg", "30", "", "", "", "", "", "", ""]])
    expected = io.StringIO()
    run_batch(path, None, jsonl=expected)
    for unbuffered in ("", "1"):  # stdout's byte stream buffered, or raw (python -u)
        env = {**os.environ, "PYTHONIOENCODING": "utf-8", "PYTHONUNBUFFERED": unbuffered}
        done = subprocess.run([sys.executable, "-c", "from compound.cli import main; main()", "batch",
                               str(path), "--jsonl"], capture_output=True, env=env, check=False)
        assert done.returncode == 2, done.stderr  # the second row could not be read
        assert done.stdout == expected.getvalue().encode("utf-8")
        assert done.stderr.decode().startswith("compound batch: 2 rows")
