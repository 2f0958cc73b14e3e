"""Durability and concurrency: settings read back, a killed writer, parallel writers,
a database server restarted in the middle of a save.

No sleeps: a subprocess prints each lot number only after ``record_lot`` has
returned (committed); the parent reads a fixed number of those lines, then
kills. Every number printed must be in the database afterwards. The tests that
take ``seeded`` run on SQLite and PostgreSQL alike (tests/registers.py).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap

import pytest
import sqlalchemy as sa

from compound.errors import RegisterError
from compound.register import Register, db, schema
from conftest import FIXED_CLOCK_CODE
from registers import ADMIN_URL, Outsider

NTX, MCC = "NTX2403", "MCC-7781"

WRITER = FIXED_CLOCK_CODE + textwrap.dedent("""
    import sys
    from compound.register import Register

    path, count, barrier = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "barrier"
    with Register.open(path) as reg:
        if barrier:  # start writing together with the other processes
            print("ready", flush=True)
            sys.stdin.readline()
        for n in range(count):
            lot = reg.record_lot(
                kind="capsules", description=f"Naltrexone HCl 4.5 mg capsules #{n}",
                quantity=30, quantity_unit="capsules", plan={"n": n},
                compounded="2025-03-10", beyond_use_date="2025-09-05",
                bud_limit="rule: nonaqueous-solid (180 days)",
                bud_source="USP <795> (2023) Table 4", stability_window_days=None,
                storage="room", compounded_by="AB", checked_by=None,
                components=[("NTX2403", 3, "tablets"), ("MCC-7781", 2.1, "g")])
            reg.get(lot)  # read it back, as the CLI does after saving
            print(lot, flush=True)
""")


@pytest.fixture
def path(tmp_path):
    db_path = tmp_path / "register.sqlite3"
    with Register.open(db_path) as reg:
        reg.receive_ingredient(item="naltrexone-hcl-50mg-tablet", lot_number=NTX,
                               expiry="2026-05", received="2025-03-01", received_by="AB")
        reg.receive_ingredient(item="mcc", lot_number=MCC, expiry="2027-01-31",
                               received="2025-03-01", received_by="AB")
    return db_path


@pytest.fixture
def seeded(register_url):
    """The same register as ``path``, on each backend; its URL."""
    with Register.open(register_url) as reg:
        reg.receive_ingredient(item="naltrexone-hcl-50mg-tablet", lot_number=NTX,
                               expiry="2026-05", received="2025-03-01", received_by="AB")
        reg.receive_ingredient(item="mcc", lot_number=MCC, expiry="2027-01-31",
                               received="2025-03-01", received_by="AB")
    return register_url


def stored_lots(url):
    outsider = Outsider(url)
    try:
        return [r.lot_number for r in outsider.rows("SELECT lot_number FROM lots")]
    finally:
        outsider.close()


def writer(path, count, barrier=False):
    env = {**os.environ, "COMPOUND_TODAY": "2025-03-10", "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), str(count), "barrier" if barrier else "-"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def test_wal_full_sync_foreign_keys_and_busy_timeout_are_in_force(path):
    with Register.open(path) as reg, db.read(reg.engine) as conn:
        assert db.pragmas(conn) == {"journal_mode": "wal", "synchronous": 2,  # 2 = FULL
                                    "foreign_keys": 1, "busy_timeout": db.BUSY_TIMEOUT_MS}


def test_a_write_transaction_takes_the_write_lock_at_begin(path):
    """BEGIN IMMEDIATE: another writer is locked out before the first statement runs."""
    with Register.open(path) as reg, db.write(reg.engine):
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN")  # WAL: readers are never blocked
        assert other.execute("SELECT count(*) FROM lots").fetchone() == (0,)
        other.execute("ROLLBACK")
        other.close()


def test_a_failure_inside_the_transaction_rolls_back_the_row_and_its_event(path):
    with Register.open(path) as reg:
        before = len(reg.events())

        def crash_mid_save():
            with db.write(reg.engine) as conn:
                conn.execute(schema.counters.insert().values(name="X", value=1))
                raise RuntimeError("crash in the middle of a save")

        with pytest.raises(RuntimeError):
            crash_mid_save()
        with db.read(reg.engine) as conn:
            assert conn.execute(sa.select(schema.counters)).all() == []
        assert len(reg.events()) == before


@pytest.mark.slow
def test_sigkill_while_saving_loses_no_committed_lot(seeded):
    proc = writer(seeded, 100_000)
    printed = []
    try:
        while len(printed) < 20:
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            printed.append(line.strip())
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            stream.close()
    assert proc.returncode == -signal.SIGKILL
    stored = set(stored_lots(seeded))
    assert set(printed) <= stored
    assert len(stored) < 100_000  # it really was killed mid-run
    with Register.open(seeded) as reg:
        report = reg.verify()
        assert report.ok, report.problems
        # It opens and takes new lots, numbered after every committed one.
        after = reg.record_lot(
            kind="capsules", description="after the crash", quantity=30,
            quantity_unit="capsules", plan={}, compounded="2025-03-10",
            beyond_use_date="2025-09-05", bud_limit="rule", bud_source="USP <795>",
            stability_window_days=None, storage="room", compounded_by="AB", checked_by=None,
            components=[(NTX, 3, "tablets")])
    assert after == f"LDN-20250310-{len(stored) + 1:04d}"


@pytest.mark.slow
def test_four_processes_saving_100_lots_each_lose_nothing_and_never_share_a_number(seeded):
    procs = [writer(seeded, 100, barrier=True) for _ in range(4)]
    for proc in procs:  # all four have opened the register …
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
    for proc in procs:  # … and now write at the same time
        proc.stdin.write("go\n")
        proc.stdin.flush()
    printed = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        printed += out.split()
    assert len(printed) == 400 and len(set(printed)) == 400
    stored = stored_lots(seeded)
    assert len(stored) == 400 and set(stored) == set(printed)
    # One counter, bumped inside each write transaction: 0001 … 0400, no gaps.
    assert sorted(printed) == [f"LDN-20250310-{n:04d}" for n in range(1, 401)]
    with Register.open(seeded) as reg:
        report = reg.verify()
    assert report.ok, report.problems
    assert report.events == 3 + 400  # migrate + 2 receipts + 400 lots


def restart_the_server(url):
    """Restart PostgreSQL (the command .ci/run gives), or else end every connection to the
    database as a restart does."""
    command = os.environ.get("COMPOUND_TEST_POSTGRES_RESTART")
    if command:
        subprocess.run(command, shell=True, check=True, capture_output=True, timeout=120)
        return
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = :name AND pid <> pg_backend_pid()"),
                     {"name": sa.make_url(url).database})
    admin.dispose()


def test_a_connection_dropped_mid_save_loses_no_committed_lot_and_says_so(
        seeded, monkeypatch, capsys):
    if not seeded.startswith("postgresql"):
        pytest.skip("a database server connection; SQLite has none to drop")
    from compound.cli import main
    from compound.register import audit

    with Register.open(seeded) as reg:
        committed = [record(reg, n) for n in range(3)]
        original = audit.append

        def server_restarts_then_append(conn, **kwargs):
            # The lot row is written, its event not yet: the transaction is open.
            restart_the_server(seeded)
            return original(conn, **kwargs)

        monkeypatch.setattr(audit, "append", server_restarts_then_append)
        with pytest.raises(RegisterError) as caught:
            record(reg, 3)
        monkeypatch.setattr(audit, "append", original)
        message = str(caught.value)
        assert message.startswith("the connection to the register's database was lost (")
        assert "Nothing was saved." in message and "\n" not in message
        assert sorted(stored_lots(seeded)) == committed
        # The same station goes on once the server is back: the next number follows.
        assert record(reg, 4) == "LDN-20250310-0004"
        assert reg.verify().ok
    # Through the command line: one clear line, exit 6, no traceback.
    monkeypatch.setattr(audit, "append", server_restarts_then_append)
    monkeypatch.setenv("COMPOUND_DB", seeded)
    with pytest.raises(SystemExit) as exited:
        main(["lots", "note", committed[0], "--by", "AB", "--text", "checked"])
    _, err = capsys.readouterr()
    assert exited.value.code == 6
    assert err.startswith("error: the connection to the register's database was lost (")
    assert "Traceback" not in err


def record(reg, n):
    return reg.record_lot(
        kind="capsules", description=f"Naltrexone HCl 4.5 mg capsules #{n}", quantity=30,
        quantity_unit="capsules", plan={"n": n}, compounded="2025-03-10",
        beyond_use_date="2025-09-05", bud_limit="rule: nonaqueous-solid (180 days)",
        bud_source="USP <795> (2023) Table 4", stability_window_days=None, storage="room",
        compounded_by="AB", checked_by=None, components=[(NTX, 3, "tablets"), (MCC, 2.1, "g")])


@pytest.mark.slow
def test_processes_creating_a_new_register_at_once_migrate_it_once(tmp_path):
    path = tmp_path / "new.sqlite3"
    code = "import sys; from compound.register import Register; Register.open(sys.argv[1]).close()"
    procs = [subprocess.Popen([sys.executable, "-c", code, str(path)], stderr=subprocess.PIPE,
                              text=True) for _ in range(4)]
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    with Register.open(path) as reg:
        assert [e.action for e in reg.events()] == ["register.migrate"]
        assert reg.verify().ok


def test_a_register_locked_too_long_is_a_clear_error_and_nothing_is_saved(path, monkeypatch):
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 50)
    with Register.open(path) as reg:
        before = len(reg.events())
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another station is in the middle of a save
        try:
            with pytest.raises(RegisterError, match="the register is busy"):
                reg.receive_ingredient(item="mcc", lot_number="MCC-2", expiry="2027-01",
                                       received_by="AB")
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert len(reg.events()) == before


def test_an_unusable_location_is_a_clear_error(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(RegisterError, match="cannot create the folder"):
        Register.open(blocker / "register.sqlite3")
