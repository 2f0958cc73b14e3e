"""The chain head kept outside the database, so a cut tail or a rewritten chain is seen.

A hash chain alone cannot show that its *last* events were deleted, or that
someone re-computed every hash after an edit: what is left is still a valid
chain. So after each commit the register writes its head (sequence number and
hash) to an **anchor file**: beside an SQLite register (``register.sqlite3`` →
``register.sqlite3.anchor``), or for a PostgreSQL register in this station's
data folder (one file per database; each station anchors the events it saw).
``compound audit head`` prints the same line for the pharmacy's own log.

An anchor says "the chain contains event #N with this hash". Later events may
follow it (other stations, later work); ``audit verify`` fails when event #N
is missing (the tail was cut) or has another hash (events were rewritten).
The file only moves forward, and never past a chain that no longer holds the
event it names: the evidence stays until someone reviews it.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import unquote

from compound import paths
from compound.errors import InputError, RegisterError
from compound.register import query
from compound.register.replay import Problem

if TYPE_CHECKING:
    import sqlalchemy as sa

SUFFIX: Final = ".anchor"
_HEAD_TEXT: Final = re.compile(r"#?(?P<seq>\d+)\s*[:\s]\s*(?:sha256\s+)?(?P<hash>[0-9a-f]{64})\b")
_HASH_ONLY: Final = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class Head:
    """A point of the chain: event ``seq`` has ``hash`` (``seq`` None: anywhere in the chain)."""

    seq: int | None
    hash: str

    def __str__(self) -> str:
        return f"#{self.seq} {self.hash}" if self.seq is not None else self.hash

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "hash": self.hash}


def head(conn: Any) -> Head | None:
    """The last event's number and hash (None for an empty trail)."""
    row = query.rows(conn, "head").first()
    return Head(row.seq, row.hash) if row else None


def anchor_problems(conn: Any, anchor: Head) -> list[Problem]:
    where = f"anchor {anchor}"
    if anchor.seq is None:
        found = query.rows(conn, "event_by_hash", hash_=anchor.hash).first()
        if found is None:
            return [Problem(where, "no event has this hash: the events up to it were deleted or "
                                   "rewritten.")]
        return []
    found_hash = query.scalar(conn, "event_hash", seq=anchor.seq)
    if found_hash is None:
        last = query.scalar(conn, "last_seq") or 0
        return [Problem(where, f"the audit trail ends at event #{last}: the events after it, up "
                               f"to #{anchor.seq}, were deleted (the tail was cut).")]
    if found_hash != anchor.hash:
        return [Problem(where, f"event #{anchor.seq} has hash {found_hash[:16]}…, not the "
                               "anchor's: the events up to it were rewritten (re-chained).")]
    return []


def default_path(url: sa.URL) -> Path | None:
    """Where the anchor of the register at ``url`` is kept (None for an in-memory database)."""
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database.startswith("file:"):
            database = unquote(database[len("file:"):])
        if not database or database == ":memory:":
            return None
        return Path(database + SUFFIX)
    place = f"{url.host or 'local'}-{url.port or 5432}-{url.database or 'postgres'}"
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", place)
    return paths.station_data_dir() / "anchors" / f"{safe}{SUFFIX}"


def parse(text: str) -> Head | None:
    """A head from an anchor file's JSON, a line printed by ``audit head``, or a bare hash."""
    text = text.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
            return Head(int(data["seq"]), str(data["hash"]).lower())
        except (ValueError, KeyError, TypeError):
            return None
    found = _HEAD_TEXT.search(text.lower())
    if found:
        return Head(int(found["seq"]), found["hash"])
    if _HASH_ONLY.fullmatch(text.lower()):
        return Head(None, text.lower())
    return None


def read(path: Path) -> Head | None:
    """The head in an anchor file; None when the file does not exist."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InputError(f"cannot read the anchor file {str(path)[:80]}: {exc.strerror}.",
                         field="anchor") from None
    head = parse(text)
    if head is None or head.seq is None:
        raise InputError(f"the anchor file {str(path)[:80]} does not hold a chain head.",
                         hint="It holds the JSON written by compound, or a line printed by "
                              "compound audit head.", field="anchor")
    return head


def from_option(value: str) -> Head:
    """``verify --anchor``: an anchor file, a line from ``audit head``, or a bare hash."""
    path = Path(value).expanduser()
    if path.is_file():
        head = read(path)
        assert head is not None  # the file exists
        return head
    head = parse(value)
    if head is None:
        raise InputError(f"--anchor {value[:80]!r} is neither a file nor a chain head.",
                         hint="Give the anchor file, or what compound audit head printed: "
                              "'#SEQ HASH' or the 64-digit hash.", field="anchor")
    return head


def write(path: Path, head: Head, register: str, at_utc: str) -> None:
    """Replace the anchor file atomically (a new file renamed over the old one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"seq": head.seq, "hash": head.hash, "register": register,
                       "written_at_utc": at_utc}, sort_keys=True) + "\n"
    fd, temporary = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _current(path: Path) -> tuple[Head | None, bool]:
    """The anchor file's head, and whether the file may be replaced (absent or readable)."""
    try:
        return read(path), True
    except InputError:
        return None, False  # unreadable or not an anchor: keep it for verify to report


@contextmanager
def anchored_write(engine: sa.Engine, *, key: bytes | None, path: Path | None,
                   clock: Callable[[], str]) -> Iterator[sa.Connection]:
    """:func:`db.write`, its events signed with ``key``, then the new head written to ``path``.

    The anchor moves only forward and only while the chain still holds the
    event it names; a commit that fails leaves it as it was.
    """
    from compound.register import db

    advance: Head | None = None
    with db.write(engine, audit_key=key) as conn:
        yield conn
        new = head(conn)
        if path is not None and new is not None:
            old, replaceable = _current(path)
            if replaceable and (old is None or ((new.seq or 0) > (old.seq or 0)
                                and not anchor_problems(conn, old))):
                advance = new
    if advance is None or path is None:
        return
    try:
        write(path, advance, engine.url.render_as_string(hide_password=True), clock())
    except OSError as exc:
        raise RegisterError(
            f"the change was saved (audit event #{advance.seq}), but the anchor file "
            f"{str(path)[:80]} could not be written: {exc.strerror}.",
            hint="Make the register's folder writable; meanwhile note the head printed by "
                 "compound audit head in the pharmacy's log.") from None
