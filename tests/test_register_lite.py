"""The read-only commands on SQLite without SQLAlchemy (register.lite, issue 13).

``lots list`` (every filter, table and JSON, paged) and ``lots show`` print the same bytes and
exit codes through the standard library's ``sqlite3`` as through a read-only Register, on the
same register; the lite reader's SQL is the register's own SQLAlchemy statements compiled for
SQLite (a regenerated module must equal the one shipped); a register it cannot take as it is
(other schema version, not a register, no file) is refused exactly as before; and a fresh
interpreter running those commands never imports SQLAlchemy.
"""

from __future__ import annotations

import json
import sqlite3

import pytest
from click.testing import CliRunner

from compound.cli import cli
from compound.register import Register, lite, reading, statements
from fresh import run_in_one_interpreter
from test_register_listing import FILTERS, TODAYS, fill


def test_the_sql_is_compiled_from_the_register_s_own_statements():
    """Fails when a query of reading/listing/plans/migrations changed without
    `python -m compound.register.statements --write` (the lite SQL would have drifted)."""
    assert statements.PATH.read_text(encoding="utf-8") == statements.module_text()


def test_every_argument_is_a_parameter_never_a_constant():
    """A marker value found among the constants would be an argument baked into the SQL."""
    markers = [v for v in statements.MARKERS.values() if not isinstance(v, list)]
    for name, (_sql, params, _columns, _kinds) in lite.STATEMENTS.items():
        for _param, role, constant in params:
            assert role is not None or constant not in markers, name
            assert role is None or role in statements.MARKERS or role in ("status", "today",
                                                                          "horizon"), name


@pytest.fixture
def path(tmp_path):
    db = tmp_path / "register.sqlite3"
    with Register.open(db) as register:
        fill(register)
    return db


def run(*args, lite_path=True, monkeypatch, took=None):
    """``compound ARGS`` in process: exit code and output, through the lite reader or not."""
    with monkeypatch.context() as m:
        used = []
        real = lite.open_reader

        def counted(target=None):
            reader = real(target) if lite_path else None
            used.append(reader is not None)
            return reader

        m.setattr(lite, "open_reader", counted)
        result = CliRunner().invoke(cli, list(args))
    took = lite_path if took is None else took
    assert used == [took] or (not used and result.exit_code != 0), (args, used)
    return result.exit_code, result.output


def both(*args, monkeypatch):
    fast = run(*args, lite_path=True, monkeypatch=monkeypatch)
    slow = run(*args, lite_path=False, monkeypatch=monkeypatch)
    assert fast == slow, args
    return fast


def small_pages(monkeypatch, size=2):
    """Both readers paging ``size`` lots a query (several pages, and page boundaries)."""
    monkeypatch.setattr(reading, "LIST_BATCH", size)
    monkeypatch.setattr(lite, "LIST_BATCH", size)
    patched = {}
    for name, (sql, params, columns, kinds) in lite.STATEMENTS.items():
        if " LIMIT " in sql:
            limit = sql.split(" LIMIT :")[1].split()[0]
            params = tuple((p, r, size if p == limit else c) for p, r, c in params)
        patched[name] = (sql, params, columns, kinds)
    monkeypatch.setattr(lite, "STATEMENTS", patched)


def test_lots_list_is_the_same_bytes_both_ways(path, monkeypatch):
    small_pages(monkeypatch)
    listed = 0
    for today in TODAYS:
        monkeypatch.setenv("COMPOUND_TODAY", today.isoformat())
        for status, days in FILTERS:
            args = ["lots", "list", "--db", str(path)]
            args += ["--status", status] if status else []
            args += ["--expiring", f"{days}d"] if days is not None else []
            code, _table = both(*args, monkeypatch=monkeypatch)
            assert code == 0
            code, out = both(*args, "--json", monkeypatch=monkeypatch)
            assert code == 0
            listed += len(json.loads(out))
    assert listed > 50  # the filters and days do list lots
    code, out = both("lots", "list", "--ingredients", "--db", str(path), monkeypatch=monkeypatch)
    assert code == 0 and "NTX2403" in out
    code, out = both("lots", "list", "--ingredients", "--json", "--db", str(path),
                     monkeypatch=monkeypatch)
    assert json.loads(out)[0]["lot_number"] == "NTX2403"


def test_lots_show_is_the_same_bytes_both_ways(path, monkeypatch):
    with Register.open(path, read_only=True) as register:
        numbers = [lot.lot_number for lot in register.list_lots()]
    assert len(numbers) == 7
    for number in [*numbers, "NTX2403", "ntx2403", "LDN-19990101-0001", "no such lot!"]:
        for extra in ([], ["--json"]):
            code, out = both("lots", "show", number, *extra, "--db", str(path),
                             monkeypatch=monkeypatch)
            if number in numbers:
                assert code == 0 and number in out
    shown = [json.loads(run("lots", "show", n, "--json", "--db", str(path),
                            monkeypatch=monkeypatch)[1]) for n in numbers]
    assert all(s["plan"] and s["components"] and s["history"] for s in shown)
    assert sum(len(s["dispensings"]) for s in shown) == 4


def test_a_register_it_cannot_take_as_it_is_is_refused_as_before(tmp_path, monkeypatch):
    """Newer or older schema, not a register, no file: the lite reader steps aside and the
    read-only Register says what it always said; nothing is created or changed."""
    missing = tmp_path / "missing.sqlite3"
    empty = tmp_path / "empty.sqlite3"
    sqlite3.connect(empty).close()
    text = tmp_path / "notes.sqlite3"
    text.write_text("not a database\n" * 100)
    newer = tmp_path / "newer.sqlite3"
    with Register.open(newer):
        pass
    raw = sqlite3.connect(newer)
    raw.execute("INSERT INTO schema_version VALUES (99, 'from the future', '2030-01-01')")
    raw.commit()
    raw.close()
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    for db, said in [(missing, "there is no register at"),
                     (empty, "the register is empty, and a read-only open cannot"),
                     (text, "is not a register"),
                     (newer, "newer than this compound understands")]:
        for args in (["lots", "list"], ["lots", "list", "--json"], ["lots", "show", "X1"]):
            code, out = run(*args, "--db", str(db), monkeypatch=monkeypatch, took=False)
            assert code == 6 and said in out, (db.name, out)
    # (A WAL reader may leave SQLite's -shm/-wal beside the file, either way: not the register.)
    assert {name: (tmp_path / name).read_bytes() for name in before} == before
    assert not missing.exists()


READS = [["lots", "list"], ["lots", "list", "--json"], ["lots", "list", "--expiring", "30d"],
         ["lots", "list", "--status", "released", "--json"], ["lots", "list", "--ingredients"],
         ["lots", "show", "{lot}"], ["lots", "show", "{lot}", "--json"],
         ["lots", "show", "NTX2403"], ["audit", "verify"], ["audit", "verify", "--json"],
         ["audit", "head"], ["audit", "log", "--json"], ["audit", "log", "--lot", "{lot}"]]


def test_the_read_commands_do_not_import_sqlalchemy(path):
    """Issue 13: a fresh interpreter runs them all and never imports SQLAlchemy."""
    with Register.open(path, read_only=True) as register:
        lot = register.list_lots()[2].lot_number
    commands = [[a.format(lot=lot) for a in args] + ["--db", str(path)] for args in READS]
    for command, ran in run_in_one_interpreter(commands).items():
        assert ran["code"] in (0, None), (command, ran)
        assert ran["printed"] > 20, command
        assert "sqlalchemy" not in ran["modules"], command


def tamper(path, *statements, restore_triggers=True):
    """An outsider's edit with the standard library: the guards dropped first, then put back."""
    raw = sqlite3.connect(path, isolation_level=None)
    saved = raw.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
    raw.execute("BEGIN")
    for name, _ in saved:
        raw.execute(f"DROP TRIGGER {name}")
    for statement in statements:
        raw.execute(statement)
    if restore_triggers:
        for _, sql in saved:
            raw.execute(sql)
    raw.execute("COMMIT")
    raw.close()


TAMPERS = {
    "untouched": [],
    "status": ["UPDATE lots SET status = 'recalled' WHERE status = 'quarantine'"],
    "last event": ["DELETE FROM events WHERE seq = (SELECT max(seq) FROM events)"],
    "middle event": ["DELETE FROM events WHERE seq = 3"],
    "payload": ["UPDATE events SET payload = replace(payload, '\"checked_by\":\"CD\"', "
                "'\"checked_by\":\"XY\"') WHERE action = 'lot.record'"],
    "component": ["UPDATE components SET amount = 4 WHERE position = 1"],
    "expiry": ["UPDATE ingredient_lots SET expiry = '2030-01-01'"],
    "dispensing": ["UPDATE dispensings SET quantity = 1 WHERE position = 1"],
    "counter": ["UPDATE counters SET value = 0"],
    "plan": ["UPDATE plans SET body = zeroblob(8)"],
    "extra plan": ["INSERT INTO plans VALUES ('ab', zeroblob(4), NULL)"],
    "orphan component": ["DELETE FROM lots WHERE lot_number = "
                         "(SELECT max(lot_number) FROM lots)"],
    "extra trigger": ["CREATE TRIGGER lots_quietly AFTER INSERT ON lots BEGIN SELECT 1; END"],
    "dropped table": ["DROP TABLE components"],
}


@pytest.mark.parametrize("what", list(TAMPERS))
def test_audit_verify_is_the_same_bytes_and_exit_code_both_ways(path, what, monkeypatch):
    """Tamper detection on the lite reader: the same problems, text and JSON, and exit code 4."""
    tamper(path, *TAMPERS[what], restore_triggers=what != "dropped table")
    for args in ([], ["--json"]):
        code, out = both("audit", "verify", *args, "--db", str(path), monkeypatch=monkeypatch)
        assert code == (0 if what == "untouched" else 4), (what, out)
    assert ("Audit trail verified" in run("audit", "verify", "--db", str(path),
                                          monkeypatch=monkeypatch)[1]) == (what == "untouched")


def test_audit_verify_with_a_key_and_anchors_is_the_same_both_ways(path, monkeypatch):
    monkeypatch.setenv("COMPOUND_AUDIT_KEY", "k" * 40)
    with Register.open(path) as register:
        register.note(register.list_lots()[0].lot_number, "AB", "signed with the key")
    code, out = both("audit", "verify", "--db", str(path), monkeypatch=monkeypatch)
    assert code == 0 and "1 events carry a valid signature" in out
    monkeypatch.setenv("COMPOUND_AUDIT_KEY", "j" * 40)
    code, out = both("audit", "verify", "--db", str(path), monkeypatch=monkeypatch)
    assert code == 4 and "its signature does not match the audit key" in out
    monkeypatch.delenv("COMPOUND_AUDIT_KEY")
    code, out = both("audit", "verify", "--db", str(path), monkeypatch=monkeypatch)
    assert code == 0 and "1 events carry a signature" in out
    with Register.open(path, read_only=True) as register:
        head = register.head()
    for anchor, holds in ((f"#{head.seq} {head.hash}", True), (head.hash, True),
                          ("#3 " + "0" * 64, False), ("0" * 64, False),
                          (f"#{head.seq + 5} {head.hash}", False)):
        code, out = both("audit", "verify", "--anchor", anchor, "--db", str(path),
                         monkeypatch=monkeypatch)
        assert code == (0 if holds else 4), (anchor, out)
    (path.parent / (path.name + ".anchor")).unlink()
    code, out = both("audit", "verify", "--db", str(path), monkeypatch=monkeypatch)
    assert code == 4 and "there is no anchor file" in out


def test_audit_head_and_log_are_the_same_both_ways(path, monkeypatch):
    import datetime as dt

    from compound import paths

    monkeypatch.setattr(paths, "system_now", lambda: dt.datetime(2026, 12, 7, 7, 0, tzinfo=dt.UTC))
    with Register.open(path, read_only=True) as register:
        lot = register.list_lots()[2].lot_number
    for args in (["audit", "head"], ["audit", "head", "--json"], ["audit", "log"],
                 ["audit", "log", "--json"], ["audit", "log", "--lot", lot],
                 ["audit", "log", "--lot", "NTX2403", "--json"], ["audit", "log", "--lot", "X"]):
        code, out = both(*args, "--db", str(path), monkeypatch=monkeypatch)
        assert code == 0 and (out.strip() or args[-1] == "X"), args
    assert "2026-12-07T07:00:00" in run("audit", "head", "--db", str(path),
                                        monkeypatch=monkeypatch)[1]
    tamper(path, "DELETE FROM events WHERE seq > 3")
    code, out = both("audit", "head", "--db", str(path), monkeypatch=monkeypatch)
    assert out.startswith("#3 ")


def test_a_register_named_by_its_sqlite_url_is_read_the_same_way(path, monkeypatch):
    for args in (["lots", "list", "--json"], ["audit", "verify", "--json"]):
        code, out = both(*args, "--db", f"sqlite:///{path}", monkeypatch=monkeypatch)
        assert code == 0 and out.startswith(("[", "{"))
