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
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from compound.register import plans, query
from compound.register.columns import COLUMNS

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
    out = {c: _plain(row[c]) for c in COLUMNS["ingredient_lots"] if c != "id"}
    out["expiry_from_month"] = bool(out["expiry_from_month"])
    out["pack_stats"] = _json_or_text(out["pack_stats"])
    return out


def lot_record(row: Mapping[str, Any]) -> dict[str, Any]:
    """A lot as its ``lot.record`` event records it: its plan named by digest (the event's
    hash is of the plan inline; see :func:`compound.register.audit.event_text`)."""
    out = {c: _plain(row[c]) for c in COLUMNS["lots"] if c not in ("id", "plan_sha256")}
    out["plan"] = row["plan_sha256"]
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
    """A lot record with its plan as a digest (what a detailed comparison shows): the digest
    it names, or (an event written before schema version 7) the digest of the plan inline."""
    out = dict(record)
    plan = out["plan"]
    out["plan"] = PlanDigest(plan) if isinstance(plan, str) else plan_digest(plan)
    return out


def _fixed_digest(record: Mapping[str, Any], components: Iterable[Mapping[str, Any]]) -> bytes:
    """One digest of a lot's columns fixed once recorded and of its components, in order."""
    fixed = {k: v for k, v in _compact_lot(record).items() if k != "status"}
    text = json.dumps([fixed, list(components)], sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).digest()


def _lot_state(record: Mapping[str, Any],
               components: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """A lot row as the replay compares it: what events change (status) or read (quantity),
    and the digest of the rest (:func:`_fixed_digest`)."""
    return {"lot_number": record["lot_number"], "status": record["status"],
            "quantity": record["quantity"], "fixed": _fixed_digest(record, components)}


class _Lot:
    """What the replay keeps of a lot (about 300 bytes, whatever its plan and components,
    so 100,000 lots fit in ~30 MB): the columns of :func:`_lot_state`, the events that
    recorded it and last named it, and what was dispensed from it by position."""

    __slots__ = ("dispensed", "fixed", "last", "lot_number", "quantity", "recorded", "status")

    def __init__(self, record: Mapping[str, Any], components: Iterable[Mapping[str, Any]],
                 seq: int) -> None:
        self.lot_number: str = record["lot_number"]
        self.status: str = sys.intern(record["status"])
        self.quantity: float = record["quantity"]
        self.fixed = _fixed_digest(record, components)
        self.recorded = self.last = seq
        self.dispensed: dict[int, float] | None = None

    def items(self) -> tuple[tuple[str, Any], ...]:
        """The columns compared with :func:`_lot_state` of its row."""
        return (("lot_number", self.lot_number), ("status", self.status),
                ("quantity", self.quantity), ("fixed", self.fixed))


LOT_BATCH: Final = 1000
"""Lot rows read per query while comparing them with the replay (memory stays flat)."""


def _lot_rows(conn: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every lot row as ``(lot number, compact record)``, :data:`LOT_BATCH` rows per query,
    each batch's components read with it."""
    last: str | None = None
    while True:
        rows = (query.rows(conn, "lots_by_number_first") if last is None else
                query.rows(conn, "lots_by_number_after", after_number=last)).all()
        used = _components_by_lot(conn, [r.id for r in rows])
        for r in rows:
            yield r.lot_number, _lot_state(lot_record(r._mapping), used.get(r.id, ()))
        if len(rows) < LOT_BATCH:
            return
        last = rows[-1].lot_number


def component_record(lot_number: str, position: int, ingredient_lot: str | None,
                     sub_lot: str | None, amount: float, unit: str) -> dict[str, Any]:
    return {"lot_number": lot_number, "position": position, "ingredient_lot": ingredient_lot,
            "sub_lot": sub_lot, "amount": amount, "unit": unit}


def prescription_record(row: Mapping[str, Any]) -> dict[str, Any]:
    return {c: _plain(row[c]) for c in COLUMNS["prescriptions"] if c != "id"}


def dispensing_record(lot_number: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """A dispensing as its event records it: the lot by number, not by row id."""
    out = {c: _plain(row[c]) for c in COLUMNS["dispensings"] if c not in ("id", "lot_id")}
    out["lot_number"] = lot_number
    return out


def read_dispensings(conn: Any) -> list[dict[str, Any]]:
    return [dispensing_record(r.lot_number, r._mapping)
            for r in query.rows(conn, "dispensings_all")]


def _components_by_lot(conn: Any, lot_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The component records of these lots (by lot id), in order."""
    out: dict[int, list[dict[str, Any]]] = {}
    if lot_ids:
        for r in query.rows(conn, "components_of_lots", lot_ids=lot_ids):
            out.setdefault(r.lot_id, []).append(component_record(*r[1:]))
    return out


def _orphan_components(conn: Any) -> list[dict[str, Any]]:
    """Component rows whose lot row is gone (lot number None)."""
    return [component_record(*r[1:]) for r in query.rows(conn, "orphan_components")]


class Replay:
    """The register as its events say it should be."""

    def __init__(self) -> None:
        self.versions: dict[int, dict[str, Any]] = {}
        self.ingredients: dict[str, dict[str, Any]] = {}
        self.lots: dict[str, _Lot] = {}
        self.counters: dict[str, int] = {}
        self.prescriptions: dict[str, dict[str, Any]] = {}
        self.dispensings: dict[tuple[str, int], dict[str, Any]] = {}
        self.last_event: dict[str, int] = {}
        self.plans: set[str] = set()
        """The digests of the plans the lot.record events name."""

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
        lot = self.lots[number]
        lot.last = seq
        if action == "lot.note":
            return []
        if action not in STATUS_ACTIONS:
            return [Problem(where, f"unknown action {action!r} (inserted outside the tool).")]
        problems = []
        if payload["from"] != lot.status:
            problems.append(Problem(where, f"moves lot {number} from {payload['from']!r}, but the "
                                           f"events before it leave it {lot.status!r}."))
        lot.status = STATUS_ACTIONS[action]
        if action == "lot.dispense" and "dispensing" in payload:
            problems += self._dispensing(where, lot, payload)
        return problems

    def _dispensing(self, where: str, lot: _Lot, payload: dict[str, Any]) -> list[Problem]:
        """A (partial) dispensing: the lot stays as the event says; the total never exceeds it."""
        record = payload["dispensing"]
        number = lot.lot_number
        problems = []
        lot.status = sys.intern(payload["to"])
        if record["rx_number"] is not None and record["rx_number"] not in self.prescriptions:
            problems.append(Problem(where, f"dispenses lot {number} to prescription "
                                           f"{record['rx_number']}, which no event recorded."))
        self.dispensings[(number, record["position"])] = record
        if lot.dispensed is None:
            lot.dispensed = {}
        lot.dispensed[record["position"]] = record["quantity"]
        if sum(lot.dispensed.values()) > lot.quantity * (1 + 1e-9):
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
        self.lots[number] = _Lot(lot, payload["components"], seq)
        if isinstance(lot["plan"], str):
            self.plans.add(lot["plan"])
        counter = payload["counter"]
        self.counters[counter["name"]] = max(self.counters.get(counter["name"], 0),
                                             int(counter["value"]))
        return problems

    def compare(self, conn: Any, *, with_plans: bool = True) -> list[Problem]:
        """Every difference between the rows and what the events say."""
        problems: list[Problem] = []
        actual_versions = {r.version: dict(r._mapping)
                           for r in query.rows(conn, "schema_versions")}
        problems += self._diff("schema version", self.versions, actual_versions)
        problems += self._diff("ingredient lot", self.ingredients, {
            r.lot_number: ingredient_record(r._mapping)
            for r in query.rows(conn, "ingredient_lots_all")})
        lots, components = self._compare_lots(conn)
        problems += lots + components
        problems += self._diff("prescription", self.prescriptions, {
            r.rx_number: prescription_record(r._mapping)
            for r in query.rows(conn, "prescriptions_all")})
        problems += self._diff("dispensing", self.dispensings, {
            (d["lot_number"], d["position"]): d for d in read_dispensings(conn)})
        problems += self._diff("counter", {k: {"value": v} for k, v in self.counters.items()}, {
            r.name: {"value": r.value} for r in query.rows(conn, "counters_all")})
        # A plan no event names (a missing one is reported by the event that names it).
        problems += [Problem(f"plan {key[:16]}", "it is stored, but no event records a lot made "
                                                 "with it (written outside the tool).")
                     for key in (plans.keys(conn) if with_plans else ()) if key not in self.plans]
        return problems

    def _compare_lots(self, conn: Any) -> tuple[list[Problem], list[Problem]]:
        """Lot rows (with their components) against the replay, streamed: the problems with
        lots, then those with components.

        A row whose fixed columns or components differ is compared item by item with its
        lot.record event, read again for it alone; so are the components of a lot whose row
        is missing or has no event, and component rows whose lot row is gone.
        """
        out = []
        want_components: dict[tuple[str | None, int], dict[str, Any]] = {}
        got_components: dict[tuple[str | None, int], dict[str, Any]] = {}

        def recorded(number: str) -> dict[str, Any]:
            payload = query.scalar(conn, "event_payload", seq=self.lots[number].recorded)
            event: dict[str, Any] = json.loads(payload)
            for comp in event["components"]:
                want_components[(number, comp["position"])] = comp
            return event

        def row_of(number: str) -> Any:
            row = query.rows(conn, "lot_by_number", number=number).first()
            for comp in _components_by_lot(conn, [row.id]).get(row.id, []):
                got_components[(number, comp["position"])] = comp
            return row

        for problem in self._diff("lot", self.lots, _lot_rows(conn)):
            number = problem.where.removeprefix("lot ")
            if problem.what.startswith("fixed is "):  # its columns or its components
                want = _compact_lot(recorded(number)["lot"])
                got = _compact_lot(lot_record(row_of(number)._mapping))
                want["status"] = got["status"]  # a status that differs is reported already
                out += self._diff("lot", {number: want}, {number: got})
            else:
                out.append(problem)
                if "its row is missing" in problem.what:
                    recorded(number)  # so are its components (or they are orphans below)
                elif problem.what.startswith("its row has no event"):
                    row_of(number)  # nor have its components
        for comp in _orphan_components(conn):
            got_components[(None, comp["position"])] = comp
        return out, self._diff("component", want_components, got_components)

    def _diff(self, what: str, expected: Mapping[Any, Mapping[str, Any] | _Lot],
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
            lot = self.lots.get(lot_key[4:]) if lot_key.startswith("lot ") else None
            seq = lot.last if lot is not None else self.last_event.get(lot_key)
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
