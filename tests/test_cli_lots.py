"""``compound lots …`` and ``compound audit …`` run as a user runs them.

In-process through ``compound.cli.main`` (the real error-to-exit-code mapping),
plus subprocesses for the exit status and the import cost. The register is
COMPOUND_DB and today is 2025-03-10 (conftest).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys

import pytest

from compound.register import Register

NTX, MCC = "NTX2403", "MCC-7781"


@pytest.fixture
def run(cli):
    """``compound ARGS`` in-process: (exit code, out, err) (conftest's ``cli``)."""
    return cli


@pytest.fixture
def lots(run, tmp_path, clock):
    """Two ingredient lots received through the CLI; three compounded lots recorded."""
    assert run("lots", "receive", "naltrexone-hcl-50mg-tablet", NTX, "--expiry", "2026-05",
               "--tablet-weight", "200mg", "--received", "2025-01-15", "--by", "ab")[0] == 0
    assert run("lots", "receive", "avicel", MCC, "--expiry", "2027-01-31",
               "--pack-stat", "3=135mg", "--received", "2025-01-15", "--by", "AB")[0] == 0
    made = []
    with Register.open() as reg:
        for compounded, bud, window in [("2025-03-10", "2025-09-05", 360),
                                        ("2025-03-01", "2025-03-14", None),
                                        ("2025-02-01", "2025-03-01", None)]:
            clock.set(compounded)  # each lot recorded on the day it was made
            made.append(reg.record_lot(
                kind="capsules", description="Naltrexone HCl 4.5 mg capsules", quantity=30,
                quantity_unit="capsules", plan={"kind": "capsules", "status": "ok"},
                compounded=compounded, beyond_use_date=bud,
                bud_limit="policy-cap: usp795-2023 cap (180 days)",
                bud_source="USP <795> (2023) §10.5", stability_window_days=window,
                storage="room", compounded_by="AB", checked_by="CD",
                components=[(NTX, 3, "tablets"), (MCC, 2.1, "g")]))
    clock.set("2025-03-10")
    return made


def test_receive_says_how_a_month_expiry_was_read(run):
    code, out, _ = run("lots", "receive", "naltrexone-hcl-50mg-tablet", NTX, "--expiry",
                       "2026-05", "--by", "ab")
    assert code == 0
    assert out == (f"Received {NTX}: Naltrexone hydrochloride 50 mg film-coated tablet, expiry "
                   "2026-05-31 (the last day of the month given), on 2025-03-10 by AB.\n")


def test_receive_json(run):
    code, out, _ = run("lots", "receive", "naltrexone-hcl-api", "API-1", "--expiry",
                       "2027-06-30", "--assay", "99.2%", "--water", "0.4%", "--by", "AB", "--json")
    assert code == 0
    data = json.loads(out)
    assert (data["lot_number"], data["item"], data["assay_pct"], data["water_pct"]) == (
        "API-1", "naltrexone-hcl-api", 99.2, 0.4)


@pytest.mark.parametrize(("args", "code", "message"), [
    (["mcc", "M1", "--expiry", "2026-02-30", "--by", "AB"], 2, "February 2026 has 28 days"),
    (["mcc", "M1", "--expiry", "30/06/2026", "--by", "AB"], 2, "year first"),
    (["mcc", "M1", "--expiry", "2026-06", "--by", "A"], 2, "initials"),
    (["mcc", "M1", "--expiry", "2026-06", "--by", "AB", "--pack-stat", "3"], 2, "SIZE=MASS"),
    (["mcc", "M1", "--expiry", "2026-06", "--by", "AB", "--pack-stat", "3=135"], 2, "no unit"),
    (["mcc", "M1", "--expiry", "2025-01", "--by", "AB"], 6, "expired on 2025-01-31"),
    (["lactase", "M1", "--expiry", "2026-06", "--by", "AB"], 2, "not a product, excipient"),
])
def test_receive_errors_exit_with_their_code(run, args, code, message):
    got, out, err = run("lots", "receive", *args)
    assert got == code
    assert message in err and out == ""
    assert "Traceback" not in err


def test_list_by_bud_with_days_left(run, lots):
    code, out, _ = run("lots", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["LOT", "STATUS", "BUD", "DESCRIPTION"]
    # Ordered by BUD: 2025-03-01 (9 days ago), 2025-03-14 (4 days left), 2025-09-05 (179 left).
    assert lots[2] in lines[1] and "expired" in lines[1] and "expired 9 days ago" in lines[1]
    assert lots[1] in lines[2] and "4 days left" in lines[2]
    assert lots[0] in lines[3] and "179 days left" in lines[3]


def test_list_expiring_and_status_filters(run, lots):
    code, out, _ = run("lots", "list", "--expiring", "30d", "--json")
    assert code == 0
    assert [r["lot_number"] for r in json.loads(out)] == [lots[2], lots[1]]
    code, out, _ = run("lots", "list", "--status", "expired", "--json")
    assert code == 0
    assert [r["lot_number"] for r in json.loads(out)] == [lots[2]]
    code, out, _ = run("lots", "list", "--status", "dispensed")
    assert (code, out) == (0, "No lots with status dispensed.\n")
    code, _, err = run("lots", "list", "--expiring", "30")
    assert code == 2 and "no unit" in err
    code, out, _ = run("lots", "list", "--ingredients")
    assert code == 0
    assert NTX in out and "2026-05-31" in out and "447 days left" in out


def test_show_json_has_status_bud_days_left_window_components_history(run, lots):
    run("lots", "release", lots[0], "--by", "cd")
    code, out, _ = run("lots", "show", lots[0], "--json")
    assert code == 0
    data = json.loads(out)
    assert data["status"] == "released" and data["beyond_use_date"] == "2025-09-05"
    assert data["days_left"] == 179 and data["window_used_pct"] == 0
    assert data["stability_window_days"] == 360
    assert [(c["lot_number"], c["amount"], c["unit"]) for c in data["components"]] == [
        (NTX, 3, "tablet"), (MCC, 2100, "mg")]
    assert [(h["action"], h["by"]) for h in data["history"]] == [
        ("lot.record", "AB"), ("lot.release", "CD")]


def test_show_text(run, lots):
    code, out, _ = run("lots", "show", lots[0])
    assert code == 0
    assert f"Lot {lots[0]}: Naltrexone HCl 4.5 mg capsules (capsules)" in out
    assert "Beyond-use date  2025-09-05 (179 days left, today 2025-03-10)" in out
    assert "Stability window 360 days; 0 % used" in out
    assert re.search(rf"{NTX} +Naltrexone hydrochloride 50 mg film-coated tablet +3 tablets "
                     r"+\(expiry 2026-05-31\)", out)
    assert re.search(rf"{MCC} +Microcrystalline cellulose \(Avicel PH-102\) +2100 mg", out)
    code, out, _ = run("lots", "show", lots[2])
    assert code == 0
    assert "Status           expired (recorded status: quarantine)" in out


def test_show_an_ingredient_lot_and_an_unknown_lot(run, lots):
    code, out, _ = run("lots", "show", NTX)
    # 2025-03-10 -> 2026-05-31: 296 days to 2025-12-31, + 31 + 28 + 31 + 30 + 31 = 447.
    assert code == 0 and "Expiry         2026-05-31 (447 days left)" in out
    assert "Tablet weight  200 mg (measured average)" in out
    code, out, _ = run("lots", "show", MCC)
    assert code == 0 and "Pack stat #3   135 mg per capsule" in out
    code, out, err = run("lots", "show", "LDN-20990101-0001")
    assert code == 6 and "unknown lot LDN-20990101-0001" in err


def test_release_dispense_recall_destroy(run, lots):
    code, out, err = run("lots", "dispense", lots[0], "--by", "CD")
    assert code == 6
    assert "is quarantine: it cannot be dispensed" in err
    assert f"compound lots release {lots[0]} --by CD" in err
    assert run("lots", "release", lots[0], "--by", "CD")[1] == (
        f"Lot {lots[0]} is now released (Naltrexone HCl 4.5 mg capsules; BUD 2025-09-05).\n")
    assert run("lots", "dispense", lots[0], "--by", "CD")[0] == 0
    code, _, err = run("lots", "recall", lots[0], "--by", "CD")
    assert code == 2 and "reason is required" in err
    code, out, _ = run("lots", "recall", lots[0], "--by", "CD", "--reason", "supplier recall",
                       "--json")
    assert code == 0 and json.loads(out)["status"] == "recalled"
    assert run("lots", "destroy", lots[0], "--by", "CD")[0] == 0


def test_an_expired_lot_cannot_be_released(run, lots):
    code, _, err = run("lots", "release", lots[2], "--by", "CD")
    assert code == 6
    assert "is expired (BUD 2025-03-01, today 2025-03-10): it cannot be released" in err
    assert f"compound lots destroy {lots[2]} --by CD" in err
    assert run("lots", "destroy", lots[2], "--by", "CD", "--reason", "expired")[0] == 0


def test_trace(run, lots):
    code, out, _ = run("lots", "trace", NTX)
    assert code == 0
    assert out.splitlines()[0] == f"{NTX} was used in 3 lots:"
    assert all(lot in out for lot in lots)
    code, out, _ = run("lots", "trace", NTX, "--json")
    assert code == 0
    data = json.loads(out)
    assert data["lot_number"] == NTX and len(data["used_in"]) == 3
    assert data["used_in"][0]["used"] == {"amount": 3, "unit": "tablet"}


def test_note_and_audit_log(run, lots):
    assert run("lots", "note", lots[0], "--by", "AB", "--text", "label reprinted")[0] == 0
    code, out, _ = run("audit", "log", "--lot", lots[0], "--json")
    assert code == 0
    assert [e["action"] for e in json.loads(out)] == ["lot.record", "lot.note"]
    assert json.loads(out)[1]["note"] == "label reprinted"
    code, out, _ = run("audit", "log")
    assert code == 0
    assert out.splitlines()[0].endswith("compound register.migrate")
    assert len(out.splitlines()) == 1 + 2 + 3 + 1


def test_export_to_stdout_and_file(run, lots, tmp_path):
    code, out, _ = run("lots", "export", "--csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["lot_number"] for r in rows] == [lots[2], lots[1], lots[0]]
    target = tmp_path / "lots.csv"
    code, _, err = run("lots", "export", "--csv", "-o", str(target))
    assert code == 0 and err == f"Wrote 3 lots to {target}.\n"
    assert target.read_bytes().startswith(b"\xef\xbb\xbf")


def test_audit_verify_ok(run, lots):
    code, out, _ = run("audit", "verify")
    assert code == 0 and out.startswith("Audit trail verified: 6 events, head #6 sha256 ")


def test_db_option_and_bad_url(run, tmp_path):
    other = tmp_path / "elsewhere" / "other.sqlite3"
    code, out, err = run("lots", "list", "--db", str(other))  # a folder that does not exist
    assert (code, out) == (6, "")
    assert err == (f"error: no register at {other}: the folder {other.parent} does not exist.\n"
                   f"  Create it with `compound lots init {other}`, or check --db / "
                   "COMPOUND_DB for a typing mistake.\n")
    assert not other.parent.exists()
    assert run("lots", "init", str(other)) == (
        0, f"Created the register at sqlite:///{other}.\n", "")
    assert run("lots", "init", str(other))[1] == (
        f"sqlite:///{other} is a register (1 event); ready.\n")
    assert run("lots", "receive", "mcc", "M1", "--expiry", "2026-06", "--by", "AB",
               "--db", str(other))[0] == 0
    assert "M1" in run("lots", "list", "--ingredients", "--db", str(other))[1]
    assert "M1" not in run("lots", "list", "--ingredients")[1]
    code, _, err = run("lots", "list", "--db", "mysql://host/db")
    assert code == 6 and "cannot use 'mysql'" in err


def test_compound_db_naming_a_missing_folder_is_an_error(run, tmp_path, monkeypatch):
    monkeypatch.setenv("COMPOUND_DB", str(tmp_path / "typo" / "register.sqlite3"))
    code, out, err = run("lots", "list")
    assert (code, out) == (6, "") and "no register at" in err and "compound lots init" in err
    assert not (tmp_path / "typo").exists()


def test_exit_codes_from_a_real_process(tmp_path):
    # The real clock: a receipt is dated today (COMPOUND_TODAY would have to match it).
    env = {k: v for k, v in os.environ.items() if k != "COMPOUND_TODAY"}
    env["COMPOUND_DB"] = str(tmp_path / "r.sqlite3")

    def compound(*args):
        return subprocess.run([sys.executable, "-m", "compound", *args], capture_output=True,
                              text=True, env=env)

    proc = compound("lots", "show", "NOPE")  # reading creates nothing
    assert proc.returncode == 6
    assert proc.stderr.startswith("error: there is no register at ")
    assert not (tmp_path / "r.sqlite3").exists()
    assert compound("lots", "receive", "mcc", "M1", "--expiry", "2099-12", "--by", "AB"
                    ).returncode == 0
    proc = compound("lots", "show", "NOPE")
    assert proc.returncode == 6
    assert proc.stderr == ("error: unknown lot NOPE.\n"
                           "  compound lots list shows the lots.\n")
    assert compound("audit", "verify").returncode == 0


def test_lots_help_does_not_import_sqlalchemy():
    code = ("import sys\nfrom compound.cli import main\n"
            "try:\n    main(['lots', '--help'])\nexcept SystemExit:\n    pass\n"
            "print('sqlalchemy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert "Commands:" in out and out.strip().endswith("False")
