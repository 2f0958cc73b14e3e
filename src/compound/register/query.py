"""Run a named register query on either reader's connection (no SQLAlchemy import here).

A SQLAlchemy connection builds the statement (:mod:`compound.register.queries`); the
standard library reader (:mod:`compound.register.lite`) runs it compiled for SQLite. Either
way the result iterates rows with attribute access and ``_mapping``, and has ``all()`` and
``first()``.
"""

from __future__ import annotations

from typing import Any


def is_lite(conn: Any) -> bool:
    return bool(getattr(conn, "lite", False))


def rows(conn: Any, name: str, **arguments: Any) -> Any:
    if is_lite(conn):
        return conn.run(name, **arguments)
    from compound.register import queries

    return conn.execute(queries.BUILDERS[name](**arguments))


def scalar(conn: Any, name: str, **arguments: Any) -> Any:
    """The first column of the first row (None when there is none)."""
    row = rows(conn, name, **arguments).first()
    return None if row is None else row[0]


def dialect(conn: Any) -> str:
    return "sqlite" if is_lite(conn) else str(conn.dialect.name)


def driver_sql(conn: Any, sql: str) -> Any:
    """Rows of SQL the driver runs as it is (PRAGMA, catalog queries), as tuples."""
    if is_lite(conn):
        return conn.raw.execute(sql).fetchall()
    return conn.exec_driver_sql(sql).all()


# As SQLAlchemy's SQLite inspector lists a database's tables.
_SQLITE_TABLES = ("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE "
                  "'sqlite~_%' ESCAPE '~' ORDER BY name")


def table_names(conn: Any) -> list[str]:
    if is_lite(conn):
        return [name for (name,) in conn.raw.execute(_SQLITE_TABLES)]
    import sqlalchemy as sa

    return list(sa.inspect(conn).get_table_names())
