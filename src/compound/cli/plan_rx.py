"""``compound plan … --rx RX1 --patient … --dob … --prescriber … --directions …``.

The prescription a preparation is made for travels with the plan (its worksheet
and JSON), and with ``--save`` into the register: the Rx is recorded (once; a
known Rx may be named by its number alone) and the saved lot carries it, so its
labels can print it (:meth:`compound.register.Register.prescription_for_label`).
What was prescribed (strength, form) is read from the plan itself; the quantity
per fill is the plan's count or volume unless ``--quantity-per-fill`` says otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from compound.planning.base import Plan
    from compound.register.lots import Register

# option name -> the Register.record_prescription argument it fills
_DETAILS = {"patient": "patient_name", "dob": "patient_dob", "prescriber": "prescriber",
            "directions": "directions", "refills": "refills",
            "quantity_per_fill": "quantity"}


def rx_params() -> list[click.Option]:
    return [
        click.Option(["--rx"], default=None, metavar="RX",
                     help="Prescription number the preparation is for (with --patient, --dob, "
                          "--prescriber, --directions; a recorded Rx needs only its number "
                          "with --save)."),
        click.Option(["--patient"], default=None, metavar="NAME", help="Patient's full name."),
        click.Option(["--dob"], default=None, metavar="YYYY-MM-DD",
                     help="Patient's date of birth."),
        click.Option(["--prescriber"], default=None, metavar="NAME", help="Prescriber's name."),
        click.Option(["--directions"], default=None, metavar="TEXT",
                     help="Directions as written on the prescription."),
        click.Option(["--refills"], default=None, type=click.IntRange(min=0),
                     help="Refills authorised after the first fill (default 0)."),
        click.Option(["--quantity-per-fill"], default=None, metavar="AMOUNT",
                     help="Quantity per fill, e.g. 30 or 100mL (default: the count or volume "
                          "planned)."),
    ]


RX_KEYS = tuple(p.name for p in rx_params())


def check(params: dict[str, Any]) -> None:
    """Prescription details need the Rx number they belong to."""
    from compound.errors import InputError

    given = [k for k in RX_KEYS if k != "rx" and params.get(k) is not None]
    if given and not params.get("rx"):
        flags = ", ".join("--" + k.replace("_", "-") for k in given)
        raise InputError(f"{flags} belong to a prescription: name it with --rx RX.",
                         hint="e.g. --rx RX1 --patient 'Jane Doe' --dob 1970-01-02 "
                              "--prescriber 'Dr A Smith' --directions '1 capsule at bedtime'.",
                         field="rx")


def carry(result: Plan, params: dict[str, Any], register: Register | None) -> None:
    """Put the prescription into the plan and, when ``register`` is given, record it there."""
    number = params.get("rx")
    if not number or result.refused:
        return
    from compound import paths
    from compound.errors import InputError, RegisterError
    from compound.register import prescriptions
    from compound.register.views import Prescription

    plan = result.to_dict()
    strength = prescriptions.plan_strength(plan)
    if result.kind not in prescriptions.FORMS or strength is None:
        raise InputError(f"a {result.kind} plan cannot carry a prescription (it names no "
                         "strength to dispense).", field="rx")
    given = {arg: params[opt] for opt, arg in _DETAILS.items() if params.get(opt) is not None}
    known = None
    if register is not None:
        try:
            known = register.get_prescription(number)
        except RegisterError:
            known = None
    if known is not None:  # a recorded Rx: what is not typed is what was recorded
        recorded = {arg: getattr(known, arg) for arg in _DETAILS.values() if arg != "quantity"}
        quantity = prescriptions.quantity_text(known.quantity, known.quantity_unit)
        given = {**recorded, "quantity": quantity, **given}
    else:
        missing = [f"--{opt}" for opt in ("patient", "dob", "prescriber", "directions")
                   if _DETAILS[opt] not in given]
        if missing:
            raise InputError(f"prescription {number.strip()} needs {', '.join(missing)}.",
                             hint="Give every detail of a new prescription (a recorded one "
                                  "needs only --rx with --save).", field="rx")
        planned = prescriptions.plan_quantity(plan)
        if planned is not None:
            given.setdefault("quantity", prescriptions.quantity_text(
                planned, prescriptions.FORMS[result.kind]))
        given.setdefault("refills", 0)
    fields = dict(rx=number, strength=strength, form=result.kind, **given)
    if register is not None:
        register.record_prescription(**fields, recorded_by=params["by"])
        found = register.get_prescription(number)
    else:
        checked = prescriptions.values(**fields, today=paths.real_today())
        found = Prescription(**checked, recorded_by="", recorded_at="")
    result.extra["prescription"] = prescriptions.label_fields(found)
