"""`compound plan capsules`: the real command, its JSON, its worksheet and its exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from compound.cli import cli, main

WORKED = ["plan", "capsules", "--strength", "4.5mg", "--count", "30", "--overage", "1", "--source",
          "tablet", "--tablet-weight", "200mg", "--fill-weight", "100mg"]


def run(capsys, args):
    """compound.cli.main in-process: (exit code, stdout, stderr)."""
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_has_the_keys():
    result = CliRunner().invoke(cli, [*WORKED, "--json"])
    assert result.exit_code == 0, result.output
    d = json.loads(result.output)
    for key in ("capsules_to_prepare", "api_required_mg", "tablets_to_crush", "tablet_powder_mg",
                "api_to_weigh_mg", "filler_per_capsule_mg", "filler_total_mg", "blend_total_mg",
                "fill_weight_mg", "fill_weight_low_mg", "fill_weight_high_mg", "powder_left_over_mg",
                "findings", "steps", "trituration", "shortcut", "inputs", "fill_weight_method"):
        assert key in d, key
    # hand arithmetic (see tests/test_plan_capsules.py): 31, 139.5, 3, 558, 82, 2542, 3100, 42
    keys = ("capsules_to_prepare", "api_required_mg", "tablets_to_crush", "tablet_powder_mg",
            "filler_per_capsule_mg", "filler_total_mg", "blend_total_mg", "powder_left_over_mg")
    assert [d[k] for k in keys] == [31, 139.5, 3, 558, 82, 2542, 3100, 42]
    assert d["api_to_weigh_mg"] is None and d["status"] == "ok"
    assert d["inputs"]["tablet_weight"] == "200mg"


def test_worksheet_prints_every_step():
    result = CliRunner().invoke(cli, WORKED)
    assert result.exit_code == 0
    steps = json.loads(CliRunner().invoke(cli, [*WORKED, "--json"]).output)["steps"]
    for s in steps:
        assert f"{s['label']}: {s['result']}" in result.output
    assert "Tablet powder to weigh: 558 mg" in result.output
    assert "0.30000000000000004" not in result.output and ".0 mg" not in result.output


def test_api_route_with_trituration_and_options(capsys):
    code, out, _ = run(capsys, ["plan", "capsules", "--strength", "0.5mg", "--count", "30", "--source", "api",
                                "--assay", "99.2%", "--water", "0.5%", "--capsule-size", "3", "--filler",
                                "avicel", "--balance", "class-iii", "--json"])
    assert code == 0
    d = json.loads(out)
    # 15 mg HCl / (0.992 x 0.995) = 15.197 mg API < 120 mg MWQ: triturated 1 in 8
    assert d["api_to_weigh_mg"] == 15.2 and d["trituration"]["factor"] == 8
    assert d["inputs"]["filler"] == "mcc"


@pytest.mark.parametrize(("args", "says"), [
    (["--strength", "4,5mg"], "4.5mg"),
    (["--strength", "4.5"], "for example 4.5mg"),
    (["--strength", "4.5mg", "--filler", "chalk"], "Known: mcc"),
    (["--strength", "4.5mg", "--capsule-size", "9"], "Known:"),
    (["--strength", "4.5mg", "--route", "weighed"], "Weigh at least 20 tablets"),
    (["--strength", "4.5mg", "--route", "sideways"], "Invalid value"),
])
def test_bad_input_exits_2_and_says_what_to_type(capsys, args, says):
    code, out, err = run(capsys, ["plan", "capsules", "--count", "30", *args])
    assert code == 2 and out == ""
    assert says in err and "Traceback" not in err


def test_refusal_exits_3_and_prints_no_amounts(capsys):
    code, out, _ = run(capsys, ["plan", "capsules", "--strength", "4.5g", "--count", "30", "--json"])
    assert code == 3
    d = json.loads(out)
    assert d["status"] == "refused" and "api_required_mg" not in d and "steps" not in d
    assert any("did you mean 4.5 mg?" in f["message"] for f in d["findings"])
    code, out, _ = run(capsys, ["plan", "capsules", "--strength", "4.5mg", "--count", "30", "--opioid-use"])
    assert code == 3 and "REFUSED" in out and "OPIOID_USE" in out and "Working" not in out


def test_opioid_override_is_a_warning_with_the_reason_recorded(capsys):
    code, out, _ = run(capsys, [*WORKED, "--opioid-use", "--override-opioid", "opioid-free since 1 Nov",
                                "--json"])
    assert code == 0
    d = json.loads(out)
    assert d["status"] == "warning" and d["inputs"]["override_opioid"] == "opioid-free since 1 Nov"
    assert d["findings"][0]["code"] == "OPIOID_USE_OVERRIDDEN"


@pytest.mark.slow
def test_exit_codes_from_a_real_process(tmp_path):
    def status(*args):
        return subprocess.run([sys.executable, "-m", "compound", "plan", "capsules", *args],
                              capture_output=True, text=True, timeout=60).returncode

    assert status("--strength", "4.5mg", "--count", "30", "--tablet-weight", "200mg") == 0
    assert status("--strength", "4.5", "--count", "30") == 2
    assert status("--strength", "11mg", "--count", "30") == 3
