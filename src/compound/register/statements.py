"""The SQL the read-only commands run on SQLite without SQLAlchemy, compiled from the
SQLAlchemy statements the register itself runs (so the two cannot drift apart).

:mod:`compound.register.lite` reads an SQLite register with the standard library's
``sqlite3`` (``lots list``, ``lots show``: no SQLAlchemy import, ~0.3 s of start-up). Its
SQL is :mod:`compound.register.statements_sqlite`, written by this module from
:mod:`compound.register.reading`'s and :mod:`compound.register.listing`'s own query
builders, compiled for the SQLite dialect. The statements are built with marker values for
the arguments (a made-up "today", status, lot number …): each parameter is recorded as the
argument it carries, or as the constant it holds (a page's size, the statuses on hand).
A test compiles them again and compares (tests/test_register_lite.py). After changing a
query, write the module again::

    python -m compound.register.statements --write
"""

from __future__ import annotations

import datetime as dt
import inspect
import pprint
import sys
from pathlib import Path
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from compound.register import listing, migrations, plans, queries, reading, schema

_DIALECT: Final = sqlite.dialect(paramstyle="named")

# Marker values: each stands for one argument (none equals a constant of any statement).
TODAY: Final = dt.date(1901, 2, 3)
DAYS: Final = 7301
MARKERS: Final[dict[str, Any]] = {
    "today": TODAY,
    "horizon": TODAY + dt.timedelta(days=DAYS),
    "after_bud": dt.date(1902, 3, 4),
    "after_bud_text": "\x00after_bud",
    "after_number": "\x00after_number",
    "number": "\x00number",
    "subject": "\x00subject",
    "key": "\x00key",
    "lot_id": -987_654_321,
    "lot_ids": [-123_456_789],
    "seq": -555_000_001,
    "after_seq": -555_000_002,
    "after_key": "\x00after_key",
    "hash_": "\x00hash",
}

FILTERS: Final = {"all": None, "expired": "expired", "on_hand": "quarantine", "other": "dispensed"}
"""A ``lots list --status`` of each kind (the SQL differs by kind, not by status)."""


def _stored(value: Any) -> Any:
    """A constant as SQLAlchemy's SQLite types store it."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return [_stored(v) for v in value]
    return value


def _kind(column: Any) -> str:
    if isinstance(column.type, sa.Date):
        return "date"
    if isinstance(column.type, sa.Boolean):
        return "bool"
    return ""


def _entry(stmt: sa.Select[Any], roles: dict[str, Any]) -> tuple[Any, ...]:
    """(SQL, parameters as (name, argument or None, constant), columns, column kinds)."""
    compiled = stmt.compile(dialect=_DIALECT)
    params = []
    for name, value in compiled.params.items():
        role = next((r for r, v in roles.items()
                     if v is not None and type(v) is type(value) and v == value), None)
        params.append((name, role, None if role else _stored(value)))
    columns = list(stmt.selected_columns)
    return (str(compiled), tuple(params), tuple(c.key or f"column_{i}" for i, c in enumerate(columns)),
            tuple(_kind(c) for c in columns))


def compile_all() -> dict[str, tuple[Any, ...]]:
    """Every statement of the lite reader, by name, compiled for SQLite."""
    m = MARKERS
    t = schema.lots
    out = {"schema_version": _entry(migrations.VERSION_QUERY, {})}
    for kind, status in FILTERS.items():
        for expiring in (False, True):
            days = DAYS if expiring else None
            roles = {"today": m["today"], "horizon": m["horizon"], "status": status}
            for columns in ("lots", "json"):
                if columns == "lots":
                    query = reading.lots_query(TODAY, status, days)
                    keys: tuple[Any, ...] = (t.c.beyond_use_date, t.c.lot_number)
                    after = [m["after_bud"], m["after_number"]]
                else:
                    query = listing.lots_query(TODAY, status, days, "sqlite")
                    keys = listing.page_keys("sqlite")
                    after = [m["after_bud_text"], m["after_number"]]
                name = f"{columns}:{kind}:{'expiring' if expiring else 'any'}"
                out[name + ":first"] = _entry(
                    reading.page_query(query, keys, None, reading.LIST_BATCH), roles)
                out[name + ":after"] = _entry(
                    reading.page_query(query, keys, after, reading.LIST_BATCH),
                    {**roles, "after_bud": after[0], "after_number": after[1]})
    out["dispensed_totals"] = _entry(reading.dispensed_totals_query(), {})
    out["dispensed_totals_of"] = _entry(reading.dispensed_totals_query(m["lot_ids"]), m)
    out["lot"] = _entry(reading.lot_row_query(m["number"]), m)
    out["ingredient_id"] = _entry(reading.ingredient_id_query(m["number"]), m)
    out["ingredient"] = _entry(reading.ingredient_query(m["number"]), m)
    out["ingredients"] = _entry(reading.INGREDIENTS_QUERY, m)
    out["history"] = _entry(reading.history_query(None), m)
    out["history_of"] = _entry(reading.history_query(m["subject"]), m)
    out["components_of"] = _entry(reading.components_query(m["lot_id"]), m)
    out["dispensings_of"] = _entry(
        reading.dispensings_query(schema.dispensings.c.lot_id == m["lot_id"]), m)
    out["plan"] = _entry(plans.text_query(m["key"]), m)
    for name, build in queries.BUILDERS.items():  # audit verify's
        arguments = inspect.signature(build).parameters
        out[name] = _entry(build(**{a: m[a] for a in arguments}), m)
    return out


def module_text() -> str:
    body = pprint.pformat(compile_all(), width=100, sort_dicts=False)
    return (f'"""Generated by ``python -m compound.register.statements --write``: do not edit.\n\n'
            f"The SQL of :mod:`compound.register.lite`, compiled from the register's SQLAlchemy "
            f"statements\nfor SQLite (see :mod:`compound.register.statements`).\n"
            f'"""\n\n# ruff: noqa: E501\nfrom typing import Any, Final\n\n'
            f"LATEST: Final = {migrations.LATEST}\n"
            f'"""The schema version this SQL reads (compound.register.migrations.LATEST)."""\n\n'
            f"STATEMENTS: Final[dict[str, Any]] = {body}\n")


PATH: Final = Path(__file__).with_name("statements_sqlite.py")

if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        PATH.write_text(module_text(), encoding="utf-8")
        print(f"wrote {PATH}")
    else:
        sys.stdout.write(module_text())
