"""Plans, stored once each: content-addressed by the SHA-256 of their canonical JSON.

A recorded lot keeps its plan (~10 KB of JSON) for as long as the register
lives. Before schema version 7 the text sat in the lot's row and again in its
``lot.record`` event; now the ``plans`` table holds it once, zlib-compressed,
under its digest, and the lot row and the event name it by that digest. Many
lots made from one plan (a pharmacy's usual strengths) share one row.

Plans that differ (another strength, count or prescription) still share most of
their text: the findings, sources and field names. So a plan may be stored as
zlib with a *base* plan's JSON as its preset dictionary (~0.4 KB instead of
~3 KB): the base is the plan of the lot recorded just before (or that
plan's own base), and is always a plan stored whole, so reading one takes at most
one other row. Whichever of the two forms is smaller is kept.

The audit chain still hashes each event with its plan inline (exactly the text
hashed before version 7), so the chain, the anchors and the signatures of a
register written before the change still verify; :func:`compound.register.audit.
event_text` puts the plan back in place to hash it.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final

from compound.errors import IntegrityError

if TYPE_CHECKING:
    import sqlalchemy as sa

PLAN_BATCH: Final = 1000
"""Plan keys read per query (:func:`keys`)."""

LEVEL: Final = 9
"""zlib level: a plan is written once and read rarely (~9.5 KB of JSON -> ~3 KB)."""


def digest(text: str) -> str:
    """The key of a plan: the hex SHA-256 of its canonical JSON text (UTF-8)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def encode(text: str, base_text: str | None = None) -> bytes:
    """zlib of ``text``, with ``base_text`` (a base plan's JSON) as the preset dictionary."""
    if base_text is None:
        return zlib.compress(text.encode("utf-8"), LEVEL)
    packer = zlib.compressobj(LEVEL, zdict=base_text.encode("utf-8"))
    return packer.compress(text.encode("utf-8")) + packer.flush()


def decode(body: bytes, base_text: str | None = None) -> str:
    """The plan's text from its stored form (``zlib.error``/``UnicodeDecodeError`` if mangled).

    ``base_text``: its base plan's text, when it was stored against one."""
    if base_text is None:
        return zlib.decompress(bytes(body)).decode("utf-8")
    unpacker = zlib.decompressobj(zdict=base_text.encode("utf-8"))
    data = unpacker.decompress(bytes(body)) + unpacker.flush()
    if not unpacker.eof:
        raise zlib.error("the stored plan is cut short")
    return data.decode("utf-8")


def _base(conn: sa.Connection, near: str | None) -> tuple[str, str] | None:
    """The plan stored whole that ``near`` (a stored plan's key) is, or is stored against."""
    import sqlalchemy as sa

    from compound.register import schema

    p = schema.plans
    row = (conn.execute(sa.select(p.c.sha256, p.c.base_sha256, p.c.body)
                        .where(p.c.sha256 == near)).first() if near is not None else None)
    if row is not None and row.base_sha256 is not None:
        row = conn.execute(sa.select(p.c.sha256, p.c.base_sha256, p.c.body)
                           .where(p.c.sha256 == row.base_sha256)).first()
    if row is None or row.base_sha256 is not None:
        return None
    return row.sha256, decode(row.body)


def store(conn: sa.Connection, text: str, near: str | None = None) -> str:
    """Keep the plan whose canonical JSON is ``text`` (once) and return its digest.

    ``near``: the key of a stored plan likely to be like this one (the last lot's); the
    plan is stored against its base when that is smaller than on its own.
    Inside the caller's write transaction: writes are serialised (BEGIN IMMEDIATE, or
    the advisory lock on PostgreSQL), so looking first cannot race another writer.
    """
    import sqlalchemy as sa

    from compound.register import schema

    key = digest(text)
    p = schema.plans
    if conn.execute(sa.select(p.c.sha256).where(p.c.sha256 == key)).first() is not None:
        return key
    body, base_key = encode(text), None
    base = _base(conn, near)
    if base is not None:
        delta = encode(text, base[1])
        if len(delta) < len(body):
            body, base_key = delta, base[0]
    conn.execute(p.insert().values(sha256=key, body=body, base_sha256=base_key))
    return key


def text_query(key: str) -> sa.Select[Any]:
    """The stored plan ``key`` and its base's body (``base_body``), when it has one."""
    import sqlalchemy as sa

    from compound.register import schema

    p, b = schema.plans, schema.plans.alias("base")
    return (sa.select(p.c.body, p.c.base_sha256, b.c.body.label("base_body"))
            .select_from(p.outerjoin(b, b.c.sha256 == p.c.base_sha256))
            .where(p.c.sha256 == key))


def text_of(conn: sa.Connection, key: str) -> str:
    return text_of_row(key, conn.execute(text_query(key)).one())


def text_of_row(key: str, row: Any) -> str:
    """The plan's text from its row of :func:`text_query`."""
    try:
        return decode(row.body, None if row.base_sha256 is None else decode(row.base_body))
    except (zlib.error, UnicodeDecodeError, TypeError):  # TypeError: its base is missing
        raise IntegrityError(f"the stored plan {key[:16]} cannot be read: the register was "
                             "changed outside the tool.",
                             hint="Run compound audit verify; restore the register from a "
                                  "backup.") from None


def load(conn: sa.Connection, key: str) -> dict[str, Any]:
    """The plan stored under ``key``, as the dict it was recorded from."""
    value: dict[str, Any] = json.loads(text_of(conn, key))
    return value


def load_row(key: str, row: Any) -> dict[str, Any]:
    """:func:`load` from the plan's row of :func:`text_query`."""
    value: dict[str, Any] = json.loads(text_of_row(key, row))
    return value


def keys(conn: Any) -> Iterable[str]:
    """Every stored plan's key, in order, :data:`PLAN_BATCH` per query."""
    from compound.register import query

    last: str | None = None
    while True:
        found = [r[0] for r in (query.rows(conn, "plan_keys_first") if last is None else
                                query.rows(conn, "plan_keys_after", after_key=last))]
        yield from found
        if len(found) < PLAN_BATCH:
            return
        last = found[-1]
