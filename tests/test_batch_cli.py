"""``compound batch``: files out, exit codes, JSON lines, the stock summary, spreadsheet safety."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from compound.cli import cli, main

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "ldn-prescriptions.csv"


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    """The real console entry point: exit status, stdout, stderr."""
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_the_example_batch_runs(tmp_path, capsys):
    code, out, err = run(["batch", str(EXAMPLE), "-o", str(tmp_path / "out")], capsys)
    bad = sum(1 for r in csv.DictReader(EXAMPLE.open(newline="")) if r["note"].startswith("BAD"))
    # Every file is written, but rows that could not be read make the exit status 2.
    assert code == 2
    assert err == f"compound batch: {bad} rows could not be read (see errors.csv); exit status 2.\n"
    with EXAMPLE.open(newline="") as fh:
        given = list(csv.DictReader(fh))
    sheet = read_csv(tmp_path / "out" / "worksheet.csv")
    assert len(sheet) == len(given) >= 50
    assert [r["row"] for r in sheet] == [str(i) for i in range(1, len(given) + 1)]
    for row, source in zip(sheet, given, strict=True):
        assert row["rx"] == source["rx"]
        if source["note"].startswith("BAD"):
            assert row["status"] == "error", row
        elif source["note"].startswith("REFUSED"):
            assert row["status"] == "refused", row
            assert row["api_required_mg"] == row["volume_ml"] == ""
        else:
            assert row["status"] in ("ok", "warning"), (row["rx"], row["errors"], row["findings"])
    assert {r["form"] for r in sheet} >= {"capsules", "liquid", "drops"}
    errors = read_csv(tmp_path / "out" / "errors.csv")
    assert {e["row"] for e in errors} == {r["row"] for r in sheet if r["status"] == "error"}
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["rows"] == len(given)
    assert sum(summary["status"].values()) == len(given)
    assert out.startswith(f"compound batch: {len(given)} rows")


def test_summary_totals_on_a_small_file_checked_by_hand(tmp_path, capsys):
    path = tmp_path / "rx.csv"
    path.write_text(
        "form,strength,count,overage,source,tablet_weight,fill_weight,assay,water,volume,vehicle,opioid_use\n"
        "capsules,4.5mg,30,1,tablet,200mg,100mg,,,,,\n"
        "capsules,4.5mg,30,1,tablet,200mg,100mg,,,,,\n"
        "capsules,0.5mg,30,0,api,,,100%,0%,,,\n"
        "liquid,1mg/mL,,,tablet,,,,,50mL,purified-water,\n"
        "capsules,4.5mg,30,1,tablet,200mg,100mg,,,,,yes\n"
        "capsules,4.5,30,1,tablet,200mg,100mg,,,,,\n", encoding="utf-8")
    code, out, _ = run(["batch", str(path), "-o", str(tmp_path / "out")], capsys)
    assert code == 2  # the last row could not be read
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["rows"] == 6
    assert summary["status"]["refused"] == 1 and summary["status"]["error"] == 1
    stock = summary["stock"]
    # Tablets: 3 + 3 (⌈139.5 / 50⌉ each) + 1 (50 mL at 1 mg/mL) = 7; the refused row takes none.
    assert stock["tablets"] == [{"product": "naltrexone-hcl-50mg-tablet", "tablets": 7, "rows": 3}]
    # API: 0.5 mg × 30 = 15 mg is below the 120 mg MWQ, so 120 mg is weighed for the trituration.
    assert stock["api"] == [{"product": "naltrexone-hcl-api", "api_form": "anhydrous", "mg": 120,
                             "amount": "120 mg", "rows": 1}]
    # MCC: 2542 mg filler × 2 (82 mg × 31) + the API row: fill 0.30 mL × 0.28 g/mL = 84 mg × 30 =
    # 2520 mg blend − 15 mg drug − 105 mg diluent carried in the 120 mg aliquot = 2400 mg filler,
    # plus 840 mg trituration diluent: 2542 × 2 + 2400 + 840 = 8324 mg.
    assert stock["excipients"] == [{"excipient": "mcc", "mg": 8324, "amount": "8324 mg", "rows": 4}]
    assert stock["vehicles"] == [{"vehicle": "purified-water", "ml": 50, "amount": "50 mL", "rows": 1}]
    assert "naltrexone-hcl-50mg-tablet" in out and "7 tablets" in out and "8324 mg" in out


def test_jsonl_writes_one_object_per_row_to_stdout(tmp_path, capsys):
    path = tmp_path / "rx.csv"
    path.write_text("form,strength,count,tablet_weight,opioid_use,rx\n"
                    "capsules,4.5mg,30,200mg,,A\ncapsules,4.5mg,30,200mg,yes,B\ncapsules,4.5,30,,,C\n",
                    encoding="utf-8")
    code, out, err = run(["batch", str(path), "--jsonl"], capsys)
    assert code == 2  # row C could not be read
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["row"] for r in records] == [1, 2, 3]
    assert [r["status"] for r in records] == ["ok", "refused", "error"]
    first, refused, bad = records
    assert first["capsules_to_prepare"] == 30 and first["api_required_mg"] == 135
    assert first["inputs"] == {"strength": "4.5mg", "count": "30", "tablet_weight": "200mg"}
    assert first["rx"] == "A" and {f["severity"] for f in first["findings"]} == {"info"}
    assert "api_required_mg" not in refused and refused["findings"][0]["code"] == "OPIOID_USE"
    assert bad["errors"][0]["column"] == "strength" and bad["errors"][0]["value"] == "4.5"
    assert err.startswith("compound batch: 3 rows")  # the summary goes to stderr with --jsonl
    assert not (tmp_path / "out" / "worksheet.csv").exists()


def test_formula_cells_are_neutralised_but_numbers_are_not(tmp_path, capsys):
    path = tmp_path / "rx.csv"
    path.write_text('form,strength,count,tablet_weight,patient,prescriber,x_a,x_b\n'
                    'capsules,4.5mg,30,200mg,"=HYPERLINK(""http://x"",""y"")",@SUM(A1),-3,\tcmd\n',
                    encoding="utf-8")
    code, _, _ = run(["batch", str(path), "-o", str(tmp_path / "out")], capsys)
    assert code == 0
    row = read_csv(tmp_path / "out" / "worksheet.csv")[0]
    assert row["patient"] == "'=HYPERLINK(\"http://x\",\"y\")"
    assert row["prescriber"] == "'@SUM(A1)"
    assert row["x_a"] == "-3"  # a plain number is left alone
    assert row["x_b"] == "'\tcmd"
    assert row["api_required_mg"] == "135" and row["capsules_to_prepare"] == "30"


def test_spaces_line_feeds_and_full_width_forms_before_a_formula_are_neutralised(tmp_path, capsys):
    path = tmp_path / "rx.csv"
    path.write_text('form,strength,count,tablet_weight,patient,prescriber,directions,x_a,x_b\n'
                    'capsules,4.5mg,30,200mg," =1+1","\n=cmd","\uff1dHYPERLINK()",\uff20x,\uff0b1\n',
                    encoding="utf-8")
    code, _, _ = run(["batch", str(path), "-o", str(tmp_path / "out")], capsys)
    assert code == 0
    row = read_csv(tmp_path / "out" / "worksheet.csv")[0]
    assert [row[c] for c in ("patient", "prescriber", "directions", "x_a", "x_b")] == [
        "' =1+1", "'\n=cmd", "'\uff1dHYPERLINK()", "'\uff20x", "'\uff0b1"]


def test_unreadable_rows_never_stop_the_run_and_keep_their_place(tmp_path, capsys):
    path = tmp_path / "rx.csv"
    path.write_bytes(b"\xef\xbb\xbfform,strength,count,tablet_weight\n"
                     b"capsules,4.5mg,30,200mg\n"
                     b"capsules,4,5mg,30,200mg\n"
                     b"capsules,4.5mgs,30,200mg\n"
                     b"capsules,1.5mg,30,200mg\n")
    code, _, err = run(["batch", str(path), "-o", str(tmp_path / "out")], capsys)
    assert code == 2 and "2 rows could not be read" in err
    sheet = read_csv(tmp_path / "out" / "worksheet.csv")
    assert [r["status"] for r in sheet] == ["ok", "error", "error", "ok"]
    errors = read_csv(tmp_path / "out" / "errors.csv")
    assert [(e["row"], e["column"]) for e in errors] == [("2", "row"), ("3", "strength")]
    assert "5 fields but the header has 4" in errors[0]["error"]
    assert "'mgs' is not a unit" in errors[1]["error"]


@pytest.mark.parametrize(("content", "message"), [
    (b"", "is empty"),
    (b"form,strenght,count\ncapsules,4.5mg,30\n", "did you mean 'strength'?"),
    (b"strength,count\n4.5mg,30\n", "no 'form' column"),
    (b"form,patient\ncapsules,Ren\xe9e\n", "not UTF-8 text"),
])
def test_a_file_that_cannot_be_read_exits_2_and_writes_nothing(tmp_path, capsys, content, message):
    path = tmp_path / "rx.csv"
    path.write_bytes(content)
    code, out, err = run(["batch", str(path), "-o", str(tmp_path / "out")], capsys)
    assert code == 2
    assert message in err and out == ""
    assert not (tmp_path / "out" / "worksheet.csv").exists()


def test_missing_file_and_missing_output_are_exit_2(tmp_path, capsys):
    assert run(["batch", str(tmp_path / "nope.csv"), "-o", str(tmp_path / "out")], capsys)[0] == 2
    path = tmp_path / "rx.csv"
    path.write_text("form,strength,count\ncapsules,4.5mg,30\n", encoding="utf-8")
    code, _, err = run(["batch", str(path)], capsys)
    assert code == 2 and "-o OUT" in err


def test_a_rerun_needs_overwrite_and_replaces_the_files_leaving_nothing_beside(tmp_path, capsys):
    path = tmp_path / "rx.csv"
    out_dir = tmp_path / "out"
    for strength, flags, code in (("4.5mg", [], 0), ("3mg", [], 2), ("3mg", ["--overwrite"], 0)):
        path.write_text(f"form,strength,count,tablet_weight\ncapsules,{strength},30,200mg\n",
                        encoding="utf-8")
        assert run(["batch", str(path), "-o", str(out_dir), *flags], capsys)[0] == code
        if code == 2:
            assert read_csv(out_dir / "worksheet.csv")[0]["strength_hcl_mg"] == "4.5"
    assert read_csv(out_dir / "worksheet.csv")[0]["strength_hcl_mg"] == "3"
    assert sorted(p.name for p in out_dir.iterdir()) == ["errors.csv", "summary.json", "worksheet.csv"]
    # Beside it only the input and the (hidden, empty) lock file: no staging folder left.
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.compound-lock", "out", "rx.csv"]


def test_header_only_file_runs_with_no_rows(tmp_path, capsys):
    path = tmp_path / "rx.csv"
    path.write_text("form,strength,count\n", encoding="utf-8")
    code, out, _ = run(["batch", str(path), "-o", str(tmp_path / "out")], capsys)
    assert code == 0 and out.startswith("compound batch: 0 rows")
    assert (tmp_path / "out" / "worksheet.csv").read_text().startswith('"row","form","status"')


def test_columns_lists_every_column():
    result = CliRunner().invoke(cli, ["batch", "--columns"])
    assert result.exit_code == 0
    for name in ("form", "strength", "count", "tablet_weight", "per_drop", "compounded", "x_"):
        assert f"\n{name}" in "\n" + result.output


def test_progress_bar_never_touches_stdout(tmp_path):
    path = tmp_path / "rx.csv"
    path.write_text("form,strength,count,tablet_weight\n" + "capsules,4.5mg,30,200mg\n" * 5,
                    encoding="utf-8")
    result = CliRunner().invoke(cli, ["batch", str(path), "-o", str(tmp_path / "o"), "--progress"])
    assert result.exit_code == 0
    assert result.stdout.startswith("compound batch: 5 rows")
    assert "Planning" not in result.stdout


def test_progress_is_off_when_stderr_is_not_a_terminal(monkeypatch):
    from compound.batch import progress

    monkeypatch.setattr("sys.stderr.isatty", lambda: False)
    assert not progress.wanted(10_000_000, None)
    assert progress.wanted(10, True)


def test_the_pipeline_example_runs():
    import subprocess
    import sys

    script = EXAMPLE.parent / "batch_pipeline.py"
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True)
    assert "51 prescriptions:" in done.stdout
    assert "50 mg tablets to pull from stock: 59 tablets" in done.stdout
    made = done.stdout.split("per capsule):\n")[1].split("\n\n")[0].splitlines()
    assert made[:2] == ["  0.5 mg  93 capsules", "    1 mg  92 capsules"]  # not "1.0"
    assert "1.0" not in done.stdout and "4.50" not in done.stdout


def test_blocks_change_nothing_in_the_output(tmp_path):
    """Blocks of 4 rows (caches shared across blocks, writing overlapped) = one block of all rows."""
    from compound.batch.run import Options, run_batch

    one = run_batch(EXAMPLE, tmp_path / "one", options=Options(block_rows=10_000))
    many = run_batch(EXAMPLE, tmp_path / "many", options=Options(block_rows=4))
    for name in ("worksheet.csv", "errors.csv"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "many" / name).read_bytes()
    assert one.stock() == many.stock() and one.by_status == many.by_status


def test_a_file_of_one_block_starts_no_thread_and_writes_the_same_files(tmp_path, monkeypatch):
    """Issue 13: one block (the example's 51 rows) is read, planned, assembled and hashed in the
    calling thread; in blocks of 4 rows the threads overlap the stages, with the same files."""
    import threading

    from compound.batch.run import Options, run_batch

    started: list[str] = []
    start = threading.Thread.start

    def counted(thread: threading.Thread) -> None:
        started.append(thread.name)
        start(thread)

    monkeypatch.setattr(threading.Thread, "start", counted)
    run_batch(EXAMPLE, tmp_path / "one", options=Options())
    assert started == []
    run_batch(EXAMPLE, tmp_path / "many", options=Options(block_rows=4))
    assert len(started) >= 2  # the worksheet cells, and blocks assembled while others are written
    for name in ("worksheet.csv", "errors.csv"):
        one, many = ((tmp_path / run / name).read_bytes() for run in ("one", "many"))
        assert one == many, name
    hashes = [json.loads((tmp_path / run / "summary.json").read_text())["manifest"]["files"]
              for run in ("one", "many")]
    assert hashes[0] == hashes[1]  # worksheet.csv hashed in the writing thread, or on its own


def test_a_missing_column_makes_the_rows_that_need_it_errors(tmp_path, capsys):
    path = tmp_path / "rx.csv"
    path.write_text("form,strength,volume\ncapsules,4.5mg,\nliquid,1mg/mL,100mL\ntroche,3mg,\n",
                    encoding="utf-8")
    code, _, _ = run(["batch", str(path), "-o", str(tmp_path / "out")], capsys)
    assert code == 2
    sheet = read_csv(tmp_path / "out" / "worksheet.csv")
    assert [r["status"] for r in sheet] == ["error", "warning", "error"]
    assert sheet[0]["errors"] == "count: no value given: type the number of capsules, e.g. 30."
    assert sheet[1]["volume_ml"] == "100"


def test_free_text_with_line_breaks_cannot_forge_lines_in_a_text_worksheet(tmp_path, capsys):
    path = tmp_path / "rx.csv"
    forged = "J. Doe\nWhole tablets to crush: 9\r\nBeyond-use date: 2099-01-01"
    path.write_text("form,strength,count,tablet_weight,opioid_use,override_opioid,patient,directions\n"
                    'capsules,4.5mg,30,200mg,yes,"pain clinic\nTablets: 99",'
                    f'"{forged}","1 at night\u2028x"\n',
                    encoding="utf-8")
    code, _, _ = run(["batch", str(path), "-o", str(tmp_path / "out"), "--worksheets"], capsys)
    assert code == 0
    (text_file,) = (tmp_path / "out" / "worksheets").iterdir()
    lines = text_file.read_text(encoding="utf-8").split("\n")
    assert lines[0] == ("Row 1 · J. Doe \u23ce Whole tablets to crush: 9 \u23ce Beyond-use date: 2099-01-01"
                        " · 1 at night \u23ce x")
    assert "   5. Whole tablets to crush: 3" in lines  # the real working, on its own line
    assert not [line for line in lines[1:] if "2099" in line or "crush: 9" in line
                or line.strip().startswith("Tablets: 99")]
    assert any("pain clinic \u23ce Tablets: 99" in line for line in lines)  # the override reason, one line


def test_worksheets_one_text_file_per_row_with_the_working(tmp_path, capsys):
    path = tmp_path / "rx.csv"
    path.write_text("form,strength,count,overage,tablet_weight,fill_weight,rx,patient,compounded\n"
                    "capsules,4.5mg,30,1,200mg,100mg,RX 1/a,J. Doe,2025-03-10\n"
                    "capsules,4.5g,30,1,200mg,100mg,RX2,R. Roe,\n"
                    "capsules,4.5,30,1,200mg,100mg,RX3,M. Major,\n", encoding="utf-8")
    code, _, _ = run(["batch", str(path), "-o", str(tmp_path / "out"), "--worksheets"], capsys)
    assert code == 2  # row 3 could not be read
    files = sorted(p.name for p in (tmp_path / "out" / "worksheets").iterdir())
    assert files == ["0001-RX-1-a.txt", "0002-RX2.txt", "0003-RX3.txt"]
    first = (tmp_path / "out" / "worksheets" / files[0]).read_text()
    assert first.startswith("Row 1 · RX 1/a · J. Doe\n")
    assert "Whole tablets to crush: 3" in first and "Beyond-use date: 2025-09-05" in first
    assert "REFUSED" in (tmp_path / "out" / "worksheets" / files[1]).read_text()
    assert "Not planned" in (tmp_path / "out" / "worksheets" / files[2]).read_text()


def test_worksheets_are_for_small_files_and_need_an_output_directory(tmp_path, capsys, monkeypatch):
    from compound.batch import write_texts

    monkeypatch.setattr(write_texts, "MAX_ROWS", 2)
    path = tmp_path / "rx.csv"
    path.write_text("form,strength,count\n" + "capsules,4.5mg,30\n" * 3, encoding="utf-8")
    code, _, err = run(["batch", str(path), "-o", str(tmp_path / "out"), "--worksheets"], capsys)
    assert code == 2 and "at most 2" in err
    code, _, err = run(["batch", str(path), "--jsonl", "--worksheets"], capsys)
    assert code == 2 and "-o OUT" in err
