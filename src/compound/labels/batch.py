"""Patient labels for a batch run: one per ``ok`` or ``warning`` row of its worksheet.csv.

A batch row is a prescription, not a lot in the register: its label's
barcode and identification number is the Rx number. A row whose status is
``refused`` or ``error`` gets no label (it is already in the worksheet and
errors.csv). A row that is planned but lacks a field its label needs (Rx
number, patient, directions, the compounding date and so the BUD) is
reported as a label error, with its row number, and gets no label; the other
rows' labels are made.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from compound.errors import CompoundError, InputError
from compound.labels import content
from compound.labels.pharmacy import Pharmacy, require
from compound.spreadsheet import identifier_cell, neutralise_cell

LABELLED: Final = ("ok", "warning")
NEEDED: Final = {"rx": "the Rx number", "patient": "the patient", "directions": "directions",
                 "compounded": "the compounding date (and so the BUD)"}


@dataclass(frozen=True)
class LabelError:
    row: int
    column: str
    value: str
    error: str


@dataclass
class BatchLabels:
    rows: list[tuple[int, content.LabelContent]] = field(default_factory=list)
    """(row number, label) of every row that gets a label."""
    errors: list[LabelError] = field(default_factory=list)

    @property
    def contents(self) -> list[content.LabelContent]:
        return [c for _, c in self.rows]

    def render(self, fmt: str, *, copies: int = 1, dpi: int = 203, layout: str = "roll") -> bytes | None:
        """The labels as one file (None when no row has one). A row whose label cannot be laid
        out or drawn (too long, a character the PDF fonts lack) moves to the errors."""
        from compound.labels import output, pdf, table, zpl
        from compound.labels.layout import lay_out

        kept: list[Any] = []
        for number, label in list(self.rows):
            try:
                copies_of = content.copies_of(label, copies)
                if fmt == "csv":
                    table.check(label)
                    kept += copies_of
                    continue
                laid = [lay_out(c) for c in copies_of]
                if fmt == "pdf":
                    pdf.check_drawable(laid[:1])
                kept += laid
            except CompoundError as exc:
                self.rows.remove((number, label))
                self.errors.append(LabelError(number, getattr(exc, "field", None) or "label", "",
                                              f"label: {exc}"))
        self.errors.sort(key=lambda e: e.row)
        if not kept:
            return None
        if fmt == "csv":
            return output.render_contents(kept, fmt)
        if fmt == "zpl":
            return zpl.render(kept, dpi=dpi)
        return pdf.render(kept, layout=layout)


def _cell(row: Mapping[str, str | None], name: str) -> str:
    """A worksheet cell as it was typed: the spreadsheet's apostrophe taken off again."""
    text = row.get(name) or ""
    if text.startswith("'") and text in (neutralise_cell(text[1:]), identifier_cell(text[1:])):
        return text[1:]
    return text


def _float(row: Mapping[str, str | None], name: str) -> float | None:
    try:
        return float(_cell(row, name))
    except ValueError:
        return None


def label_for(row: Mapping[str, str | None], pharmacy: Pharmacy) -> content.LabelContent:
    """One planned worksheet row's patient label, or a CompoundError saying why not."""
    form = _cell(row, "form")
    missing = [name for name in NEEDED if not _cell(row, name).strip()]
    if missing:
        raise InputError(f"label: no {', '.join(NEEDED[m] for m in missing)}; the row gets no label.",
                         field=missing[0])
    drug = content.drug_text(form, _float(row, "actual_strength_mg") or _float(row, "strength_hcl_mg"),
                             _float(row, "concentration_mg_per_ml"))
    amount = (_float(row, "capsules_prescribed") if form == "capsules"
              else _float(row, "dispensed_volume_ml") or _float(row, "volume_ml"))
    bud = _cell(row, "beyond_use_date")
    return content.build(
        kind="patient", form=form, drug=drug, quantity=content.quantity_text(form, amount),
        beyond_use_date=dt.date.fromisoformat(bud) if bud else None,
        storage=_cell(row, "bud_storage") or "room",
        findings=[c for c in _cell(row, "finding_codes").split(";") if c],
        compounded=dt.date.fromisoformat(_cell(row, "compounded")), lot=None,
        prescription=content.prescription(_cell(row, "rx"), _cell(row, "patient"),
                                          _cell(row, "prescriber"), _cell(row, "directions")),
        pharmacy=pharmacy)


def labels_from_rows(rows: Iterable[Mapping[str, str | None]]) -> BatchLabels:
    pharmacy = require()
    out = BatchLabels()
    for n, row in enumerate(rows, start=1):
        if _cell(row, "status") not in LABELLED:
            continue
        number = int(_cell(row, "row") or n)
        try:
            out.rows.append((number, label_for(row, pharmacy)))
        except CompoundError as exc:
            column = getattr(exc, "field", None) or "label"
            out.errors.append(LabelError(number, column, _cell(row, column) if column in row else "",
                                         f"label: {exc}" if not str(exc).startswith("label:") else str(exc)))
    return out


def labels_from_worksheet(path: str | Path) -> BatchLabels:
    """The labels of a batch run's worksheet.csv (as ``compound batch`` wrote it)."""
    try:
        with Path(path).open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or "status" not in reader.fieldnames:
                raise InputError(f"{path} is not a batch worksheet (no status column).",
                                 hint="Give the worksheet.csv that compound batch wrote.")
            return labels_from_rows(reader)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}.") from None
