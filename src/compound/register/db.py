"""Where the register lives and how every connection to it is set up.

One station: an SQLite file (created on first use) in WAL mode with
``synchronous=FULL``: a committed lot survives a crash or power cut. Several
stations: a PostgreSQL URL (``postgresql+psycopg://…``); SQLite's WAL does not
work over a network filesystem, so a shared file on SMB/NFS is not offered.

Python's ``sqlite3`` module (legacy transaction control) never emits BEGIN for
us at the right moment, so the driver's own transaction handling is switched
off and SQLAlchemy's ``begin`` event emits ``BEGIN IMMEDIATE`` for writes
(take the write lock first, so two writers never deadlock upgrading a read
lock) and a plain ``BEGIN`` for reads (a consistent snapshot). On PostgreSQL a
transaction-scoped advisory lock plays the part of ``BEGIN IMMEDIATE``: writes
are serialised, so the audit chain has one head and lot numbers one counter.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final
from urllib.parse import unquote

import sqlalchemy as sa

from compound.errors import RegisterError
from compound.register import location
from compound.register.location import BUSY_TIMEOUT_MS, database_url  # noqa: F401 (re-exported)

# Any constant: the key of the one advisory lock that serialises writers on PostgreSQL.
_PG_WRITE_LOCK: Final = 0x636F6D70  # "comp"

_WRITE_OPTION: Final = "compound_write"

AUDIT_KEY_OPTION: Final = "compound_audit_key"
"""Execution option of a write connection: the audit key its events are signed with."""


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Hand transaction control to the "begin" hook below (SQLAlchemy's pysqlite recipe).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        # busy_timeout first: switching to WAL needs a lock another process may hold.
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _sqlite_connect_read_only(dbapi_connection: Any, _record: Any) -> None:
    # No journal mode change (that is a write); query_only refuses any write as well.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA query_only = ON")
    finally:
        cursor.close()


def _sqlite_begin(conn: sa.Connection) -> None:
    write = conn.get_execution_options().get(_WRITE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _postgres_begin(conn: sa.Connection) -> None:
    if conn.get_execution_options().get(_WRITE_OPTION, False):
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_WRITE_LOCK})


def create_engine(url: str, *, read_only: bool = False) -> sa.Engine:
    """An engine whose connections carry the register's settings (``read_only``: no writes)."""
    try:
        if url.startswith("sqlite"):
            engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
            sa.event.listen(engine, "connect",
                            _sqlite_connect_read_only if read_only else _sqlite_connect)
            sa.event.listen(engine, "begin", _sqlite_begin)
        else:
            options = {"options": "-c default_transaction_read_only=on"} if read_only else {}
            # pre_ping: a station outlives a server restart (a stale pooled connection is
            # replaced before use, not handed to a save).
            engine = sa.create_engine(url, isolation_level="READ COMMITTED", connect_args=options,
                                      pool_pre_ping=True)
            sa.event.listen(engine, "begin", _postgres_begin)
    except ModuleNotFoundError as exc:
        raise RegisterError(
            f"the database driver {exc.name!r} is not installed.",
            hint="For PostgreSQL install the extra: pip install 'compound[postgres]'.",
        ) from None
    except sa.exc.ArgumentError as exc:
        raise RegisterError(f"{url!r} is not a database URL the register understands: {exc}.",
                            hint="Give a file path or postgresql+psycopg://USER@HOST/DB.") from None
    return engine


def _unusable(exc: sa.exc.DBAPIError, engine: sa.Engine, *,
              committing: bool = False) -> RegisterError:
    # Drivers (psycopg) add lines of detail: the first says what happened.
    reason = (str(exc.orig) if exc.orig is not None else str(exc)).strip().splitlines()[0]
    where = unquote(str(engine.url.database).removeprefix("file:"))  # a read-only URI
    lost = None
    if exc.connection_invalidated and committing:
        lost = RegisterError(
            f"the connection to the register's database was lost while saving ({reason}): "
            "the change may or may not have been saved.",
            hint="Look before trying again: compound lots list / lots show (or audit log).")
    elif exc.connection_invalidated:
        lost = RegisterError(
            f"the connection to the register's database was lost ({reason}). Nothing was saved.",
            hint="The server may have restarted: try again in a moment; every earlier save is "
                 "kept.")
    return location.unusable(reason, where, lost=lost)


def _unreadable(exc: sa.exc.DatabaseError) -> bool:
    """A lock held too long, a file that cannot be opened, or one that is not an SQLite
    database at all. A constraint or trigger refusing a change (IntegrityError) is not
    this: it is raised as it is."""
    return isinstance(exc, sa.exc.OperationalError) or type(exc) is sa.exc.DatabaseError


@contextmanager
def write(engine: sa.Engine, *, audit_key: bytes | None = None) -> Iterator[sa.Connection]:
    """One write transaction: every change and its audit events (signed with ``audit_key``
    when given), or nothing."""
    committing = False
    try:
        with engine.connect() as conn:
            conn.execution_options(**{_WRITE_OPTION: True, AUDIT_KEY_OPTION: audit_key})
            with conn.begin():
                yield conn
                committing = True  # a failure from here on is the COMMIT's
    except sa.exc.DatabaseError as exc:
        if not _unreadable(exc):
            raise
        raise _unusable(exc, engine, committing=committing) from None


@contextmanager
def read(engine: sa.Engine) -> Iterator[sa.Connection]:
    """One read transaction: a consistent snapshot (SQLite WAL readers never block)."""
    try:
        with engine.connect() as conn, conn.begin():
            yield conn
    except sa.exc.DatabaseError as exc:
        if not _unreadable(exc):
            raise
        raise _unusable(exc, engine) from None


def pragmas(conn: sa.Connection) -> dict[str, Any]:
    """The settings in force on an SQLite connection (read back, for tests and ``verify``)."""
    return {
        name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
        for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
    }
