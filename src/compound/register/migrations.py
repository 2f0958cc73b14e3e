"""Versioned schema: ordered steps, applied once, each recorded as an audit event.

Why not Alembic: the register needs a handful of steps that must run inside the
same locked transaction as their ``schema_version`` row and audit event, on
first use, on a pharmacist's machine with no migration scripts directory or
command to run. A list of functions does that in one screen; a step is never
edited once released (later changes are new steps: ``ALTER TABLE``, new
tables, new triggers), and version 1 is the schema as first shipped.

A new register runs every step in one transaction and is stamped with the
latest version once (one ``schema_version`` row, one event); an existing one is
brought up step by step, each step with its own row and event.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Final

import sqlalchemy as sa

from compound.errors import RegisterError
from compound.register import audit, db, plans, schema


def _create(conn: sa.Connection, names: tuple[str, ...]) -> None:
    """Create these tables (as the schema now defines them) and their append-only guards."""
    schema.metadata.create_all(conn, tables=[schema.metadata.tables[n] for n in names])
    for ddl in schema.guard_ddl(conn.dialect.name, names):
        conn.exec_driver_sql(ddl)


# Each step names the tables it creates, so a later step's tables are never made early.
_V1_TABLES: Final = ("schema_version", "counters", "ingredient_lots", "lots", "components", "events")
_V2_TABLES: Final = ("prescriptions", "dispensings")


def _v1_initial(conn: sa.Connection) -> None:
    _create(conn, _V1_TABLES)


def _v2_prescriptions(conn: sa.Connection) -> None:
    _create(conn, _V2_TABLES)


def _v3_lot_numbers_ignore_case(conn: sa.Connection) -> None:
    """``ntx2403`` and ``NTX2403`` are one lot number: a unique index on lower(lot_number).

    Lot numbers are ASCII (the register refuses anything else), so SQLite's and
    PostgreSQL's lower() agree. A register that already holds two numbers differing
    only in case is not changed; the pharmacist is told which ones.
    """
    for table in ("ingredient_lots", "lots"):
        clashes = conn.exec_driver_sql(
            f"SELECT min(lot_number), max(lot_number) FROM {table} "
            "GROUP BY lower(lot_number) HAVING count(*) > 1 ORDER BY 1 LIMIT 5").all()
        if clashes:
            pairs = ", ".join(f"{a} / {b}" for a, b in clashes)
            raise RegisterError(
                f"the register holds lot numbers that differ only in case ({pairs}); this "
                "version of compound treats them as the same lot.",
                hint="Use the register with the earlier version of compound and add a note "
                     "to one of each pair; ask for help to rename it.")
        conn.exec_driver_sql(f"CREATE UNIQUE INDEX IF NOT EXISTS {table}_lot_number_nocase "
                             f"ON {table} (lower(lot_number))")


def _v4_list_index(conn: sa.Connection) -> None:
    # A register made before version 4 lacks it (a new one has it from v1's create_all).
    conn.execute(sa.schema.CreateIndex(schema.LOTS_BY_STATUS, if_not_exists=True))


def _v5_event_signatures(conn: sa.Connection) -> None:
    # Registers made before version 5 lack the column; version 1 now creates it (metadata).
    if "mac" not in {c["name"] for c in sa.inspect(conn).get_columns("events")}:
        conn.exec_driver_sql("ALTER TABLE events ADD COLUMN mac TEXT")


def _v6_lots_listed_index(conn: sa.Connection) -> None:
    # A register made before version 6 has the BUD-only index instead (a prefix of this one).
    conn.execute(sa.schema.CreateIndex(schema.LOTS_LISTED, if_not_exists=True))
    conn.exec_driver_sql("DROP INDEX IF EXISTS lots_bud")


_V7_TABLES: Final = ("plans",)
_MIGRATE_BATCH: Final = 500


def _drop_guards(conn: sa.Connection, tables: tuple[str, ...]) -> None:
    for name, table, _ in schema.GUARDS:
        if table in tables:
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}" if conn.dialect.name == "sqlite"
                                 else f"DROP TRIGGER IF EXISTS {name} ON {table}")


def _v7_plans_stored_once(conn: sa.Connection) -> None:
    """Each plan once, compressed, under its SHA-256 (it was in the lot row and again in
    the lot.record event: ~20 KB a lot). The events' hashes do not change: they are of the
    event with its plan inline, which :func:`audit.event_text` rebuilds.

    The guards of the two tables changed here are dropped and put back inside this
    transaction (the step runs under the write lock, audited by its own event).
    """
    _create(conn, _V7_TABLES)
    inspector = sa.inspect(conn)
    if "plan_sha256" not in {c["name"] for c in inspector.get_columns("events")}:
        conn.exec_driver_sql("ALTER TABLE events ADD COLUMN plan_sha256 TEXT")
    if "plan" not in {c["name"] for c in inspector.get_columns("lots")}:
        return  # a register made with the current columns
    _drop_guards(conn, ("lots", "events"))
    conn.exec_driver_sql("ALTER TABLE lots RENAME COLUMN plan TO plan_sha256")
    lots, events = schema.lots, schema.events
    # Each plan as the lot row held it, parsed and written canonically again: the text the
    # lot.record event hashed (its payload held the plan as a JSON value).
    set_lot = lots.update().where(lots.c.id == sa.bindparam("row_id")).values(
        plan_sha256=sa.bindparam("key"))
    last, near = 0, None
    while rows := conn.execute(sa.select(lots.c.id, lots.c.plan_sha256).where(lots.c.id > last)
                               .order_by(lots.c.id).limit(_MIGRATE_BATCH)).all():
        changes = []
        for r in rows:
            near = plans.store(conn, audit.canonical_json(json.loads(r.plan_sha256)), near)
            changes.append({"row_id": r.id, "key": near})
        conn.execute(set_lot, changes)
        last = rows[-1].id
    set_event = events.update().where(events.c.seq == sa.bindparam("event_seq")).values(
        payload=sa.bindparam("stored"), plan_sha256=sa.bindparam("key"))
    last = 0
    while rows := conn.execute(sa.select(events.c.seq, events.c.payload).where(
            events.c.action == "lot.record", events.c.seq > last)
            .order_by(events.c.seq).limit(_MIGRATE_BATCH)).all():
        changes = []
        for r in rows:
            try:
                payload = json.loads(r.payload)
                plan = payload["lot"]["plan"]
            except (ValueError, KeyError, TypeError):
                continue  # not as the tool wrote it: left for verify to report
            if isinstance(plan, dict):
                key = near = plans.store(conn, audit.canonical_json(plan), near)
                payload["lot"]["plan"] = key
                changes.append({"event_seq": r.seq, "stored": audit.canonical_json(payload),
                                "key": key})
        if changes:
            conn.execute(set_event, changes)
        last = rows[-1].seq
    for ddl in schema.guard_ddl(conn.dialect.name, ("lots", "events")):
        conn.exec_driver_sql(ddl)


MIGRATIONS: Final[tuple[tuple[int, str, Callable[[sa.Connection], None]], ...]] = (
    (1, "lots, ingredient lots, components, counters, hash-chained events, append-only guards",
     _v1_initial),
    (2, "prescriptions and dispensings (partial dispensing, refills), append-only guards",
     _v2_prescriptions),
    (3, "lot numbers unique ignoring case", _v3_lot_numbers_ignore_case),
    (4, "index of lots by status and beyond-use date (lots list --status at 100,000 lots)",
     _v4_list_index),
    (5, "events signed with the pharmacy's audit key (HMAC), when one is set",
     _v5_event_signatures),
    (6, "index of the Lots table's columns in BUD order (the TUI's Lots at 100,000 lots)",
     _v6_lots_listed_index),
    (7, "each plan stored once, compressed (alone or against a like plan), by its SHA-256; "
        "lots and events name it",
     _v7_plans_stored_once),
)
_RECLAIM_AFTER: Final = frozenset({7})
"""Steps after which an SQLite file is compacted (VACUUM): they free most of its pages."""
LATEST: Final = MIGRATIONS[-1][0]


VERSION_QUERY: Final = sa.select(sa.func.max(schema.schema_version.c.version))


def current_version(conn: sa.Connection) -> int:
    """The schema version of the database (0 for an empty database)."""
    inspector = sa.inspect(conn)
    if not inspector.has_table("schema_version"):
        others = [t for t in inspector.get_table_names() if not t.startswith("sqlite_")]
        if others:
            raise RegisterError(
                f"this database is not a compound register (it has tables {', '.join(others[:5])}).",
                hint="Point --db or COMPOUND_DB at a new file or at an existing register.",
            )
        return 0
    return int(conn.execute(VERSION_QUERY).scalar() or 0)


def _too_new(version: int) -> RegisterError:
    return RegisterError(
        f"the register is at schema version {version}, newer than this compound understands "
        f"(up to {LATEST}).", hint="Upgrade compound before using this register.")


def check_current(engine: sa.Engine) -> None:
    """For a read-only open: the database must be a register at :data:`LATEST`."""
    with db.read(engine) as conn:
        version = current_version(conn)
    if version > LATEST:
        raise _too_new(version)
    if version < LATEST:
        what = "empty" if version == 0 else f"at schema version {version}"
        raise RegisterError(
            f"the register is {what}, and a read-only open cannot bring it to version {LATEST}.",
            hint="Create or upgrade it once with write access: compound lots init PATH|URL.")


def migrate(engine: sa.Engine, clock: Callable[[], dt.datetime] = audit.utc_now, *,
            writer: Callable[[], AbstractContextManager[sa.Connection]] | None = None) -> int:
    """Bring the database to :data:`LATEST`; returns the version it is at.

    ``writer`` opens the write transaction (default :func:`db.write`; the
    register passes its own, which signs the events and anchors the head).
    """
    with db.read(engine) as conn:
        version = current_version(conn)
    if version == LATEST:
        return version
    if version > LATEST:
        raise _too_new(version)
    with (writer or (lambda: db.write(engine)))() as conn:
        schema.schema_version.create(conn, checkfirst=True)
        version = current_version(conn)  # again, under the write lock: another process may have won
        if version > LATEST:
            raise _too_new(version)
        pending = [m for m in MIGRATIONS if m[0] > version]
        # A new register has nothing to compact.
        reclaim = version > 0 and any(m[0] in _RECLAIM_AFTER for m in pending)
        for _, _, step in pending:
            step(conn)
        # A new register is recorded at the latest version in one event; an older one
        # records each step it takes.
        steps = ([(LATEST, "; ".join(d for _, d, _ in pending), None)] if version == 0
                 else pending)
        for step_version, description, _ in steps:
            applied_at = audit.utc_text(clock())
            conn.execute(schema.schema_version.insert().values(
                version=step_version, description=description, applied_at=applied_at))
            audit.append(conn, actor="compound", action="register.migrate", subject=None,
                         payload={"version": step_version, "description": description,
                                  "applied_at": applied_at}, clock=clock)
            version = step_version
    if reclaim:
        _reclaim_space(engine)
    return version


def _reclaim_space(engine: sa.Engine) -> None:
    """Give the pages a step freed back to the file system (SQLite; PostgreSQL's autovacuum
    reuses them). Outside any transaction, after the step committed: if another process holds
    the database meanwhile, the file stays as large and SQLite reuses the free pages."""
    if engine.dialect.name != "sqlite":
        return
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        assert driver is not None
        driver.execute("VACUUM")
        driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.OperationalError:
        pass
    finally:
        raw.close()
