"""The queries of ``audit verify`` by name, as SQLAlchemy statements built from arguments.

:func:`compound.register.query.rows` runs one by name: on a SQLAlchemy connection it builds
it here; on :mod:`compound.register.lite`'s, it runs the same statement compiled for SQLite
(:mod:`compound.register.statements` compiles every builder below with marker arguments).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import sqlalchemy as sa

from compound.register import audit, plans, reading, replay, schema


def _events(with_plans: bool, after_seq: int | None) -> sa.Select[Any]:
    """:data:`audit.BATCH` events in order with the stored body of the plan each names and of its base
    (``plan_body``, ``plan_base``, ``plan_base_body``; NULL without the plans table)."""
    e, p, b = schema.events, schema.plans, schema.plans.alias("base")
    query = (sa.select(e, p.c.body.label("plan_body"), p.c.base_sha256.label("plan_base"),
                       b.c.body.label("plan_base_body"))
             .select_from(e.outerjoin(p, p.c.sha256 == e.c.plan_sha256)
                          .outerjoin(b, b.c.sha256 == p.c.base_sha256))
             if with_plans else sa.select(e, sa.null().label("plan_body"),
                                          sa.null().label("plan_base"),
                                          sa.null().label("plan_base_body")))
    query = query.order_by(e.c.seq).limit(audit.BATCH)
    if after_seq is not None:
        query = query.where(schema.events.c.seq > after_seq)
    return query


def _lots_by_number(after_number: str | None) -> sa.Select[Any]:
    t = schema.lots
    query = sa.select(t).order_by(t.c.lot_number).limit(replay.LOT_BATCH)
    if after_number is not None:
        query = query.where(t.c.lot_number > after_number)
    return query


def _components(where: sa.ColumnElement[bool]) -> sa.Select[Any]:
    """Component rows (and the id of their lot) with lot numbers in place of row ids."""
    c, lot, sub, ing = (schema.components, schema.lots.alias("lot"), schema.lots.alias("sub"),
                        schema.ingredient_lots)
    return (
        sa.select(c.c.lot_id, lot.c.lot_number, c.c.position,
                  ing.c.lot_number.label("ingredient_lot"), sub.c.lot_number.label("sub_lot"),
                  c.c.amount, c.c.unit)
        .select_from(c.outerjoin(lot, c.c.lot_id == lot.c.id)
                     .outerjoin(sub, c.c.sub_lot_id == sub.c.id)
                     .outerjoin(ing, c.c.ingredient_lot_id == ing.c.id))
        .where(where).order_by(c.c.lot_id, c.c.position)
    )


def _dispensings() -> sa.Select[Any]:
    d, lot = schema.dispensings, schema.lots
    return (sa.select(lot.c.lot_number, d).select_from(d.join(lot, d.c.lot_id == lot.c.id))
            .order_by(d.c.lot_id, d.c.position))


def _plan_keys(after_key: str | None) -> sa.Select[Any]:
    p = schema.plans
    query = sa.select(p.c.sha256).order_by(p.c.sha256).limit(plans.PLAN_BATCH)
    if after_key is not None:
        query = query.where(p.c.sha256 > after_key)
    return query


_e = schema.events
BUILDERS: Final[dict[str, Callable[..., sa.Select[Any]]]] = {
    "events_first": lambda: _events(True, None),
    "events_after": lambda after_seq: _events(True, after_seq),
    "events_bare_first": lambda: _events(False, None),
    "events_bare_after": lambda after_seq: _events(False, after_seq),
    "schema_versions": lambda: sa.select(schema.schema_version),
    "ingredient_lots_all": lambda: sa.select(schema.ingredient_lots),
    "lots_by_number_first": lambda: _lots_by_number(None),
    "lots_by_number_after": lambda after_number: _lots_by_number(after_number),
    "components_of_lots": lambda lot_ids: _components(schema.components.c.lot_id.in_(lot_ids)),
    "orphan_components": lambda: _components(
        schema.components.c.lot_id.not_in(sa.select(schema.lots.c.id))),
    "event_payload": lambda seq: sa.select(_e.c.payload).where(_e.c.seq == seq),
    "lot_by_number": lambda number: reading.lot_row_query(number),
    "prescriptions_all": lambda: sa.select(schema.prescriptions),
    "dispensings_all": _dispensings,
    "counters_all": lambda: sa.select(schema.counters),
    "plan_keys_first": lambda: _plan_keys(None),
    "plan_keys_after": lambda after_key: _plan_keys(after_key),
    "event_by_hash": lambda hash_: sa.select(_e.c.seq).where(_e.c.hash == hash_),
    "event_hash": lambda seq: sa.select(_e.c.hash).where(_e.c.seq == seq),
    "last_seq": lambda: sa.select(sa.func.max(_e.c.seq)),
    "head": lambda: sa.select(_e.c.seq, _e.c.hash).order_by(_e.c.seq.desc()).limit(1),
}
"""Name -> builder; its parameters are named as :data:`statements.MARKERS` names them."""
