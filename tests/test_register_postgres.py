"""What only PostgreSQL (several stations) needs beyond the tests run on both backends.

The register, audit and reliability tests run on SQLite and PostgreSQL alike
(tests/registers.py); ``.ci/run`` starts a throwaway server and sets
``COMPOUND_TEST_POSTGRES_URL`` (a role allowed to create databases). Each test
gets a fresh database, dropped afterwards.
"""

from __future__ import annotations

import pytest

from registers import new_database

pytestmark = pytest.mark.postgres

NTX, MCC = "NTX2403", "MCC-7781"


@pytest.fixture
def url(tmp_path):
    with new_database("postgresql", tmp_path) as found:
        yield found


def seed(url):
    from compound.register import Register

    with Register.open(url) as reg:
        reg.receive_ingredient(item="naltrexone-hcl-50mg-tablet", lot_number=NTX,
                               expiry="2026-05", received="2025-03-01", received_by="AB")
        reg.receive_ingredient(item="mcc", lot_number=MCC, expiry="2027-01-31",
                               received="2025-03-01", received_by="AB")


def record(reg, n=0):
    return reg.record_lot(
        kind="capsules", description=f"Naltrexone HCl 4.5 mg capsules #{n}", quantity=30,
        quantity_unit="capsules", plan={"n": n}, compounded="2025-03-10",
        beyond_use_date="2025-09-05", bud_limit="rule: nonaqueous-solid (180 days)",
        bud_source="USP <795> (2023) Table 4", stability_window_days=None, storage="room",
        compounded_by="AB", checked_by=None, components=[(NTX, 3, "tablets"), (MCC, 2.1, "g")])


def test_lots_move_and_verify_on_postgres(url):
    import sqlalchemy as sa

    from compound.register import Register

    seed(url)
    with Register.open(url) as reg:
        lot = record(reg)
        assert lot == "LDN-20250310-0001"
        assert reg.release(lot, by="CD").status == "released"
        assert [t["lot_number"] for t in reg.trace(NTX)] == [lot]
        assert reg.verify().ok
        with reg.engine.connect() as conn, pytest.raises(sa.exc.DBAPIError, match="append-only"):
            conn.exec_driver_sql("UPDATE events SET actor = 'ZZ'")
        with reg.engine.begin() as conn:  # an outsider: guard dropped, status changed, guard back
            conn.exec_driver_sql("DROP TRIGGER lots_fixed_columns ON lots")
            conn.exec_driver_sql("UPDATE lots SET status = 'dispensed'")
        problems = [str(p) for p in reg.verify().problems]
    assert any("status is 'dispensed' in the register but 'released'" in p for p in problems)
    assert any("trigger lots_fixed_columns" in p for p in problems)


def test_prescriptions_and_partial_dispensing_on_postgres(url):
    import sqlalchemy as sa

    from compound.errors import RegisterError
    from compound.register import Register

    seed(url)
    with Register.open(url) as reg:
        lot = record(reg)
        reg.release(lot, by="CD")
        reg.record_prescription(rx="RX1", patient_name="Zelda Quux", patient_dob="1970-01-02",
                                prescriber="Dr A Smith", directions="1 at bedtime",
                                strength="4.5mg", form="capsules", quantity=10, refills=1,
                                recorded_by="AB")
        assert reg.dispense(lot, "AB", quantity=10, rx="RX1").remaining == 20
        assert reg.dispense(lot, "AB", quantity=10, rx="RX1").status == "released"
        with pytest.raises(RegisterError, match="no refills left"):
            reg.dispense(lot, "AB", quantity=10, rx="RX1")
        assert reg.dispense(lot, "AB").status == "dispensed"
        assert [d.lot_number for d in reg.get_prescription("RX1").dispensings] == [lot, lot]
        assert reg.verify().ok
        with reg.engine.connect() as conn, pytest.raises(sa.exc.DBAPIError, match="append-only"):
            conn.exec_driver_sql("DELETE FROM dispensings")
