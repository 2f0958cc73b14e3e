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
triggers first; a missing trigger, or one whose SQL is not the tool's, is
reported as well. Two more checks reach outside the database:

3. **The anchor** (:mod:`compound.register.anchor`): the chain must still hold
   the head written outside the database, so a cut tail or a re-computed chain
   is seen.
4. **The signatures** (:mod:`compound.register.signing`): with the pharmacy's
   audit key, every event's HMAC must match, so an event appended with a
   correct hash by someone without the key is seen.

Events are read in order, a batch at a time, so the walk holds one batch of
events in memory, not the whole trail.

A ``lot.record`` event's plan is stored once in the ``plans`` table (schema
version 7): the stored payload names it by its SHA-256 where the plan was, but
the hash is of the event with the plan inline (:func:`event_text`), as before
version 7. So the chain, anchors and signatures written before the change still
verify, and a changed stored plan breaks its event's hash.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
import socket
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Final

from compound import paths
from compound.errors import IntegrityError
from compound.register import guards, plans, query, signing
from compound.register.anchor import Head, anchor_problems
from compound.register.anchor import read as read_anchor
from compound.register.replay import Problem, Replay

GENESIS: Final = "0" * 64
"""The ``prev_hash`` of the first event."""

BATCH: Final = 1000
"""Events read per query while verifying."""


_CANONICAL: Final = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                                     allow_nan=False)
# One encoder for every call: json.dumps with options builds a new one each time, which was
# a fifth of `audit verify`'s time at 100,000 lots.


def canonical_json(value: Any) -> str:
    """One text per value: sorted keys, no spaces, UTF-8 kept, no NaN (``json.dumps`` with
    those options, the same text)."""
    return _CANONICAL.encode(value)


def event_hash(prev_hash: str, body: dict[str, Any], plan_text: str | None = None) -> str:
    return hashlib.sha256((prev_hash + event_text(body, plan_text)).encode("utf-8")).hexdigest()


PLAN_PATH: Final = ("payload", "lot", "plan")
"""Where a lot.record event holds its plan (inline when hashed, by digest when stored)."""


def event_text(body: dict[str, Any], plan_text: str | None = None) -> str:
    """The canonical JSON of an event, with the plan whose canonical JSON is ``plan_text``
    in place of its digest at :data:`PLAN_PATH` (exactly ``canonical_json`` of the event with
    the plan inline, without parsing and re-writing ~10 KB of plan per event)."""
    if plan_text is None:
        return canonical_json(body)
    slotted = _with_slot(body, PLAN_PATH)
    if slotted is not None:
        # One encoding of the event with a stand-in where the plan goes, then the plan's text
        # put in its place: the stand-in holds a NUL and a token drawn afresh each run, so no
        # stored text can hold it; if it is not found exactly once, the piece-by-piece way.
        text = canonical_json(slotted)
        if text.count(_SLOT_JSON) == 1:
            return text.replace(_SLOT_JSON, plan_text)
    return _inlined(body, plan_text)


_SLOT: Final = "\x00plan-" + secrets.token_hex(16)
_SLOT_JSON: Final = canonical_json(_SLOT)


def _with_slot(value: Any, path: tuple[str, ...]) -> dict[str, Any] | None:
    """``value`` with the stand-in at ``path`` (copies along the path only), or None when the
    path is not there."""
    if not isinstance(value, dict) or path[0] not in value:
        return None
    if len(path) == 1:
        return {**value, path[0]: _SLOT}
    inner = _with_slot(value[path[0]], path[1:])
    return None if inner is None else {**value, path[0]: inner}


def _inlined(body: dict[str, Any], plan_text: str) -> str:
    def inline(value: dict[str, Any], path: tuple[str, ...]) -> str:
        if not path:
            return plan_text
        # json.dumps(sort_keys=True) orders an object's items by key, and writes a key as
        # it writes a string: the same text, piece by piece.
        return "{" + ",".join(
            canonical_json(k) + ":" + (inline(v, path[1:]) if k == path[0] else canonical_json(v))
            for k, v in sorted(value.items())) + "}"

    return inline(body, PLAN_PATH)


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


@cache
def _statements() -> tuple[Any, Any]:
    """The head query and the event insert (SQLAlchemy: imported by writers only)."""
    import sqlalchemy as sa

    from compound.register import schema

    return (sa.select(schema.events.c.seq, schema.events.c.hash)
            .order_by(schema.events.c.seq.desc()).limit(1), schema.events.insert())


def append(conn: Any, *, actor: str, action: str, subject: str | None,
           payload: dict[str, Any], clock: Callable[[], dt.datetime] = utc_now,
           plan_text: str | None = None) -> int:
    """Append one event inside the caller's write transaction; returns its number.

    ``plan_text``: the canonical JSON of the plan the payload names by digest at
    ``payload["lot"]["plan"]`` (stored by :func:`plans.store`); it is hashed inline.
    """
    head_query, insert_event = _statements()
    head = conn.execute(head_query).first()
    seq, prev = (head.seq + 1, head.hash) if head else (1, GENESIS)
    at = utc_text(clock())
    body = _body(seq, at, actor, station(), action, subject, payload)
    plan_key = None
    if plan_text is not None:
        plan_key = payload["lot"]["plan"]
        assert plan_key == plans.digest(plan_text), "the payload must name the plan by digest"
    digest = event_hash(prev, body, plan_text)
    from compound.register import db

    key = conn.get_execution_options().get(db.AUDIT_KEY_OPTION)
    conn.execute(insert_event, {
        "seq": seq, "at_utc": at, "actor": actor, "station": station(), "action": action,
        "subject": subject, "payload": canonical_json(payload), "prev_hash": prev,
        "hash": digest, "mac": signing.sign(key, digest) if key else None,
        "plan_sha256": plan_key,
    })
    return seq


@dataclass
class VerifyReport:
    events: int = 0
    head_seq: int | None = None
    head_hash: str | None = None
    signed: int = 0
    """Events whose HMAC matched the audit key (0 when no key was given)."""
    anchor: str | None = None
    """The head checked against, and where it came from."""
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What verification could not prove (no key, no anchor): not failures."""

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "events": self.events, "head_seq": self.head_seq,
                "head_hash": self.head_hash, "signed": self.signed, "anchor": self.anchor,
                "problems": [p.to_dict() for p in self.problems], "notes": self.notes}


def iter_events(conn: Any, batch: int = BATCH, *, with_plans: bool = True,
                ) -> Iterator[Any]:
    """Every event in order, ``batch`` (:data:`BATCH`) rows per query (keyset paging on
    ``seq``), each with the stored body of the plan it names (``plan_body``, None when it
    names none, the plan is missing, or not ``with_plans``: a register without the plans
    table), and its base's (``plan_base``, ``plan_base_body``) when it is stored against one."""
    last = None
    name = "events" if with_plans else "events_bare"
    while True:
        rows = (query.rows(conn, name + "_first") if last is None else
                query.rows(conn, name + "_after", after_seq=last)).all()
        yield from rows
        if len(rows) < batch:
            return
        last = rows[-1].seq


class _Signatures:
    """Checks each event's HMAC against the key, or counts what could not be checked."""

    def __init__(self, key: bytes | None) -> None:
        self.key = key
        self.signed = 0
        self.unsigned: list[int] = []  # events before the first signed one
        self.carried = 0  # events carrying a MAC (when no key was given)

    def check(self, row: Any) -> Problem | None:
        if self.key is None:
            self.carried += row.mac is not None
            return None
        where = f"event #{row.seq}"
        if row.mac is None:
            if self.signed:
                return Problem(where, "it is not signed, though events before it are (written "
                                      "outside the tool by someone without the audit key).")
            self.unsigned.append(row.seq)
            return None
        if not signing.signature_ok(self.key, row.hash, row.mac):
            return Problem(where, "its signature does not match the audit key (forged by someone "
                                  "without the key, or signed with another key).")
        self.signed += 1
        return None

    def notes(self, events: int) -> list[str]:
        if self.key is None:
            carried = (f" {self.carried} events carry a signature; give the key to check them."
                       if self.carried else "")
            return [f"No audit key was given, so signatures were not checked: anyone able to "
                    f"write to the database could append an event with a correct hash.{carried} "
                    f"Set {signing.KEY_ENV} or {signing.KEY_FILE_ENV}."]
        if self.unsigned and events:
            first, last = self.unsigned[0], self.unsigned[-1]
            span = f"#{first}" if first == last else f"#{first}–#{last}"
            return [f"Events {span} are not signed (written before the audit key was set)."]
        return []


def _walk_chain(rows: Iterator[Any], report: VerifyReport,
                signatures: _Signatures) -> Iterator[tuple[int, str, Any]]:
    """Check numbering, links, hashes and signatures; yield (seq, action, payload) to replay."""
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
        plan_text = None
        if payload is not None and row.plan_sha256 is not None:
            plan_text, problem = _stored_plan(row, payload)
            if problem is not None:
                report.problems.append(problem)
        if payload is not None:
            body = _body(row.seq, row.at_utc, row.actor, row.station, row.action, row.subject,
                         payload)
            if canonical_json(payload) != row.payload or \
                    event_hash(row.prev_hash, body, plan_text) != row.hash:
                what = f"{row.action} {row.subject}" if row.subject else row.action
                report.problems.append(Problem(
                    where, f"its content does not match its hash ({what} was written or edited "
                           "outside the tool)."))
        unsigned = signatures.check(row)
        if unsigned is not None:
            report.problems.append(unsigned)
        if payload is not None:
            yield row.seq, row.action, payload
        prev_seq, prev_hash = row.seq, row.hash
        report.events += 1
        report.head_seq, report.head_hash = row.seq, row.hash


@lru_cache(maxsize=16)
def _base_text(key: str, body: bytes) -> str:
    """A base plan's text (many plans are stored against one: it is decoded once)."""
    return plans.decode(body)


def _stored_plan(row: Any, payload: Any) -> tuple[str | None, Problem | None]:
    """The text of the plan a lot.record event names, if it is the plan it names; else the
    problem. (The event's hash is then checked without the plan, so it fails as well.)"""
    key = str(row.plan_sha256)
    what = f"{row.action} {row.subject}" if row.subject else row.action
    try:
        named = payload["lot"]["plan"] if row.action == "lot.record" else None
    except (KeyError, TypeError):
        named = None
    if named != key:
        return None, Problem(f"event #{row.seq}", f"it names plan {key[:16]} beside its payload "
                                                  f"but not in it ({what}; written outside the "
                                                  "tool).")
    where = f"plan {key[:16]}"
    if row.plan_body is None:
        return None, Problem(where, f"it is missing from the plans table, but event #{row.seq} "
                                    f"({what}) records it (deleted outside the tool).")
    try:
        base = None if row.plan_base is None else _base_text(row.plan_base, row.plan_base_body)
        text = plans.decode(row.plan_body, base)
    except (zlib.error, UnicodeDecodeError, ValueError, TypeError):  # TypeError: no base
        text = None
    if text is None or plans.digest(text) != key:
        return None, Problem(where, f"the stored plan is not the one event #{row.seq} ({what}) "
                                    "records: it does not match its SHA-256 (changed outside "
                                    "the tool).")
    return text, None


def _normal_sql(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _triggers(conn: Any, report: VerifyReport) -> dict[str, str] | None:
    """Every trigger's full definition by name, as the tool would write it."""
    dialect = query.dialect(conn)
    if dialect == "sqlite":
        check = [r[0] for r in query.driver_sql(conn, "PRAGMA quick_check")]
        if check != ["ok"]:
            report.problems.append(Problem("database file", "; ".join(map(str, check[:5]))))
        return {name: _normal_sql(sql) for name, sql in query.driver_sql(
            conn, "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")}
    if dialect == "postgresql":
        found = {}
        for name, definition, enabled, function, body, language in query.driver_sql(conn,
                "SELECT t.tgname, pg_get_triggerdef(t.oid), t.tgenabled, p.proname, p.prosrc, "
                "l.lanname FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
                "JOIN pg_language l ON l.oid = p.prolang JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace"):
            # The trigger, unqualified; the function it runs, by its body; and whether it fires.
            text = re.sub(r"\b(ON|FUNCTION) \w+\.", r"\1 ", _normal_sql(definition))
            if function != guards.PG_GUARD_FUNCTION or language != "plpgsql" or \
                    _normal_sql(body) != _normal_sql(guards.PG_GUARD_BODY):
                text += f" -- it runs {function}(): {_normal_sql(body)[:60]!r}"
            if enabled != "O":
                text += " -- it is disabled"
            found[name] = text
        return found
    return None  # pragma: no cover - database_url() admits only these two


def _check_guards(conn: Any, report: VerifyReport) -> None:
    present = _triggers(conn, report)
    if present is None:  # pragma: no cover
        return
    ddl = guards.guard_ddl(query.dialect(conn))
    # A table that is not there has no guards to check (only plans may be: a register from
    # before schema version 7; any other missing table fails the read of it first).
    tables = set(query.table_names(conn))
    expected = {name: _normal_sql(sql.replace(" IF NOT EXISTS", ""))
                for (name, table, _), sql in zip(guards.GUARDS, ddl[-len(guards.GUARDS):],
                                                 strict=True) if table in tables}
    for name in sorted(expected.keys() - present.keys()):
        report.problems.append(Problem(
            f"trigger {name}", "the append-only guard is missing (dropped outside the tool)."))
    for name in sorted(expected.keys() & present.keys()):
        if present[name] != expected[name]:
            definition, _, changes = present[name].partition(" -- ")
            detail = (changes.replace(" -- ", "; ") if definition == expected[name]
                      else f"it reads {definition[:120]!r}")
            report.problems.append(Problem(
                f"trigger {name}", f"the append-only guard was replaced outside the tool: "
                                   f"{detail}."))
    for name in sorted(present.keys() - expected.keys()):
        report.problems.append(Problem(
            f"trigger {name}", "a trigger the tool never creates (added outside the tool)."))


def verify(conn: Any, *, key: bytes | None = None,
           anchor: Head | None = None, anchor_origin: str | None = None) -> VerifyReport:
    """Re-walk the chain, replay it against the rows, check the anchor, signatures and guards."""
    report = VerifyReport()
    signatures = _Signatures(key)
    # Only a register made before schema version 7 lacks it (or one someone tampered with).
    with_plans = "plans" in query.table_names(conn)
    replay = Replay()
    for seq, action, payload in _walk_chain(iter_events(conn, BATCH, with_plans=with_plans),
                                            report, signatures):
        report.problems.extend(replay.apply(seq, action, payload))
    report.problems.extend(replay.compare(conn, with_plans=with_plans))
    if anchor is not None:
        report.anchor = f"{anchor} ({anchor_origin})" if anchor_origin else str(anchor)
        report.problems.extend(anchor_problems(conn, anchor))
    report.signed = signatures.signed
    report.notes.extend(signatures.notes(report.events))
    _check_guards(conn, report)
    return report


def anchor_to_check(anchor_path: Path | None, against: Head | None,
                    origin: str | None) -> tuple[Head | None, str | None, Path | None]:
    """What ``verify`` checks the chain against: ``against``, else the register's anchor file;
    and that file's path when it is missing (for :func:`note_missing_anchor`)."""
    if against is None and anchor_path is not None:
        found = read_anchor(anchor_path)
        return found, f"anchor file {anchor_path}", anchor_path if found is None else None
    return against, origin, None


def note_missing_anchor(report: VerifyReport, missing: Path | None, *, sqlite: bool) -> None:
    if missing is None or not report.events:
        return
    text = (f"there is no anchor file {missing}: a cut tail or a re-computed "
            "chain cannot be detected without one. Give --anchor with a head from the "
            "pharmacy's log (compound audit head).")
    if sqlite:
        # Every write of this register leaves one beside it: gone means deleted.
        report.problems.append(Problem("anchor", text))
    else:
        report.notes.append(f"This station has {text}")


def unreadable(reason: str) -> IntegrityError:
    return IntegrityError(
        f"the register's tables cannot be read for verification: {reason}.",
        hint="The database was altered outside the tool; restore it from a backup.")
