"""The triggers that make the register append-only, as SQL: no SQLAlchemy here (``audit
verify`` on SQLite checks them through :mod:`compound.register.lite`)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Final

from compound.register.columns import COLUMNS

# Columns of ``lots`` fixed once recorded: the trigger refuses any UPDATE naming them.
LOT_FIXED_COLUMNS: Final = tuple(c for c in COLUMNS["lots"] if c != "status")

APPEND_ONLY_MESSAGE: Final = "the register is append-only: corrections are new events"

# (trigger name, table, timing/event clause). Every one of them must exist for
# ``verify`` to pass: dropping a trigger is itself tampering.
GUARDS: Final = (
    ("events_no_update", "events", "BEFORE UPDATE"),
    ("events_no_delete", "events", "BEFORE DELETE"),
    ("schema_version_no_update", "schema_version", "BEFORE UPDATE"),
    ("schema_version_no_delete", "schema_version", "BEFORE DELETE"),
    ("ingredient_lots_no_update", "ingredient_lots", "BEFORE UPDATE"),
    ("ingredient_lots_no_delete", "ingredient_lots", "BEFORE DELETE"),
    ("components_no_update", "components", "BEFORE UPDATE"),
    ("components_no_delete", "components", "BEFORE DELETE"),
    ("lots_no_delete", "lots", "BEFORE DELETE"),
    ("lots_fixed_columns", "lots", "BEFORE UPDATE OF " + ", ".join(LOT_FIXED_COLUMNS)),
    ("prescriptions_no_update", "prescriptions", "BEFORE UPDATE"),
    ("prescriptions_no_delete", "prescriptions", "BEFORE DELETE"),
    ("dispensings_no_update", "dispensings", "BEFORE UPDATE"),
    ("dispensings_no_delete", "dispensings", "BEFORE DELETE"),
    ("plans_no_update", "plans", "BEFORE UPDATE"),
    ("plans_no_delete", "plans", "BEFORE DELETE"),
)
GUARD_NAMES: Final = frozenset(name for name, _, _ in GUARDS)


PG_GUARD_FUNCTION: Final = "compound_append_only"
PG_GUARD_BODY: Final = f" BEGIN RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}'; END "


def guard_ddl(dialect: str, tables: Collection[str] | None = None) -> list[str]:
    """CREATE TRIGGER statements that make the guarded tables (or only ``tables``) append-only."""
    guards = [g for g in GUARDS if tables is None or g[1] in tables]
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER IF NOT EXISTS {name} {clause} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END"
            for name, table, clause in guards
        ]
    if dialect == "postgresql":
        function = (
            f"CREATE OR REPLACE FUNCTION {PG_GUARD_FUNCTION}() RETURNS trigger AS "
            f"$${PG_GUARD_BODY}$$ LANGUAGE plpgsql"
        )
        return [function] + [
            f"CREATE TRIGGER {name} {clause} ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {PG_GUARD_FUNCTION}()"
            for name, table, clause in guards
        ]
    raise NotImplementedError(dialect)
