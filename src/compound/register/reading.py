"""Queries that turn register rows into :mod:`compound.register.views` objects."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any, Final

import sqlalchemy as sa

from compound.core.figures import json_number
from compound.register import plans, rows, schema, views


def history_query(lot_number: str | None) -> sa.Select[Any]:
    query = sa.select(schema.events).order_by(schema.events.c.seq)
    if lot_number is not None:
        query = query.where(schema.events.c.subject == lot_number)
    return query


def _history(conn: sa.Connection, lot_number: str | None) -> list[views.Event]:
    return [rows.event(r) for r in conn.execute(history_query(lot_number))]


events = _history


def components_query(lot_id: int) -> sa.Select[Any]:
    c, ing, sub = schema.components, schema.ingredient_lots, schema.lots.alias("sub")
    return (
        sa.select(c.c.amount, c.c.unit, ing.c.lot_number.label("ing_lot"), ing.c.item_key,
                  ing.c.item_name, ing.c.expiry, sub.c.lot_number.label("sub_lot"),
                  sub.c.kind, sub.c.description, sub.c.beyond_use_date)
        .select_from(c.outerjoin(ing, c.c.ingredient_lot_id == ing.c.id)
                     .outerjoin(sub, c.c.sub_lot_id == sub.c.id))
        .where(c.c.lot_id == lot_id).order_by(c.c.position)
    )


def _components(conn: sa.Connection, lot_id: int) -> list[views.Component]:
    return [rows.component(r) for r in conn.execute(components_query(lot_id))]


def dispensings_query(where: Any) -> sa.Select[Any]:
    d, t, p = schema.dispensings, schema.lots, schema.prescriptions
    return (sa.select(d, t.c.lot_number, p.c.patient_name, p.c.patient_dob)
            .select_from(d.join(t, d.c.lot_id == t.c.id)
                         .outerjoin(p, d.c.rx_number == p.c.rx_number))
            .where(where).order_by(d.c.dispensed_on, d.c.recorded_at, d.c.id))


def dispensings(conn: sa.Connection, where: Any) -> list[views.Dispensing]:
    """Dispensings matching ``where`` (a condition on dispensings), with their patients."""
    return [rows.dispensing(r) for r in conn.execute(dispensings_query(where))]


def dispensed_totals_query(lot_ids: list[int] | None = None) -> sa.Select[Any]:
    d = schema.dispensings
    query = sa.select(d.c.lot_id, sa.func.sum(d.c.quantity)).group_by(d.c.lot_id)
    if lot_ids is not None:
        query = query.where(d.c.lot_id.in_(lot_ids))
    return query


def dispensed_totals(conn: sa.Connection, lot_ids: list[int] | None = None) -> dict[int, float]:
    """Lot id -> total dispensed, for the given lots (or every lot)."""
    return {lot_id: float(total)
            for lot_id, total in conn.execute(dispensed_totals_query(lot_ids))}


def lot_row_query(lot_number: str) -> sa.Select[Any]:
    return sa.select(schema.lots).where(schema.lots.c.lot_number == lot_number)


def ingredient_id_query(lot_number: str) -> sa.Select[Any]:
    return sa.select(schema.ingredient_lots.c.id).where(
        schema.ingredient_lots.c.lot_number == lot_number)


def ingredient_query(lot_number: str) -> sa.Select[Any]:
    return sa.select(schema.ingredient_lots).where(
        schema.ingredient_lots.c.lot_number == lot_number)


INGREDIENTS_QUERY: Final = sa.select(schema.ingredient_lots).order_by(
    schema.ingredient_lots.c.expiry, schema.ingredient_lots.c.lot_number)


def prescription(conn: sa.Connection, row: Any) -> views.Prescription:
    return views.Prescription(
        rx_number=row.rx_number, patient_name=row.patient_name, patient_dob=row.patient_dob,
        prescriber=row.prescriber, directions=row.directions, strength=row.strength,
        form=row.form, quantity=row.quantity, quantity_unit=row.quantity_unit,
        refills=row.refills, recorded_by=row.recorded_by, recorded_at=row.recorded_at,
        dispensings=dispensings(conn, schema.dispensings.c.rx_number == row.rx_number))


def lot(conn: sa.Connection, row: Any, today: dt.date, *, full: bool = True,
        dispensed: float | None = None) -> views.Lot:
    if dispensed is None:
        dispensed = dispensed_totals(conn, [row.id]).get(row.id, 0.0)
    if not full:
        return rows.lot(row, today, dispensed=dispensed)
    return rows.lot(row, today, dispensed=dispensed, plan=plans.load(conn, row.plan_sha256),
                    components=_components(conn, row.id),
                    history=_history(conn, row.lot_number),
                    dispensings=dispensings(conn, schema.dispensings.c.lot_id == row.id))


def ingredient(row: Any, today: dt.date) -> views.IngredientLot:
    return rows.ingredient(row, today)


# What a list shows: every lot column but the plan's digest (the plan is read by ``lots show``).
_LISTED: Final = tuple(c for c in schema.lots.columns if c.name != "plan_sha256")
LIST_BATCH: Final = 1000
"""Rows fetched from the database at a time while listing (memory stays flat at any count)."""


def lots_query(today: dt.date, status: str | None, expiring_within_days: int | None, *,
               full: bool = False) -> sa.Select[Any]:
    """Lots by BUD (then lot number), filtered in SQL on indexed columns (status, BUD)."""
    t = schema.lots
    query = (sa.select(t) if full else sa.select(*_LISTED)).order_by(t.c.beyond_use_date,
                                                                     t.c.lot_number)
    on_hand = t.c.status.in_(views.ON_HAND)
    if expiring_within_days is not None:
        horizon = today + dt.timedelta(days=expiring_within_days)
        query = query.where(on_hand, t.c.beyond_use_date <= horizon)
    if status == "expired":
        query = query.where(on_hand, t.c.beyond_use_date < today)
    elif status in views.ON_HAND:
        query = query.where(t.c.status == status, t.c.beyond_use_date >= today)
    elif status is not None:
        query = query.where(t.c.status == status)
    return query


def in_batches(conn: sa.Connection, query: sa.Select[Any],
               keys: Sequence[sa.Column[Any] | sa.Label[Any]], batch: int) -> Iterator[list[Any]]:
    """The rows of ``query``, ordered by ``keys`` (unique together), ``batch`` rows per query.

    Each batch is its own query that starts after the last row of the one before (keyset
    paging: the index is walked, never an OFFSET counted), so memory holds one batch
    whatever the table's size, on SQLite and PostgreSQL alike.
    """
    after: list[Any] | None = None
    while True:
        found = list(conn.execute(page_query(query, keys, after, batch)).all())
        if found:
            yield found
        if len(found) < batch:
            return
        after = [getattr(found[-1], key.name) for key in keys]


def page_query(query: sa.Select[Any], keys: Sequence[sa.Column[Any] | sa.Label[Any]],
               after: Sequence[Any] | None, batch: int) -> sa.Select[Any]:
    """One page of :func:`in_batches`: the ``batch`` rows after ``after`` (None: the first)."""
    page = query if after is None else query.where(sa.tuple_(*keys) > sa.tuple_(*after))
    return page.limit(batch)


def iter_lots(conn: sa.Connection, today: dt.date, status: str | None,
              expiring_within_days: int | None, *, full: bool = False) -> Iterator[views.Lot]:
    """The lots of :func:`lots_query`, read :data:`LIST_BATCH` rows at a time."""
    t = schema.lots
    query = lots_query(today, status, expiring_within_days, full=full)
    for page in in_batches(conn, query, (t.c.beyond_use_date, t.c.lot_number), LIST_BATCH):
        totals = dispensed_totals(conn, [r.id for r in page])
        for r in page:
            yield lot(conn, r, today, full=full, dispensed=totals.get(r.id, 0.0))


def lots(conn: sa.Connection, today: dt.date, status: str | None,
         expiring_within_days: int | None, *, full: bool = False) -> list[views.Lot]:
    return list(iter_lots(conn, today, status, expiring_within_days, full=full))


def trace(conn: sa.Connection, lot_number: str, today: dt.date) -> list[dict[str, Any]]:
    """Lots that used ``lot_number``, then lots that used those, breadth first."""
    c, t, ing = schema.components, schema.lots, schema.ingredient_lots
    known = conn.execute(sa.select(ing.c.id).where(ing.c.lot_number == lot_number)).first()
    sub = conn.execute(sa.select(t.c.id).where(t.c.lot_number == lot_number)).first()
    if known is None and sub is None:
        from compound.errors import RegisterError

        raise RegisterError(f"unknown lot {lot_number}.",
                            hint="Give an ingredient lot number (or a compounded lot's number).")
    frontier = [(c.c.ingredient_lot_id == known.id) if known else (c.c.sub_lot_id == sub.id)]
    out: list[dict[str, Any]] = []
    seen: set[int] = set()
    via: dict[int, str] = {}
    while frontier:
        query = (sa.select(t, c.c.amount.label("used_amount"), c.c.unit.label("used_unit"),
                           c.c.sub_lot_id.label("from_sub"))
                 .select_from(c.join(t, c.c.lot_id == t.c.id))
                 .where(sa.or_(*frontier)).order_by(t.c.compounded, t.c.lot_number))
        frontier = []
        for r in conn.execute(query):
            if r.id in seen:
                continue
            seen.add(r.id)
            found = lot(conn, r, today, full=False)
            entry = found.to_dict(full=False)
            entry["used"] = {"amount": json_number(r.used_amount), "unit": r.used_unit}
            entry["via"] = via.get(r.from_sub) if r.from_sub is not None else None
            entry["dispensings"] = [d.to_dict() for d in dispensings(
                conn, schema.dispensings.c.lot_id == r.id)]
            out.append(entry)
            via[r.id] = r.lot_number
            frontier.append(c.c.sub_lot_id == r.id)
    return out
