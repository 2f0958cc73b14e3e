"""Spreadsheet-safe CSV exports of the register (RFC 4180).

A cell a spreadsheet would evaluate as a formula gets a leading apostrophe
(the rule of :mod:`compound.spreadsheet`: ``=``, ``+``, ``-``, ``@`` or their
full-width forms, also after leading spaces or line feeds; a tab, CR, LF or
NUL first: CWE-1236, OWASP ASVS 1.2.10). Quoting alone does not prevent
evaluation. Identifiers a spreadsheet would turn into numbers or dates (lot
``1E5``, ``0001``, ``3/4``) get one too, so they stay text as typed. Numbers
and dates the tool formats itself are written as they are, so a negative
``days_left`` stays a number. This is for exports people open in
Excel/Calc/Sheets; label-printer data files must not be neutralised this way
(the label would print the apostrophe).

A file is written whole or not at all: into a new temporary file beside it
(``mkstemp``: created, never reused), then renamed over the target. The
rename replaces a symlink at the target, never the file it points to. An
existing device or pipe (``/dev/stdout``) is written as it is.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, Final

from compound.core.figures import format_number
from compound.errors import InputError
from compound.register import views
from compound.spreadsheet import identifier_cell, neutralise_cell

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
#: Identifiers: kept as text exactly as typed (a spreadsheet would read 0001 as 1, 3/4 as a date).
IDENTIFIER_COLUMNS: Final = frozenset({"lot_number", "item", "reference"})

__all__ = ["neutralise_cell"]


def _cell(value: Any, identifier: bool = False) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return format_number(value)
    return identifier_cell(str(value)) if identifier else neutralise_cell(str(value))


@contextlib.contextmanager
def _open(file: IO[str] | str | Path) -> Iterator[IO[str]]:
    if not isinstance(file, (str, Path)):
        yield file
        return
    # A BOM so that Excel reads the file as UTF-8 (names such as "Avicel® PH-102").
    target = Path(file)
    try:
        if _is_device(target):
            with target.open("w", encoding="utf-8-sig", newline="") as fh:
                yield fh
            return
        mode = _mode_for(target)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise _not_written(target, exc) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as fh:
            yield fh
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise _not_written(target, exc) from None
        raise


def _is_device(path: Path) -> bool:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False
    return not (stat.S_ISREG(info.st_mode) or stat.S_ISLNK(info.st_mode) or stat.S_ISDIR(info.st_mode))


def _mode_for(target: Path) -> int:
    """The replaced file's permissions, or what a new file gets (0666 less the umask)."""
    try:
        info = os.lstat(target)
        if stat.S_ISREG(info.st_mode):
            return stat.S_IMODE(info.st_mode)
    except FileNotFoundError:
        pass
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _not_written(target: Path, exc: OSError) -> InputError:
    shown = str(target) if len(str(target)) <= 80 else "…" + str(target)[-79:]
    return InputError(f"cannot write {shown}: {exc.strerror or exc}.",
                      hint="Check that the folder exists and can be written to.")


def write_rows(file: IO[str] | str | Path, columns: Sequence[str],
               rows: Iterable[dict[str, Any]]) -> int:
    count = 0
    with _open(file) as fh:
        writer = csv.writer(fh, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row.get(c), c in IDENTIFIER_COLUMNS) for c in columns])
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
