"""Record a planned, dated preparation as a compounded lot.

``compound plan … --compounded DATE --save --by AB`` ends here. The amounts
consumed from each ingredient lot are read from the plan by what the lot is a
lot of (tablets, API powder, a filler, a vehicle), so the record says exactly
what the worksheet said to weigh.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from compound.core.rounding import format_number
from compound.core.units import parse
from compound.errors import InputError, RegisterError
from compound.planning.base import Plan
from compound.planning.dating import describe
from compound.planning.stability import BudResult
from compound.register import validate
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


def lot_options(values: Sequence[str]) -> tuple[tuple[str, ...], dict[str, str]]:
    """``--ingredient-lot LOT`` or ``LOT=AMOUNT`` options: the lot numbers, and the amounts given.

    A lot named twice is refused (its amount would be recorded twice).
    """
    names: list[str] = []
    amounts: dict[str, str] = {}
    for value in values:
        lot, sep, amount = str(value).partition("=")
        lot = lot.strip()
        if sep and not amount.strip():
            raise InputError(f"--ingredient-lot {value}: no amount after '='.",
                             hint="Type LOT=AMOUNT, e.g. MCC77=1271mg, or just the lot.",
                             field="ingredient_lot")
        names.append(lot)
        if sep:
            amounts[lot.upper()] = amount.strip()
    validate.distinct_lots(names)
    return tuple(names), amounts


def components_for(plan: Plan, lots: Sequence[IngredientLot],
                   amounts: Mapping[str, str]) -> list[tuple[str, float, str]]:
    """``(lot, amount, unit)`` for each lot: the plan's amount, or the split the pharmacist gave.

    Two lots of one kind (two filler lots) share the plan's amount: each must say how much
    was used (``MCC77=1271mg``), and the amounts must add up to the plan's (as printed, to 4
    significant figures); each lot recording the whole amount would double it.
    """
    groups: dict[str, list[IngredientLot]] = {}
    for lot in lots:
        groups.setdefault(lot.item_kind, []).append(lot)
    out: list[tuple[str, float, str]] = []
    for group in groups.values():
        total, unit = amount_used(plan, group[0])
        given = {lot.lot_number: amounts.get(lot.lot_number.upper()) for lot in group}
        if len(group) == 1 and given[group[0].lot_number] is None:
            out.append((group[0].lot_number, total, unit))
            continue
        names = " and ".join(lot.lot_number for lot in group)
        if any(v is None for v in given.values()):
            raise InputError(
                f"{names} are lots of the same {group[0].item_kind}: the plan uses "
                f"{format_number(total)} {unit} of it in all, and each lot would record all of it.",
                hint="Say how much came from each: " + " ".join(
                    f"--ingredient-lot {lot.lot_number}=AMOUNT" for lot in group)
                + f" (together {format_number(total)} {unit}).", field="ingredient_lot")
        split = [(lot.lot_number, _amount_in(str(given[lot.lot_number]), unit)) for lot in group]
        added = sum(a for _, a in split)
        if format_number(added) != format_number(total):
            raise InputError(
                f"the amounts given for {names} add up to {format_number(added)} {unit}, but the "
                f"plan uses {format_number(total)} {unit}.",
                hint="Give amounts that add up to the plan's.", field="ingredient_lot")
        out += [(lot, a, unit) for lot, a in split]
    return out


def _amount_in(text: str, unit: str) -> float:
    if unit == "tablet":
        return parse(text.removesuffix("tablets").removesuffix("tablet").strip(), "count",
                     field="ingredient_lot").value
    return parse(text, "volume" if unit == "mL" else "mass", field="ingredient_lot").value


def quantity_made(plan: Plan) -> tuple[float, str]:
    if plan.kind == "capsules":
        return float(plan.amounts["capsules_to_prepare"] or 0), "capsule"
    volume = _number(plan, "volume_ml")
    if volume is None:
        raise InputError(f"the {plan.kind} plan has no volume to record.")
    return volume, "mL"


def record_plan(register: Register, plan: Plan, bud: BudResult, *, compounded_by: str,
                checked_by: str | None, ingredient_lots: Sequence[IngredientLot],
                as_of: Any = None, reason: str | None = None,
                amounts: Mapping[str, str] | None = None) -> str:
    """Record the lot in quarantine and return its lot number. A refused plan is never saved.

    ``as_of`` and ``reason`` date a lot entered late (see :mod:`compound.register.entry`);
    ``amounts`` (lot number in capitals → amount text) split a plan's amount between lots.
    """
    if plan.refused:
        raise RegisterError("a refused plan is not recorded as a lot.",
                            hint="Resolve the refusal shown in the findings first.")
    quantity, unit = quantity_made(plan)
    components = components_for(plan, ingredient_lots, amounts or {})
    plan_record: dict[str, Any] = plan.to_dict()
    return register.record_lot(
        kind=plan.kind, description=describe(plan), quantity=quantity, quantity_unit=unit,
        plan=plan_record, compounded=bud.compounded, compounded_by=compounded_by,
        checked_by=checked_by, components=components, as_of=as_of, reason=reason,
        **bud_fields(bud))
