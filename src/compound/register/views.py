"""Lots as read back from the register: typed values, and JSON at the edge.

Values are kept unrounded (float64 in mg, mL or tablets); ``to_dict`` rounds
by the rule in :mod:`compound.core.rounding` and writes dates as ISO text.
Expiry is derived, never stored: a lot still in the pharmacy (quarantine or
released) whose beyond-use date is before today *is* expired.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Final

from compound.core.figures import format_mass, format_number, format_volume, json_number

STATUSES: Final = ("quarantine", "released", "dispensed", "expired", "recalled", "destroyed")
ON_HAND: Final = ("quarantine", "released")
"""Stored statuses of a lot still in the pharmacy: these can expire."""


def window_used(compounded: dt.date, beyond_use_date: dt.date, study_window_days: int | None,
                today: dt.date) -> float | None:
    """Fraction of a lot's stability window elapsed: days since compounding ÷ window days.

    The window is the study's (e.g. 360 days) when the BUD rests on one; otherwise the
    lot's own dating period, compounding to BUD (a USP <795> default, or shorter where a
    component's expiry capped it), so the BUD day reads 100 %.
    """
    window = study_window_days or (beyond_use_date - compounded).days
    if window <= 0:
        return None
    return max(0, (today - compounded).days) / window


def effective_status(stored: str, beyond_use_date: dt.date, today: dt.date) -> str:
    return "expired" if stored in ON_HAND and today > beyond_use_date else stored


def show_quantity(amount: float, unit: str) -> str:
    """A lot's quantity as a pharmacist reads it (``30 capsules``, ``100 mL``)."""
    if unit == "capsules":
        return f"{int(amount)} capsule{'s' if amount != 1 else ''}"
    return f"{format_number(amount)} {unit}"


def format_amount(amount: float, unit: str) -> str:
    if unit == "mg":
        return format_mass(amount)
    if unit == "mL":
        return format_volume(amount)
    word = "tablet" if amount == 1 else "tablets"
    return f"{format_number(amount)} {word}"


@dataclass(frozen=True, slots=True)
class Component:
    lot_number: str
    source: str
    """``ingredient`` (a received lot) or ``lot`` (a compounded sub-lot, e.g. a trituration)."""
    item: str
    """Catalog key of the ingredient, or the sub-lot's kind."""
    name: str
    amount: float
    unit: str
    """``mg``, ``mL`` or ``tablet``."""
    expiry: dt.date
    """The ingredient's expiry, or the sub-lot's beyond-use date."""

    def to_dict(self) -> dict[str, Any]:
        return {"lot_number": self.lot_number, "source": self.source, "item": self.item,
                "name": self.name, "amount": json_number(self.amount), "unit": self.unit,
                "expiry": self.expiry.isoformat()}


@dataclass(frozen=True, slots=True)
class Event:
    seq: int
    at_utc: str
    actor: str
    action: str
    subject: str | None
    """The lot number the event is about (None for register events)."""
    payload: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"seq": self.seq, "at_utc": self.at_utc, "by": self.actor,
                               "action": self.action, "subject": self.subject}
        for key in ("date", "from", "to", "reason", "note"):
            if self.payload.get(key) is not None:
                out[key] = self.payload[key]
        return out


@dataclass(frozen=True, slots=True)
class Dispensing:
    """Part (or all) of a lot handed out, to a prescription when one was named."""

    lot_number: str
    position: int
    rx_number: str | None
    fill: int | None
    """1 = the prescription's first fill, 2 = its first refill …"""
    quantity: float
    quantity_unit: str
    dispensed_on: dt.date
    dispensed_by: str
    recorded_at: str
    patient_name: str | None = None
    patient_dob: dt.date | None = None

    def to_dict(self, *, with_patient: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "lot_number": self.lot_number, "date": self.dispensed_on.isoformat(),
            "quantity": json_number(self.quantity), "quantity_unit": self.quantity_unit,
            "by": self.dispensed_by, "recorded_at": self.recorded_at}
        if with_patient:
            out.update(rx_number=self.rx_number, fill=self.fill, patient_name=self.patient_name,
                       patient_dob=self.patient_dob.isoformat() if self.patient_dob else None)
        return out


@dataclass(frozen=True)
class Prescription:
    rx_number: str
    patient_name: str
    patient_dob: dt.date
    prescriber: str
    directions: str
    strength: str
    form: str
    quantity: float
    """Per fill, in ``quantity_unit`` (capsules or mL)."""
    quantity_unit: str
    refills: int
    """Refills authorised after the first fill."""
    recorded_by: str
    recorded_at: str
    dispensings: list[Dispensing] = field(default_factory=list)

    @property
    def fills_allowed(self) -> int:
        return 1 + self.refills

    @property
    def refills_left(self) -> int:
        """Refills still allowed: fills allowed − the fills dispensed (the first fill counts
        as dispensed before it is, as it is not a refill)."""
        return max(0, self.fills_allowed - max(len(self.dispensings), 1))

    def to_dict(self) -> dict[str, Any]:
        return {
            "rx_number": self.rx_number, "patient_name": self.patient_name,
            "patient_dob": self.patient_dob.isoformat(), "prescriber": self.prescriber,
            "directions": self.directions, "strength": self.strength, "form": self.form,
            "quantity": json_number(self.quantity), "quantity_unit": self.quantity_unit,
            "refills": self.refills, "fills_dispensed": len(self.dispensings),
            "refills_left": self.refills_left, "recorded_by": self.recorded_by,
            "recorded_at": self.recorded_at,
            "dispensings": [d.to_dict() for d in self.dispensings],
        }


@dataclass(frozen=True)
class Lot:
    """A compounded lot with its status as of ``today``."""

    lot_number: str
    kind: str
    description: str
    recorded_status: str
    quantity: float
    quantity_unit: str
    compounded: dt.date
    beyond_use_date: dt.date
    bud_limit: str
    bud_source: str
    stability_window_days: int | None
    stability_window_end: dt.date | None
    storage: str
    compounded_by: str
    checked_by: str | None
    recorded_at: str
    plan: dict[str, Any]
    today: dt.date
    components: list[Component] = field(default_factory=list)
    history: list[Event] = field(default_factory=list)
    dispensed: float = 0.0
    """Total dispensed so far, in ``quantity_unit``."""
    dispensings: list[Dispensing] = field(default_factory=list)

    @property
    def remaining(self) -> float:
        """What is left in the pharmacy (none once dispensed; a lot dispensed whole before
        dispensings were recorded has no dispensing rows)."""
        return 0.0 if self.recorded_status == "dispensed" else self.quantity - self.dispensed

    @property
    def status(self) -> str:
        return effective_status(self.recorded_status, self.beyond_use_date, self.today)

    @property
    def expired(self) -> bool:
        return self.today > self.beyond_use_date

    @property
    def days_left(self) -> int:
        """Days from today to the BUD: 0 = the BUD is today (last day of use), < 0 = past it."""
        return (self.beyond_use_date - self.today).days

    @property
    def window_used(self) -> float | None:
        """Fraction of the stability window elapsed (:func:`window_used`)."""
        return window_used(self.compounded, self.beyond_use_date, self.stability_window_days, self.today)

    def to_dict(self, *, full: bool = True) -> dict[str, Any]:
        used = self.window_used
        out: dict[str, Any] = {
            "lot_number": self.lot_number, "kind": self.kind, "description": self.description,
            "status": self.status, "expired": self.expired,
            "quantity": json_number(self.quantity), "quantity_unit": self.quantity_unit,
            "remaining": json_number(self.remaining),
            "compounded": self.compounded.isoformat(),
            "beyond_use_date": self.beyond_use_date.isoformat(), "days_left": self.days_left,
            "bud_limit": self.bud_limit, "bud_source": self.bud_source,
            "stability_window_days": self.stability_window_days,
            "stability_window_end": (self.stability_window_end.isoformat()
                                     if self.stability_window_end else None),
            "window_used_pct": None if used is None else json_number(used * 100),
            "storage": self.storage, "compounded_by": self.compounded_by,
            "checked_by": self.checked_by, "today": self.today.isoformat(),
        }
        if full:
            out["recorded_at"] = self.recorded_at
            out["components"] = [c.to_dict() for c in self.components]
            out["plan"] = self.plan
            out["history"] = [e.to_dict() for e in self.history]
            out["dispensings"] = [d.to_dict() for d in self.dispensings]
        return out


@dataclass(frozen=True)
class IngredientLot:
    """A received lot of a tablet, API powder, excipient or vehicle."""

    lot_number: str
    item_key: str
    item_kind: str
    item_name: str
    expiry: dt.date
    expiry_from_month: bool
    supplier: str | None
    reference: str | None
    assay: float | None
    water: float | None
    tablet_weight_mg: float | None
    pack_stats: dict[str, float]
    """Capsule size -> measured fill weight [mg] of this lot."""
    received: dt.date
    received_by: str
    recorded_at: str
    today: dt.date

    @property
    def expired(self) -> bool:
        return self.today > self.expiry

    @property
    def days_left(self) -> int:
        return (self.expiry - self.today).days

    def to_dict(self) -> dict[str, Any]:
        def pct(x: float | None) -> float | int | None:
            return None if x is None else json_number(x * 100)

        return {
            "lot_number": self.lot_number, "item": self.item_key, "item_kind": self.item_kind,
            "name": self.item_name, "expiry": self.expiry.isoformat(),
            "expiry_from_month": self.expiry_from_month, "expired": self.expired,
            "days_left": self.days_left, "supplier": self.supplier, "reference": self.reference,
            "assay_pct": pct(self.assay), "water_pct": pct(self.water),
            "tablet_weight_mg": (None if self.tablet_weight_mg is None
                                 else json_number(self.tablet_weight_mg)),
            "pack_stats": {size: {"fill_weight_mg": json_number(mg)}
                           for size, mg in self.pack_stats.items()},
            "received": self.received.isoformat(), "received_by": self.received_by,
            "recorded_at": self.recorded_at, "today": self.today.isoformat(),
        }
