"""Auxiliary statements (storage, protect from light, shake well, …) from data/label_statements.csv."""

from __future__ import annotations

from collections.abc import Iterable

from compound.catalog import loader
from compound.errors import CatalogError

TABLE = "label_statements"


def _matches(cell: str, value: str) -> bool:
    return cell.strip() == "*" or value in {v.strip() for v in cell.split(";")}


def choose(*, form: str, storage: str, findings: Iterable[str], label: str) -> tuple[str, ...]:
    """The statements a ``label`` ("patient" or "stock") of this form and storage carries, in order.

    Exactly one storage statement must match: the label must say how to store the preparation.
    """
    codes = set(findings)
    chosen = []
    for row in loader.table(TABLE):
        wanted = {c.strip() for c in row.get("findings", "").split(";") if c.strip()}
        if (_matches(row.get("forms", ""), form) and _matches(row.get("storage", ""), storage)
                and _matches(row.get("labels", ""), label) and (not wanted or wanted & codes)):
            chosen.append(row)
    storage_rows = [r for r in chosen if r.get("role") == "storage"]
    if len(storage_rows) != 1:
        raise CatalogError(
            f"{TABLE}.csv has {len(storage_rows)} storage statements for {form} stored {storage!r}; "
            "a label needs exactly one.",
            hint="Add (or remove) a row with role storage for this storage in your overlay.")
    try:
        chosen.sort(key=lambda r: float(r.get("order") or 0))
    except ValueError:
        raise CatalogError(f"{TABLE}.csv: an order is not a number.") from None
    return tuple(r["text"] for r in chosen)
