"""Plausibility at receipt: a CoA figure or a tablet weight that cannot be right is refused.

A slip made when a lot is received (992 % for 99.2 %, 87 % water for 8.7 %, 2000 mg
for a 200 mg tablet) would otherwise sit in the register until a plan used it. The
limits are data: rules.toml ``[receipt]`` (assay, water), a product's own
``coa_assay_low_pct`` / ``coa_assay_high_pct`` / ``coa_water_max_pct`` where it has
them, and its ``tablet_weight_min_mg`` / ``tablet_weight_max_mg`` (products.csv).
"""

from __future__ import annotations

from compound.catalog import loader
from compound.catalog.loader import number
from compound.core.figures import format_mass, format_percent
from compound.errors import CatalogError, InputError
from compound.register.items import Item


def _limit(item: Item, column: str, fallback: float) -> float:
    """The product's own limit when its row has one, else the fallback (rules.toml or none)."""
    if item.row.get(column, "").strip():
        return number(item.row, column, table_name="products")
    return float(fallback)


def _pct(fraction: float) -> float:
    """A fraction as a percentage without float noise (1.1 -> 110, not 110.00000000000001)."""
    return round(fraction * 100, 9)


def check_coa(item: Item, assay: float | None, water: float | None) -> None:
    """Assay and water (fractions) inside the product's CoA limits, else rules [receipt]."""
    try:
        rule = loader.rules()["receipt"]
    except KeyError:
        raise CatalogError("rules.toml has no section [receipt].") from None
    if assay is not None:
        low = _limit(item, "coa_assay_low_pct", rule["assay_low_pct"])
        high = _limit(item, "coa_assay_high_pct", rule["assay_high_pct"])
        if not low <= _pct(assay) <= high:
            raise InputError(
                f"assay: {format_percent(assay)} is outside {low:g}–{high:g} %, the range a CoA "
                f"assay of {item.key} can have.",
                hint="Type the assay as printed on the certificate, e.g. 99.2% (not 992%).",
                field="assay")
    if water is not None:
        low = float(rule["water_low_pct"])
        high = _limit(item, "coa_water_max_pct", rule["water_high_pct"])
        if not low <= _pct(water) <= high:
            raise InputError(
                f"water: {format_percent(water)} is outside {low:g}–{high:g} %, the range a CoA "
                f"water content of {item.key} can have.",
                hint="Type the water content as printed on the certificate, e.g. 8.71%.",
                field="water")


def check_tablet_weight(item: Item, weight_mg: float) -> None:
    """The measured average tablet weight inside the product's range (and above its drug)."""
    strength = number(item.row, "strength_mg", table_name="products")
    low = _limit(item, "tablet_weight_min_mg", 0.0)
    high = _limit(item, "tablet_weight_max_mg", float("inf"))
    if not weight_mg > strength:
        raise InputError(
            f"tablet_weight: {format_mass(weight_mg)} is not more than the "
            f"{format_mass(strength)} of drug each tablet contains.",
            hint="Weigh at least 20 tablets together and divide by the number weighed.",
            field="tablet_weight")
    if not low <= weight_mg <= high:
        raise InputError(
            f"tablet_weight: {format_mass(weight_mg)} is outside {format_mass(low)}–"
            f"{format_mass(high)}, the range an average {item.key} weight can have.",
            hint="Weigh at least 20 tablets together, divide by the number weighed and type it "
                 "in mg, e.g. 200mg.", field="tablet_weight")
