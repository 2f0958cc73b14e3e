"""``compound bud`` end to end: output, exit codes 0 / 2 / 3, JSON keys.

Runs the real entry point (compound.cli.main, which maps errors to exit codes)
in-process, plus one subprocess run of ``python -m compound``. Dates are
counted by hand in test_bud_core.py / test_stability.py.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from compound.cli import main


def run(capsys, *args):
    """(exit code, stdout, stderr) of ``compound bud ARGS``."""
    try:
        main(["bud", *args])
        code = 0
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_capsules_text_explains_which_limit_won(capsys):
    code, out, _ = run(capsys, "--category", "nonaqueous-solid", "--compounded", "2025-03-10",
                       "--component-expiry", "naltrexone 50 mg tablets lot A123=2025-06")
    assert code == 0
    assert out.startswith("Beyond-use date: 2025-06-30\n")
    assert "component naltrexone 50 mg tablets lot A123 expires on 2025-06-30" in \
        " ".join(out.split())
    assert "component-expiry: naltrexone 50 mg tablets lot A123: 2025-06-30  ← BUD" in out
    assert "rule: USP <795> (2023) nonaqueous-solid: 180 days → 2025-09-05" in out
    assert "EXPIRY_MONTH_END" in out


def test_json_keys_for_cote_2018_under_usp795(capsys):
    code, out, _ = run(capsys, "--category", "nonaqueous-solid", "--compounded", "2025-03-10",
                       "--study", "cote-2018", "--attest", "--filler", "avicel", "--json")
    assert code == 0
    d = json.loads(out)
    assert d["beyond_use_date"] == "2025-09-05"
    assert d["limit"]["kind"] == "policy-cap" and "Maxima" in d["limit"]["source"]
    assert d["stability_window_days"] == 360 and d["stability_window_end"] == "2026-03-04"
    assert d["storage"] == "room" and d["policy"] == "usp795-2023"
    assert d["day_counting"] == "day-1"
    assert [lim["kind"] for lim in d["limits"]] == ["study", "policy-cap"]
    assert {f["code"] for f in d["findings"]} >= {"STUDY_WINDOW_CAPPED"}


def test_study_policy_and_day_zero(capsys):
    # 2025-03-10 + 360 (Day 0) = 2026-03-05.
    code, out, _ = run(capsys, "--category", "nonaqueous-solid", "--compounded", "2025-03-10",
                       "--study", "cote-2018", "--attest", "--policy", "study", "--day-zero",
                       "--json")
    d = json.loads(out)
    assert code == 0 and d["status"] == "warning"
    assert d["beyond_use_date"] == "2026-03-05" and d["day_counting"] == "day-0"
    assert d["limit"]["kind"] == "study"


def test_fawcett_refrigerated_and_a_sub_lot(capsys):
    # Fawcett 60 d refrigerated from 2025-03-10 -> 2025-05-08; the stock sub-lot's BUD
    # 2025-04-30 is earlier and wins.
    code, out, _ = run(capsys, "--category", "aqueous-preserved", "--compounded", "2025-03-10",
                       "--study", "fawcett-1997", "--attest", "--storage", "refrigerated",
                       "--vehicle", "fawcett-1997", "--strength", "1mg/mL",
                       "--sub-lot-bud", "stock S1=2025-04-30", "--json")
    d = json.loads(out)
    assert code == 0
    assert d["beyond_use_date"] == "2025-04-30"
    assert d["limit"] == {"kind": "sub-lot", "name": "stock S1", "date": "2025-04-30",
                          "days": None, "source": d["limit"]["source"]}
    assert d["stability_window_days"] == 60 and d["stability_window_end"] == "2025-05-08"


def test_compounded_defaults_to_today(capsys, monkeypatch):
    monkeypatch.setenv("COMPOUND_TODAY", "2025-01-01")
    code, out, _ = run(capsys, "--category", "aqueous-unpreserved", "--json")
    d = json.loads(out)
    assert code == 0 and d["compounded"] == "2025-01-01" and d["beyond_use_date"] == "2025-01-14"


# ----------------------------------------------------------------------------- refusals: exit 3


@pytest.mark.parametrize(("args", "code_word"), [
    (["--category", "aqueous-unpreserved", "--storage", "room"], "STORAGE_NOT_ALLOWED"),
    (["--category", "nonaqueous-solid", "--study", "cote-2018"], "STUDY_NOT_ATTESTED"),
    (["--category", "nonaqueous-solid", "--study", "cote-2018", "--attest",
      "--storage", "refrigerated"], "STUDY_MISMATCH"),
    (["--category", "nonaqueous-solid", "--study", "fawcett-1997", "--attest",
      "--storage", "room"], "STUDY_MISMATCH"),
    (["--category", "aqueous-preserved", "--study", "fawcett-1997", "--attest",
      "--storage", "room", "--strength", "5mg/mL"], "STUDY_MISMATCH"),
    (["--category", "nonaqueous-solid", "--component-expiry", "2025-03-09"], "COMPONENT_EXPIRED"),
    (["--category", "nonaqueous-solid", "--sub-lot-bud", "T1=2025-03-01"], "SUB_LOT_EXPIRED"),
])
def test_refusals_exit_3_and_give_no_date(capsys, args, code_word):
    code, out, _ = run(capsys, "--compounded", "2025-03-10", *args)
    assert code == 3
    assert out.startswith("Beyond-use date: REFUSED\n")
    assert f"[REFUSED] {code_word}:" in out
    assert "no beyond-use date is given" in out
    code, out, _ = run(capsys, "--compounded", "2025-03-10", *args, "--json")
    d = json.loads(out)
    assert code == 3 and d["status"] == "refused" and "beyond_use_date" not in d
    assert code_word in {f["code"] for f in d["findings"]}


# ----------------------------------------------------------------------------- bad input: exit 2


@pytest.mark.parametrize(("args", "message"), [
    (["--category", "nonaqueous-solid", "--compounded", "2025-02-30"],
     "February 2025 has 28 days"),
    (["--category", "nonaqueous-solid", "--compounded", "2025-13-01"], "there is no month 13"),
    (["--category", "nonaqueous-solid", "--compounded", "25/03/2025"], "Type 2025-03-25"),
    (["--category", "nonaqueous-solid", "--component-expiry", "tabs=06/2025"], "2025-06"),
    (["--category", "capsules"], "Capsules are nonaqueous-solid: type that."),
    (["--category", "oily"], "unknown BUD category 'oily'"),
    (["--category", "nonaqueous-solid", "--study", "cote-2019"], "unknown stability study"),
    (["--category", "nonaqueous-solid", "--policy", "lenient"], "unknown BUD policy"),
    (["--category", "nonaqueous-solid", "--storage", "freezer"], "unknown storage"),
    (["--category", "aqueous-preserved", "--study", "fawcett-1997", "--attest"],
     "--storage refrigerated or --storage room"),
    (["--category", "aqueous-preserved", "--strength", "1mg"], "a strength is a mass per volume"),
    ([], "Missing option '--category'"),
])
def test_bad_input_exits_2_with_what_to_type(capsys, args, message):
    code, _, err = run(capsys, *args)
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_the_installed_entry_point_exits_3_on_a_refusal(tmp_path):
    env = {"COMPOUND_CATALOG": str(tmp_path), "COMPOUND_TODAY": "2025-03-10", "PATH": ""}
    done = subprocess.run([sys.executable, "-m", "compound", "bud", "--category",
                           "aqueous-unpreserved", "--storage", "room"],
                          capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 3
    assert "STORAGE_NOT_ALLOWED" in done.stdout
