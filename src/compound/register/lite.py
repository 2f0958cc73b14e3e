"""The register read with the standard library's ``sqlite3``: no SQLAlchemy import.

``lots list`` (and ``--json``, ``--status``, ``--expiring``, ``--ingredients``),
``lots show``, ``audit verify`` (and ``audit head``, ``audit log``) on an SQLite register
start ~0.3 s sooner this way (issue 13: SQLAlchemy's import was most of their start-up).
The SQL is the register's own, compiled from its SQLAlchemy statements
(:mod:`compound.register.statements_sqlite`); the results are built by the same functions
(:mod:`compound.register.rows`, and ``audit.verify`` itself through
:mod:`compound.register.query`), so both ways print the same bytes.

Only a register this reader can take as it is opens here: a file (named by its path or a
plain ``sqlite:///`` URL) at the schema version it reads. Anything else (a PostgreSQL URL,
an ``sqlite://`` URL with options, a missing file, an older or newer schema, a file
that is no register or cannot be opened) is left to :class:`compound.register.Register`,
which refuses, or explains, exactly as before: :func:`open_reader` returns None for it.
Opening creates and changes nothing: the file is opened ``mode=ro`` (or ``immutable=1``)
with ``query_only`` on, as a read-only :class:`Register` opens it.
"""

from __future__ import annotations

import collections
import datetime as dt
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote, unquote

from compound import paths
from compound.errors import InputError, RegisterError
from compound.register import anchor, audit, location, plans, rows, validate, views
from compound.register.anchor import Head
from compound.register.statements_sqlite import LATEST, STATEMENTS

LIST_BATCH: Final = 1000
"""Rows a page, as :data:`compound.register.reading.LIST_BATCH` (the compiled LIMIT holds it)."""

_POSTCOMPILE: Final = re.compile(r"__\[POSTCOMPILE_(\w+)\]")


class _Result:
    def __init__(self, cursor: sqlite3.Cursor, row: Any, kinds: tuple[str, ...]) -> None:
        self._cursor, self._row = cursor, row
        self._convert = [(i, k) for i, k in enumerate(kinds) if k]

    def _make(self, raw: tuple[Any, ...]) -> Any:
        if self._convert:
            values = list(raw)
            for i, kind in self._convert:
                if values[i] is not None:
                    values[i] = (dt.date.fromisoformat(values[i]) if kind == "date"
                                 else bool(values[i]))
            raw = tuple(values)
        return self._row._make(raw)

    def __iter__(self) -> Iterator[Any]:
        return (self._make(r) for r in self._cursor)

    def all(self) -> list[Any]:
        return [self._make(r) for r in self._cursor.fetchall()]

    def first(self) -> Any:
        raw = self._cursor.fetchone()
        return None if raw is None else self._make(raw)


@cache
def _row_type(name: str) -> Any:
    """A row of statement ``name``: a tuple with its columns as attributes, and ``_mapping``
    (column -> value) as SQLAlchemy's rows have."""
    base = collections.namedtuple("Row", STATEMENTS[name][2], rename=True)  # type: ignore[misc]
    return type("Row", (base,), {"__slots__": (), "_mapping": property(base._asdict)})


def _stored(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


class Connection:
    """One read transaction on the register's file, running its statements by name."""

    lite = True
    """(compound.register.query tells the two readers' connections apart by it.)"""

    def __init__(self, raw: sqlite3.Connection) -> None:
        self.raw = raw

    def run(self, name: str, **arguments: Any) -> _Result:
        sql, params, _, kinds = STATEMENTS[name]
        values: dict[str, Any] = {}
        for param, role, constant in params:
            value = arguments[role] if role else constant
            if isinstance(value, list):  # an IN list: one parameter per item
                names = [f"{param}_{i}" for i in range(1, len(value) + 1)]
                sql = sql.replace(f"__[POSTCOMPILE_{param}]", ", ".join(f":{n}" for n in names))
                values.update(zip(names, map(_stored, value), strict=True))
            else:
                values[param] = _stored(value)
        assert not _POSTCOMPILE.search(sql), sql
        return _Result(self.raw.execute(sql, values), _row_type(name), kinds)


def _unusable(exc: sqlite3.Error, path: Path) -> RegisterError:
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return location.unusable(reason, str(path))


class Reader:
    """The read-only part of :class:`compound.register.Register` on an SQLite file."""

    def __init__(self, raw: sqlite3.Connection, path: Path, location: str | None = None) -> None:
        self._raw = raw
        self.path = path
        """The file (for messages and its anchor file, spelt as Register spells them)."""
        self.location = location or f"sqlite:///{path}"
        self.read_only = True

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """One read transaction: a consistent snapshot, as ``db.read``."""
        try:
            self._raw.execute("BEGIN")
            try:
                yield Connection(self._raw)
            finally:
                self._raw.execute("ROLLBACK")
        except sqlite3.DatabaseError as exc:
            raise _unusable(exc, self.path) from None

    # -- as Register's own methods of the same names ----------------------------------------

    def _lot_row(self, conn: Connection, lot_no: str) -> Any:
        row = conn.run("lot", number=lot_no).first()
        if row is not None:
            return row
        ingredient = conn.run("ingredient_id", number=lot_no).first() is not None
        raise rows.not_a_lot(lot_no, ingredient_lot=ingredient)

    def get(self, lot: str, *, today: dt.date | None = None) -> views.Lot:
        lot_no = validate.lot_number_text(lot)
        with self._read() as conn:
            row = self._lot_row(conn, lot_no)
            totals = conn.run("dispensed_totals_of", lot_ids=[row.id]).all()
            return rows.lot(
                row, today or paths.today(),
                dispensed={i: float(t) for i, t in totals}.get(row.id, 0.0),
                plan=plans.load_row(row.plan_sha256,
                                    _one(conn.run("plan", key=row.plan_sha256).all())),
                components=[rows.component(r) for r in conn.run("components_of", lot_id=row.id)],
                history=[rows.event(r) for r in conn.run("history_of", subject=row.lot_number)],
                dispensings=[rows.dispensing(r)
                             for r in conn.run("dispensings_of", lot_id=row.id)])

    def get_ingredient(self, lot: str, *, today: dt.date | None = None) -> views.IngredientLot:
        lot_no = validate.lot_number_text(lot)
        with self._read() as conn:
            row = conn.run("ingredient", number=lot_no).first()
            if row is None:
                raise rows.unknown_ingredient(lot_no)
            return rows.ingredient(row, today or paths.today())

    def list_ingredients(self, *, today: dt.date | None = None) -> list[views.IngredientLot]:
        with self._read() as conn:
            return [rows.ingredient(r, today or paths.today()) for r in conn.run("ingredients")]

    def iter_lots(self, status: str | None = None, expiring_within_days: int | None = None, *,
                  today: dt.date | None = None) -> Iterator[views.Lot]:
        days = _filters(status, expiring_within_days)
        return self._iter_lots(status, days, today or paths.today())

    def _iter_lots(self, status: str | None, days: int | None,
                   today: dt.date) -> Iterator[views.Lot]:
        with self._read() as conn:
            for page in _pages(conn, "lots", today, status, days):
                totals = {i: float(t) for i, t in
                          conn.run("dispensed_totals_of", lot_ids=[r.id for r in page]).all()}
                for r in page:
                    yield rows.lot(r, today, dispensed=totals.get(r.id, 0.0))

    def iter_lots_json(self, status: str | None = None,
                       expiring_within_days: int | None = None, *,
                       today: dt.date | None = None) -> Iterator[str]:
        days = _filters(status, expiring_within_days)
        return self._iter_lots_json(status, days, today or paths.today())

    def _iter_lots_json(self, status: str | None, days: int | None,
                        today: dt.date) -> Iterator[str]:
        with self._read() as conn:
            totals = {i: float(t) for i, t in conn.run("dispensed_totals").all()}
            yield from rows.lots_json(_pages(conn, "json", today, status, days), totals, today)

    def head(self) -> Head | None:
        """The audit chain's last event (number and hash)."""
        with self._read() as conn:
            return anchor.head(conn)

    def events(self, lot: str | None = None) -> list[views.Event]:
        with self._read() as conn:
            found = (conn.run("history") if lot is None
                     else conn.run("history_of", subject=lot))
            return [rows.event(r) for r in found]

    def verify(self, *, key: bytes | None = None, against: Head | None = None,
               origin: str | None = None) -> audit.VerifyReport:
        """As :meth:`compound.register.Register.verify`: the chain, the replay against the
        rows, the signatures (with ``key``), the guards and the anchor."""
        anchor_path = Path(f"{self.path}{anchor.SUFFIX}")  # as anchor.default_path
        against, origin, missing = audit.anchor_to_check(anchor_path, against, origin)
        with self._read() as conn:
            try:
                report = audit.verify(conn, key=key, anchor=against, anchor_origin=origin)
            except sqlite3.DatabaseError as exc:
                raise audit.unreadable(str(exc)) from None
        audit.note_missing_anchor(report, missing, sqlite=True)
        return report


def _one(found: list[Any]) -> Any:
    if len(found) != 1:  # as SQLAlchemy's Result.one()
        raise RegisterError("the register changed while it was read.", hint="Try again.")
    return found[0]


def _filters(status: str | None, expiring_within_days: Any) -> int | None:
    if status is not None and status not in views.STATUSES:
        raise InputError(f"status: {status!r} is not a lot status.",
                         hint=f"Use one of {', '.join(views.STATUSES)}.", field="status")
    return validate.days(expiring_within_days, "expiring")


def _pages(conn: Connection, columns: str, today: dt.date, status: str | None,
           days: int | None) -> Iterator[list[Any]]:
    """As ``reading.in_batches``: keyset pages of :data:`LIST_BATCH` lots in BUD order."""
    kind = ("all" if status is None else "expired" if status == "expired"
            else "on_hand" if status in views.ON_HAND else "other")
    name = f"{columns}:{kind}:{'any' if days is None else 'expiring'}"
    arguments: dict[str, Any] = {
        "today": today, "status": status,
        "horizon": None if days is None else today + dt.timedelta(days=days)}
    found = conn.run(name + ":first", **arguments).all()
    while True:
        if found:
            yield found
        if len(found) < LIST_BATCH:
            return
        last = found[-1]
        found = conn.run(name + ":after", **arguments, after_bud=last.beyond_use_date,
                         after_number=last.lot_number).all()


def open_reader(target: str | None = None) -> Reader | None:
    """The register at ``target`` (default ``COMPOUND_DB``) for reading, or None where
    :class:`compound.register.Register` must open it (see the module's docstring).

    A path that names no register is refused as a read-only Register refuses it."""
    url = location.database_url(target, read_only=True)
    prefix, suffix = "sqlite:///file:", "&uri=true"
    raw = None
    try:
        if url.startswith(prefix) and url.endswith(suffix):
            uri = url[len("sqlite:///"):-len(suffix)]
            named, where = Path(unquote(uri[len("file:"):uri.rindex("?")])), None
        elif url.startswith("sqlite:///") and "?" not in url and Path(url[10:]).is_file():
            # A register named by its sqlite:/// URL: opened read-only as its path would be.
            named, where = Path(url[10:]), url
            file = named.resolve()
            uri = f"file:{quote(str(file))}?{location.read_only_mode(file)}"
        else:
            return None
        raw = sqlite3.connect(uri, uri=True, timeout=location.BUSY_TIMEOUT_MS / 1000,
                              isolation_level=None, check_same_thread=False)
        raw.execute(f"PRAGMA busy_timeout = {location.BUSY_TIMEOUT_MS}")
        raw.execute("PRAGMA query_only = ON")
        reader = Reader(raw, named, where)
        with reader._read() as conn:
            version = conn.run("schema_version").first()[0]
    except (sqlite3.Error, RegisterError, OSError):
        if raw is not None:
            raw.close()
        return None
    if version != LATEST:
        raw.close()
        return None
    return reader


