"""The register on PostgreSQL (several stations), when a server is available.

Opt in with ``COMPOUND_TEST_POSTGRES_URL=postgresql+psycopg://USER@HOST/postgres``
(a role allowed to create databases) and ``pip install 'compound[postgres]'``.
Each test gets a fresh database, dropped afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid

import pytest

from conftest import FIXED_CLOCK_CODE

ADMIN_URL = os.environ.get("COMPOUND_TEST_POSTGRES_URL")
pytestmark = pytest.mark.skipif(not ADMIN_URL, reason="COMPOUND_TEST_POSTGRES_URL is not set")

NTX, MCC = "NTX2403", "MCC-7781"


@pytest.fixture
def url():
    import sqlalchemy as sa

    name = f"compound_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    target = sa.engine.make_url(ADMIN_URL).set(database=name)
    yield target.render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE {name} WITH (FORCE)")
    admin.dispose()


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


@pytest.mark.slow
def test_four_stations_saving_at_once_on_postgres(url):
    from compound.register import Register

    seed(url)
    code = FIXED_CLOCK_CODE + textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        from test_register_postgres import record
        from compound.register import Register
        with Register.open(sys.argv[1]) as reg:
            for n in range(25):
                print(record(reg, n), flush=True)
    """)
    env = {**os.environ, "COMPOUND_TODAY": "2025-03-10"}
    procs = [subprocess.Popen([sys.executable, "-c", code, url], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env) for _ in range(4)]
    printed = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        printed += out.split()
    assert sorted(printed) == [f"LDN-20250310-{n:04d}" for n in range(1, 101)]
    with Register.open(url) as reg:
        assert {lot.lot_number for lot in reg.list_lots()} == set(printed)
        report = reg.verify()
    assert report.ok, report.problems
