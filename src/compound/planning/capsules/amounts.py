"""One row's amounts (:func:`amounts_for`) and its route, trituration and shortcut (:func:`extra_for`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from compound.core import capsules as core
from compound.core.rounding import json_number
from compound.planning import resolve
from compound.planning.capsules.context import CapsuleContext

# ---------------------------------------------------------------- one row -> plan parts


def _num(arr: Any, i: int) -> float | None:
    x = float(arr[i])
    return x if np.isfinite(x) else None


def _int(arr: Any, i: int) -> int | None:
    x = _num(arr, i)
    return None if x is None else int(x)


def _route(result: core.CapsuleResult, i: int) -> str:
    if not result.source_is_tablet[i]:
        return "api"
    return "whole-tablets" if result.whole_tablet_route[i] else "weighed"


def amounts_for(result: core.CapsuleResult, i: int, ctx: CapsuleContext) -> dict[str, float | None]:
    """Row ``i``'s amounts, unrounded, by JSON key (None where not applicable)."""
    r = result
    return {
        "strength_hcl_mg": _num(r.strength_hcl_mg, i),
        "capsules_needed": _int(r.capsules_needed, i),
        "capsules_to_prepare": _int(r.capsules_to_prepare, i),
        "api_required_mg": _num(r.api_required_mg, i),
        "actual_strength_mg": _num(r.actual_strength_mg, i),
        "tablets_to_crush": _int(r.tablets_to_crush, i),
        "tablet_powder_mg": _num(r.tablet_powder_mg, i),
        "powder_left_over_mg": _num(r.powder_left_over_mg, i),
        "api_factor": _num(r.api_factor, i),
        "api_to_weigh_mg": _num(r.api_to_weigh_mg, i),
        "minimum_weighable_quantity_mg": _num(r.mwq_mg, i),
        "fill_weight_mg": _num(r.fill_weight_mg, i),
        "fill_weight_low_mg": _num(r.fill_weight_low_mg, i),
        "fill_weight_high_mg": _num(r.fill_weight_high_mg, i),
        "active_powder_per_capsule_mg": _num(r.active_per_capsule_mg, i),
        "filler_per_capsule_mg": _num(r.filler_per_capsule_mg, i),
        "filler_total_mg": _num(r.filler_total_mg, i),
        "filler_to_add_mg": _num(r.filler_to_add_mg, i),
        "blend_total_mg": _num(r.blend_total_mg, i),
    }


def _pct(fraction: float | None) -> int | float | None:
    return None if fraction is None else json_number(fraction * 100)


def extra_for(result: core.CapsuleResult, i: int, ctx: CapsuleContext) -> dict[str, Any]:
    """Row ``i``'s nested objects, rounded for output: route, trituration, shortcut."""
    r = result
    trit = None
    if r.triturated[i]:
        t = {k: _num(v, i) for k, v in r.trituration.items()}
        trit = {
            "substance": "tablet powder" if r.source_is_tablet[i] else "API powder",
            "diluent": str(resolve.rule("trituration")["diluent"]),
            "stages": _int(r.trituration["stages"], i),
            "factor": _int(r.trituration["factor_per_stage"], i),
            "overall_factor": _int(r.trituration["overall_factor"], i),
            "required_mg": json_number(r.active_total_mg[i]),
            "drug_mg": json_number(t["drug_mg"]),  # type: ignore[arg-type]
            "diluent_mg": json_number(t["diluent_per_stage_mg"]),  # type: ignore[arg-type]
            "triturate_mg": json_number(t["triturate_per_stage_mg"]),  # type: ignore[arg-type]
            "carry_mg": json_number(t["carry_mg"]),  # type: ignore[arg-type]
            "aliquot_mg": json_number(t["aliquot_mg"]),  # type: ignore[arg-type]
            "diluent_carried_mg": json_number(t["diluent_carried_mg"]),  # type: ignore[arg-type]
        }
    shortcut = None
    if r.source_is_tablet[i]:
        shortcut = {
            "tablets": _int(r.shortcut_tablets, i),
            "capsules": _int(r.shortcut_capsules, i),
            "strength_mg": json_number(r.shortcut_strength_mg[i]),
            "error_pct": _pct(_num(r.shortcut_error, i)),
            "closest_capsules": _int(r.closest_capsules, i),
            "closest_strength_mg": json_number(r.closest_strength_mg[i]),
            "closest_error_pct": _pct(_num(r.closest_error, i)),
        }
    return {"route": _route(r, i), "fill_weight_method": ctx.fill_weight_method,
            "trituration": trit, "shortcut": shortcut}
