"""A plan with its beyond-use date: ``compound plan … --compounded DATE``.

The BUD category comes from the plan itself (capsules are nonaqueous solids;
a liquid or drops take their vehicle's category), and a study is checked
against what the plan says about the preparation (its filler or vehicle and
its concentration). The BUD's findings join the plan's: an expired component
refuses the plan as surely as a bad dose does.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from compound.core import units
from compound.core.rounding import format_mass
from compound.core.working import Step
from compound.planning.base import Plan
from compound.planning.liquid import supply_lead
from compound.planning.stability import BudResult, assign_bud, category_for_plan
from compound.planning.stability.supply import longer_than_bud, window_from_bud


def preparation_of(plan: Plan, container: str | None = None) -> dict[str, Any]:
    """What a stability study is matched against, as the plan states it."""
    prep: dict[str, Any] = {
        "filler": plan.inputs.get("filler") if plan.kind == "capsules" else None,
        "vehicle": plan.inputs.get("vehicle") if plan.kind != "capsules" else None,
        "container": container,
    }
    concentration = plan.amounts.get("concentration_mg_per_ml")
    if concentration is not None and concentration == concentration:  # not NaN
        prep["concentration"] = concentration_of(concentration)
    return {k: v for k, v in prep.items() if v}


def concentration_of(mg_per_ml: float) -> units.Parsed:
    """A plan's concentration as a study is matched against it: an amount already read, not text
    (1e-05 mg/mL written out would be refused as scientific notation), nor a pint quantity (pint
    and its unit registry take ~0.2 s to start)."""
    return units.Parsed.of(mg_per_ml, "concentration", "mg/mL")


def date_plan(plan: Plan, compounded: dt.date | str, *, storage: str | None = None,
              study: str | None = None, attest: bool = False, policy: str = "usp795-2023",
              day_zero: bool = False, container: str | None = None,
              component_expiries: Sequence[tuple[str, Any]] = (),
              sub_lot_buds: Sequence[tuple[str, Any]] = ()) -> BudResult:
    """Assign the plan's BUD and attach it: ``beyond_use_date`` and ``bud`` in its JSON.

    Returns the :class:`BudResult`; the plan is changed in place (its findings,
    working, inputs and extra).
    """
    category = category_for_plan(plan.kind, vehicle=plan.inputs.get("vehicle"))
    bud = assign_bud(category, compounded, storage=storage, study=study, attest=attest,
                     policy=policy, day_zero=day_zero, component_expiries=component_expiries,
                     sub_lot_buds=sub_lot_buds, preparation=preparation_of(plan, container))
    plan.inputs["compounded"] = bud.compounded.isoformat()
    plan.findings.extend(bud.findings)
    if bud.refused or bud.beyond_use_date is None or bud.limit is None:
        return bud
    details = bud.to_dict()
    details.pop("findings", None)
    plan.extra["beyond_use_date"] = bud.beyond_use_date.isoformat()
    plan.extra["bud"] = details
    limit = bud.limit
    _supply_against(plan, bud, category)
    plan.working.add(Step(
        key="beyond_use_date", label="Beyond-use date", result=bud.beyond_use_date.isoformat(),
        formula="earliest of the category or study limit, every component's expiry and every "
                "sub-lot's BUD",
        inputs={"compounded": bud.compounded.isoformat(), "category": category,
                "storage": bud.storage, "day counting": bud.day_counting, "policy": bud.policy,
                "limit that won": f"{limit.kind}: {limit.name}"},
        source=limit.source, note=bud.explanation,
    ))
    return bud


def _supply_against(plan: Plan, bud: BudResult, category: str) -> None:
    """Compare the days supplied with this BUD rather than the category's default."""
    days = plan.amounts.get("days_supply")
    if days is None or bud.beyond_use_date is None:
        return
    plan.findings[:] = [f for f in plan.findings if f.code != "SUPPLY_LONGER_THAN_BUD"]
    daily = plan.amounts.get("dose_volume_ml")
    if daily is None and plan.amounts.get("drops_per_dose") and plan.amounts.get("drops_per_ml"):
        daily = float(plan.amounts["drops_per_dose"] or 0) / float(plan.amounts["drops_per_ml"] or 1)
    window = window_from_bud(bud.compounded, bud.beyond_use_date,
                             f"the BUD {bud.beyond_use_date.isoformat()} ({category})",
                             bud.limit.source if bud.limit else "")
    volume = plan.amounts.get("dispensed_volume_ml") or plan.amounts.get("volume_ml")
    longer = longer_than_bud("SUPPLY_LONGER_THAN_BUD", float(days), window,
                             lead=supply_lead(float(volume or 0), float(days)), daily_ml=daily)
    if longer is not None:
        plan.findings.append(longer)


_NUMBER_THEN_UNIT = re.compile(r"(\d)\s*([A-Za-z])")


def describe(plan: Plan) -> str:
    """A one-line description of what a plan makes, for the register and labels."""
    strength = plan.inputs.get("strength") or plan.inputs.get("per_drop") or ""
    basis = " (as base)" if plan.inputs.get("basis") == "base" else ""
    form = {"capsules": "capsules", "liquid": "oral liquid", "drops": "sublingual drops",
            "dilution": "oral liquid (serial dilution)"}.get(plan.kind, plan.kind)
    if plan.kind == "capsules" and plan.amounts.get("actual_strength_mg"):
        strength = format_mass(float(plan.amounts["actual_strength_mg"] or 0))
    # ISMP: a dose run into its unit ("10mg") is error-prone; the record says "4.5 mg".
    strength = _NUMBER_THEN_UNIT.sub(r"\1 \2", str(strength))
    return f"Naltrexone HCl {strength}{basis} {form}".replace("  ", " ").strip()
