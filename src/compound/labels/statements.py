"""Auxiliary statements (storage, protect from light, shake well, …) from data/label_statements.csv."""

from __future__ import annotations

from collections.abc import Iterable

from compound.catalog import loader
from compound.errors import CatalogError

TABLE = "label_statements"


def _matches(cell: str, value: str) -> bool:
    return cell.strip() == "*" or value in {v.strip() for v in cell.split(";")}


_chosen: dict[tuple[str, str, frozenset[str], str], tuple[str, ...]] = {}
_chosen_from: list[object] = [None]
"""The statements chosen so far, for the table object they were chosen from: a batch of
thousands of labels asks the same few questions, and a reloaded catalog starts afresh."""


def choose(*, form: str, storage: str, findings: Iterable[str], label: str) -> tuple[str, ...]:
    """The statements a ``label`` ("patient" or "stock") of this form and storage carries, in order.

    Exactly one storage statement must match: the label must say how to store the preparation.
    """
    rows = loader.table(TABLE)
    if _chosen_from[0] is not rows:
        _chosen.clear()
        _chosen_from[0] = rows
    key = (form, storage, frozenset(findings), label)
    if key not in _chosen:
        _chosen[key] = _choose(rows, form=form, storage=storage, codes=key[2], label=label)
    return _chosen[key]


def _choose(rows: Iterable[dict[str, str]], *, form: str, storage: str, codes: frozenset[str],
            label: str) -> tuple[str, ...]:
    chosen = []
    for row in rows:
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
