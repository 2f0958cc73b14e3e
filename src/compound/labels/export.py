"""A lot's label read from the register, to preview or to file.

``compound labels LOT`` and the TUI's Labels screen both call this module, so
they print the same content and refuse alike: only a released lot, a patient
label only with the Rx number, patient and directions (typed, or recorded
against the lot in the register), and never a label cut short.

The register is handed in (labels sit beside the register in the layers, so
this module does not import it): anything with ``get`` and
``prescription_for_label``, as :class:`compound.register.Register` has.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from compound.labels import content as content_
from compound.labels.content import LabelContent, Prescription


class LabelSource(Protocol):
    """What a label reads of the register (``compound.register.Register``)."""

    def get(self, lot: str) -> Any: ...

    def prescription_for_label(self, lot: str, rx: str | None = None) -> dict[str, Any] | None: ...


@dataclass(frozen=True)
class LabelOrder:
    """Which label of which lot: ``compound labels``' arguments, or the Labels screen's fields."""

    lot: str
    kind: str = "patient"
    """``patient`` or ``stock``."""
    rx: str | None = None
    patient: str | None = None
    prescriber: str | None = None
    directions: Sequence[str] = ()


def recorded_prescription(register: LabelSource, lot: str, rx: str | None) -> dict[str, Any] | None:
    """The prescription the register holds for the lot: the one it was made for, or (``rx``) one
    it was dispensed to (RegisterError for an Rx it was neither). None when the lot was recorded
    without one: the label prints what was typed."""
    made_for = register.prescription_for_label(lot)
    if made_for is None or rx is None or rx.strip() == made_for.get("rx_number"):
        return made_for
    return register.prescription_for_label(lot, rx)


def label_of(register: LabelSource, order: LabelOrder) -> LabelContent:
    """The checked content of the lot's label (RegisterError, LabelRefused or InputError when
    no label may be printed: see :mod:`compound.labels.content`)."""
    found = register.get(order.lot)
    if order.kind == "stock":
        return content_.from_lot(found, kind="stock", given=Prescription())
    recorded = recorded_prescription(register, found.lot_number, order.rx)
    given = content_.prescription(order.rx, order.patient, order.prescriber, order.directions)
    return content_.from_lot(found, kind=order.kind, given=given, recorded=recorded)


def rx_numbers(lot: Any) -> list[str]:
    """The prescriptions a lot's patient label may be for: the one it was made for, then each
    one it was dispensed to, in the order they were recorded (each once)."""
    made_for = ((lot.plan or {}).get("prescription") or {}).get("rx_number")
    found = [made_for] if made_for else []
    for dispensing in lot.dispensings:
        if dispensing.rx_number and dispensing.rx_number not in found:
            found.append(dispensing.rx_number)
    return found


def file_name(label: LabelContent, fmt: str) -> str:
    """``LOT-stock.pdf`` or ``LOT-RX.pdf``: a file name for the label that says which it is."""
    which = "stock" if label.kind == "stock" else label.identifier
    return f"{label.lot or label.identifier}-{which}.{fmt}".replace("/", "_").replace(" ", "_")


def render(label: LabelContent, fmt: str, *, copies: int = 1, dpi: int = 203,
           layout: str = "roll") -> bytes:
    """``copies`` of the label (numbered "k of N") as the bytes of a PDF, ZPL or CSV file."""
    from compound.labels.output import render_contents

    return render_contents(content_.copies_of(label, copies), fmt, dpi=dpi, layout=layout)


def save(label: LabelContent, fmt: str, folder: Path, *, copies: int = 1) -> Path:
    """Write the label in ``folder`` (created if missing) as :func:`file_name`, whole or not at
    all; returns the file."""
    from compound.labels.files import write_atomic

    data = render(label, fmt, copies=copies)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / file_name(label, fmt)
    write_atomic(path, data)
    return path
