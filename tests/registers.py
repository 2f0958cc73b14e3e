"""Registers on both backends for the tests, and an outsider who tampers with them.

SQLite always; PostgreSQL when ``COMPOUND_TEST_POSTGRES_URL`` names a role that
may create databases (``.ci/run`` starts a throwaway server and sets it; on CI
a missing server is a failure, not a skip). Each test gets a fresh database,
dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

ADMIN_URL = os.environ.get("COMPOUND_TEST_POSTGRES_URL")

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@contextmanager
def new_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database (nothing created yet for SQLite)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'under-test.sqlite3'}"
        return
    if not ADMIN_URL:
        if os.environ.get("CI"):
            pytest.fail("COMPOUND_TEST_POSTGRES_URL is not set: .ci/run must start PostgreSQL")
        pytest.skip("COMPOUND_TEST_POSTGRES_URL is not set")
    name = f"compound_test_{uuid.uuid4().hex[:12]}"
    # pre_ping: a test may restart the server in between.
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        yield sa.make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


class Outsider:
    """Someone with direct write access to the database, not using compound.

    Tampering drops the guards first and (by default) puts them back, so
    detection cannot lean on the triggers.
    """

    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(url)
        self.dialect = self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    def triggers(self, conn: sa.Connection) -> list[tuple[str, str, str]]:
        """(name, table, CREATE statement) of every trigger."""
        if self.dialect == "sqlite":
            return [tuple(r) for r in conn.exec_driver_sql(
                "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'")]
        return [tuple(r) for r in conn.exec_driver_sql(
            "SELECT tgname, tgrelid::regclass::text, pg_get_triggerdef(oid) FROM pg_trigger "
            "WHERE NOT tgisinternal")]

    def drop_trigger(self, conn: sa.Connection, name: str, table: str) -> None:
        conn.exec_driver_sql(f"DROP TRIGGER {name}" if self.dialect == "sqlite"
                             else f"DROP TRIGGER {name} ON {table}")

    def run(self, *statements: str | tuple[str, dict], restore_triggers: bool = True) -> None:
        with self.engine.begin() as conn:
            saved = self.triggers(conn)
            for name, table, _ in saved:
                self.drop_trigger(conn, name, table)
            for statement in statements:
                if isinstance(statement, tuple):
                    conn.execute(sa.text(statement[0]), statement[1])
                else:
                    conn.exec_driver_sql(statement)
            if restore_triggers:
                for _, _, sql in saved:
                    conn.exec_driver_sql(sql)

    def scalar(self, sql: str, **params: object) -> object:
        with self.engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar()

    def rows(self, sql: str, **params: object) -> list[sa.Row]:
        with self.engine.connect() as conn:
            return list(conn.execute(sa.text(sql), params))

    def plan_texts(self) -> dict[str, str]:
        """Every stored plan's canonical JSON by its key, decoded by hand: zlib, with the base
        plan's JSON as the preset dictionary where ``base_sha256`` names one."""
        rows = self.rows("SELECT sha256, base_sha256, body FROM plans")
        whole = {r.sha256: zlib.decompress(r.body) for r in rows if r.base_sha256 is None}
        out = {}
        for r in rows:
            if r.base_sha256 is None:
                out[r.sha256] = whole[r.sha256].decode()
            else:
                unpacker = zlib.decompressobj(zdict=whole[r.base_sha256])
                out[r.sha256] = (unpacker.decompress(r.body) + unpacker.flush()).decode()
        return out
