"""Prescriptions, partial dispensing and refills through the register's Python API.

Today is 2025-03-10 (COMPOUND_TODAY, conftest). A 90-capsule lot of 4.5 mg
(HCl) capsules is dispensed 30 at a time: 90 − 30 = 60 left, 60 − 30 = 30, and
30 − 30 = 0 (the lot becomes dispensed). RX1 allows 1 + 1 refill = 2 fills.
"""

from __future__ import annotations

import sqlite3

import pytest

from compound.errors import InputError, RegisterError, UnitInputError
from compound.register import Register, db, migrations, schema

PLAN = {"kind": "capsules", "status": "ok", "inputs": {"strength": "4.5mg", "basis": "hcl"}}
PATIENT = "Zelda Quux"  # a name that appears nowhere else, to look for in messages
NTX = "NTX2403"


@pytest.fixture
def reg(tmp_path):
    register = Register.open(tmp_path / "register.sqlite3")
    register.receive_ingredient(item="naltrexone-hcl-50mg-tablet", lot_number=NTX,
                                expiry="2026-05", received="2025-01-15", received_by="AB")
    yield register
    register.close()


def capsules(reg, **overrides):
    args = dict(
        kind="capsules", description="Naltrexone HCl 4.5 mg capsules", quantity=90,
        quantity_unit="capsules", plan=PLAN, compounded="2025-03-10",
        beyond_use_date="2025-09-05", bud_limit="rule: nonaqueous-solid (180 days)",
        bud_source="USP <795> (2023) Table 4", stability_window_days=None, storage="room",
        compounded_by="AB", checked_by="CD", components=[(NTX, 9, "tablets")])
    return reg.record_lot(**{**args, **overrides})


def snapshot(reg):
    """Every table's rows: what a refused operation must not change."""
    with db.read(reg.engine) as conn:
        return {t.name: sorted(map(tuple, conn.execute(t.select()).all()), key=str)
                for t in schema.metadata.sorted_tables}


def rx(reg, number="RX1", **overrides):
    args = dict(rx=number, patient_name=PATIENT, patient_dob="1970-01-02",
                prescriber="Dr A Smith", directions="Take 1 capsule at bedtime",
                strength="4.5mg", form="capsules", quantity=30, refills=1, recorded_by="AB")
    args.update(overrides)
    return reg.record_prescription(**args)


@pytest.fixture
def lot(reg):
    number = capsules(reg)
    reg.release(number, by="CD")
    rx(reg)
    return number


def test_a_partial_dispensing_keeps_the_rest_released_until_empty(reg, lot):
    after = reg.dispense(lot, "AB", quantity=30, rx="RX1")
    assert (after.status, after.remaining, after.dispensed) == ("released", 60, 30)
    after = reg.dispense(lot, "ab", quantity="30 capsules")  # no Rx: a stock hand-out
    assert (after.status, after.remaining) == ("released", 30)
    after = reg.dispense(lot, "AB")  # the rest
    assert (after.status, after.remaining) == ("dispensed", 0)
    assert [(d.position, d.rx_number, d.fill, d.quantity, d.dispensed_by)
            for d in after.dispensings] == [(1, "RX1", 1, 30, "AB"), (2, None, None, 30, "AB"),
                                            (3, None, None, 30, "AB")]
    assert after.dispensings[0].patient_name == PATIENT
    assert after.to_dict()["remaining"] == 0
    assert [e.payload["to"] for e in after.history if e.action == "lot.dispense"] == [
        "released", "released", "dispensed"]
    assert reg.verify().ok


@pytest.mark.parametrize(("quantity", "error", "match"), [
    (91, RegisterError, "has 90 capsules left: 91 capsules cannot be dispensed"),
    (0, InputError, "greater than zero"),
    (2.5, InputError, "not a whole number of capsules"),
    ("30mL", InputError, "not a number of capsules"),
])
def test_a_dispensing_the_lot_cannot_give_is_refused_and_changes_nothing(
        reg, lot, quantity, error, match):
    before = snapshot(reg)
    with pytest.raises(error, match=match):
        reg.dispense(lot, "AB", quantity=quantity)
    assert snapshot(reg) == before


def test_quarantined_recalled_and_expired_lots_are_not_dispensed(reg, lot, clock):
    waiting = capsules(reg)
    with pytest.raises(RegisterError, match="is quarantine: it cannot be dispensed"):
        reg.dispense(waiting, "AB", quantity=1, rx="RX1")
    reg.dispense(lot, "AB", quantity=10, rx="RX1")
    reg.recall(lot, "AB", "supplier recall")
    with pytest.raises(RegisterError, match="is recalled: it cannot be dispensed"):
        reg.dispense(lot, "AB", quantity=10)
    clock.set("2025-03-11")  # the day after the BUD (2025-03-10)
    old = capsules(reg, compounded="2025-03-10", beyond_use_date="2025-03-11")
    reg.release(old, by="CD")
    clock.set("2025-03-12")
    with pytest.raises(RegisterError, match=r"is expired .*it cannot be dispensed"):
        reg.dispense(old, "AB", quantity=1)


def test_an_unknown_rx_is_refused(reg, lot):
    before = snapshot(reg)
    with pytest.raises(RegisterError, match="unknown prescription RX9"):
        reg.dispense(lot, "AB", quantity=30, rx="RX9")
    assert snapshot(reg) == before


def test_refills_each_dispensing_is_a_fill_until_none_remain(reg, lot):
    reg.dispense(lot, "AB", quantity=30, rx="RX1")
    assert reg.get_prescription("RX1").refills_left == 1
    reg.dispense(lot, "AB", quantity=30, rx="RX1")
    found = reg.get_prescription("RX1")
    assert (len(found.dispensings), found.refills_left) == (2, 0)
    assert [d.fill for d in found.dispensings] == [1, 2]
    before = snapshot(reg)
    with pytest.raises(RegisterError, match=r"RX1 has no refills left: 2 of 2 fills "
                                            r"\(1 \+ 1 refill\) dispensed"):
        reg.dispense(lot, "AB", quantity=30, rx="RX1")
    assert snapshot(reg) == before


def test_a_fill_must_be_what_was_prescribed(reg, lot):
    with pytest.raises(RegisterError, match="more than prescription RX1 allows per fill"):
        reg.dispense(lot, "AB", quantity=31, rx="RX1")
    rx(reg, "RX2", strength="1.5mg")
    with pytest.raises(RegisterError, match=r"RX2 is for 1.5 mg \(HCl\); lot .* is "
                                            r"4.5 mg \(HCl\)"):
        reg.dispense(lot, "AB", quantity=30, rx="RX2")
    rx(reg, "RX3", form="liquid", strength="1mg/mL", quantity="100mL")
    with pytest.raises(RegisterError, match=r"RX3 is for liquid; lot .* is capsules"):
        reg.dispense(lot, "AB", quantity=30, rx="RX3")


def test_a_prescription_is_recorded_once_and_never_changed(reg):
    rx(reg)
    assert rx(reg) == "RX1"  # the same details again: accepted, nothing new
    with pytest.raises(RegisterError, match="already recorded with a different patient name, "
                                            "directions") as caught:
        rx(reg, patient_name="Someone Else", directions="Take 2")
    assert "Someone Else" not in str(caught.value) and PATIENT not in str(caught.value)
    assert [e.action for e in reg.events()].count("rx.record") == 1
    assert reg.verify().ok


@pytest.mark.parametrize(("overrides", "error", "match"), [
    ({"rx": "RX 1!"}, InputError, "not a prescription number"),
    ({"patient_dob": "2025-03-11"}, InputError, "not a date on or before today"),
    ({"patient_dob": "1970-02-30"}, InputError, "not a date on or before today"),
    ({"patient_name": " "}, InputError, "patient is required"),
    ({"refills": -1}, InputError, "not a whole number of refills"),
    ({"form": "tablets"}, InputError, "not a form the register dispenses"),
    ({"strength": "4.5"}, UnitInputError, "strength"),
    ({"form": "liquid", "quantity": 100}, UnitInputError, "has no unit"),
])
def test_prescription_details_are_checked(reg, overrides, error, match):
    with pytest.raises(error, match=match):
        rx(reg, **overrides)


def test_a_refused_date_of_birth_is_not_repeated(reg):
    for typed in ("1970-02-30", "2031-01-02", "02/01/1970"):
        with pytest.raises(InputError) as caught:
            rx(reg, patient_dob=typed)
        assert typed not in f"{caught.value.message} {caught.value.hint}"


def test_no_error_message_names_the_patient(reg, lot):
    reg.dispense(lot, "AB", quantity=30, rx="RX1")
    reg.dispense(lot, "AB", quantity=30, rx="RX1")
    attempts = [lambda: reg.dispense(lot, "AB", quantity=30, rx="RX1"),
                lambda: reg.dispense(lot, "AB", quantity=99),
                lambda: rx(reg, prescriber="Dr B")]
    for attempt in attempts:
        with pytest.raises(RegisterError) as caught:
            attempt()
        assert PATIENT not in f"{caught.value.message} {caught.value.hint}"
        assert "1970-01-02" not in f"{caught.value.message} {caught.value.hint}"


def test_the_label_seam_gives_a_lot_s_prescription(reg, lot):
    assert reg.prescription_for_label(lot) is None  # a stock lot, not made for an Rx
    with pytest.raises(RegisterError, match="neither made for nor dispensed to"):
        reg.prescription_for_label(lot, "RX1")
    reg.dispense(lot, "AB", quantity=30, rx="RX1")
    assert reg.prescription_for_label(lot, "RX1") == {
        "rx_number": "RX1", "patient_name": PATIENT, "patient_dob": "1970-01-02",
        "prescriber": "Dr A Smith", "directions": "Take 1 capsule at bedtime",
        "strength": "4.5 mg (HCl)", "form": "capsules", "quantity": "30 capsules",
        "fill_quantity": 30, "fill_unit": "capsules",
        "refills": 1, "refills_left": 1}  # fill 1 dispensed: 1 refill left
    made_for = capsules(reg, plan={**PLAN, "prescription": {"rx_number": "RX1"}})
    assert reg.prescription_for_label(made_for)["rx_number"] == "RX1"


def test_dispensings_are_audited_and_tampering_is_caught(reg, lot, tmp_path):
    reg.dispense(lot, "AB", quantity=30, rx="RX1")
    assert reg.verify().ok
    conn = sqlite3.connect(tmp_path / "register.sqlite3", isolation_level=None)
    conn.execute("DROP TRIGGER dispensings_no_update")
    conn.execute("UPDATE dispensings SET quantity = 3")
    conn.close()
    problems = [str(p) for p in reg.verify().problems]
    assert any(p.startswith(f"dispensing 1 of lot {lot}: quantity is 3.0 in the register but "
                            "30.0 in the audit trail") for p in problems), problems
    assert any("dispensings_no_update" in p for p in problems)


def test_a_version_1_register_is_upgraded_and_still_verifies(tmp_path, monkeypatch):
    path = tmp_path / "old.sqlite3"
    with monkeypatch.context() as m:
        m.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:1])
        m.setattr(migrations, "LATEST", 1)
        with Register.open(path) as old:
            old.receive_ingredient(item="naltrexone-hcl-50mg-tablet", lot_number=NTX,
                                   expiry="2026-05", received="2025-03-01", received_by="AB")
            assert "prescriptions" not in old.engine.dialect.get_table_names(
                old.engine.connect())
    with Register.open(path) as upgraded:
        assert [e.payload["version"] for e in upgraded.events()
                if e.action == "register.migrate"] == list(range(1, migrations.LATEST + 1))
        lot_ = capsules(upgraded)
        upgraded.release(lot_, by="CD")
        rx(upgraded)
        upgraded.dispense(lot_, "AB", quantity=10, rx="RX1")
        assert upgraded.verify().ok
