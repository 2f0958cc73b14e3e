"""The capsule plan: :class:`CapsulePlan` and :func:`plan_capsules`."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from compound.catalog.loader import number
from compound.core import capsules as core
from compound.core import units
from compound.errors import InputError, UnitInputError
from compound.planning import resolve
from compound.planning._source import check_tablet_weight
from compound.planning.base import Plan
from compound.planning.capsules.amounts import amounts_for, extra_for
from compound.planning.capsules.context import CapsuleContext, capsule_rules, resolve_fill_weight
from compound.planning.capsules.findings import findings_for
from compound.planning.capsules.inputs import (
    API_FORMS,
    DEFAULT_API_PRODUCT,
    ROUTES,
    _choice,
    _mass,
    _text,
    check_kind,
)
from compound.planning.capsules.working import working_for

if TYPE_CHECKING:
    import pint

COUNT_KEYS = ("capsules_needed", "capsules_to_prepare", "tablets_to_crush")


# ---------------------------------------------------------------- the plan


class CapsulePlan(Plan):
    """A capsule plan; amounts as pint quantities through typed properties."""

    count_keys = COUNT_KEYS

    @property
    def capsules_to_prepare(self) -> int | None:
        value = self.amounts.get("capsules_to_prepare")
        return None if value is None else int(value)

    @property
    def tablets_to_crush(self) -> int | None:
        value = self.amounts.get("tablets_to_crush")
        return None if value is None else int(value)

    @property
    def api_required(self) -> pint.Quantity | None:
        return self.quantity("api_required_mg")

    @property
    def api_to_weigh(self) -> pint.Quantity | None:
        return self.quantity("api_to_weigh_mg")

    @property
    def tablet_powder(self) -> pint.Quantity | None:
        return self.quantity("tablet_powder_mg")

    @property
    def fill_weight(self) -> pint.Quantity | None:
        return self.quantity("fill_weight_mg")

    @property
    def filler_per_capsule(self) -> pint.Quantity | None:
        return self.quantity("filler_per_capsule_mg")

    @property
    def filler_total(self) -> pint.Quantity | None:
        return self.quantity("filler_total_mg")

    @property
    def filler_to_add(self) -> pint.Quantity | None:
        return self.quantity("filler_to_add_mg")

    @property
    def blend_total(self) -> pint.Quantity | None:
        return self.quantity("blend_total_mg")



def plan_capsules(
    strength: Any, count: Any, *, overage: Any = "0", source: str = "tablet",
    tablet_weight: Any = None, fill_weight: Any = None, capsule_size: str | None = None,
    filler: str | None = None, api_form: str = "anhydrous", assay: Any = None, water: Any = None,
    basis: str = "hcl", product: str | None = None, route: str | None = None,
    balance: str | None = None, balance_sensitivity: Any = None, opioid_use: bool = False,
    override_opioid: str | None = None,
) -> CapsulePlan:
    """Plan LDN capsules from 50 mg tablets or API powder.

    Amounts are text with a unit (``"4.5mg"``) or pint quantities; ``count`` is an
    int or ``"30"``; ``overage`` is extra capsules (``"1"``) or a percentage
    (``"5%"``, rounded up to whole capsules). Raises
    :class:`~compound.errors.InputError` for input the tool cannot accept; safety
    problems come back as findings on the plan (a refusal withholds the amounts).
    """
    source = _choice(source, ("tablet", "api"), "source")
    basis = _choice(basis, ("hcl", "base"), "basis")
    api_form = _choice(api_form, tuple(API_FORMS), "api_form")
    if route is not None:
        route = _choice(route, ROUTES, "route")
    strength_mg = units.coerce(strength, "mass", field="strength")
    count_n = units.coerce(count, "count", field="count")
    try:
        extra_units, extra_fraction = units.parse_overage(str(overage).strip())
    except UnitInputError as exc:
        raise UnitInputError(exc.message, hint="Type extra capsules as a whole number (1) or a "
                             "percentage (5%).", field="overage") from None
    tablet_weight_mg = _mass(tablet_weight, "tablet_weight")
    fill_weight_mg = _mass(fill_weight, "fill_weight")
    sensitivity_mg = _mass(balance_sensitivity, "balance_sensitivity")
    assay_f = None if assay is None else units.coerce(assay, "fraction", field="assay")
    water_f = None if water is None else units.coerce(water, "fraction", field="water")
    if assay_f is not None and not assay_f > 0:
        raise InputError("the assay must be greater than 0 %.", hint="Type the CoA assay, e.g. 99.2%.",
                         field="assay")
    if water_f is not None and not 0 <= water_f < 1:
        raise InputError("the water content must be from 0 % to below 100 %.",
                         hint="Type the CoA water, e.g. 8.71%.", field="water")

    rules_capsule = resolve.rule("capsule")
    route_given = route is not None
    if source == "tablet":
        if assay_f is not None or water_f is not None:
            raise InputError("--assay and --water describe API powder, not tablets.",
                             hint="Use them with --source api, or leave them out.", field="assay")
        if route is None:
            route = "weighed" if tablet_weight_mg is not None else "whole-tablets"
        if route == "weighed" and tablet_weight_mg is None:
            raise InputError("weighing tablet powder needs the measured average tablet weight.",
                             hint=str(resolve.rule("tablet_weight")["how_to_measure"]),
                             field="tablet_weight")
        product_row = resolve.product(product or str(rules_capsule["default_product"]))
        check_kind(product_row, "tablet")
        check_tablet_weight(tablet_weight_mg, number(product_row, "strength_mg", table_name="products"))
    else:
        if route is not None:
            raise InputError(f"--route {route} applies to tablets, not API powder.",
                             hint="Leave --route out with --source api.", field="route")
        if tablet_weight_mg is not None:
            raise InputError("--tablet-weight applies to tablets, not API powder.",
                             hint="Leave it out with --source api.", field="tablet_weight")
        product_row = resolve.product(product or DEFAULT_API_PRODUCT[api_form])
        check_kind(product_row, "api")
        if product_row.get("api_form") != API_FORMS[api_form]:
            form_name = {v: k for k, v in API_FORMS.items()}.get(product_row.get("api_form", ""), "?")
            raise InputError(f"product {product_row['key']!r} is the {form_name} form, not {api_form}.",
                             hint=f"Add --api-form {form_name}, or choose another --product.",
                             field="api_form")
    filler_row = resolve.excipient(filler or str(rules_capsule["default_filler"]))
    size_row = resolve.capsule_size(capsule_size or str(rules_capsule["default_size"]))
    fill_mg, method, fill_source = resolve_fill_weight(fill_weight_mg, filler_row, size_row)
    bal = resolve.balance(balance, sensitivity_mg)
    reason = override_opioid.strip() if override_opioid and override_opioid.strip() else None
    opioid = bool(opioid_use or reason)

    rules = capsule_rules()
    inputs = core.CapsuleInputs(  # scalars: one plan, on the core's float path
        strength_mg=strength_mg, count=count_n, fill_weight_mg=fill_mg, mwq_mg=bal.mwq_mg,
        rules=rules, overage_units=float(extra_units), overage_fraction=extra_fraction,
        basis_is_base=basis == "base", source_is_tablet=source == "tablet",
        whole_tablet_route=route == "whole-tablets",
        tablet_strength_mg=number(product_row, "strength_mg", table_name="products")
        if source == "tablet" else math.nan,
        tablet_weight_mg=math.nan if tablet_weight_mg is None else tablet_weight_mg,
        form_is_base=source == "api" and api_form == "base",
        form_is_dihydrate=source == "api" and api_form == "dihydrate",
        assay=math.nan if assay_f is None else assay_f, water=math.nan if water_f is None else water_f,
        opioid_use=opioid, opioid_override=reason is not None,
        filler_avoid=filler_row.get("status") == "avoid",
    )
    result = core.compute_capsules(inputs)
    ctx = CapsuleContext(
        salts=resolve.salts(), balance=bal, bands=rules.dose_bands, product=product_row,
        filler=filler_row, capsule_size=size_row, fill_weight_method=method,
        fill_weight_source=fill_source, route_given=route_given, basis=basis, api_form=api_form,
        opioid_reason=reason,
    )
    echo = {
        "strength": _text(strength), "basis": basis, "count": int(count_n), "overage": _text(str(overage)),
        "source": source, "product": product_row["key"], "route": route if source == "tablet" else None,
        "tablet_weight": _text(tablet_weight), "api_form": api_form if source == "api" else None,
        "assay": _text(assay), "water": _text(water), "capsule_size": size_row["key"],
        "filler": filler_row["key"], "fill_weight": _text(fill_weight), "balance": bal.key,
        "balance_sensitivity": _text(balance_sensitivity), "opioid_use": opioid,
        "override_opioid": reason,
    }
    return CapsulePlan(
        kind="capsules", inputs=echo, amounts=amounts_for(result, 0, ctx),
        findings=findings_for(result, 0, ctx), working=working_for(result, 0, ctx),
        extra=extra_for(result, 0, ctx),
    )
