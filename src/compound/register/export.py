"""Spreadsheet-safe CSV exports of the register (RFC 4180).

A cell a spreadsheet would evaluate as a formula (text starting with ``=``,
``+``, ``-``, ``@``, a tab, a carriage return or a NUL: CWE-1236, OWASP ASVS
1.2.10) gets a leading apostrophe. Quoting alone does not prevent evaluation.
Numbers and dates the tool formats itself are written as they are, so a
negative ``days_left`` stays a number. This is for exports people open in
Excel/Calc/Sheets; label-printer data files must not be neutralised this way
(the label would print the apostrophe).
"""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, Final

from compound.core.figures import format_number
from compound.register import views

FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r", "\0")

LOT_COLUMNS: Final = (
    "lot_number", "kind", "description", "status", "quantity", "quantity_unit", "compounded",
    "beyond_use_date", "days_left", "bud_limit", "bud_source", "stability_window_days",
    "window_used_pct", "storage", "compounded_by", "checked_by", "components", "remaining",
    "dispensed",
)
PATIENT_COLUMNS: Final = ("dispensed_to",)
"""Only with ``with_patients``: who received each lot (Rx, name, date of birth)."""
INGREDIENT_COLUMNS: Final = (
    "lot_number", "item", "item_kind", "name", "expiry", "expired", "supplier", "reference",
    "assay_pct", "water_pct", "tablet_weight_mg", "received", "received_by",
)


def neutralise_cell(value: str) -> str:
    """Text a spreadsheet will show, never evaluate."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return format_number(value)
    return neutralise_cell(str(value))


@contextlib.contextmanager
def _open(file: IO[str] | str | Path) -> Iterator[IO[str]]:
    if isinstance(file, (str, Path)):
        # A BOM so that Excel reads the file as UTF-8 (names such as "Avicel® PH-102").
        with Path(file).open("w", encoding="utf-8-sig", newline="") as fh:
            yield fh
    else:
        yield file


def write_rows(file: IO[str] | str | Path, columns: Sequence[str],
               rows: Iterable[dict[str, Any]]) -> int:
    count = 0
    with _open(file) as fh:
        writer = csv.writer(fh, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row.get(c)) for c in columns])
            count += 1
    return count


def _lot_row(lot: views.Lot) -> dict[str, Any]:
    row = lot.to_dict(full=False)
    row["components"] = "; ".join(
        f"{c.lot_number} {views.format_amount(c.amount, c.unit)}" for c in lot.components)
    row["dispensed"] = "; ".join(f"{d.dispensed_on.isoformat()} {_quantity(d)} by "
                                 f"{d.dispensed_by}" for d in lot.dispensings)
    row["dispensed_to"] = "; ".join(
        f"{d.dispensed_on.isoformat()} {d.rx_number} {d.patient_name} "
        f"({d.patient_dob.isoformat() if d.patient_dob else ''}) {_quantity(d)}"
        for d in lot.dispensings if d.rx_number)
    return row


def _quantity(d: views.Dispensing) -> str:
    from compound.register.prescriptions import show_quantity

    return show_quantity(d.quantity, d.quantity_unit)


def write_lots(file: IO[str] | str | Path, lots: Iterable[views.Lot], *,
               with_patients: bool = False) -> int:
    """One row per compounded lot, with its components as ``LOT amount; LOT amount`` and its
    dispensings as ``DATE quantity by AB``; patients (Rx, name, born) only ``with_patients``."""
    columns = LOT_COLUMNS + PATIENT_COLUMNS if with_patients else LOT_COLUMNS
    return write_rows(file, columns, (_lot_row(lot) for lot in lots))


def write_ingredients(file: IO[str] | str | Path, lots: Iterable[views.IngredientLot]) -> int:
    return write_rows(file, INGREDIENT_COLUMNS, (lot.to_dict() for lot in lots))


def to_text(columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    write_rows(buffer, columns, rows)
    return buffer.getvalue()
