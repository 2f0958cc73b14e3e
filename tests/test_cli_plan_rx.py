"""``compound plan … --rx … --save``: the prescription travels into the plan, the lot and its label.

Today is 2025-03-10 by both clocks (conftest); the register is COMPOUND_DB.
90 capsules of 4.5 mg from 50 mg tablets: 90 × 4.5 = 405 mg → 9 tablets (8.1 rounded up).
"""

from __future__ import annotations

import json

import pytest

from compound.register import Register

NTX, MCC = "NTX2403", "MCC77"
LOT = "LDN-20250310-0001"
PATIENT = "Zelda Quux"
PLAN = ["plan", "capsules", "--strength", "4.5mg", "--count", "90", "--tablet-weight", "200mg",
        "--fill-weight", "100mg", "--compounded", "2025-03-10"]
SAVE = ["--save", "--by", "AB", "--checked-by", "CD", "--ingredient-lot", NTX,
        "--ingredient-lot", MCC]
RX = ["--rx", "RX1", "--patient", PATIENT, "--dob", "1970-01-02", "--prescriber", "Dr A Smith",
      "--directions", "Take 1 capsule at bedtime", "--refills", "2", "--quantity-per-fill", "30"]


@pytest.fixture
def run(cli):
    """``compound ARGS`` in-process: (exit code, out, err) (conftest's ``cli``)."""
    return cli


@pytest.fixture
def received(run):
    assert run("lots", "receive", "naltrexone-hcl-50mg-tablet", NTX, "--expiry", "2026-05",
               "--received", "2025-01-15", "--by", "AB")[0] == 0
    assert run("lots", "receive", "mcc", MCC, "--expiry", "2025-08-31", "--received",
               "2025-01-15", "--by", "AB")[0] == 0


def test_save_in_text_mode_prints_the_lot_its_bud_and_what_was_recorded(run, received):
    code, out, _ = run(*PLAN, *SAVE)
    assert code == 0
    assert out.splitlines()[-4:] == [
        "",
        f"Saved lot {LOT} (quarantine): 90 capsules, BUD 2025-08-31 (room).",
        f"  Recorded: compounded 2025-03-10 by AB, checked by CD; {NTX} 9 tablets, "
        f"{MCC} 7380 mg.",
        f"  Next: after the final check, compound lots release {LOT} --by INITIALS.",
    ]


def test_save_without_ingredient_lots_names_the_flag(run, received):
    code, out, err = run(*PLAN, "--save", "--by", "AB")
    assert (code, out) == (2, "")
    assert err.startswith("error: --save records the lot with the ingredient lots it used: "
                          "name each with --ingredient-lot LOT.")


def test_the_prescription_goes_into_the_plan_the_lot_and_its_label(run, received):
    code, out, _ = run(*PLAN, *SAVE, *RX)
    assert code == 0
    assert "\n".join([
        "Prescription RX1", f"  patient: {PATIENT} (born 1970-01-02)",
        "  prescriber: Dr A Smith", "  directions: Take 1 capsule at bedtime",
        "  prescribed: 4.5 mg (HCl) capsules, 30 capsules per fill, 2 refills"]) in out
    assert f"{MCC} 7380 mg; for prescription RX1." in out
    with Register.open() as reg:
        assert reg.get(LOT).plan["prescription"]["rx_number"] == "RX1"
        assert reg.prescription_for_label(LOT) == {
            "rx_number": "RX1", "patient_name": PATIENT, "patient_dob": "1970-01-02",
            "prescriber": "Dr A Smith", "directions": "Take 1 capsule at bedtime",
            "strength": "4.5 mg (HCl)", "form": "capsules", "quantity": "30 capsules",
            "fill_quantity": 30, "fill_unit": "capsules",
            "refills": 2, "refills_left": 2}
        assert reg.verify().ok
    assert run("lots", "release", LOT, "--by", "CD")[0] == 0
    assert run("lots", "dispense", LOT, "--quantity", "30", "--rx", "RX1", "--by", "AB")[1] == (
        f"Dispensed 30 capsules of lot {LOT} to RX1 (fill 1); 60 capsules left, still "
        "released.\n")


def test_a_recorded_rx_is_named_by_its_number_alone(run, received):
    assert run(*PLAN, *SAVE, *RX)[0] == 0
    code, out, _ = run(*PLAN, *SAVE, "--rx", "RX1", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["prescription"]["patient_name"] == PATIENT
    assert data["prescription"]["quantity"] == "30 capsules"
    code, _, err = run(*PLAN, *SAVE, "--rx", "RX1", "--patient", "Someone Else")
    assert code == 6 and "RX1 is already recorded with a different patient name" in err
    assert "Someone Else" not in err and PATIENT not in err


def test_a_new_rx_needs_every_detail_and_details_need_an_rx(run, received):
    code, _, err = run(*PLAN, *SAVE, "--rx", "RX2", "--patient", PATIENT)
    assert code == 2 and "prescription RX2 needs --dob, --prescriber, --directions" in err
    code, _, err = run(*PLAN, "--patient", PATIENT, "--dob", "1970-01-02")
    assert code == 2 and "--patient, --dob belong to a prescription: name it with --rx RX" in err
    assert PATIENT not in err


def test_without_save_the_prescription_is_carried_but_not_recorded(run):
    code, out, _ = run(*PLAN[:-2], *RX, "--json")
    assert code == 0
    assert json.loads(out)["prescription"]["rx_number"] == "RX1"
    with Register.open() as reg:
        assert [e.action for e in reg.events()] == ["register.migrate"]
