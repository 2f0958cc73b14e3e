"""The register's operations: receive, record, move through statuses, read back.

Every write is one transaction holding the change and its audit event, so a
refused or failed operation changes nothing. Checks that need the database
(does the lot exist, is it expired) run inside that transaction, under the
write lock, so two stations can never both release the last of something or
take the same lot number.

Status moves (a lot past its BUD shows as *expired* whatever was recorded)::

    quarantine ──release──▶ released ──dispense──▶ dispensed
        │                      │                      │
        ├──recall / destroy────┴──recall / destroy    └──recall──▶ recalled ──destroy──▶ destroyed
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import IO, Any, Final, NamedTuple

import sqlalchemy as sa

from compound import paths
from compound.errors import (
    CompoundError,
    DateInputError,
    InputError,
    RegisterError,
)
from compound.register import (
    anchor,
    audit,
    db,
    entry,
    export,
    items,
    listing,
    migrations,
    plans,
    prescriptions,
    reading,
    receipt,
    rows,
    schema,
    signing,
    summaries,
    validate,
    views,
)
from compound.register.replay import component_record, ingredient_record, lot_record

LOT_PREFIX: Final = "LDN"
"""Generated lot numbers read ``LDN-YYYYMMDD-NNNN`` (compounding date, counter for that day)."""

# action -> (new status, statuses it may leave)
MOVES: Final = {
    "release": ("released", ("quarantine",)),
    "dispense": ("dispensed", ("released",)),
    "recall": ("recalled", ("quarantine", "released", "dispensed")),
    "destroy": ("destroyed", ("quarantine", "released", "recalled")),
}

RECORD_BATCH: Final = 500
"""Lots per transaction in :meth:`Register.record_lots`."""


class _NewLot(NamedTuple):
    """A lot that passed the checks needing no database, ready for :meth:`Register._insert_lot`."""

    values: dict[str, Any]
    plan_text: str
    """The plan's canonical JSON (stored once in ``plans``; the row names it by digest)."""
    used: list[tuple[str, float, str]]
    when: entry.EntryDate


def _in_bulk(exc: CompoundError, index: int, recorded: list[str]) -> CompoundError:
    """``exc`` as :meth:`Register.record_lots` raises it: naming the entry, and what was kept."""
    kept = (f"The {len(recorded)} lots of the batches before it are recorded "
            f"({recorded[0]} … {recorded[-1]}); nothing of its batch is." if recorded
            else "Nothing was recorded.")
    exc.message = f"entries[{index}]: {exc.message}"
    exc.hint = f"{exc.hint} {kept}" if exc.hint else kept
    exc.args = (exc.message,)
    return exc


_lot_number_text: Final = validate.lot_number_text


def _same_number(table: sa.Table, number_: str) -> sa.ColumnElement[bool]:
    """Lot numbers are one number whatever their case (``ntx2403`` is ``NTX2403``)."""
    return sa.func.lower(table.c.lot_number) == number_.lower()


# Statements of the path every recorded lot takes, built once with bound parameters
# (building them for each lot costs more than running them).
_INGREDIENT_BY_NUMBER: Final = sa.select(schema.ingredient_lots).where(
    schema.ingredient_lots.c.lot_number == sa.bindparam("number"))
_LOT_BY_NUMBER: Final = sa.select(schema.lots).where(
    schema.lots.c.lot_number == sa.bindparam("number"))
_BUMP_COUNTER: Final = schema.counters.update().where(
    schema.counters.c.name == sa.bindparam("counter")).values(value=schema.counters.c.value + 1)
_COUNTER: Final = sa.select(schema.counters.c.value).where(
    schema.counters.c.name == sa.bindparam("counter"))
_INSERT_COUNTER: Final = schema.counters.insert()
_INSERT_LOT: Final = schema.lots.insert()
_INSERT_COMPONENT: Final = schema.components.insert()
_LAST_PLAN: Final = sa.select(schema.lots.c.plan_sha256).order_by(
    schema.lots.c.id.desc()).limit(1)
_INGREDIENT_NUMBER_TAKEN: Final = sa.select(schema.ingredient_lots.c.id).where(
    sa.func.lower(schema.ingredient_lots.c.lot_number) == sa.bindparam("lower_number"))


class Register:
    """The compounded-lot register. ``Register.open()`` creates it on first use."""

    def __init__(self, engine: sa.Engine, *, clock: Callable[[], dt.datetime] = audit.utc_now,
                 lot_prefix: str = LOT_PREFIX, audit_key: bytes | None = None,
                 read_only: bool = False) -> None:
        self.engine = engine
        self.clock = clock
        self.lot_prefix = lot_prefix
        self.audit_key = audit_key
        self.read_only = read_only
        self.anchor_path = anchor.default_path(engine.url)

    @classmethod
    def open(cls, target: str | Path | None = None, *,
             clock: Callable[[], dt.datetime] = audit.utc_now,
             lot_prefix: str = LOT_PREFIX, create: bool = False, audit_key: bytes | None = None,
             read_only: bool = False) -> Register:
        """Open (and create or migrate) the register at a path or SQLAlchemy URL.

        ``None`` means ``COMPOUND_DB`` or the user data directory. A named path whose
        folder does not exist is refused unless ``create`` (``compound lots init``).
        ``audit_key`` (default: ``COMPOUND_AUDIT_KEY`` / ``COMPOUND_AUDIT_KEY_FILE``)
        signs every event written. ``read_only`` opens an existing register for
        reading only (a file the user can only read, an auditor's copy): nothing is
        created, migrated or written.
        """
        key = audit_key if audit_key is not None else signing.key_from_environment()
        engine = db.create_engine(db.database_url(target, create=create, read_only=read_only),
                                  read_only=read_only)
        register = cls(engine, clock=clock, lot_prefix=lot_prefix, audit_key=key,
                       read_only=read_only)
        try:
            if read_only:
                migrations.check_current(engine)
            else:
                migrations.migrate(engine, clock, writer=register._write)
        except BaseException:
            engine.dispose()
            raise
        return register

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Register:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self) -> AbstractContextManager[sa.Connection]:
        """A write transaction whose events are signed and whose new head is anchored."""
        return anchor.anchored_write(self.engine, key=self.audit_key, path=self.anchor_path,
                                     clock=lambda: audit.utc_text(self.clock()))

    @property
    def location(self) -> str:
        """Where the register is, without any password (a read-only file as its plain path)."""
        url = self.engine.url
        if self.anchor_path is not None and (url.database or "").startswith("file:"):
            return "sqlite:///" + str(self.anchor_path)[:-len(anchor.SUFFIX)]
        return url.render_as_string(hide_password=True)

    # -- receiving ------------------------------------------------------------------------------

    def receive_ingredient(
        self, *, item: str, lot_number: str, expiry: dt.date | str, received_by: str,
        received: dt.date | str | None = None, supplier: str | None = None,
        reference: str | None = None, assay: Any = None, water: Any = None,
        tablet_weight: Any = None, pack_stats: Mapping[str, Any] | None = None,
        as_of: dt.date | str | None = None, reason: str | None = None,
    ) -> str:
        """Record a received lot of a product, excipient or vehicle; returns its lot number.

        ``assay`` and ``water`` (CoA, e.g. ``"99.2%"``) apply to API powders,
        ``tablet_weight`` (measured average, e.g. ``"200mg"``) to tablets and
        ``pack_stats`` (capsule size -> fill weight, e.g. ``{"3": "135mg"}``) to
        fillers. ``expiry`` may be ``YYYY-MM`` (the last day of that month).
        The receipt is dated today by the real clock, or ``as_of`` with a ``reason``.
        """
        when = entry.entry_date(as_of, reason)
        today = when.day
        by = validate.initials(received_by, "received_by")
        number_ = _lot_number_text(lot_number)
        found = items.resolve_item(item)
        expiry_date, from_month = validate.expiry(expiry)
        received_on = validate.not_in_future(
            validate.date(received, "received") if received is not None else today, today,
            "received")
        if expiry_date < received_on:
            raise RegisterError(
                f"ingredient lot {number_} expired on {expiry_date.isoformat()}, before it was "
                f"received ({received_on.isoformat()}).",
                hint="Do not receive expired stock; check the expiry printed on the container.")
        values: dict[str, Any] = {
            "lot_number": number_, "item_key": found.key, "item_kind": found.kind,
            "item_name": found.name, "expiry": expiry_date, "expiry_from_month": from_month,
            "supplier": validate.text(supplier, "supplier", required=False, max_len=100),
            "reference": validate.text(reference, "reference", required=False, max_len=200),
            "received": received_on, "received_by": by,
            **self._lot_measurements(found, assay, water, tablet_weight, pack_stats),
        }
        with self._write() as conn:
            self._ensure_lot_number_free(conn, number_)
            values["recorded_at"] = audit.utc_text(self.clock())
            conn.execute(schema.ingredient_lots.insert().values(**values))
            audit.append(conn, actor=by, action="ingredient.receive", subject=number_,
                         payload={"ingredient_lot": ingredient_record(values), **when.payload()},
                         clock=self.clock)
        return number_

    @staticmethod
    def _lot_measurements(found: items.Item, assay: Any, water: Any, tablet_weight: Any,
                          pack_stats: Mapping[str, Any] | None) -> dict[str, Any]:
        assay_f = validate.fraction(assay, "assay")
        water_f = validate.fraction(water, "water")
        weight = validate.mass_mg(tablet_weight, "tablet_weight")
        if (assay_f is not None or water_f is not None) and found.kind != "api":
            raise InputError(f"assay and water are CoA values of an API powder; {found.key} is "
                             f"a {found.kind}.", hint="Leave --assay and --water out.",
                             field="assay")
        receipt.check_coa(found, assay_f, water_f)
        if weight is not None:
            if found.kind != "tablet":
                raise InputError(f"tablet_weight applies to tablets; {found.key} is a "
                                 f"{found.kind}.", field="tablet_weight")
            receipt.check_tablet_weight(found, weight)
        stats: dict[str, float] = {}
        for size, fill in (pack_stats or {}).items():
            if found.kind != "excipient":
                raise InputError(f"pack statistics apply to capsule fillers; {found.key} is a "
                                 f"{found.kind}.", field="pack_stats")
            mg = validate.mass_mg(fill, f"pack_stats[{size}]")
            if mg is None or not mg > 0:
                raise InputError(f"pack_stats[{size}]: the fill weight must be above 0 mg.",
                                 field="pack_stats")
            stats[items.capsule_size(size)] = mg
        return {"assay_fraction": assay_f, "water_fraction": water_f, "tablet_weight_mg": weight,
                "pack_stats": audit.canonical_json(stats) if stats else None}

    def _ensure_lot_number_free(self, conn: sa.Connection, number_: str) -> None:
        row = conn.execute(sa.select(schema.ingredient_lots.c.lot_number,
                                     schema.ingredient_lots.c.item_key,
                                     schema.ingredient_lots.c.received)
                           .where(_same_number(schema.ingredient_lots, number_))).first()
        if row is not None:
            same = number_ if row.lot_number == number_ else f"{row.lot_number} ({number_})"
            raise RegisterError(
                f"ingredient lot {same} was already received on {row.received.isoformat()} "
                f"({row.item_key}); lot numbers are compared ignoring case.",
                hint="A lot is received once; if another supplier uses the same number, add a "
                     "suffix such as /B.")
        if conn.execute(sa.select(schema.lots.c.id)
                        .where(_same_number(schema.lots, number_))).first() is not None:
            raise RegisterError(f"{number_} is already a compounded lot in this register.",
                                hint="Add a suffix such as /B to the supplier's lot number.")

    # -- recording a compounded lot -------------------------------------------------------------

    def record_lot(
        self, *, kind: str, description: str, quantity: float, quantity_unit: str,
        plan: Mapping[str, Any], compounded: dt.date | str, beyond_use_date: dt.date | str,
        bud_limit: str, bud_source: str, stability_window_days: int | None, storage: str,
        compounded_by: str, checked_by: str | None,
        components: Sequence[tuple[str, float, str]],
        stability_window_end: dt.date | str | None = None,
        as_of: dt.date | str | None = None, reason: str | None = None,
    ) -> str:
        """Record a compounded lot in quarantine; returns its generated lot number.

        ``components`` are ``(lot number, amount, unit)``: an ingredient lot or
        an earlier compounded lot (a trituration or stock dilution), with the
        amount used in mg/g/mcg, mL or tablets. The compounding date may be in
        the past (a record entered late), but a lot whose BUD has passed by the
        real date of entry is not recorded; since the BUD never passes a
        component's expiry, neither is one made with a component expired by then.
        """
        lot = self._prepare_lot(
            kind=kind, description=description, quantity=quantity, quantity_unit=quantity_unit,
            plan=plan, compounded=compounded, beyond_use_date=beyond_use_date,
            bud_limit=bud_limit, bud_source=bud_source,
            stability_window_days=stability_window_days, storage=storage,
            compounded_by=compounded_by, checked_by=checked_by, components=components,
            stability_window_end=stability_window_end, as_of=as_of, reason=reason)
        with self._write() as conn:
            return self._insert_lot(conn, lot)

    def record_lots(self, entries: Iterable[Mapping[str, Any]], *,
                    batch_size: int = RECORD_BATCH) -> list[str]:
        """Record many lots, ``batch_size`` to a transaction; returns their lot numbers in order.

        Each entry holds :meth:`record_lot`'s keyword arguments. Every lot is checked,
        refused, numbered and audited exactly as :meth:`record_lot` would (the same code
        does it), one event each, in the order given; only the transactions are fewer
        (and the anchor file is written once a batch). A refused entry raises the error
        ``record_lot`` would, naming the entry: the batches before its batch stay recorded,
        nothing of its own batch is.
        """
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InputError(f"batch_size: {batch_size!r} is not a whole number of lots above 0.",
                             field="batch_size")
        recorded: list[str] = []
        batch: list[tuple[int, _NewLot]] = []
        for index, fields in enumerate(entries):
            batch.append((index, self._entry(index, fields, recorded)))
            if len(batch) == batch_size:
                recorded += self._insert_batch(batch, recorded)
                batch = []
        if batch:
            recorded += self._insert_batch(batch, recorded)
        return recorded

    def _entry(self, index: int, fields: Mapping[str, Any], recorded: list[str]) -> _NewLot:
        if not isinstance(fields, Mapping):
            raise _in_bulk(InputError(f"{fields!r:.60} is not a mapping of record_lot's "
                                      "arguments.", field="entries"), index, recorded)
        unknown = sorted(set(fields) - _RECORD_LOT_ARGUMENTS)
        missing = sorted(_RECORD_LOT_REQUIRED - set(fields))
        if unknown or missing:
            what = (f"unknown field {', '.join(map(repr, unknown))}" if unknown
                    else f"missing field {', '.join(map(repr, missing))}")
            raise _in_bulk(InputError(f"{what}.", hint="An entry holds record_lot's keyword "
                                      "arguments.", field="entries"), index, recorded)
        try:
            return self._prepare_lot(**fields)
        except CompoundError as exc:
            raise _in_bulk(exc, index, recorded) from None

    def _insert_batch(self, batch: list[tuple[int, _NewLot]], recorded: list[str]) -> list[str]:
        numbers: list[str] = []
        try:
            with self._write() as conn:
                for _, lot in batch:
                    numbers.append(self._insert_lot(conn, lot))
        except CompoundError as exc:  # refused while inserting the entry after the last done
            raise _in_bulk(exc, batch[min(len(numbers), len(batch) - 1)][0], recorded) from None
        return numbers

    def _prepare_lot(
        self, *, kind: str, description: str, quantity: float, quantity_unit: str,
        plan: Mapping[str, Any], compounded: dt.date | str, beyond_use_date: dt.date | str,
        bud_limit: str, bud_source: str, stability_window_days: int | None, storage: str,
        compounded_by: str, checked_by: str | None,
        components: Sequence[tuple[str, float, str]],
        stability_window_end: dt.date | str | None = None,
        as_of: dt.date | str | None = None, reason: str | None = None,
    ) -> _NewLot:
        """A lot's checks that need no database: its row's values and the amounts used."""
        when = entry.entry_date(as_of, reason)
        values, plan_text = self._lot_values(
            kind=kind, description=description, quantity=quantity, quantity_unit=quantity_unit,
            plan=plan, compounded=compounded, beyond_use_date=beyond_use_date,
            bud_limit=bud_limit, bud_source=bud_source,
            stability_window_days=stability_window_days,
            stability_window_end=stability_window_end, storage=storage,
            compounded_by=compounded_by, checked_by=checked_by, when=when)
        return _NewLot(values, plan_text, self._component_amounts(components), when)

    def _insert_lot(self, conn: sa.Connection, lot: _NewLot) -> str:
        """The checks that need the database, the plan (stored once), the rows and the
        lot.record event (in ``conn``'s write transaction): the one way a compounded lot
        enters the register."""
        values, plan_text, used, when = dict(lot.values), lot.plan_text, lot.used, lot.when
        sources = [self._component_source(conn, lot_no, values) for lot_no, _, _ in used]
        for (_, _, unit), (kind_, row) in zip(used, sources, strict=True):
            if unit == "tablet" and not (kind_ == "ingredient" and row.item_kind == "tablet"):
                raise InputError(f"component {row.lot_number}: only tablets are counted in "
                                 "tablets.", hint="Give the amount used in mg or mL.",
                                 field="components")
        counter, lot_number = self._next_lot_number(conn, values["compounded"])
        values["lot_number"] = lot_number
        values["recorded_at"] = audit.utc_text(self.clock())
        # Stored against the last lot's plan (often the same preparation) when that is smaller.
        values["plan_sha256"] = plans.store(conn, plan_text,
                                            near=conn.execute(_LAST_PLAN).scalar())
        lot_id = conn.execute(_INSERT_LOT, values).inserted_primary_key[0]
        payload_components = []
        for position, ((_, amount, unit), (kind_, row)) in enumerate(
                zip(used, sources, strict=True), start=1):
            conn.execute(_INSERT_COMPONENT, {
                "lot_id": lot_id, "position": position, "amount": amount, "unit": unit,
                "ingredient_lot_id": row.id if kind_ == "ingredient" else None,
                "sub_lot_id": row.id if kind_ == "lot" else None})
            payload_components.append(component_record(
                lot_number, position, row.lot_number if kind_ == "ingredient" else None,
                row.lot_number if kind_ == "lot" else None, amount, unit))
        audit.append(conn, actor=values["compounded_by"], action="lot.record",
                     subject=lot_number, clock=self.clock, plan_text=plan_text, payload={
                         "lot": lot_record(values), "components": payload_components,
                         "counter": counter, **when.payload()})
        return lot_number

    def _lot_values(self, *, kind: str, description: str, quantity: float, quantity_unit: str,
                    plan: Mapping[str, Any], compounded: Any, beyond_use_date: Any,
                    bud_limit: str, bud_source: str, stability_window_days: Any,
                    stability_window_end: Any, storage: str, compounded_by: str,
                    checked_by: str | None, when: entry.EntryDate) -> tuple[dict[str, Any], str]:
        """The lot row's values, checked (all but the lot number, time and plan digest), and
        the canonical JSON of its plan."""
        made_on = validate.not_in_future(validate.date(compounded, "compounded"), when.day,
                                         "compounded")
        bud = validate.date(beyond_use_date, "beyond_use_date")
        if bud < made_on:
            raise DateInputError(
                f"the beyond-use date {bud.isoformat()} is before the compounding date "
                f"{made_on.isoformat()}.",
                hint="Use the BUD the BUD engine assigned (compound bud …).",
                field="beyond_use_date")
        if bud < when.real_day:
            raise RegisterError(
                f"the lot compounded on {made_on.isoformat()} would be born expired: its "
                f"beyond-use date {bud.isoformat()} is before the real date of entry "
                f"({when.real_day.isoformat()}).",
                hint="An expired lot is not recorded; destroy it and note why in the "
                     "pharmacy's log.")
        window = validate.days(stability_window_days, "stability_window_days")
        if window == 0:
            raise InputError("stability_window_days must be at least 1 (or None when there is no "
                             "study window).", field="stability_window_days")
        window_end = (validate.date(stability_window_end, "stability_window_end")
                      if stability_window_end is not None else None)
        if window_end is not None and window_end < made_on:
            raise DateInputError("the stability window ends before the compounding date.",
                                 field="stability_window_end")
        amount, unit = validate.quantity(quantity, quantity_unit)
        if not isinstance(plan, Mapping):
            raise InputError("plan must be the plan as a dict (Plan.to_dict()).", field="plan")
        if plan.get("status") == "refused":
            raise RegisterError("a refused plan cannot be recorded as a lot.",
                                hint="Resolve the refusal and plan again.")
        try:
            plan_json = audit.canonical_json(dict(plan))
        except (TypeError, ValueError) as exc:
            raise InputError(f"plan is not JSON data: {exc}.", field="plan") from None
        return {
            "kind": validate.kind(kind),
            "description": validate.text(description, "description", max_len=200),
            "quantity": amount, "quantity_unit": unit,
            "compounded": made_on, "beyond_use_date": bud,
            "bud_limit": validate.text(bud_limit, "bud_limit", max_len=200),
            "bud_source": validate.text(bud_source, "bud_source", max_len=1000),
            "stability_window_days": window, "stability_window_end": window_end,
            "storage": validate.storage(storage),
            "compounded_by": validate.initials(compounded_by, "compounded_by"),
            "checked_by": validate.checker(checked_by, compounded_by),
            "status": "quarantine",
        }, plan_json

    @staticmethod
    def _component_amounts(components: Iterable[Any]) -> list[tuple[str, float, str]]:
        used = []
        for n, component in enumerate(components, start=1):
            field = f"components[{n}]"
            if not isinstance(component, (tuple, list)) or len(component) != 3:
                raise InputError(f"{field}: {component!r} is not (lot number, amount, unit).",
                                 hint="e.g. ('NTX2403', 3, 'tablets') or ('MCC-7781', 2.1, 'g').",
                                 field="components")
            lot_no, amount, unit = component
            used.append((_lot_number_text(lot_no, field),
                         *validate.component_amount(amount, unit, field)))
        validate.distinct_lots([lot for lot, _, _ in used])
        if not used:
            raise InputError("a compounded lot needs its components (the lots it used).",
                             hint="Give each ingredient lot with the amount used.",
                             field="components")
        return used

    def _component_source(self, conn: sa.Connection, lot_no: str,
                          lot: dict[str, Any]) -> tuple[str, Any]:
        made_on, bud = lot["compounded"], lot["beyond_use_date"]
        ing = conn.execute(_INGREDIENT_BY_NUMBER, {"number": lot_no}).first()
        if ing is not None:
            if ing.expiry < made_on:
                raise RegisterError(
                    f"ingredient lot {lot_no} ({ing.item_name}) expired on "
                    f"{ing.expiry.isoformat()}, before the compounding date {made_on.isoformat()}.",
                    hint="Use an in-date lot; quarantine the expired stock for destruction.")
            if ing.received > made_on:
                raise RegisterError(
                    f"ingredient lot {lot_no} was received on {ing.received.isoformat()}, after "
                    f"the compounding date {made_on.isoformat()}.",
                    hint="Check the lot number and the compounding date.")
            if bud > ing.expiry:
                raise RegisterError(
                    f"the beyond-use date {bud.isoformat()} is after the expiry of ingredient lot "
                    f"{lot_no} ({ing.expiry.isoformat()}): a BUD may not extend past any "
                    "component's expiry (USP <795>).",
                    hint="Assign the BUD with this lot's expiry as a component expiry.")
            return "ingredient", ing
        sub = conn.execute(_LOT_BY_NUMBER, {"number": lot_no}).first()
        if sub is None:
            raise RegisterError(
                f"unknown lot {lot_no}: it is neither a received ingredient lot nor a compounded "
                "lot.", hint="Receive it first: compound lots receive ITEM LOT --expiry … --by …")
        if sub.status != "released":
            raise RegisterError(f"lot {lot_no} is {sub.status}: only a released lot can be used "
                                "in another preparation.",
                                hint=f"Release it first: compound lots release {lot_no} --by AB.")
        if sub.beyond_use_date < made_on or sub.compounded > made_on:
            raise RegisterError(
                f"lot {lot_no} (BUD {sub.beyond_use_date.isoformat()}) cannot be used on "
                f"{made_on.isoformat()}: it is expired or was made later.")
        if bud > sub.beyond_use_date:
            raise RegisterError(
                f"the beyond-use date {bud.isoformat()} is after the BUD of lot {lot_no} "
                f"({sub.beyond_use_date.isoformat()}) it uses.",
                hint="Assign the BUD with that lot's BUD as a sub-lot BUD.")
        return "lot", sub

    def _next_lot_number(self, conn: sa.Connection, made_on: dt.date) -> tuple[dict[str, Any], str]:
        name = f"{self.lot_prefix}-{made_on:%Y%m%d}"
        while True:
            bumped = conn.execute(_BUMP_COUNTER, {"counter": name})
            if bumped.rowcount == 0:
                conn.execute(_INSERT_COUNTER, {"name": name, "value": 1})
            value = conn.execute(_COUNTER, {"counter": name}).scalar_one()
            candidate = f"{name}-{value:04d}"
            taken = conn.execute(_INGREDIENT_NUMBER_TAKEN,
                                 {"lower_number": candidate.lower()}).first()
            if taken is None:
                return {"name": name, "value": value}, candidate

    # -- status moves ---------------------------------------------------------------------------

    def release(self, lot: str, by: str, reason: str | None = None, *,
                as_of: dt.date | str | None = None) -> views.Lot:
        """Quarantine -> released, after the final check (refused once past the BUD)."""
        return self._move("release", lot, by, reason, as_of)

    def dispense(self, lot: str, by: str, reason: str | None = None, *,
                 quantity: Any = None, rx: str | None = None,
                 as_of: dt.date | str | None = None) -> views.Lot:
        """Dispense ``quantity`` of a released lot (all that remains when None), to ``rx``.

        The lot keeps what remains and stays released until it is empty, then it is
        dispensed. Refused once past the BUD, for more than remains, for an unknown
        Rx, and past the Rx's refills (see :mod:`compound.register.prescriptions`).
        Dated by the real clock, or ``as_of`` with the reason.
        """
        actor = validate.initials(by, "by")
        lot_no = _lot_number_text(lot)
        why = validate.text(reason, "reason", required=False, max_len=500)
        when = entry.entry_date(as_of, why)
        with self._write() as conn:
            row = self._movable_row(conn, "dispense", lot_no, actor, when)
            prescriptions.dispense(conn, row, amount=quantity, rx=rx, by=actor, reason=why,
                                   when=when, clock=self.clock)
        return self.get(lot_no, today=when.day)

    def destroy(self, lot: str, by: str, reason: str | None = None, *,
                as_of: dt.date | str | None = None) -> views.Lot:
        """Quarantine, released (also expired) or recalled -> destroyed."""
        return self._move("destroy", lot, by, reason, as_of)

    def recall(self, lot: str, by: str, reason: str | None = None, *,
               as_of: dt.date | str | None = None) -> views.Lot:
        """Quarantine, released or dispensed -> recalled; the reason is required."""
        return self._move("recall", lot, by, reason, as_of)

    def _move(self, action: str, lot: str, by: str, reason: str | None,
              as_of: dt.date | str | None) -> views.Lot:
        """A status move dated today by the real clock, or ``as_of`` (with the reason)."""
        actor = validate.initials(by, "by")
        lot_no = _lot_number_text(lot)
        why = validate.text(reason, "reason", required=action == "recall", max_len=500)
        when = entry.entry_date(as_of, why)
        today = when.day
        new, _ = MOVES[action]
        with self._write() as conn:
            row = self._movable_row(conn, action, lot_no, actor, when)
            conn.execute(schema.lots.update()
                         .where(schema.lots.c.id == row.id, schema.lots.c.status == row.status)
                         .values(status=new))
            audit.append(conn, actor=actor, action=f"lot.{action}", subject=lot_no,
                         clock=self.clock, payload={"lot_number": lot_no, "from": row.status,
                                                    "to": new, "reason": why,
                                                    "date": today.isoformat(), **when.payload()})
        return self.get(lot_no, today=today)

    def _movable_row(self, conn: sa.Connection, action: str, lot_no: str, actor: str,
                     when: entry.EntryDate) -> Any:
        """The lot's row, if ``action`` may move it on ``when``; else a RegisterError saying why."""
        today = when.day
        new, allowed = MOVES[action]
        row = self._lot_row(conn, lot_no)
        if today < row.compounded:
            raise RegisterError(
                f"lot {lot_no} was compounded on {row.compounded.isoformat()}: it cannot be "
                f"{new} on {today.isoformat()}, before it existed.",
                hint="Check the --as-of date.")
        shown = views.effective_status(row.status, row.beyond_use_date, today)
        if action in ("release", "dispense"):
            # Past the BUD by either clock: the day it is dated, or the real date.
            for label, day in (("as of" if when.late else "today", today),
                               ("real date", when.real_day)):
                if day > row.beyond_use_date:
                    raise RegisterError(
                        f"lot {lot_no} is expired (BUD {row.beyond_use_date.isoformat()}, "
                        f"{label} {day.isoformat()}): it cannot be {new}.",
                        hint=f"Destroy it: compound lots destroy {lot_no} --by {actor}.")
        if row.status not in allowed:
            raise RegisterError(f"lot {lot_no} is {shown}: it cannot be {new}.",
                                hint=_next_step(lot_no, row.status, actor))
        return row

    def note(self, lot: str, by: str, text: str) -> views.Lot:
        """Add a note or correction to a lot's history, dated by the real clock."""
        today = entry.entry_date().day
        actor = validate.initials(by, "by")
        lot_no = _lot_number_text(lot)
        note = validate.text(text, "note", max_len=1000)
        with self._write() as conn:
            self._lot_row(conn, lot_no)
            audit.append(conn, actor=actor, action="lot.note", subject=lot_no, clock=self.clock,
                         payload={"lot_number": lot_no, "note": note, "date": today.isoformat()})
        return self.get(lot_no, today=today)

    def _lot_row(self, conn: sa.Connection, lot_no: str) -> Any:
        row = conn.execute(reading.lot_row_query(lot_no)).first()
        if row is not None:
            return row
        ingredient = conn.execute(reading.ingredient_id_query(lot_no)).first() is not None
        raise rows.not_a_lot(lot_no, ingredient_lot=ingredient)

    # -- reading --------------------------------------------------------------------------------

    def get(self, lot: str, *, today: dt.date | None = None) -> views.Lot:
        """A compounded lot with its components and history, as of today."""
        lot_no = _lot_number_text(lot)
        with db.read(self.engine) as conn:
            return reading.lot(conn, self._lot_row(conn, lot_no), today or paths.today())

    def get_ingredient(self, lot: str, *, today: dt.date | None = None) -> views.IngredientLot:
        lot_no = _lot_number_text(lot)
        with db.read(self.engine) as conn:
            row = conn.execute(reading.ingredient_query(lot_no)).first()
            if row is None:
                raise rows.unknown_ingredient(lot_no)
            return reading.ingredient(row, today or paths.today())

    def list_lots(self, status: str | None = None, expiring_within_days: int | None = None, *,
                  today: dt.date | None = None) -> list[views.Lot]:
        """Compounded lots by BUD. ``expiring_within_days`` lists lots still in the pharmacy
        whose BUD falls within that many days, and those already expired (to destroy)."""
        return list(self.iter_lots(status, expiring_within_days, today=today))

    def iter_lots(self, status: str | None = None, expiring_within_days: int | None = None, *,
                  today: dt.date | None = None) -> Iterator[views.Lot]:
        """:meth:`list_lots` one lot at a time, read from the database in batches, without
        plans, components or history (memory stays flat at 100,000 lots). The read
        transaction stays open until the iteration ends (or the iterator is closed)."""
        if status is not None and status not in views.STATUSES:
            raise InputError(f"status: {status!r} is not a lot status.",
                             hint=f"Use one of {', '.join(views.STATUSES)}.", field="status")
        days = validate.days(expiring_within_days, "expiring")
        return self._iter_lots(status, days, today or paths.today())

    def iter_lots_json(self, status: str | None = None,
                       expiring_within_days: int | None = None, *,
                       today: dt.date | None = None) -> Iterator[str]:
        """:meth:`iter_lots` as JSON text, one lot at a time: each equals
        ``json.dumps(lot.to_dict(full=False), ensure_ascii=False)`` (what ``lots list --json``
        prints, built from the rows without a Lot per row: 100,000 lots in about a second)."""
        if status is not None and status not in views.STATUSES:
            raise InputError(f"status: {status!r} is not a lot status.",
                             hint=f"Use one of {', '.join(views.STATUSES)}.", field="status")
        days = validate.days(expiring_within_days, "expiring")
        return self._iter_lots_json(status, days, today or paths.today())

    def _iter_lots_json(self, status: str | None, days: int | None,
                        today: dt.date) -> Iterator[str]:
        with db.read(self.engine) as conn:
            yield from listing.iter_lots_json(conn, today, status, days)

    def _iter_lots(self, status: str | None, days: int | None,
                   today: dt.date) -> Iterator[views.Lot]:
        with db.read(self.engine) as conn:
            yield from reading.iter_lots(conn, today, status, days)

    def lot_summaries(self, *, today: dt.date | None = None, limit: int | None = None,
                      offset: int = 0) -> tuple[list[summaries.LotSummary], int]:
        """Lots as table rows (no plan, components or history), by BUD; and how many lots
        there are in all. ``limit``/``offset`` read one page (the first is quick at any size)."""
        with db.read(self.engine) as conn:
            return (summaries.lot_summaries(conn, today or paths.today(), limit=limit,
                                            offset=offset), summaries.count(conn))

    def list_ingredients(self, *, today: dt.date | None = None) -> list[views.IngredientLot]:
        with db.read(self.engine) as conn:
            found = conn.execute(reading.INGREDIENTS_QUERY)
            return [reading.ingredient(r, today or paths.today()) for r in found]

    def trace(self, lot: str, *, today: dt.date | None = None) -> list[dict[str, Any]]:
        """Every compounded lot made from this lot, directly or through sub-lots (for recalls)."""
        lot_no = _lot_number_text(lot)
        with db.read(self.engine) as conn:
            return reading.trace(conn, lot_no, today or paths.today())

    # -- prescriptions --------------------------------------------------------------------------

    def record_prescription(
        self, *, rx: str, patient_name: str, patient_dob: dt.date | str, prescriber: str,
        directions: str, strength: str, form: str, quantity: Any, refills: int = 0,
        recorded_by: str, basis: str = "hcl", today: dt.date | None = None,
    ) -> str:
        """Record a prescription (once; the same details again are accepted); returns its number.

        ``strength`` as typed (``4.5mg`` per capsule, ``1mg/mL`` for liquids and drops) on the
        ``basis`` given; ``quantity`` per fill (capsules, or e.g. ``"100mL"``); ``refills``
        authorised after the first fill.
        """
        values = prescriptions.values(
            rx=rx, patient_name=patient_name, patient_dob=patient_dob, prescriber=prescriber,
            directions=directions, strength=strength, form=form, quantity=quantity,
            refills=refills, basis=basis, today=today or paths.real_today())
        values["recorded_by"] = validate.initials(recorded_by, "by")
        with self._write() as conn:
            prescriptions.record(conn, values, self.clock)
        return str(values["rx_number"])

    def get_prescription(self, rx: str) -> views.Prescription:
        """A prescription with every dispensing against it (lot, date, quantity, by)."""
        number = prescriptions.rx_number(rx)
        with db.read(self.engine) as conn:
            return reading.prescription(conn, prescriptions.find(conn, number))

    def prescription_for_label(self, lot: str, rx: str | None = None) -> dict[str, Any] | None:
        """The prescription fields a label of ``lot`` prints, or None for a stock lot.

        ``rx`` picks the prescription (one the lot was made for or dispensed to); without
        it, the one the lot was made for (``plan … --rx``). Values are display text:
        ``rx_number``, ``patient_name``, ``patient_dob``, ``prescriber``, ``directions``,
        ``strength``, ``form``, ``quantity``, ``refills``, ``refills_left``; and the quantity
        per fill as a number, ``fill_quantity`` [``fill_unit``].
        """
        found = self.get(lot)
        made_for = (found.plan.get("prescription") or {}).get("rx_number")
        number = prescriptions.rx_number(rx) if rx is not None else made_for
        if number is None:
            return None
        if number != made_for and all(d.rx_number != number for d in found.dispensings):
            raise RegisterError(f"lot {found.lot_number} was neither made for nor dispensed to "
                                f"prescription {number}.",
                                hint=f"compound rx show {number} lists its lots.")
        return prescriptions.label_fields(self.get_prescription(number))

    def check_can_label(self, lot: str, *, today: dt.date | None = None) -> views.Lot:
        """The lot, if a label may be printed for it now; else a RegisterError saying why."""
        found = self.get(lot, today=today)
        if found.status not in views.ON_HAND:
            raise RegisterError(f"lot {found.lot_number} is {found.status}: no label may be "
                                "printed for it.")
        return found

    def events(self, lot: str | None = None) -> list[views.Event]:
        with db.read(self.engine) as conn:
            return reading.events(conn, lot)

    def export_csv(self, file: IO[str] | str | Path, *, what: str = "lots",
                   with_patients: bool = False, today: dt.date | None = None) -> int:
        """Write the lots (or ``what="ingredients"``) as a spreadsheet-safe CSV; returns rows.

        Patient details (Rx, name, date of birth) are left out unless ``with_patients``.
        """
        today = today or paths.today()
        if what == "lots":
            with db.read(self.engine) as conn:
                found = reading.lots(conn, today, None, None, full=True)
            return export.write_lots(file, found, with_patients=with_patients)
        if what == "ingredients":
            return export.write_ingredients(file, self.list_ingredients(today=today))
        raise InputError(f"export: {what!r} is not lots or ingredients.", field="what")

    def head(self) -> anchor.Head | None:
        """The audit chain's last event (number and hash): what the anchor file holds."""
        with db.read(self.engine) as conn:
            return anchor.head(conn)

    def verify(self, *, against: anchor.Head | None = None,
               origin: str | None = None) -> audit.VerifyReport:
        """Re-walk the audit chain, replay it against the rows, check signatures and guards,
        and check that the chain holds ``against`` (default: this register's anchor file).

        A table that cannot be read at all (dropped, altered) is an integrity
        failure too, not a busy database.
        """
        against, origin, missing_anchor = audit.anchor_to_check(self.anchor_path, against,
                                                                origin)
        with db.read(self.engine) as conn:
            try:
                report = audit.verify(conn, key=self.audit_key, anchor=against,
                                      anchor_origin=origin)
            except sa.exc.DBAPIError as exc:
                raise audit.unreadable(str(exc.orig) if exc.orig is not None
                                       else str(exc)) from None
        audit.note_missing_anchor(report, missing_anchor,
                                  sqlite=self.engine.url.get_backend_name() == "sqlite")
        return report


def _next_step(lot_no: str, status: str, actor: str) -> str:
    return {
        "quarantine": f"Release it first, after the final check: compound lots release {lot_no} "
                      f"--by {actor}.",
        "released": "It is already released.",
        "dispensed": "It has left the pharmacy; only a recall is possible.",
        "recalled": f"A recalled lot can only be destroyed: compound lots destroy {lot_no} "
                    f"--by {actor}.",
        "destroyed": "It was destroyed; nothing more can happen to it.",
    }[status]


# The keyword arguments an entry of Register.record_lots may hold: record_lot's own.
_RECORD_LOT_PARAMETERS: Final = [p for p in inspect.signature(Register._prepare_lot)
                                 .parameters.values() if p.name != "self"]
_RECORD_LOT_ARGUMENTS: Final = frozenset(p.name for p in _RECORD_LOT_PARAMETERS)
_RECORD_LOT_REQUIRED: Final = frozenset(p.name for p in _RECORD_LOT_PARAMETERS
                                        if p.default is p.empty)


def bud_fields(bud: Any) -> dict[str, Any]:
    """``record_lot`` keyword arguments from the BUD engine's result (``assign_bud``).

    Refuses a refused BUD: a lot is never recorded without a beyond-use date.
    """
    if getattr(bud, "refused", False) or bud.beyond_use_date is None or bud.limit is None:
        raise RegisterError("the BUD was refused, so the lot cannot be recorded.",
                            hint="Resolve the BUD refusal first (compound bud …).")
    return {
        "beyond_use_date": bud.beyond_use_date,
        "bud_limit": f"{bud.limit.kind}: {bud.limit.name}"
                     + (f" ({bud.limit.days} days)" if bud.limit.days else ""),
        "bud_source": bud.limit.source,
        "stability_window_days": bud.stability_window_days,
        "stability_window_end": bud.stability_window_end,
        "storage": bud.storage,
    }
