"""``compound lots dispense``, ``compound rx …`` and recalls reaching patients, as a user runs them.

The register is COMPOUND_DB and today is 2025-03-10 (conftest). One released lot
of 90 capsules of 4.5 mg (HCl); RX1 is 30 capsules a fill with 1 refill.
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from compound.register import Register

NTX = "NTX2403"
LOT = "LDN-20250310-0001"
PATIENT = "Zelda Quux"
RX1 = ["rx", "add", "RX1", "--patient", PATIENT, "--dob", "1970-01-02",
       "--prescriber", "Dr A Smith", "--directions", "Take 1 capsule at bedtime",
       "--form", "capsules", "--strength", "4.5mg", "--quantity", "30", "--refills", "1",
       "--by", "AB"]


@pytest.fixture
def run(cli):
    """``compound ARGS`` in-process: (exit code, out, err) (conftest's ``cli``)."""
    return cli


@pytest.fixture
def released(run):
    assert run("lots", "receive", "naltrexone-hcl-50mg-tablet", NTX, "--expiry", "2026-05",
               "--received", "2025-01-15", "--by", "AB")[0] == 0
    with Register.open() as reg:
        lot = reg.record_lot(
            kind="capsules", description="Naltrexone HCl 4.5 mg capsules", quantity=90,
            quantity_unit="capsules",
            plan={"kind": "capsules", "status": "ok",
                  "inputs": {"strength": "4.5mg", "basis": "hcl"}},
            compounded="2025-03-10", beyond_use_date="2025-09-05",
            bud_limit="rule: nonaqueous-solid (180 days)", bud_source="USP <795> (2023) Table 4",
            stability_window_days=None, storage="room", compounded_by="AB", checked_by="CD",
            components=[(NTX, 9, "tablets")])
    assert lot == LOT
    assert run("lots", "release", LOT, "--by", "CD")[0] == 0
    assert run(*RX1) == (0, "Recorded prescription RX1: 4.5 mg (HCl) capsules, 1 refill.\n", "")
    return lot


def test_partial_dispensing_then_the_rest(run, released):
    assert run("lots", "dispense", LOT, "--quantity", "30", "--rx", "RX1", "--by", "AB") == (
        0, f"Dispensed 30 capsules of lot {LOT} to RX1 (fill 1); 60 capsules left, still "
           "released.\n", "")
    code, out, _ = run("lots", "dispense", LOT, "--by", "AB", "--json")
    assert code == 0
    data = json.loads(out)
    assert (data["status"], data["remaining"]) == ("dispensed", 0)
    assert [d["quantity"] for d in data["dispensings"]] == [30, 60]


def test_refusals_exit_6_and_never_name_the_patient(run, released):
    cases = [
        (["--quantity", "91"], f"lot {LOT} has 90 capsules left: 91 capsules cannot be dispensed"),
        (["--quantity", "30", "--rx", "RX9"], "unknown prescription RX9"),
    ]
    for extra, message in cases:
        code, out, err = run("lots", "dispense", LOT, *extra, "--by", "AB")
        assert (code, out) == (6, "") and message in err
    run("lots", "dispense", LOT, "--quantity", "30", "--rx", "RX1", "--by", "AB")
    run("lots", "dispense", LOT, "--quantity", "30", "--rx", "RX1", "--by", "AB")
    code, _, err = run("lots", "dispense", LOT, "--quantity", "30", "--rx", "RX1", "--by", "AB")
    assert code == 6 and "RX1 has no refills left" in err
    code, _, err = run(*RX1[:4], "Someone Else", *RX1[5:])
    assert code == 6 and "already recorded with a different patient name" in err
    assert PATIENT not in err and "Someone Else" not in err


def test_lots_show_lists_the_dispensings(run, released):
    run("lots", "dispense", LOT, "--quantity", "30", "--rx", "RX1", "--by", "AB")
    run("lots", "dispense", LOT, "--quantity", "20", "--by", "CD")
    code, out, _ = run("lots", "show", LOT)
    assert code == 0
    assert "  Quantity         90 capsules made; 40 capsules left\n" in out
    section = out.split("  Dispensed\n")[1].split("  History\n")[0]
    assert section.splitlines() == [
        "    DATE        RX       PATIENT                       QUANTITY             BY",
        "    2025-03-10  RX1      Zelda Quux (born 1970-01-02)  30 capsules  fill 1  AB",
        "    2025-03-10  (no Rx)                                20 capsules          CD",
    ]


def test_rx_show_lists_every_lot_dispensed_for_it(run, released):
    run("lots", "dispense", LOT, "--quantity", "30", "--rx", "RX1", "--by", "AB")
    code, out, _ = run("rx", "show", "RX1")
    assert code == 0
    assert out.splitlines() == [
        "Prescription RX1",
        f"  Patient      {PATIENT} (born 1970-01-02)",
        "  Prescriber   Dr A Smith",
        "  Directions   Take 1 capsule at bedtime",
        "  Prescribed   4.5 mg (HCl) capsules, 30 capsules per fill, 1 refill",
        "  Fills        1 of 2 dispensed; 1 refill left",
        "  Dispensed",
        "    DATE        RX   LOT                QUANTITY             BY",
        f"    2025-03-10  RX1  {LOT}  30 capsules  fill 1  AB",
    ]
    code, out, _ = run("rx", "show", "RX1", "--json")
    assert code == 0 and json.loads(out)["dispensings"][0]["lot_number"] == LOT
    code, _, err = run("rx", "show", "RX2")
    assert code == 6 and "unknown prescription RX2" in err


def test_a_recall_lists_the_patients_who_received_the_lots(run, released):
    run("lots", "dispense", LOT, "--quantity", "30", "--rx", "RX1", "--by", "AB")
    code, out, _ = run("lots", "trace", NTX)
    assert code == 0
    assert out.splitlines()[-3:] == [
        "Dispensed to (1 dispensing; contact these patients):",
        "PATIENT     BORN        RX   LOT                DATE        QUANTITY",
        f"{PATIENT}  1970-01-02  RX1  {LOT}  2025-03-10  30 capsules",
    ]
    code, out, _ = run("lots", "trace", LOT)  # the compounded lot itself
    assert code == 0 and f"{PATIENT}  1970-01-02  RX1  {LOT}" in out
    code, out, _ = run("lots", "trace", NTX, "--json")
    assert json.loads(out)["used_in"][0]["dispensings"][0]["patient_name"] == PATIENT


def test_export_leaves_patients_out_unless_asked(run, released):
    run("lots", "dispense", LOT, "--quantity", "30", "--rx", "RX1", "--by", "AB")
    code, out, _ = run("lots", "export")
    assert code == 0
    assert PATIENT not in out and "1970-01-02" not in out and "RX1" not in out
    row = next(csv.DictReader(io.StringIO(out)))
    assert (row["remaining"], row["dispensed"]) == ("60", "2025-03-10 30 capsules by AB")
    code, out, _ = run("lots", "export", "--with-patients")
    row = next(csv.DictReader(io.StringIO(out)))
    assert row["dispensed_to"] == f"2025-03-10 RX1 {PATIENT} (1970-01-02) 30 capsules"


def test_the_audit_trail_verifies_after_dispensings(run, released):
    run("lots", "dispense", LOT, "--quantity", "30", "--rx", "RX1", "--by", "AB")
    run("lots", "dispense", LOT, "--by", "AB")
    code, out, _ = run("audit", "verify")
    assert code == 0 and out.startswith("Audit trail verified: 7 events")


@pytest.mark.parametrize(("command", "words"), [
    ("release", "Optional note on the release"),
    ("dispense", "Optional note on this dispensing"),
    ("destroy", "Why it is destroyed"),
    ("recall", "Why it is recalled (required)"),
])
def test_each_command_describes_its_own_reason(run, command, words):
    code, out, _ = run("lots", command, "--help")
    assert code == 0
    reason = " ".join(out.split("--reason TEXT")[1].split("\n  --as-of")[0].split())
    assert reason.startswith(words)
    assert "required for a recall" not in reason  # what every command used to say


def test_list_shows_what_is_left_of_a_partly_dispensed_lot_and_a_recall_points_to_patients(
        run, released):
    run("lots", "dispense", LOT, "--quantity", "30", "--rx", "RX1", "--by", "AB")
    code, out, _ = run("lots", "list")
    assert code == 0
    assert out.splitlines() == [
        "LOT                STATUS    BUD                        LEFT         DESCRIPTION",
        f"{LOT}  released  2025-09-05  179 days left  60 capsules  Naltrexone HCl 4.5 mg capsules",
    ]
    code, out, _ = run("lots", "recall", LOT, "--by", "CD", "--reason", "supplier recall")
    assert code == 0
    assert out.splitlines()[1] == (f"It was dispensed to 1 prescription: compound lots trace "
                                   f"{LOT} lists the patients to contact.")
    assert PATIENT not in out
