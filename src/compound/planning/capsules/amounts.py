"""One row's amounts (:func:`amounts_for`) and its route, trituration and shortcut (:func:`extra_for`)."""

from __future__ import annotations

import math
from typing import Any

from compound.core import capsules as core
from compound.core.rounding import json_number
from compound.planning import resolve
from compound.planning.capsules.context import CapsuleContext

# ---------------------------------------------------------------- one row -> plan parts


def _num(x: float) -> float | None:
    """A number of one plan's result, None where not applicable (NaN)."""
    return x if math.isfinite(x) else None


def _int(x: float) -> int | None:
    return int(x) if math.isfinite(x) else None


def _route(r: core.CapsuleResult) -> str:
    """The route of a one-plan result (:meth:`~compound.core.capsules.CapsuleResult.at`)."""
    if not r.source_is_tablet:
        return "api"
    return "whole-tablets" if r.whole_tablet_route else "weighed"


def amounts_for(result: core.CapsuleResult, i: int, ctx: CapsuleContext) -> dict[str, float | None]:
    """Row ``i``'s amounts, unrounded, by JSON key (None where not applicable)."""
    r = result.at(i)
    return {
        "strength_hcl_mg": _num(r.strength_hcl_mg),
        "capsules_needed": _int(r.capsules_needed),
        "capsules_to_prepare": _int(r.capsules_to_prepare),
        "api_required_mg": _num(r.api_required_mg),
        "actual_strength_mg": _num(r.actual_strength_mg),
        "tablets_to_crush": _int(r.tablets_to_crush),
        "tablet_powder_mg": _num(r.tablet_powder_mg),
        "powder_left_over_mg": _num(r.powder_left_over_mg),
        "api_factor": _num(r.api_factor),
        "api_to_weigh_mg": _num(r.api_to_weigh_mg),
        "minimum_weighable_quantity_mg": _num(r.mwq_mg),
        "fill_weight_mg": _num(r.fill_weight_mg),
        "fill_weight_low_mg": _num(r.fill_weight_low_mg),
        "fill_weight_high_mg": _num(r.fill_weight_high_mg),
        "active_powder_per_capsule_mg": _num(r.active_per_capsule_mg),
        "filler_per_capsule_mg": _num(r.filler_per_capsule_mg),
        "filler_total_mg": _num(r.filler_total_mg),
        "filler_to_add_mg": _num(r.filler_to_add_mg),
        "blend_total_mg": _num(r.blend_total_mg),
    }


def _pct(fraction: float | None) -> int | float | None:
    return None if fraction is None else json_number(fraction * 100)


def extra_for(result: core.CapsuleResult, i: int, ctx: CapsuleContext) -> dict[str, Any]:
    """Row ``i``'s nested objects, rounded for output: route, trituration, shortcut."""
    r = result.at(i)
    trit = None
    if r.triturated:
        t = r.trituration
        trit = {
            "substance": "tablet powder" if r.source_is_tablet else "API powder",
            "diluent": str(resolve.rule("trituration")["diluent"]),
            "stages": _int(t["stages"]),
            "factor": _int(t["factor_per_stage"]),
            "overall_factor": _int(t["overall_factor"]),
            "required_mg": json_number(r.active_total_mg),
            "drug_mg": json_number(t["drug_mg"]),
            "diluent_mg": json_number(t["diluent_per_stage_mg"]),
            "triturate_mg": json_number(t["triturate_per_stage_mg"]),
            "carry_mg": json_number(t["carry_mg"]),
            "aliquot_mg": json_number(t["aliquot_mg"]),
            "diluent_carried_mg": json_number(t["diluent_carried_mg"]),
        }
    shortcut = None
    if r.source_is_tablet:
        shortcut = {
            "tablets": _int(r.shortcut_tablets),
            "capsules": _int(r.shortcut_capsules),
            "strength_mg": json_number(r.shortcut_strength_mg),
            "error_pct": _pct(_num(r.shortcut_error)),
            "closest_capsules": _int(r.closest_capsules),
            "closest_strength_mg": json_number(r.closest_strength_mg),
            "closest_error_pct": _pct(_num(r.closest_error)),
        }
    return {"route": _route(r), "fill_weight_method": ctx.fill_weight_method,
            "trituration": trit, "shortcut": shortcut}
