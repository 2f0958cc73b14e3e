"""What a label says: the fields, checked, before any layout or format.

A label is built from a compounded lot in the register (and, for a patient
label, a prescription) or from a row of a batch worksheet. Everything that
would make the label wrong is refused here, so every renderer prints the same
checked content:

* a lot that is not released (quarantine, expired, dispensed, recalled,
  destroyed) gets no label;
* a USP <795> minimum field missing (identification number, active ingredient
  and amount, BUD, dosage form) refuses the label, and so does a patient label
  without patient, directions, Rx number or the pharmacy profile;
* free text is cleaned (runs of white space, line breaks included, become one
  space; a line break in directions starts a new direction) and refused if it
  holds other control characters.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final, Protocol

from compound.catalog import loader
from compound.core.rounding import format_concentration, format_mass, format_number, format_volume
from compound.errors import InputError, LabelRefused
from compound.labels import statements
from compound.labels.pharmacy import Pharmacy


class Lot(Protocol):
    """What a label reads of a compounded lot (``compound.register.Lot`` has it)."""

    lot_number: str
    kind: str
    quantity: float
    compounded: dt.date
    beyond_use_date: dt.date
    storage: str
    plan: dict[str, Any]

    @property
    def status(self) -> str: ...

KINDS: Final = ("patient", "stock")
LABELLABLE: Final = ("released",)
"""Lot statuses a label may be printed for: released after the final check."""
ID_PATTERN: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ./-]{0,39}")
"""Rx and lot numbers: Code 128 set B characters a scanner returns unchanged, up to 40."""
MAX_TEXT: Final = 1000


@dataclass(frozen=True)
class Prescription:
    """The prescription a patient label is for (the CLI's --rx, --patient, … or the API's)."""

    rx: str | None = None
    patient: str | None = None
    prescriber: str | None = None
    directions: tuple[str, ...] = ()


@dataclass(frozen=True)
class LabelContent:
    """Every field a label prints, checked and formatted (text only: no layout)."""

    kind: str
    """``patient`` or ``stock``."""
    identifier: str
    """What the barcode encodes: the Rx number on a patient label, the lot on a stock label."""
    drug: str
    """Active ingredient and amount, e.g. ``Naltrexone HCl 4.5 mg``."""
    dosage_form: str
    route: str
    quantity: str
    beyond_use_date: dt.date
    storage: str
    statements: tuple[str, ...]
    compounded: dt.date | None = None
    lot: str | None = None
    rx: str | None = None
    patient: str | None = None
    prescriber: str | None = None
    directions: tuple[str, ...] = ()
    pharmacy: Pharmacy | None = None
    copy: int = 1
    copies: int = 1

    def numbered(self, copy: int, copies: int) -> LabelContent:
        if (copy, copies) == (self.copy, self.copies):
            return self  # frozen: the same label
        return replace(self, copy=copy, copies=copies)

    def fields(self) -> dict[str, str]:
        """Every field as text, keyed by its stable ASCII name (the CSV header)."""
        ph = self.pharmacy
        return {
            "label": self.kind, "barcode": self.identifier, "rx": self.rx or "",
            "patient": self.patient or "", "drug": self.drug, "dosage_form": self.dosage_form,
            "route": self.route, "quantity": self.quantity, "directions": "\n".join(self.directions),
            "prescriber": self.prescriber or "",
            "compounded": self.compounded.isoformat() if self.compounded else "",
            "beyond_use_date": self.beyond_use_date.isoformat(), "lot": self.lot or "",
            "storage": self.storage, "statements": "\n".join(self.statements),
            "pharmacy_name": ph.name if ph else "", "pharmacy_address": ph.address if ph else "",
            "pharmacy_phone": ph.phone if ph else "",
            "copy": str(self.copy), "copies": str(self.copies),
        }


FIELD_NAMES: Final = tuple(LabelContent(
    "stock", "X", "", "", "", "", dt.date(2000, 1, 1), "", ()).fields())


# -- cleaning -------------------------------------------------------------------------------------

def _control(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") and ch not in "\t\n\r"


def clean_text(value: Any, name: str, *, lines: bool = False) -> str | tuple[str, ...]:
    """Free text made printable: white space runs become one space (``lines``: line breaks
    split the text into lines); other control characters are refused, never dropped."""
    text = "" if value is None else str(value)
    # Printable ASCII (most names and directions) holds no control character: skip the per-character look.
    bad = () if text.isascii() and text.isprintable() else sorted(
        {f"U+{ord(c):04X}" for c in text if _control(c)})
    if bad:
        raise InputError(f"{name}: holds control characters ({', '.join(bad)}) that cannot be printed.",
                         hint=f"Retype the {name} without them.", field=name)
    if len(text) > MAX_TEXT:
        raise InputError(f"{name}: {len(text)} characters; a label field holds at most {MAX_TEXT}.",
                         field=name)
    if lines:
        return tuple(" ".join(part.split()) for part in re.split(r"\r\n|\r|\n", text) if part.strip())
    return " ".join(text.split())


def identifier(value: Any, name: str) -> str:
    text = str(clean_text(value, name))
    if not ID_PATTERN.fullmatch(text):
        raise InputError(
            f"{name}: {text!r} cannot be a barcode number.",
            hint="Use 1 to 40 letters, digits, spaces, '.', '/' or '-', starting with a letter or "
                 "digit, e.g. RX1001.", field=name)
    return text


def _optional(value: Any, name: str) -> str | None:
    text = str(clean_text(value, name))
    return text or None


# -- form facts -----------------------------------------------------------------------------------

def form_facts(form: str) -> Mapping[str, str]:
    forms = loader.rules("label_layout").get("forms", {})
    if form not in forms or not isinstance(forms[form], dict):
        raise LabelRefused(f"no label layout for the dosage form {form!r}.",
                           hint=f"Known: {', '.join(k for k in forms if k != 'source')}.")
    return forms[form]  # type: ignore[no-any-return]


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(out) else out


def drug_text(form: str, strength_mg: float | None, concentration_mg_per_ml: float | None) -> str:
    """``Naltrexone HCl 4.5 mg`` (per capsule) or ``Naltrexone HCl 1 mg/mL``; never a bare number."""
    if form == "capsules" and strength_mg:
        return f"Naltrexone HCl {format_mass(strength_mg)}"
    if form != "capsules" and concentration_mg_per_ml:
        return f"Naltrexone HCl {format_concentration(concentration_mg_per_ml)}"
    raise LabelRefused(
        "the active ingredient's amount is unknown, so no label can be printed "
        "(USP <795>: the label must state the active ingredient and its amount).")


def quantity_text(form: str, amount: float | None) -> str:
    if amount is None or amount <= 0:
        raise LabelRefused("the quantity is unknown, so no label can be printed.")
    unit = form_facts(form)["unit"]
    if unit == "mL":
        return format_volume(amount)
    return f"{format_number(amount)} {unit}"


# -- building -------------------------------------------------------------------------------------

def _missing(pairs: Iterable[tuple[str, Any]], hint: str) -> None:
    missing = [name for name, value in pairs if not value]
    if missing:
        raise LabelRefused(f"a patient label needs {', '.join(missing)}: none given.", hint=hint)


def build(*, kind: str, form: str, drug: str, quantity: str, beyond_use_date: dt.date | None,
          storage: str, findings: Iterable[str], compounded: dt.date | None, lot: str | None,
          prescription: Prescription, pharmacy: Pharmacy | None,
          missing_hint: str = "Give --rx, --patient and --directions.") -> LabelContent:
    """The checked content of a label (see the module notes for what is refused)."""
    if kind not in KINDS:
        raise InputError(f"label kind {kind!r}: use patient or stock.", field="kind")
    facts = form_facts(form)
    if beyond_use_date is None:
        raise LabelRefused("the beyond-use date is unknown, so no label can be printed "
                           "(USP <795>: every label states the BUD).",
                           hint="Give the compounding date so the BUD can be assigned.")
    lot_no = identifier(lot, "lot") if lot else None
    chosen = statements.choose(form=form, storage=storage, findings=findings, label=kind)
    storage_text = chosen[0] if chosen else storage
    common: dict[str, Any] = {"drug": drug, "dosage_form": facts["dosage_form"], "route": facts["route"],
              "quantity": quantity, "beyond_use_date": beyond_use_date, "storage": storage_text,
              "statements": tuple(s for s in chosen if s != storage_text),
              "compounded": compounded, "lot": lot_no, "pharmacy": pharmacy}
    if kind == "stock":
        if lot_no is None:
            raise LabelRefused("a stock label needs the lot number.")
        return LabelContent("stock", lot_no, **common)
    rx, patient = prescription.rx, prescription.patient
    directions = tuple(d for d in prescription.directions if d)
    _missing([("the Rx number", rx), ("the patient", patient), ("directions", directions)],
             missing_hint)
    if pharmacy is None:
        from compound.labels.pharmacy import require

        pharmacy = require()
        common["pharmacy"] = pharmacy
    rx_no = identifier(rx, "rx")
    return LabelContent("patient", rx_no, rx=rx_no, patient=patient, directions=directions,
                        prescriber=prescription.prescriber, **common)


def prescription(rx: Any = None, patient: Any = None, prescriber: Any = None,
                 directions: Any = ()) -> Prescription:
    """A prescription from what was typed, cleaned (see :func:`clean_text`)."""
    if isinstance(directions, str):
        directions = [directions]
    lines: list[str] = []
    for d in directions or ():
        lines += clean_text(d, "directions", lines=True)
    return Prescription(_optional(rx, "rx"), _optional(patient, "patient"),
                        _optional(prescriber, "prescriber"), tuple(lines))


def prescription_for(given: Prescription, recorded: Mapping[str, Any] | None = None) -> Prescription:
    """The prescription a lot's patient label prints: what was typed, and for each field left
    empty, the prescription the register recorded for the lot (``plan … --rx … --save``;
    ``Register.prescription_for_label``)."""
    if not recorded:
        return given
    kept = prescription(recorded.get("rx_number"), recorded.get("patient_name"),
                        recorded.get("prescriber"), recorded.get("directions") or ())
    return Prescription(given.rx or kept.rx, given.patient or kept.patient,
                        given.prescriber or kept.prescriber, given.directions or kept.directions)


def check_lot(lot: Lot) -> None:
    """Refuse a lot no label may be printed for (anything but released, expiry included)."""
    if lot.status in LABELLABLE:
        return
    hint = {
        "quarantine": f"Release it after the final check first: compound lots release "
                      f"{lot.lot_number} --by AB.",
        "expired": f"Its BUD was {lot.beyond_use_date.isoformat()}; destroy it.",
        "dispensed": "It has left the pharmacy.",
    }.get(lot.status, "It must not be used.")
    from compound.errors import RegisterError

    raise RegisterError(f"lot {lot.lot_number} is {lot.status}: no label may be printed for it.",
                        hint=hint)


def _fill_quantity(form: str, recorded: Mapping[str, Any] | None) -> float | None:
    """The recorded prescription's quantity per fill, when its unit is this form's."""
    if not recorded:
        return None
    unit = recorded.get("fill_unit")
    if unit != ("capsules" if form == "capsules" else "mL"):
        return None
    return _number(recorded.get("fill_quantity"))


def from_lot(lot: Lot, *, kind: str = "patient", given: Prescription | None = None,
             recorded: Mapping[str, Any] | None = None, pharmacy: Pharmacy | None = None) -> LabelContent:
    """The label content of a compounded lot from the register (``recorded``: its prescription
    as the register keeps it, for the fields ``given`` leaves empty)."""
    check_lot(lot)
    plan = lot.plan or {}
    inputs = plan.get("inputs") or {}
    form = lot.kind
    strength = _number(plan.get("actual_strength_mg")) or _number(plan.get("strength_hcl_mg"))
    drug = drug_text(form, strength, _number(plan.get("concentration_mg_per_ml")))
    fill = _fill_quantity(form, recorded) if kind == "patient" else None
    if fill is not None:
        dispensed = fill  # the patient receives one fill of the prescription, not the whole lot
    elif kind == "patient":
        dispensed = (_number(inputs.get("count")) if form == "capsules"
                     else _number(plan.get("dispensed_volume_ml")) or _number(plan.get("volume_ml")))
    else:
        dispensed = lot.quantity
    findings = [str(f.get("code")) for f in plan.get("findings") or () if isinstance(f, dict)]
    if pharmacy is None and kind == "stock":
        from compound.labels.pharmacy import load

        pharmacy = load()
    return build(kind=kind, form=form, drug=drug, quantity=quantity_text(form, dispensed),
                 beyond_use_date=lot.beyond_use_date, storage=lot.storage, findings=findings,
                 compounded=lot.compounded, lot=lot.lot_number,
                 prescription=prescription_for(given or Prescription(), recorded), pharmacy=pharmacy)


def copies_of(content: LabelContent, copies: int) -> list[LabelContent]:
    """``copies`` labels, each numbered "k of N"."""
    if not 1 <= copies <= 999:
        raise InputError(f"copies: {copies} is not between 1 and 999.", field="copies")
    return [content.numbered(k, copies) for k in range(1, copies + 1)]


def directions_from_titration(ladder: str, start: Any) -> list[str]:
    """Dated directions for a titration course (the same engine as ``compound titrate``)."""
    from compound.core.findings import Severity
    from compound.planning.titration import titrate

    plan = titrate(ladder, start=start)
    if plan.refused:
        raise LabelRefused("the titration is refused: " + "; ".join(
            f.message for f in plan.findings if f.severity == Severity.REFUSAL),
            hint="compound titrate shows why.")
    return list(plan.directions)
