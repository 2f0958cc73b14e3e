"""``compound titrate`` end to end: output, exit codes 0 / 2 / 3, JSON keys.

Runs the real entry point (compound.cli.main, which maps errors to exit codes)
in-process, plus one subprocess run of ``python -m compound``. The numbers are
worked by hand in test_titration.py; here they are only read back.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from compound.cli import main

THREE_WEEKS = "1.5mg x7d, 3mg x7d, 4.5mg x7d"


def run(capsys, *args):
    """(exit code, stdout, stderr) of ``compound titrate ARGS``."""
    try:
        main(["titrate", *args])
        code = 0
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_liquid_json_keys(capsys):
    code, out, _ = run(capsys, "--ladder", THREE_WEEKS, "--start", "2025-06-02", "--form", "liquid",
                       "--concentration", "1mg/mL", "--json")
    assert code == 0
    d = json.loads(out)
    assert d["total_mg"] == 63
    assert d["calendar"][0] == {"day": 1, "date": "2025-06-02", "dose_mg": 1.5}
    (liquid,) = d["options"]
    assert liquid["name"] == "liquid" and "findings" in liquid
    assert [{k: p[k] for k in ("compounded", "volume_ml", "beyond_use_date")}
            for p in liquid["preparations"]] == [
        {"compounded": "2025-06-02", "volume_ml": 31.5, "beyond_use_date": "2025-06-15"},
        {"compounded": "2025-06-16", "volume_ml": 31.5, "beyond_use_date": "2025-06-29"}]
    assert d["directions"][0] == "Days 1–7 (2 Jun – 8 Jun 2025): take 1.5 mg at bedtime"


def test_capsules_json_units(capsys):
    code, out, _ = run(capsys, "--protocol", "us-pharmacist", "--start", "2025-06-02",
                       "--form", "capsules", "--json")
    assert code == 0
    options = {o["name"]: o for o in json.loads(out)["options"]}
    assert [{k: u[k] for k in ("strength_mg", "count")} for u in options["two-strength-kit"]["units"]] \
        == [{"strength_mg": 0.5, "count": 63}, {"strength_mg": 1.5, "count": 84}]
    assert options["single-strength"]["units"][0]["count"] == 315


def test_text_worksheet(capsys):
    code, out, _ = run(capsys, "--protocol", "ldnrt-cancer", "--start", "2025-12-22",
                       "--form", "capsules", "--gi-sensitive", "--reduce-at", "2026-01-01")
    assert code == 0
    assert "Days 11–17 (1 Jan – 7 Jan 2026): take 1 mg at bedtime" in out
    assert "GI_CAP_APPLIED" in out and "SIDE_EFFECT_REDUCTION" in out
    assert "source: LDN Research Trust prescriber guide" in " ".join(out.split())


def test_list_shows_protocols_with_sources(capsys):
    code, out, _ = run(capsys, "--list")
    assert code == 0
    assert "dickson: Dickson: most autoimmune and pain conditions" in out
    assert "1 mg, +1 mg every 7 days to 4.5 mg" in out
    code, out, _ = run(capsys, "--list", "--json")
    rows = json.loads(out)
    assert all(r["source"] for r in rows)
    assert {"key": "us-clinic-sheet", "schedule": "1.5mg x14d, 3mg x14d, 4.5mg x14d"}.items() <= \
        next(r for r in rows if r["key"] == "us-clinic-sheet").items()


def test_a_50_mg_step_exits_3_without_amounts(capsys):
    code, out, _ = run(capsys, "--ladder", "1.5mg x7d, 50mg x7d", "--start", "2025-06-02",
                       "--form", "capsules", "--json")
    assert code == 3
    d = json.loads(out)
    assert d["status"] == "refused" and "calendar" not in d and "options" not in d
    code, out, _ = run(capsys, "--ladder", "1.5mg x7d, 50mg x7d", "--start", "2025-06-02",
                       "--form", "capsules")
    assert code == 3 and "REFUSED" in out and "Day   1" not in out


def test_opioid_use_exits_3_and_override_exits_0(capsys):
    args = ["--ladder", THREE_WEEKS, "--start", "2025-06-02", "--form", "capsules", "--opioid-use"]
    assert run(capsys, *args)[0] == 3
    code, out, _ = run(capsys, *args, "--override-opioid", "prescriber confirmed", "--json")
    assert code == 0 and json.loads(out)["status"] == "warning"


@pytest.mark.parametrize(("args", "message"), [
    (["--ladder", "1.5mg x7d, 3mg", "--start", "2025-06-02", "--form", "capsules"], "has no length"),
    (["--ladder", "1,5mg x7d", "--start", "2025-06-02", "--form", "capsules"], "comma"),
    (["--ladder", THREE_WEEKS, "--start", "2025-02-30", "--form", "capsules"], "28 days"),
    (["--ladder", THREE_WEEKS, "--start", "02/06/2025", "--form", "capsules"], "year first"),
    (["--ladder", THREE_WEEKS, "--form", "capsules"], "missing --start"),
    (["--ladder", THREE_WEEKS, "--start", "2025-06-02"], "missing --form"),
    (["--protocol", "bihari", "--start", "2025-06-02", "--form", "capsules"], "unknown titration protocol"),
    (["--start", "2025-06-02", "--form", "capsules"], "either a ladder or a protocol"),
    (["--ladder", THREE_WEEKS, "--start", "2025-06-02", "--form", "liquid", "--concentration", "1mg"],
     "cannot read"),
    (["--ladder", THREE_WEEKS, "--start", "2025-06-02", "--form", "capsules", "--maintenance", "1 month"],
     "months differ"),
    (["--ladder", THREE_WEEKS, "--start", "2025-06-02", "--form", "pills"], "Invalid value"),
])
def test_bad_input_exits_2_and_says_what_to_type(capsys, args, message):
    code, out, err = run(capsys, *args)
    assert code == 2
    assert message in err and out == ""


def test_broken_overlay_protocol_exits_5(capsys, overlay):
    (overlay / "titration_protocols.toml").write_text('[protocols.x]\nname = "X"\nsource = "s"\n')
    code, _, err = run(capsys, "--list")
    assert code == 5 and "[protocols.x]" in err


@pytest.mark.slow
def test_subprocess_exit_codes(tmp_path):
    base = [sys.executable, "-m", "compound", "titrate", "--start", "2025-06-02", "--form", "capsules"]
    ok = subprocess.run([*base, "--ladder", THREE_WEEKS, "--json"], capture_output=True, text=True)
    assert ok.returncode == 0 and json.loads(ok.stdout)["total_mg"] == 63
    refused = subprocess.run([*base, "--ladder", "50mg x7d"], capture_output=True, text=True)
    assert refused.returncode == 3
    bad = subprocess.run([*base, "--ladder", "50 x7d"], capture_output=True, text=True)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
