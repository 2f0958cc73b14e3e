"""What an ingredient lot is a lot *of*: a catalog product, excipient or vehicle.

Products (tablets, API powders) come from ``products.csv``, fillers from
``excipients.csv`` (key or alias) and liquid vehicles from ``vehicles.csv``
when the catalog has one. The register keeps the key, the name and the kind
(tablet | api | excipient | vehicle) as they were on the day of receipt.
"""

from __future__ import annotations

from dataclasses import dataclass

from compound import paths
from compound.catalog import loader
from compound.catalog.loader import Row
from compound.errors import InputError


@dataclass(frozen=True, slots=True)
class Item:
    key: str
    kind: str
    name: str
    row: Row


def _has_table(name: str) -> bool:
    dirs = [paths.data_dir(), *paths.overlay_dirs()]
    return any((d / f"{name}.csv").exists() for d in dirs)


def _match(name: str, wanted: str) -> Row | None:
    for row in loader.table(name):
        aliases = {a.strip().lower() for a in row.get("aliases", "").split(";") if a.strip()}
        if wanted == row["key"].lower() or wanted in aliases:
            return row
    return None


def resolve_item(key: str) -> Item:
    """The catalog entry for a product, excipient or vehicle key (or alias)."""
    wanted = key.strip().lower() if isinstance(key, str) else ""
    product = _match("products", wanted) if wanted else None
    if product is not None:
        return Item(product["key"], product.get("kind", "api") or "api", product["name"], product)
    excipient = _match("excipients", wanted) if wanted else None
    if excipient is not None:
        return Item(excipient["key"], "excipient", excipient["name"], excipient)
    if wanted and _has_table("vehicles"):
        vehicle = _match("vehicles", wanted)
        if vehicle is not None:
            return Item(vehicle["key"], "vehicle", vehicle.get("name", vehicle["key"]), vehicle)
    known = [r["key"] for r in loader.table("products")] + [
        r["key"] for r in loader.table("excipients")]
    if _has_table("vehicles"):
        known += [r["key"] for r in loader.table("vehicles")]
    raise InputError(
        f"{key!r} is not a product, excipient or vehicle in the catalog.",
        hint=f"Known: {', '.join(known)}.", field="item",
    )


def capsule_size(size: str) -> str:
    """A capsule size the catalog knows (``3`` or ``#3`` -> ``3``)."""
    from compound.planning import resolve  # numpy (its findings): only when receiving a filler

    return resolve.capsule_size(str(size))["key"]
