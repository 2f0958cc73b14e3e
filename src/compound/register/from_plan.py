"""Record a planned, dated preparation as a compounded lot.

``compound plan … --compounded DATE --save --by AB`` ends here. The amounts
consumed from each ingredient lot are read from the plan by what the lot is a
lot of (tablets, API powder, a filler, a vehicle), so the record says exactly
what the worksheet said to weigh.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from compound.errors import InputError, RegisterError
from compound.planning.base import Plan
from compound.planning.dating import describe
from compound.planning.stability import BudResult
from compound.register.lots import Register, bud_fields
from compound.register.views import IngredientLot


def _number(plan: Plan, *keys: str) -> float | None:
    for key in keys:
        value = plan.amounts.get(key)
        if value is not None and not (isinstance(value, float) and math.isnan(value)):
            return float(value)
    return None


def amount_used(plan: Plan, lot: IngredientLot) -> tuple[float, str]:
    """How much of an ingredient lot the plan consumes, in the unit it is counted in."""
    trituration = plan.extra.get("trituration") or {}
    if lot.item_kind == "tablet":
        value, unit = _number(plan, "tablets_to_crush"), "tablet"
    elif lot.item_kind == "api":
        drug = trituration.get("drug_mg") if trituration.get("substance") != "tablet powder" else None
        value = float(drug) if drug else _number(plan, "api_to_weigh_mg", "api_mg")
        unit = "mg"
    elif lot.item_kind == "excipient":
        value, unit = _number(plan, "filler_total_mg"), "mg"
    elif lot.item_kind == "vehicle":
        value, unit = _number(plan, "volume_ml"), "mL"
    else:
        value, unit = None, ""
    if value is None or value <= 0:
        raise InputError(
            f"ingredient lot {lot.lot_number} ({lot.item_name}) is not used by this "
            f"{plan.kind} plan.",
            hint="Name only the lots the worksheet uses (--ingredient-lot).", field="ingredient_lot")
    return value, unit


def quantity_made(plan: Plan) -> tuple[float, str]:
    if plan.kind == "capsules":
        return float(plan.amounts["capsules_to_prepare"] or 0), "capsule"
    volume = _number(plan, "volume_ml")
    if volume is None:
        raise InputError(f"the {plan.kind} plan has no volume to record.")
    return volume, "mL"


def record_plan(register: Register, plan: Plan, bud: BudResult, *, compounded_by: str,
                checked_by: str | None, ingredient_lots: Sequence[IngredientLot],
                as_of: Any = None, reason: str | None = None) -> str:
    """Record the lot in quarantine and return its lot number. A refused plan is never saved.

    ``as_of`` and ``reason`` date a lot entered late (see :mod:`compound.register.entry`).
    """
    if plan.refused:
        raise RegisterError("a refused plan is not recorded as a lot.",
                            hint="Resolve the refusal shown in the findings first.")
    quantity, unit = quantity_made(plan)
    components = [(lot.lot_number, *amount_used(plan, lot)) for lot in ingredient_lots]
    plan_record: dict[str, Any] = plan.to_dict()
    return register.record_lot(
        kind=plan.kind, description=describe(plan), quantity=quantity, quantity_unit=unit,
        plan=plan_record, compounded=bud.compounded, compounded_by=compounded_by,
        checked_by=checked_by, components=components, as_of=as_of, reason=reason,
        **bud_fields(bud))
