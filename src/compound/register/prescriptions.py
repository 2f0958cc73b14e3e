"""Prescriptions and dispensings: from a lot to a patient.

A prescription (Rx) is recorded once and never changed: its number, the patient
(name, date of birth), the prescriber, the directions, what was prescribed
(strength, form, quantity per fill) and the refills authorised after the first
fill. A *dispensing* takes part (or all) of a released lot, optionally against
an Rx; the lot keeps what remains and stays released until it is empty.

Each dispensing against an Rx is one fill: the first is fill 1, each refill
the next. With ``refills`` authorised an Rx allows ``1 + refills`` fills; one
more is refused. A fill may not exceed the quantity prescribed per fill, and
the lot must be what was prescribed (same form and strength on the same salt
basis). Patient details are register data: no error message names them.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Final

import sqlalchemy as sa

from compound.core import amounts
from compound.core.figures import format_concentration, format_mass
from compound.errors import DateInputError, InputError, RegisterError, UnitInputError
from compound.register import audit, plans, schema, validate
from compound.register.entry import EntryDate
from compound.register.replay import dispensing_record, prescription_record
from compound.register.views import show_quantity

FORMS: Final = {"capsules": "capsules", "liquid": "mL", "drops": "mL", "dilution": "mL"}
"""Prescribable forms (lot kinds) and the unit their quantity is counted in."""

BASES: Final = {"hcl": "HCl", "base": "base"}

_RX_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,29}")

EMPTY_TOLERANCE: Final = 1e-9
"""Relative: what remains of a lot below this fraction of it is float noise, i.e. nothing."""


def rx_number(value: Any, field: str = "rx") -> str:
    if not isinstance(value, str) or not _RX_RE.fullmatch(value.strip()):
        raise InputError(f"{field}: {value!r} is not a prescription number.",
                         hint="Type the Rx number as written: letters, digits and . _ / - "
                              "(at most 30).", field=field)
    return value.strip()


def strength_text(value: float, form: str, basis: str) -> str:
    """One text per strength: ``4.5 mg (HCl)`` per capsule, ``1 mg/mL (HCl)`` for liquids."""
    shown = format_mass(value) if form == "capsules" else format_concentration(value)
    return f"{shown} ({BASES[basis]})"


def parse_strength(text: Any, form: str, basis: str) -> str:
    """A typed strength (``4.5mg`` for capsules, ``1mg/mL`` otherwise) as :func:`strength_text`.

    A text already in that form (``4.5 mg (HCl)``, as :func:`plan_strength` gives) is read
    back the same way, so a plan's strength and a typed one compare equal.
    """
    if isinstance(text, str):
        m = re.fullmatch(r"(.+?)\s*\((HCl|base)\)", text.strip())
        if m:
            text, basis = m.group(1), {v: k for k, v in BASES.items()}[m.group(2)]
    kind = "mass" if form == "capsules" else "concentration"
    value = amounts.parse(text, kind, field="strength").value if isinstance(text, str) else None
    if value is None or not value > 0:
        raise InputError(f"strength: {text!r} is not a strength above zero.",
                         hint="e.g. 4.5mg (capsules) or 1mg/mL (liquids, drops).",
                         field="strength")
    return strength_text(value, form, basis)


def plan_strength(plan: Mapping[str, Any]) -> str | None:
    """The strength a recorded plan made, as :func:`strength_text`; None if it does not say."""
    form, inputs = plan.get("kind"), plan.get("inputs") or {}
    basis = inputs.get("basis") or "hcl"
    if form not in FORMS or basis not in BASES:
        return None
    try:
        if form == "capsules":
            return parse_strength(inputs.get("strength"), form, basis)
        concentration = plan.get("concentration_mg_per_ml")
        return strength_text(float(concentration), form, basis) if concentration else None
    except (InputError, TypeError, ValueError):
        return None


def plan_quantity(plan: Mapping[str, Any]) -> float | None:
    """The quantity prescribed, read from a plan: capsules ordered, or the volume made."""
    if plan.get("kind") == "capsules":
        count = (plan.get("inputs") or {}).get("count")
        return float(count) if count else None
    volume = plan.get("volume_ml")
    return float(volume) if volume else None


def values(*, rx: Any, patient_name: Any, patient_dob: Any, prescriber: Any, directions: Any,
           strength: Any, form: Any, quantity: Any, refills: Any, today: dt.date,
           basis: str = "hcl") -> dict[str, Any]:
    """A prescription row from what was typed (all but who records it); every field checked,
    none guessed."""
    if form not in FORMS:
        raise InputError(f"form: {form!r} is not a form the register dispenses.",
                         hint=f"Use one of {', '.join(FORMS)}.", field="form")
    if basis not in BASES:
        raise InputError(f"basis: {basis!r} is not hcl or base.", field="basis")
    dob = _date_of_birth(patient_dob, today)
    if isinstance(refills, bool) or not isinstance(refills, int) or refills < 0:
        raise InputError(f"refills: {refills!r} is not a whole number of refills (0 or more).",
                         hint="e.g. --refills 2 (three fills in all).", field="refills")
    unit = FORMS[form]
    amount = quantity_in(quantity, unit, "quantity")
    return {
        "rx_number": rx_number(rx),
        "patient_name": validate.text(patient_name, "patient", max_len=100),
        "patient_dob": dob,
        "prescriber": validate.text(prescriber, "prescriber", max_len=100),
        "directions": validate.text(directions, "directions", max_len=500),
        "strength": parse_strength(strength, form, basis),
        "form": form, "quantity": amount, "quantity_unit": unit, "refills": refills,
    }


def _date_of_birth(value: Any, today: dt.date) -> dt.date:
    """The patient's date of birth; a refusal does not repeat what was typed (privacy)."""
    try:
        return validate.not_in_future(validate.date(value, "dob"), today, "dob")
    except DateInputError:
        raise DateInputError("dob: the date of birth is not a date on or before today.",
                             hint="Type it as YYYY-MM-DD, e.g. 1970-01-31.", field="dob") from None


def quantity_in(value: Any, unit: str, field: str) -> float:
    """An amount in a lot's unit: ``30`` or ``30 capsules``; ``30mL``; ``12g``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if unit != "capsules":
            raise UnitInputError(f"{field}: {value!r} has no unit.",
                                 hint=f"Type the amount with its unit, e.g. 30{unit}.", field=field)
        amount = validate.positive(value, field)
    elif isinstance(value, str) and unit == "capsules":
        m = re.fullmatch(r"\s*(\d+)\s*(capsules?|caps?)?\s*", value, re.IGNORECASE)
        if not m:
            raise InputError(f"{field}: {value!r} is not a number of capsules.",
                             hint="Count them, e.g. 30.", field=field)
        amount = validate.positive(float(m.group(1)), field)
    elif isinstance(value, str):
        kind = "volume" if unit == "mL" else "mass"
        amount = validate.positive(amounts.parse(value, kind, field=field).value, field)
        amount = amount / 1000 if unit == "g" else amount  # mass parses to mg
    else:
        raise InputError(f"{field}: {value!r} is not an amount.", field=field)
    if unit == "capsules" and not amount.is_integer():
        raise InputError(f"{field}: {value!r} is not a whole number of capsules.", field=field)
    return amount


def quantity_text(amount: float, unit: str) -> str:
    """An amount as exact text :func:`quantity_in` reads back to the same float (``100mL``)."""
    exact = format(Decimal(repr(float(amount))).normalize(), "f")
    return exact if unit == "capsules" else exact + unit


def find(conn: sa.Connection, number: str) -> Any:
    row = conn.execute(sa.select(schema.prescriptions)
                       .where(schema.prescriptions.c.rx_number == number)).first()
    if row is None:
        raise RegisterError(f"unknown prescription {number}.",
                            hint="Record it first: compound rx add … (or plan … --rx --save).")
    return row


def record(conn: sa.Connection, new: dict[str, Any],
           clock: Callable[[], dt.datetime]) -> bool:
    """Insert a prescription with its audit event; False when the same one is already there.

    An Rx number already recorded with other details is refused: a prescription is
    never changed (the message names the fields that differ, never their values).
    """
    old = conn.execute(sa.select(schema.prescriptions)
                       .where(schema.prescriptions.c.rx_number == new["rx_number"])).first()
    if old is not None:
        differ = [k.replace("_", " ") for k in new if k != "recorded_by" and old._mapping[k] != new[k]]
        if differ:
            raise RegisterError(
                f"prescription {new['rx_number']} is already recorded with a different "
                f"{', '.join(differ)}.",
                hint="A prescription is never changed: give the new prescription its own Rx "
                     "number, or leave these details out to use the recorded ones.")
        return False
    row = {**new, "recorded_at": audit.utc_text(clock())}
    conn.execute(schema.prescriptions.insert().values(**row))
    audit.append(conn, actor=row["recorded_by"], action="rx.record", subject=row["rx_number"],
                 payload={"prescription": prescription_record(row)}, clock=clock)
    return True


def dispensed_from(conn: sa.Connection, lot_id: int) -> tuple[float, int]:
    """How much has been dispensed from a lot, and in how many dispensings."""
    d = schema.dispensings
    total, count = conn.execute(sa.select(sa.func.coalesce(sa.func.sum(d.c.quantity), 0.0),
                                          sa.func.count()).where(d.c.lot_id == lot_id)).one()
    return float(total), int(count)


def fills_used(conn: sa.Connection, number: str) -> int:
    d = schema.dispensings
    return int(conn.execute(sa.select(sa.func.count()).where(d.c.rx_number == number)).scalar_one())


def _check_rx(conn: sa.Connection, lot: Any, rx: Any, amount: float) -> int:
    """The fill number this dispensing would be; refused when the lot or amount is not the Rx's."""
    if rx.form != lot.kind or rx.quantity_unit != lot.quantity_unit:
        raise RegisterError(f"prescription {rx.rx_number} is for {rx.form}; lot "
                            f"{lot.lot_number} is {lot.kind}.",
                            hint="Dispense a lot of the form prescribed.")
    made = plan_strength(plans.load(conn, lot.plan_sha256))
    if made is not None and made != rx.strength:
        raise RegisterError(f"prescription {rx.rx_number} is for {rx.strength}; lot "
                            f"{lot.lot_number} is {made}.",
                            hint="Dispense a lot of the strength prescribed.")
    if amount > rx.quantity:
        raise RegisterError(
            f"{show_quantity(amount, lot.quantity_unit)} is more than prescription "
            f"{rx.rx_number} allows per fill ({show_quantity(rx.quantity, rx.quantity_unit)}).",
            hint="Dispense at most the quantity prescribed.")
    used = fills_used(conn, rx.rx_number)
    allowed = 1 + rx.refills
    if used >= allowed:
        raise RegisterError(
            f"prescription {rx.rx_number} has no refills left: {used} of {allowed} fill"
            f"{'s' if allowed != 1 else ''} (1 + {rx.refills} refill"
            f"{'s' if rx.refills != 1 else ''}) dispensed.",
            hint="A new prescription from the prescriber is needed.")
    return used + 1


def dispense(conn: sa.Connection, lot: Any, *, amount: Any, rx: str | None, by: str,
             reason: str | None, when: EntryDate, clock: Callable[[], dt.datetime]) -> str:
    """Record one dispensing from a released lot (checked by the caller); returns its new status.

    ``amount`` None dispenses all that remains. Dated ``when.day`` (the real date, or a
    late entry's ``as_of``, which the event records with its reason).
    """
    dispensed, count = dispensed_from(conn, lot.id)
    left = lot.quantity - dispensed
    unit = lot.quantity_unit
    wanted = left if amount is None else quantity_in(amount, unit, "quantity")
    noise = EMPTY_TOLERANCE * lot.quantity
    if wanted > left + noise:
        raise RegisterError(
            f"lot {lot.lot_number} has {show_quantity(left, unit)} left: "
            f"{show_quantity(wanted, unit)} cannot be dispensed from it.",
            hint="Dispense what remains, and the rest from another lot.")
    prescription = find(conn, rx_number(rx)) if rx is not None else None
    fill = _check_rx(conn, lot, prescription, wanted) if prescription is not None else None
    new_status = "dispensed" if math.isclose(left, wanted, abs_tol=noise) else lot.status
    row = {"lot_id": lot.id, "position": count + 1,
           "rx_number": prescription.rx_number if prescription is not None else None,
           "fill": fill, "quantity": wanted, "quantity_unit": unit, "dispensed_on": when.day,
           "dispensed_by": by, "recorded_at": audit.utc_text(clock())}
    conn.execute(schema.dispensings.insert().values(**row))
    if new_status != lot.status:
        conn.execute(schema.lots.update()
                     .where(schema.lots.c.id == lot.id, schema.lots.c.status == lot.status)
                     .values(status=new_status))
    audit.append(conn, actor=by, action="lot.dispense", subject=lot.lot_number, clock=clock,
                 payload={"lot_number": lot.lot_number, "from": lot.status, "to": new_status,
                          "reason": reason, "date": when.day.isoformat(), **when.payload(),
                          "dispensing": dispensing_record(lot.lot_number, row)})
    return new_status


def label_fields(rx: Any) -> dict[str, Any]:
    """A :class:`~compound.register.views.Prescription` as the text a label prints."""
    return {"rx_number": rx.rx_number, "patient_name": rx.patient_name,
            "patient_dob": rx.patient_dob.isoformat(), "prescriber": rx.prescriber,
            "directions": rx.directions, "strength": rx.strength, "form": rx.form,
            "quantity": show_quantity(rx.quantity, rx.quantity_unit),
            "fill_quantity": rx.quantity, "fill_unit": rx.quantity_unit,
            "refills": rx.refills, "refills_left": rx.refills_left}
