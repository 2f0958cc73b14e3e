"""``compound plan liquid|drops|dilution``: the real command, output and exit codes.

Exit codes go through compound.cli.main (the console-script entry), run in-process:
0 a plan, 2 bad input (with what to type), 3 refused (no amounts printed).
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from compound.cli import cli, main


def run(capsys, *args):
    """Run ``compound plan ...`` through main(); return (exit code, stdout, stderr)."""
    try:
        main(["plan", *args])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *args):
    code, out, err = run(capsys, *args, "--json")
    return code, json.loads(out), err


def test_plan_help_lists_the_liquid_forms():
    result = CliRunner().invoke(cli, ["plan", "--help"])
    assert result.exit_code == 0
    for form in ("liquid", "drops", "dilution"):
        assert form in result.output


def test_liquid_t1_json(capsys):
    code, d, _ = run_json(capsys, "liquid", "--strength", "1mg/mL", "--volume", "50mL",
                          "--dose", "4.5mg", "--vehicle", "purified-water")
    assert code == 0
    # prior-art T1: 1 tablet in 50 mL, 4.5 mL a dose, 11 days.
    assert (d["concentration_mg_per_ml"], d["volume_ml"], d["tablets_to_crush"], d["dose_volume_ml"],
            d["days_supply"]) == (1, 50, 1, 4.5, 11)
    assert d["device"]["name"] == "5 mL oral syringe"
    assert d["steps"] and {f["code"] for f in d["findings"]} >= {"SUSPENSION_SHAKE_WELL"}


def test_liquid_dose_and_days_from_api(capsys):
    # 4.5 mg x 14 days at 1 mg/mL = 63 mL; 63 mg < 120 mg MWQ -> stock and aliquot.
    code, d, _ = run_json(capsys, "liquid", "--strength", "1mg/mL", "--dose", "4.5mg", "--days", "14",
                          "--source", "api")
    assert code == 0
    assert d["volume_ml"] == 63 and d["api_mg"] == 63 and d["days_supply"] == 14
    assert d["api_to_weigh_mg"] >= 120 and d["aliquot"]["stages"]


def test_liquid_worksheet(capsys):
    code, out, _ = run(capsys, "liquid", "--strength", "1mg/mL", "--volume", "30mL",
                       "--tablet-weight", "200mg")
    assert code == 0
    assert "LDN oral liquid — worksheet" in out
    assert "Crushed tablet powder to weigh: 120 mg" in out
    assert "0.30000000000000004" not in out and "1.0 mg" not in out


def test_drops_json(capsys):
    code, d, _ = run_json(capsys, "drops", "--strength", "10mg/mL", "--drops-per-ml", "23",
                          "--volume", "30mL", "--dose", "4.5mg")
    assert code == 0
    assert d["inputs"]["source"] == "api"  # drops default to API
    for key in ("drops_per_ml", "concentration_mg_per_ml", "api_mg", "api_to_weigh_mg",
                "drops_per_dose", "dose_delivered_mg", "dose_error_pct", "volume_ml", "findings",
                "steps"):
        assert key in d, key
    assert (d["drops_per_dose"], d["dose_delivered_mg"], d["dose_error_pct"]) == (10, 4.348, -3.382)


def test_drops_per_drop_with_calibration(capsys):
    code, d, _ = run_json(capsys, "drops", "--per-drop", "0.5mg", "--calibration", "46 drops/2mL",
                          "--volume", "30mL")
    assert code == 0
    assert (d["drops_per_ml"], d["concentration_mg_per_ml"], d["api_mg"]) == (23, 11.5, 345)


def test_drops_uncalibrated_warns(capsys):
    code, d, _ = run_json(capsys, "drops", "--strength", "10mg/mL", "--volume", "30mL",
                          "--dose", "4.5mg")
    assert code == 0 and d["status"] == "warning"
    assert "DROPPER_UNCALIBRATED" in {f["code"] for f in d["findings"]}


def test_dilution_json(capsys):
    code, d, _ = run_json(capsys, "dilution", "--strength", "1mcg/mL", "--volume", "30mL",
                          "--dose", "5mcg", "--vehicle", "purified-water")
    assert code == 0
    assert d["inputs"]["source"] == "api"
    assert d["api_to_weigh_mg"] == 125 and d["stage_count"] == 2
    assert [s["take_ml"] for s in d["stages"]] == [2, 1.2]
    assert d["dose_volume_ml"] == 5


@pytest.mark.parametrize(("args", "says"), [
    (["liquid", "--volume", "30mL"], "--strength"),
    (["liquid", "--strength", "1mg/mL"], "--volume 100mL, or --dose 4.5mg --days 14"),
    (["liquid", "--strength", "1mg/mL", "--volume", "30mL", "--days", "14", "--dose", "4.5mg"],
     "not both"),
    (["liquid", "--strength", "1mg/mL", "--days", "14"], "--dose"),
    (["liquid", "--strength", "1mg/mL", "--volume", "30mL", "--dose", "4,5mg"], "4.5mg"),
    (["liquid", "--strength", "1mg/mL", "--volume", "30mL", "--source", "pill"], "pill"),
    (["drops", "--strength", "10mg/mL", "--volume", "30mL", "--dose", "9gtt"], "--calibration"),
    (["drops", "--strength", "10mg/mL", "--per-drop", "0.5mg", "--volume", "30mL"], "not both"),
    (["drops", "--volume", "30mL"], "--per-drop 0.5mg or --strength 10mg/mL"),
    (["drops", "--strength", "10mg/mL", "--volume", "30mL", "--calibration", "46 drops/2mL",
      "--drops-per-ml", "23"], "not both"),
    (["drops", "--strength", "10mg/mL"], "--volume"),
    (["dilution", "--strength", "1mcg/mL"], "--volume"),
    (["dilution", "--strength", "1ug/mL", "--volume", "30mL"], "mcg"),
])
def test_bad_input_exits_2_with_what_to_type(capsys, args, says):
    code, out, err = run(capsys, *args)
    assert code == 2
    assert says in err
    assert out == ""
    assert "Traceback" not in err


@pytest.mark.parametrize("args", [
    ["liquid", "--strength", "1mg/mL", "--volume", "0mL"],
    ["liquid", "--strength", "1mg/mL", "--volume", "50mL", "--dose", "4.5g"],
    ["liquid", "--strength", "1mg/mL", "--volume", "50mL", "--dose", "4.5mg", "--opioid-use"],
    ["liquid", "--strength", "150mg/mL", "--volume", "30mL", "--source", "api"],
    ["drops", "--strength", "10mg/mL", "--drops-per-ml", "20", "--volume", "30mL", "--dose", "4.5mg",
     "--opioid-use"],
    ["dilution", "--strength", "1mcg/mL", "--volume", "30mL", "--opioid-use"],
])
def test_refusals_exit_3_without_amounts(capsys, args):
    code, d, _ = run_json(capsys, *args)
    assert code == 3
    assert d["status"] == "refused"
    amounts = {k for k in d if k.endswith(("_mg", "_ml", "_mg_per_ml", "_pct")) or k in (
        "tablets_to_crush", "drops_per_dose", "days_supply", "stages", "aliquot", "steps")}
    assert amounts == set()
    assert any(f["severity"] == "refusal" for f in d["findings"])


def test_refusal_worksheet_shows_no_amounts(capsys):
    code, out, _ = run(capsys, "liquid", "--strength", "1mg/mL", "--volume", "50mL", "--dose",
                       "4.5mg", "--opioid-use")
    assert code == 3
    assert "REFUSED" in out and "Working" not in out and "Tablets to crush" not in out


def test_opioid_override_records_the_reason(capsys):
    code, d, _ = run_json(capsys, "liquid", "--strength", "1mg/mL", "--volume", "50mL", "--dose",
                          "4.5mg", "--opioid-use", "--override-opioid", "prescriber confirmed")
    assert code == 0
    assert d["status"] == "warning"
    assert d["inputs"]["override_opioid"] == "prescriber confirmed"
    assert "OPIOID_USE_OVERRIDDEN" in {f["code"] for f in d["findings"]}


def test_no_float_noise_in_json(capsys):
    # "4.5mcg" parses to 0.0045000000000000005 mg; 0.3 mg in 0.6 drop is +66.666...%.
    for args in (["dilution", "--strength", "1mcg/mL", "--volume", "30mL", "--dose", "4.5mcg"],
                 ["drops", "--strength", "10mg/mL", "--drops-per-ml", "20", "--volume", "30mL",
                  "--dose", "0.3mg"],
                 ["liquid", "--strength", "1mg/mL", "--volume", "30mL", "--dose", "4.5mcg",
                  "--opioid-use"]):
        code, out, _ = run(capsys, *args, "--json")
        assert code in (0, 3)
        for noise in ("0000000", "9999999"):
            assert noise not in out, (args, noise)
