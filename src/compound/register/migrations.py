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
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Final

import sqlalchemy as sa

from compound.errors import RegisterError
from compound.register import audit, db, schema


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
)
LATEST: Final = MIGRATIONS[-1][0]


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
    return int(conn.execute(sa.select(sa.func.max(schema.schema_version.c.version))).scalar() or 0)


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
    return version
