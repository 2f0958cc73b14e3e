"""The register's tables (SQLAlchemy Core) and the triggers that guard them.

Dates are calendar dates; timestamps are UTC text exactly as hashed into the
audit trail. Amounts are float64 in canonical units (mg, mL) or tablets, never
rounded in storage. A lot's status is the only column the tool ever updates,
and every update is paired with an audit event in the same transaction.
"""

from __future__ import annotations

from typing import Final

import sqlalchemy as sa

from compound.register.guards import (  # noqa: F401 (their home was here)
    APPEND_ONLY_MESSAGE,
    GUARD_NAMES,
    GUARDS,
    LOT_FIXED_COLUMNS,
    PG_GUARD_BODY,
    PG_GUARD_FUNCTION,
    guard_ddl,
)

metadata: Final = sa.MetaData()

STORED_STATUSES: Final = ("quarantine", "released", "dispensed", "recalled", "destroyed")

schema_version: Final = sa.Table(
    "schema_version", metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("applied_at", sa.Text, nullable=False),
)

counters: Final = sa.Table(
    "counters", metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("value", sa.Integer, nullable=False),
)

ingredient_lots: Final = sa.Table(
    "ingredient_lots", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("lot_number", sa.Text, nullable=False, unique=True),
    sa.Column("item_key", sa.Text, nullable=False),
    sa.Column("item_kind", sa.Text, nullable=False),  # tablet | api | excipient | vehicle
    sa.Column("item_name", sa.Text, nullable=False),
    sa.Column("expiry", sa.Date, nullable=False),
    sa.Column("expiry_from_month", sa.Boolean, nullable=False),
    sa.Column("supplier", sa.Text),
    sa.Column("reference", sa.Text),
    sa.Column("assay_fraction", sa.Float),
    sa.Column("water_fraction", sa.Float),
    sa.Column("tablet_weight_mg", sa.Float),
    sa.Column("pack_stats", sa.Text),  # canonical JSON {capsule size: fill weight mg}
    sa.Column("received", sa.Date, nullable=False),
    sa.Column("received_by", sa.Text, nullable=False),
    sa.Column("recorded_at", sa.Text, nullable=False),
)

lots: Final = sa.Table(
    "lots", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("lot_number", sa.Text, nullable=False, unique=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("quantity", sa.Float, nullable=False),
    sa.Column("quantity_unit", sa.Text, nullable=False),
    # The plan's key in ``plans`` (SHA-256 of its canonical JSON); the column was ``plan``,
    # holding the JSON itself, before schema version 7.
    sa.Column("plan_sha256", sa.Text, nullable=False),
    sa.Column("compounded", sa.Date, nullable=False),
    sa.Column("beyond_use_date", sa.Date, nullable=False),
    sa.Column("bud_limit", sa.Text, nullable=False),
    sa.Column("bud_source", sa.Text, nullable=False),
    sa.Column("stability_window_days", sa.Integer),
    sa.Column("stability_window_end", sa.Date),
    sa.Column("storage", sa.Text, nullable=False),
    sa.Column("compounded_by", sa.Text, nullable=False),
    sa.Column("checked_by", sa.Text),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("recorded_at", sa.Text, nullable=False),
    sa.CheckConstraint(
        "status IN (" + ", ".join(f"'{s}'" for s in STORED_STATUSES) + ")", name="lot_status"
    ),
    sa.CheckConstraint("beyond_use_date >= compounded", name="bud_after_compounding"),
    sa.CheckConstraint("quantity > 0", name="quantity_positive"),
)
# The Lots table (register.summaries) in BUD order from this index alone: SQLite never visits
# the rows, whose plan (kilobytes of JSON) lies before the columns listed after it. It also
# serves every BUD order and range (`lots list`, `--expiring`); v6 replaced the BUD-only index.
LOTS_LISTED: Final = sa.Index("lots_listed", lots.c.beyond_use_date, lots.c.lot_number,
                              lots.c.status, lots.c.kind, lots.c.description, lots.c.quantity,
                              lots.c.quantity_unit, lots.c.compounded,
                              lots.c.stability_window_days)
# `lots list --status …` (and the TUI's filters): the status, then BUD order, from the index.
LOTS_BY_STATUS: Final = sa.Index("lots_status_bud", lots.c.status, lots.c.beyond_use_date,
                                 lots.c.lot_number)

components: Final = sa.Table(
    "components", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("lot_id", sa.Integer, sa.ForeignKey("lots.id"), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("ingredient_lot_id", sa.Integer, sa.ForeignKey("ingredient_lots.id")),
    sa.Column("sub_lot_id", sa.Integer, sa.ForeignKey("lots.id")),
    sa.Column("amount", sa.Float, nullable=False),
    sa.Column("unit", sa.Text, nullable=False),
    sa.CheckConstraint("(ingredient_lot_id IS NULL) <> (sub_lot_id IS NULL)", name="one_source"),
    sa.CheckConstraint("unit IN ('mg', 'mL', 'tablet')", name="component_unit"),
    sa.CheckConstraint("amount > 0", name="amount_positive"),
    sa.UniqueConstraint("lot_id", "position"),
)
sa.Index("components_ingredient", components.c.ingredient_lot_id)
sa.Index("components_sub_lot", components.c.sub_lot_id)

prescriptions: Final = sa.Table(
    "prescriptions", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("rx_number", sa.Text, nullable=False, unique=True),
    sa.Column("patient_name", sa.Text, nullable=False),
    sa.Column("patient_dob", sa.Date, nullable=False),
    sa.Column("prescriber", sa.Text, nullable=False),
    sa.Column("directions", sa.Text, nullable=False),
    sa.Column("strength", sa.Text, nullable=False),  # as prescribed, e.g. "4.5 mg", "1 mg/mL"
    sa.Column("form", sa.Text, nullable=False),  # a lot kind: capsules | liquid | drops …
    sa.Column("quantity", sa.Float, nullable=False),  # per fill, in quantity_unit
    sa.Column("quantity_unit", sa.Text, nullable=False),
    sa.Column("refills", sa.Integer, nullable=False),  # refills authorised after the first fill
    sa.Column("recorded_by", sa.Text, nullable=False),
    sa.Column("recorded_at", sa.Text, nullable=False),
    sa.CheckConstraint("refills >= 0", name="refills_not_negative"),
    sa.CheckConstraint("quantity > 0", name="rx_quantity_positive"),
)

dispensings: Final = sa.Table(
    "dispensings", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("lot_id", sa.Integer, sa.ForeignKey("lots.id"), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),  # 1, 2, … for each lot
    sa.Column("rx_number", sa.Text, sa.ForeignKey("prescriptions.rx_number")),
    sa.Column("fill", sa.Integer),  # 1 = first fill of the Rx, 2 = first refill …
    sa.Column("quantity", sa.Float, nullable=False),
    sa.Column("quantity_unit", sa.Text, nullable=False),
    sa.Column("dispensed_on", sa.Date, nullable=False),
    sa.Column("dispensed_by", sa.Text, nullable=False),
    sa.Column("recorded_at", sa.Text, nullable=False),
    sa.CheckConstraint("quantity > 0", name="dispensed_quantity_positive"),
    sa.UniqueConstraint("lot_id", "position"),
)
sa.Index("dispensings_rx", dispensings.c.rx_number)

events: Final = sa.Table(
    "events", metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("at_utc", sa.Text, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("station", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("subject", sa.Text),
    sa.Column("payload", sa.Text, nullable=False),  # canonical JSON
    sa.Column("prev_hash", sa.Text, nullable=False),
    sa.Column("hash", sa.Text, nullable=False, unique=True),
    # HMAC-SHA256 of ``hash`` under the pharmacy's audit key; NULL when written without one.
    sa.Column("mac", sa.Text),
    # A lot.record event's plan, kept in ``plans``: the payload names it by this key where
    # the plan was, and the hash is of the event with the plan inline (schema version 7).
    sa.Column("plan_sha256", sa.Text),
)
sa.Index("events_subject", events.c.subject)

plans: Final = sa.Table(
    "plans", metadata,
    sa.Column("sha256", sa.Text, primary_key=True),  # hex SHA-256 of the canonical JSON
    # zlib of the canonical JSON (UTF-8); with the base plan's JSON as its preset dictionary
    # when base_sha256 names one (a plan stored without a base itself).
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("base_sha256", sa.Text),
)

# The append-only guards (triggers) live in compound.register.guards (no SQLAlchemy there:
# `audit verify` on SQLite checks them without it); their lot columns must be these.
assert tuple(c.name for c in lots.columns if c.name not in ("status",)) == LOT_FIXED_COLUMNS
