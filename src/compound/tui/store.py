"""The register, as the TUI's workers use it: each call opens it, does one thing, closes it.

These run in worker threads (never on the event loop: a register may be on a
slow disk or a network database) and return plain values for the screen to
show. Nothing here imports Textual.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from compound.labels import LabelContent
    from compound.labels.export import LabelOrder
    from compound.planning.base import Plan
    from compound.planning.stability import BudResult
    from compound.register import IngredientLot, Lot, LotSummary


def ingredient_lots(numbers: Sequence[str]) -> list[IngredientLot]:
    """The register's ingredient lots by number (RegisterError for an unknown one)."""
    from compound.register import Register

    with Register.open() as register:
        return [register.get_ingredient(n) for n in numbers]


def save_lot(plan: Plan, bud: BudResult, lots: Sequence[IngredientLot], *, by: str,
             checked_by: str | None, as_of: str = "", reason: str = "") -> str:
    """Record the calculated, dated plan as a lot in quarantine; returns its lot number.
    ``as_of`` and ``reason`` (empty: none) date a late entry as ``--as-of``/``--reason`` do."""
    from compound.register import Register
    from compound.register.from_plan import record_plan

    with Register.open() as register:
        return record_plan(register, plan, bud, compounded_by=by, checked_by=checked_by or None,
                           ingredient_lots=lots, as_of=as_of or None, reason=reason or None)


def lot_page(limit: int | None, offset: int = 0) -> tuple[list[LotSummary], int]:
    """A page of lots as table rows (all of them for ``limit=None``), and the total."""
    from compound.register import Register

    with Register.open() as register:
        return register.lot_summaries(limit=limit, offset=offset)


def existing_lot_page(limit: int) -> tuple[list[LotSummary], int] | None:
    """As :func:`lot_page`, from a register opened read-only: nothing is created or migrated
    (the app reads ahead before anyone asked for the register). None when there is no register
    at the latest version to read (the Lots screen then opens it as usual)."""
    from compound.errors import CompoundError
    from compound.register import Register

    try:
        with Register.open(read_only=True) as register:
            return register.lot_summaries(limit=limit)
    except (CompoundError, OSError):
        return None


def lot(number: str) -> Lot:
    from compound.register import Register

    with Register.open() as register:
        return register.get(number)


def move(action: str, number: str, *, by: str, reason: str | None, as_of: str = "") -> Lot:
    """Release, dispense or destroy a lot (``action`` names the register method); ``as_of``
    (empty: today by the real clock) dates a late entry, with the reason."""
    from compound.register import Register

    with Register.open() as register:
        method = {"release": register.release, "dispense": register.dispense,
                  "destroy": register.destroy}[action]
        return method(number, by, reason or None, as_of=as_of or None)


def dispense(number: str, *, by: str, quantity: str, rx: str, reason: str,
             as_of: str = "") -> Lot:
    """Dispense ``quantity`` as typed (all that remains when empty) to Rx ``rx`` (none when
    empty): the register parses the quantity as ``compound lots dispense --quantity`` does."""
    from compound.register import Register

    with Register.open() as register:
        return register.dispense(number, by, reason or None, quantity=quantity or None,
                                 rx=rx or None, as_of=as_of or None)


def released_lots() -> list[str]:
    """The numbers of the lots a label may be printed for (released), by BUD."""
    from compound.register import Register

    with Register.open() as register:
        return [lot.lot_number for lot in register.iter_lots("released")]


def label_lot(number: str) -> tuple[Lot, list[str]]:
    """The lot, and the Rx numbers recorded against it (made for, then dispensed to)."""
    from compound.labels.export import rx_numbers

    found = lot(number)
    return found, rx_numbers(found)


def label(order: LabelOrder) -> LabelContent:
    """The checked content of a lot's label, as ``compound labels`` builds it (RegisterError,
    LabelRefused or InputError when no label may be printed)."""
    from compound.labels.export import label_of
    from compound.register import Register

    with Register.open() as register:
        return label_of(register, order)


def save_label(order: LabelOrder, fmt: str, folder: Path, *, copies: int) -> Path:
    """Write the lot's label (read afresh) as ``fmt`` (pdf, zpl, csv) in ``folder``; returns the
    file (``LOT-stock.pdf``, ``LOT-RX.pdf``)."""
    from compound.labels.export import save

    return save(label(order), fmt, folder, copies=copies)
