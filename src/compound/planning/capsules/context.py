"""What a plan is resolved against: the catalog's rules, the fill weight, :class:`CapsuleContext`."""

from __future__ import annotations

from dataclasses import dataclass

from compound.catalog.loader import Row, number
from compound.core import capsules as core
from compound.core.rounding import format_number
from compound.core.safety import DoseBand
from compound.planning import resolve

FILL_METHODS = ("given", "pack-stat", "volume-x-density")


@dataclass(frozen=True)
class CapsuleContext:
    """What one row (or every row sharing these options) was resolved against."""

    salts: resolve.Salts
    balance: resolve.Balance
    bands: tuple[DoseBand, ...]
    product: Row
    filler: Row
    capsule_size: Row
    fill_weight_method: str
    fill_weight_source: str
    route_given: bool = False
    basis: str = "hcl"
    api_form: str = "anhydrous"
    opioid_reason: str | None = None
    tablet_weight_source: str = "measured average tablet weight, given by the pharmacist"


# ---------------------------------------------------------------- catalog -> core


def capsule_rules(bands: tuple[DoseBand, ...] | None = None) -> core.CapsuleRules:
    """The run's constants from molecules.csv and rules.toml."""
    s = resolve.salts()
    wv, pot, hyd = resolve.rule("weight_variation"), resolve.rule("potency"), resolve.rule("hydrate")
    assay, shortcut, trit = resolve.rule("api_assay"), resolve.rule("shortcut"), resolve.rule("trituration")
    return core.CapsuleRules(
        mw_hcl=s.mw_hcl, mw_base=s.mw_base, dihydrate_water=s.dihydrate_water,
        dose_bands=tuple(resolve.dose_bands()) if bands is None else bands,
        weight_low=float(wv["low_pct"]) / 100, weight_high=float(wv["high_pct"]) / 100,
        potency_low=float(pot["low_pct"]) / 100, potency_high=float(pot["high_pct"]) / 100,
        hydrate_mismatch_water=float(hyd["mismatch_water_fraction"]),
        dihydrate_water_tolerance=float(hyd["dihydrate_water_tolerance"]),
        assay_low=float(assay["low_pct"]) / 100, assay_high=float(assay["high_pct"]) / 100,
        assay_max_plausible=float(assay["max_plausible_pct"]) / 100,
        shortcut_warn_error=float(shortcut["warn_error_pct"]) / 100,
        max_trituration_factor=float(trit["max_factor_per_stage"]),
    )


def resolve_fill_weight(fill_weight_mg: float | None, filler: Row, size: Row) -> tuple[float, str, str]:
    """``(mg, method, source)``: given, else the pharmacy's pack statistic, else volume × density."""
    if fill_weight_mg is not None:
        return fill_weight_mg, "given", "given by the pharmacist (--fill-weight)"
    stat = resolve.pack_stat(filler["key"], size["key"])
    if stat is not None:
        where = ", ".join([*([f"lot {stat['lot']}"] if stat.get("lot") else []),
                           *([f"measured {stat['measured_on']}"] if stat.get("measured_on") else [])])
        return (number(stat, "fill_weight_mg", table_name="pack_stats"), "pack-stat",
                f"pack_stats.csv row {stat['key']!r} ({filler['key']}, #{size['key']}"
                f"{', ' + where if where else ''}): {stat['source']}")
    volume = number(size, "volume_ml", table_name="capsule_sizes")
    density = number(filler, "bulk_density_g_per_ml", table_name="excipients")
    return (volume * density * 1000.0, "volume-x-density",
            f"capsule_sizes.csv #{size['key']} {format_number(volume)} mL: {size['source']}; "
            f"excipients.csv {filler['key']} bulk density {format_number(density)} g/mL: {filler['source']}")
