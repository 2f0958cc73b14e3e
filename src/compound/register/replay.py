"""Rebuild the register from its audit events and compare with the rows.

The writer and the verifier describe rows with the same functions below
(``*_record``), so an event's payload and the row it created compare equal
field by field: dates as ISO text, JSON columns as objects, foreign keys as
lot numbers, floats exactly.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa

from compound.register import schema

STATUS_ACTIONS: Final = {
    "lot.release": "released",
    "lot.dispense": "dispensed",
    "lot.destroy": "destroyed",
    "lot.recall": "recalled",
}


@dataclass(frozen=True, slots=True)
class Problem:
    where: str
    """``event #12``, ``lot LDN-20250310-0001``, ``trigger events_no_update`` …"""
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"

    def to_dict(self) -> dict[str, str]:
        return {"where": self.where, "what": self.what}


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _json_or_text(value: Any) -> Any:
    if value is None:
        return None
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return f"<not JSON: {value!r:.40}>"


def ingredient_record(row: Mapping[str, Any]) -> dict[str, Any]:
    out = {c.name: _plain(row[c.name]) for c in schema.ingredient_lots.columns if c.name != "id"}
    out["expiry_from_month"] = bool(out["expiry_from_month"])
    out["pack_stats"] = _json_or_text(out["pack_stats"])
    return out


def lot_record(row: Mapping[str, Any]) -> dict[str, Any]:
    out = {c.name: _plain(row[c.name]) for c in schema.lots.columns if c.name != "id"}
    out["plan"] = _json_or_text(out["plan"])
    return out


class PlanDigest(str):
    """A plan held by the replay as the SHA-256 of its canonical JSON (64 characters, not
    ~10 KB a lot): equal plans give equal digests; a difference is reported without the text."""

    def __repr__(self) -> str:
        return f"<plan sha256 {self[:12]}…>"


def plan_digest(plan: Any) -> PlanDigest:
    text = json.dumps(plan, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return PlanDigest(hashlib.sha256(text.encode("utf-8")).hexdigest())


def _compact_lot(record: Mapping[str, Any]) -> dict[str, Any]:
    """A lot record with its plan as a digest (what a detailed comparison shows)."""
    out = dict(record)
    out["plan"] = plan_digest(out["plan"])
    return out


def _lot_state(record: Mapping[str, Any]) -> dict[str, Any]:
    """What the replay keeps of a lot: what events change (status) or read (quantity), and
    one digest of every column fixed once recorded (~200 bytes a lot, whatever its plan)."""
    fixed = {k: v for k, v in _compact_lot(record).items() if k != "status"}
    return {"lot_number": record["lot_number"], "status": record["status"],
            "quantity": record["quantity"], "fixed": plan_digest(fixed)}


LOT_BATCH: Final = 1000
"""Lot rows read per query while comparing them with the replay (memory stays flat)."""


def _lot_rows(conn: sa.Connection) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every lot row as ``(lot number, compact record)``, :data:`LOT_BATCH` rows per query."""
    t = schema.lots
    last: str | None = None
    while True:
        query = sa.select(t).order_by(t.c.lot_number).limit(LOT_BATCH)
        if last is not None:
            query = query.where(t.c.lot_number > last)
        rows = conn.execute(query).all()
        for r in rows:
            yield r.lot_number, _lot_state(lot_record(r._mapping))
        if len(rows) < LOT_BATCH:
            return
        last = rows[-1].lot_number


def component_record(lot_number: str, position: int, ingredient_lot: str | None,
                     sub_lot: str | None, amount: float, unit: str) -> dict[str, Any]:
    return {"lot_number": lot_number, "position": position, "ingredient_lot": ingredient_lot,
            "sub_lot": sub_lot, "amount": amount, "unit": unit}


def prescription_record(row: Mapping[str, Any]) -> dict[str, Any]:
    return {c.name: _plain(row[c.name]) for c in schema.prescriptions.columns if c.name != "id"}


def dispensing_record(lot_number: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """A dispensing as its event records it: the lot by number, not by row id."""
    out = {c.name: _plain(row[c.name]) for c in schema.dispensings.columns
           if c.name not in ("id", "lot_id")}
    out["lot_number"] = lot_number
    return out


def read_dispensings(conn: sa.Connection) -> list[dict[str, Any]]:
    d, lot = schema.dispensings, schema.lots
    query = (sa.select(lot.c.lot_number, d).select_from(d.join(lot, d.c.lot_id == lot.c.id))
             .order_by(d.c.lot_id, d.c.position))
    return [dispensing_record(r.lot_number, r._mapping) for r in conn.execute(query)]


def read_components(conn: sa.Connection) -> list[dict[str, Any]]:
    """Every component row, with lot numbers in place of row ids."""
    c, lot, sub, ing = (schema.components, schema.lots.alias("lot"), schema.lots.alias("sub"),
                        schema.ingredient_lots)
    query = (
        sa.select(lot.c.lot_number, c.c.position, ing.c.lot_number.label("ingredient_lot"),
                  sub.c.lot_number.label("sub_lot"), c.c.amount, c.c.unit)
        .select_from(c.outerjoin(lot, c.c.lot_id == lot.c.id)
                     .outerjoin(sub, c.c.sub_lot_id == sub.c.id)
                     .outerjoin(ing, c.c.ingredient_lot_id == ing.c.id))
        .order_by(c.c.lot_id, c.c.position)
    )
    return [component_record(*row) for row in conn.execute(query)]


class Replay:
    """The register as its events say it should be."""

    def __init__(self) -> None:
        self.versions: dict[int, dict[str, Any]] = {}
        self.ingredients: dict[str, dict[str, Any]] = {}
        self.lots: dict[str, dict[str, Any]] = {}
        self.recorded_by: dict[str, int] = {}
        """Lot number -> the seq of its lot.record event (read again only if its row differs)."""
        self.components: dict[tuple[str, int], dict[str, Any]] = {}
        self.counters: dict[str, int] = {}
        self.prescriptions: dict[str, dict[str, Any]] = {}
        self.dispensings: dict[tuple[str, int], dict[str, Any]] = {}
        self.last_event: dict[str, int] = {}

    def apply(self, seq: int, action: str, payload: Any) -> list[Problem]:
        where = f"event #{seq}"
        try:
            return self._apply(seq, action, payload)
        except (KeyError, TypeError, AttributeError):
            return [Problem(where, f"its {action} payload is not one the tool writes (forged).")]

    def _apply(self, seq: int, action: str, payload: dict[str, Any]) -> list[Problem]:
        where = f"event #{seq}"
        if action == "register.migrate":
            self.versions[int(payload["version"])] = {
                "version": payload["version"], "description": payload["description"],
                "applied_at": payload["applied_at"]}
            self.last_event[f"schema version {payload['version']}"] = seq
            return []
        if action == "ingredient.receive":
            record = payload["ingredient_lot"]
            number = record["lot_number"]
            if number in self.ingredients:
                return [Problem(where, f"ingredient lot {number} is received a second time.")]
            self.ingredients[number] = record
            self.last_event[f"ingredient lot {number}"] = seq
            return []
        if action == "lot.record":
            return self._record(seq, payload)
        if action == "rx.record":
            record = payload["prescription"]
            number = record["rx_number"]
            if number in self.prescriptions:
                return [Problem(where, f"prescription {number} is recorded a second time.")]
            self.prescriptions[number] = record
            self.last_event[f"prescription {number}"] = seq
            return []
        number = payload["lot_number"]
        if number not in self.lots:
            return [Problem(where, f"{action} names lot {number}, which no event recorded.")]
        self.last_event[f"lot {number}"] = seq
        if action == "lot.note":
            return []
        if action not in STATUS_ACTIONS:
            return [Problem(where, f"unknown action {action!r} (inserted outside the tool).")]
        lot = self.lots[number]
        problems = []
        if payload["from"] != lot["status"]:
            problems.append(Problem(where, f"moves lot {number} from {payload['from']!r}, but the "
                                           f"events before it leave it {lot['status']!r}."))
        lot["status"] = STATUS_ACTIONS[action]
        if action == "lot.dispense" and "dispensing" in payload:
            problems += self._dispensing(where, lot, payload)
        return problems

    def _dispensing(self, where: str, lot: dict[str, Any],
                    payload: dict[str, Any]) -> list[Problem]:
        """A (partial) dispensing: the lot stays as the event says; the total never exceeds it."""
        record = payload["dispensing"]
        number = lot["lot_number"]
        problems = []
        lot["status"] = payload["to"]
        if record["rx_number"] is not None and record["rx_number"] not in self.prescriptions:
            problems.append(Problem(where, f"dispenses lot {number} to prescription "
                                           f"{record['rx_number']}, which no event recorded."))
        self.dispensings[(number, record["position"])] = record
        total = sum(d["quantity"] for (n, _), d in self.dispensings.items() if n == number)
        if total > lot["quantity"] * (1 + 1e-9):
            problems.append(Problem(where, f"dispenses more of lot {number} than was made."))
        return problems

    def _record(self, seq: int, payload: dict[str, Any]) -> list[Problem]:
        where = f"event #{seq}"
        lot = payload["lot"]
        number = lot["lot_number"]
        problems = []
        if number in self.lots:
            problems.append(Problem(where, f"lot {number} is recorded a second time."))
        for comp in payload["components"]:
            source = comp["ingredient_lot"] or comp["sub_lot"]
            known = self.ingredients if comp["ingredient_lot"] else self.lots
            if source not in known:
                problems.append(Problem(where, f"lot {number} uses {source}, which no earlier "
                                               "event received or recorded."))
            self.components[(number, comp["position"])] = comp
        self.lots[number] = _lot_state(lot)
        self.recorded_by[number] = seq
        counter = payload["counter"]
        self.counters[counter["name"]] = max(self.counters.get(counter["name"], 0),
                                             int(counter["value"]))
        self.last_event[f"lot {number}"] = seq
        return problems

    def compare(self, conn: sa.Connection) -> list[Problem]:
        """Every difference between the rows and what the events say."""
        problems: list[Problem] = []
        actual_versions = {r.version: dict(r._mapping) for r in conn.execute(
            sa.select(schema.schema_version))}
        problems += self._diff("schema version", self.versions, actual_versions)
        problems += self._diff("ingredient lot", self.ingredients, {
            r.lot_number: ingredient_record(r._mapping)
            for r in conn.execute(sa.select(schema.ingredient_lots))})
        problems += self._compare_lots(conn)
        problems += self._diff("component", self.components, {
            (c["lot_number"], c["position"]): c for c in read_components(conn)})
        problems += self._diff("prescription", self.prescriptions, {
            r.rx_number: prescription_record(r._mapping)
            for r in conn.execute(sa.select(schema.prescriptions))})
        problems += self._diff("dispensing", self.dispensings, {
            (d["lot_number"], d["position"]): d for d in read_dispensings(conn)})
        problems += self._diff("counter", {k: {"value": v} for k, v in self.counters.items()}, {
            r.name: {"value": r.value} for r in conn.execute(sa.select(schema.counters))})
        return problems

    def _compare_lots(self, conn: sa.Connection) -> list[Problem]:
        """Lot rows against the replay, streamed; a row whose fixed columns differ is compared
        column by column with its lot.record event, read again for it alone."""
        out = []
        for problem in self._diff("lot", self.lots, _lot_rows(conn)):
            if not problem.what.startswith("fixed is "):
                out.append(problem)
                continue
            number = problem.where.removeprefix("lot ")
            payload = conn.execute(sa.select(schema.events.c.payload).where(
                schema.events.c.seq == self.recorded_by[number])).scalar_one()
            want = _compact_lot(json.loads(payload)["lot"])
            row = conn.execute(sa.select(schema.lots).where(
                schema.lots.c.lot_number == number)).one()
            got = _compact_lot(lot_record(row._mapping))
            want["status"] = got["status"]  # a status that differs is reported already
            out += self._diff("lot", {number: want}, {number: got})
        return out

    def _diff(self, what: str, expected: Mapping[Any, dict[str, Any]],
              actual: Mapping[Any, dict[str, Any]] | Iterable[tuple[Any, dict[str, Any]]],
              ) -> list[Problem]:
        """Rows missing, rows without an event, then columns that differ (each by key).

        ``actual`` may be a stream of ``(key, record)``: each row is compared as it is read,
        so only the replay and the problems are held, never the whole table.
        """
        missing, extra, changed = [], [], []

        def name(key: Any) -> str:
            return (f"{what} {key[1]} of lot {key[0]}" if isinstance(key, tuple)
                    else f"{what} {key}")

        def last(key: Any) -> str:
            lot_key = f"lot {key[0]}" if isinstance(key, tuple) else name(key)
            seq = self.last_event.get(lot_key)
            return f" (last event #{seq})" if seq else ""

        seen = set()
        for key, record in (actual.items() if isinstance(actual, Mapping) else actual):
            want_record = expected.get(key)
            if want_record is None:
                extra.append((str(key), Problem(
                    name(key), "its row has no event in the audit trail (written outside the "
                               "tool, or its event was deleted).")))
                continue
            seen.add(key)
            for column, want in want_record.items():
                got = record.get(column)
                if got != want:
                    changed.append((str(key), Problem(
                        name(key), f"{column} is {got!r} in the register but {want!r} in the "
                                   f"audit trail{last(key)}: changed without its event.")))
        for key in expected.keys() - seen:
            missing.append((str(key), Problem(
                name(key), f"the audit trail records it{last(key)} but its row is missing "
                           "(deleted outside the tool).")))
        return [p for group in (missing, extra, changed)
                for _, p in sorted(group, key=lambda item: item[0])]
