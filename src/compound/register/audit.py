"""The audit trail: append-only, hash-chained events, written with each change.

Each event's hash is ``sha256(prev_hash ‖ canonical JSON of the event)``, where
the event is its sequence number, UTC time, actor, station, action, subject and
payload. The payload of every event carries the full new state it creates
(a lot row, its components, a status move), so :func:`verify` can do two
independent checks:

1. **The chain**: numbers are consecutive from 1, each event names its
   predecessor's hash, and each hash matches the event's content. An edited,
   deleted or inserted event breaks it.
2. **The replay**: applying the events in order rebuilds every row of the
   register; any row that differs, is missing, or has no event was changed
   outside the tool. This also catches the deletion of the *last* event, which
   a chain alone cannot see, since its change is still in the rows.

Both checks read the data only, so they hold even when someone dropped the
triggers first; a missing trigger is reported as well.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Final

import sqlalchemy as sa

from compound import paths
from compound.register import schema
from compound.register.replay import Problem, Replay

GENESIS: Final = "0" * 64
"""The ``prev_hash`` of the first event."""


def canonical_json(value: Any) -> str:
    """One text per value: sorted keys, no spaces, UTF-8 kept, no NaN."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def event_hash(prev_hash: str, body: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical_json(body)).encode("utf-8")).hexdigest()


def _body(seq: int, at_utc: str, actor: str, station: str, action: str, subject: str | None,
          payload: Any) -> dict[str, Any]:
    return {"seq": seq, "at_utc": at_utc, "actor": actor, "station": station, "action": action,
            "subject": subject, "payload": payload}


@cache
def station() -> str:
    """Which computer wrote the event (several stations may share a PostgreSQL register)."""
    return socket.gethostname() or "unknown"


def utc_now() -> dt.datetime:
    """The real time (compound.paths.system_now): no environment variable moves it."""
    return paths.system_now()


def utc_text(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def append(conn: sa.Connection, *, actor: str, action: str, subject: str | None,
           payload: dict[str, Any], clock: Callable[[], dt.datetime] = utc_now) -> int:
    """Append one event inside the caller's write transaction; returns its number."""
    head = conn.execute(
        sa.select(schema.events.c.seq, schema.events.c.hash)
        .order_by(schema.events.c.seq.desc()).limit(1)
    ).first()
    seq, prev = (head.seq + 1, head.hash) if head else (1, GENESIS)
    at = utc_text(clock())
    body = _body(seq, at, actor, station(), action, subject, payload)
    conn.execute(schema.events.insert().values(
        seq=seq, at_utc=at, actor=actor, station=station(), action=action, subject=subject,
        payload=canonical_json(payload), prev_hash=prev, hash=event_hash(prev, body),
    ))
    return seq


@dataclass
class VerifyReport:
    events: int = 0
    head_seq: int | None = None
    head_hash: str | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "events": self.events, "head_seq": self.head_seq,
                "head_hash": self.head_hash, "problems": [p.to_dict() for p in self.problems]}


def _walk_chain(rows: list[Any], report: VerifyReport) -> list[tuple[int, str, Any]]:
    """Check numbering, links and hashes; return (seq, action, payload) of readable events."""
    readable = []
    prev_seq, prev_hash = 0, GENESIS
    for row in rows:
        where = f"event #{row.seq}"
        if row.seq != prev_seq + 1:
            missing = (f"#{prev_seq + 1}" if row.seq == prev_seq + 2
                       else f"#{prev_seq + 1}–#{row.seq - 1}")
            report.problems.append(Problem(where, f"event {missing} is missing (deleted)."))
        if row.prev_hash != prev_hash:
            report.problems.append(Problem(
                where, "it does not link to the event before it (an event was deleted, replaced "
                       "or inserted here)."))
        try:
            payload = json.loads(row.payload)
        except ValueError:
            report.problems.append(Problem(where, "its payload is not valid JSON (edited)."))
            payload = None
        if payload is not None:
            body = _body(row.seq, row.at_utc, row.actor, row.station, row.action, row.subject,
                         payload)
            if canonical_json(payload) != row.payload or event_hash(row.prev_hash, body) != row.hash:
                what = f"{row.action} {row.subject}" if row.subject else row.action
                report.problems.append(Problem(
                    where, f"its content does not match its hash ({what} was written or edited "
                           "outside the tool)."))
            readable.append((row.seq, row.action, payload))
        prev_seq, prev_hash = row.seq, row.hash
    if rows:
        report.head_seq, report.head_hash = rows[-1].seq, rows[-1].hash
    report.events = len(rows)
    return readable


def _check_guards(conn: sa.Connection, report: VerifyReport) -> None:
    dialect = conn.dialect.name
    if dialect == "sqlite":
        present = set(conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'").scalars())
        check = conn.exec_driver_sql("PRAGMA quick_check").scalars().all()
        if check != ["ok"]:
            report.problems.append(Problem("database file", "; ".join(map(str, check[:5]))))
    elif dialect == "postgresql":
        present = set(conn.exec_driver_sql(
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal").scalars())
    else:  # pragma: no cover - database_url() admits only these two
        return
    for name in sorted(schema.GUARD_NAMES - present):
        report.problems.append(Problem(
            f"trigger {name}", "the append-only guard is missing (dropped outside the tool)."))


def verify(conn: sa.Connection) -> VerifyReport:
    """Re-walk the chain and replay it against the rows; list every problem found."""
    report = VerifyReport()
    rows = conn.execute(sa.select(schema.events).order_by(schema.events.c.seq)).all()
    readable = _walk_chain(rows, report)
    replay = Replay()
    for seq, action, payload in readable:
        report.problems.extend(replay.apply(seq, action, payload))
    report.problems.extend(replay.compare(conn))
    _check_guards(conn, report)
    return report
