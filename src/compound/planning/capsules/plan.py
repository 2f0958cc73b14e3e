"""LDN capsule plans: typed input and catalog -> core arithmetic -> findings and working.

:func:`plan_capsules` resolves the catalog and parses the user's text once, builds
one-row :class:`~compound.core.capsules.CapsuleInputs`, runs
:func:`~compound.core.capsules.compute_capsules`, and turns row 0 of the result
into a :class:`CapsulePlan`. :func:`findings_for`, :func:`working_for`,
:func:`amounts_for` and :func:`extra_for` take any row ``i`` of a many-row result
with a :class:`CapsuleContext`, so a batch run reuses them unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pint

from compound.catalog.loader import Row, number
from compound.core import capsules as core
from compound.core import units
from compound.core.findings import Finding, Severity
from compound.core.rounding import (
    format_count,
    format_mass,
    format_number,
    format_percent,
    json_number,
)
from compound.core.safety import DoseBand, dose_band_finding, opioid_finding
from compound.core.salts import hydrate_mismatch_error
from compound.core.working import Step, Working
from compound.errors import InputError, UnitInputError
from compound.planning import resolve
from compound.planning._source import check_tablet_weight
from compound.planning.base import Plan

ROUTES = ("weighed", "whole-tablets")
API_FORMS = {"anhydrous": "hcl", "dihydrate": "dihydrate", "base": "base"}
_DEFAULT_API_PRODUCT = {"anhydrous": "naltrexone-hcl-api", "dihydrate": "naltrexone-hcl-dihydrate-api",
                        "base": "naltrexone-base-api"}
COUNT_KEYS = ("capsules_needed", "capsules_to_prepare", "tablets_to_crush")
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


# ---------------------------------------------------------------- the plan


class CapsulePlan(Plan):
    """A capsule plan; amounts as pint quantities through typed properties."""

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

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        if not self.refused:  # counts are exact whole numbers, never rounded to 4 figures
            for key in COUNT_KEYS:
                if self.amounts.get(key) is not None:
                    out[key] = int(self.amounts[key])  # type: ignore[arg-type]
        return out


def _text(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int)):
        return value.strip() if isinstance(value, str) else value
    if isinstance(value, pint.Quantity):
        return f"{value:~P}"
    return str(value)


def _mass(value: Any, field: str, *, positive: bool = True) -> float | None:
    if value is None:
        return None
    mg = units.coerce(value, "mass", field=field)
    if positive and not mg > 0:
        raise InputError(f"{field.replace('_', ' ')} must be greater than zero (got {_text(value)}).",
                         hint="Type a positive mass, e.g. 200mg.", field=field)
    return mg


def _choice(value: str, allowed: Any, field: str) -> str:
    if value not in allowed:
        raise InputError(f"unknown {field.replace('_', ' ')} {value!r}.",
                         hint=f"Known: {', '.join(allowed)}.", field=field)
    return value


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
        _check_kind(product_row, "tablet")
        check_tablet_weight(tablet_weight_mg, number(product_row, "strength_mg", table_name="products"))
    else:
        if route is not None:
            raise InputError(f"--route {route} applies to tablets, not API powder.",
                             hint="Leave --route out with --source api.", field="route")
        if tablet_weight_mg is not None:
            raise InputError("--tablet-weight applies to tablets, not API powder.",
                             hint="Leave it out with --source api.", field="tablet_weight")
        product_row = resolve.product(product or _DEFAULT_API_PRODUCT[api_form])
        _check_kind(product_row, "api")
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
    inputs = core.CapsuleInputs(
        strength_mg=[strength_mg], count=[count_n], fill_weight_mg=[fill_mg], mwq_mg=[bal.mwq_mg],
        rules=rules, overage_units=[float(extra_units)], overage_fraction=[extra_fraction],
        basis_is_base=[basis == "base"], source_is_tablet=[source == "tablet"],
        whole_tablet_route=[route == "whole-tablets"],
        tablet_strength_mg=[number(product_row, "strength_mg", table_name="products")
                            if source == "tablet" else np.nan],
        tablet_weight_mg=[np.nan if tablet_weight_mg is None else tablet_weight_mg],
        form_is_base=[source == "api" and api_form == "base"],
        form_is_dihydrate=[source == "api" and api_form == "dihydrate"],
        assay=[np.nan if assay_f is None else assay_f], water=[np.nan if water_f is None else water_f],
        opioid_use=[opioid], opioid_override=[reason is not None],
        filler_avoid=[filler_row.get("status") == "avoid"],
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



def _check_kind(row: Row, kind: str) -> None:
    if row.get("kind") != kind:
        raise InputError(f"product {row['key']!r} is {row.get('kind') or 'of no kind'}, not {kind}.",
                         hint=f"Choose a product of kind {kind} from products.csv, or leave --product out.",
                         field="product")


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


# ---------------------------------------------------------------- findings


def _signed_pct(fraction: float) -> str:
    """``+1.01 %`` / ``−7.4 %``: an error against the target, with its sign."""
    if not np.isfinite(fraction):
        return "—"
    text = format_percent(abs(fraction))
    return text if text == "0 %" else ("+" if fraction > 0 else "−") + text


def _diluent_name() -> str:
    key = str(resolve.rule("trituration")["diluent"])
    return str(resolve.excipient(key).get("name") or key)


def _as_written(mg_hcl: float, ctx: CapsuleContext) -> float:
    return mg_hcl * ctx.salts.mw_base / ctx.salts.mw_hcl if ctx.basis == "base" else mg_hcl


_CONSEQUENCES = ("CAPSULE_OVERFILLED", "SHORTCUT_OUT_OF_TOLERANCE", "SHORTCUT_STRENGTH_OFF",
                 "WHOLE_TABLET_COUNT", "TRITURATION_PLANNED", "FILLER_QS", "BLEND_BELOW_MWQ")


def findings_for(result: core.CapsuleResult, i: int, ctx: CapsuleContext) -> list[Finding]:
    """Every finding for row ``i``, from the masks and the dose band."""
    r = result
    m = {code: bool(mask[i]) for code, mask in r.masks.items()}
    band_index = int(r.dose_band[i])
    if not r.computable[i] or (band_index >= 0 and ctx.bands[band_index].severity is Severity.REFUSAL):
        # The strength or count itself is refused: what the arithmetic would say about such a
        # batch (overfilled, trituration, shortcut) is noise beside the real reason.
        for code in _CONSEQUENCES:
            m[code] = False
    out: list[Finding] = []
    strength = float(r.strength_hcl_mg[i])
    slip_hint = ""
    if m["UNIT_SLIP_SUSPECTED"]:
        written = _as_written(strength, ctx)
        guess = written / 1000 if written > 1 else written * 1000
        slip_hint = (f" {format_mass(written)} is 1000 times {'above' if written > 1 else 'below'} the "
                     f"usual LDN range: did you mean {format_mass(guess)}?")
        out.append(Finding("UNIT_SLIP_SUSPECTED", Severity.WARNING, "Possible unit slip (mg/g or mcg/mg):"
                           + slip_hint, {"suggested_mg": guess}))
    if band_index >= 0:
        f = dose_band_finding(strength, ctx.bands[band_index], what="strength per capsule")
        if f.severity is Severity.REFUSAL and slip_hint:
            f = Finding(f.code, f.severity, f.message + slip_hint, f.data)
        out.append(f)

    def add(code: str, severity: Severity, message: Callable[[], str], **data: Any) -> None:
        # Messages are built only for rows that have the finding (others may hold NaN).
        if m.get(code):
            out.append(Finding(code, severity, message(), data))

    count = float(r.count[i])
    add("COUNT_NOT_POSITIVE", Severity.REFUSAL,
        lambda: f"The capsule count must be at least 1 (got {format_number(count)}). Type the number of "
        "capsules, e.g. --count 30.")
    add("COUNT_NOT_WHOLE", Severity.REFUSAL,
        lambda: f"The capsule count must be a whole number (got {format_number(count)}).")
    add("OVERAGE_NEGATIVE", Severity.REFUSAL,
        lambda: "The overage cannot be negative: type extra capsules (1) or a percentage (5%), or 0.")
    add("TABLET_WEIGHT_IMPOSSIBLE", Severity.REFUSAL,
        lambda: f"An average tablet weight of {format_mass(float(r.tablet_weight_mg[i]))} is not more "
        f"than the {format_mass(float(r.tablet_strength_mg[i]))} of naltrexone HCl each tablet "
        "contains: check the weighing (weigh 20 tablets together, divide by 20) and its unit.")
    add("FILL_WEIGHT_NOT_POSITIVE", Severity.REFUSAL,
        lambda: "The fill weight must be greater than zero: measure a pack statistic or type --fill-weight.")
    add("INVALID_POTENCY", Severity.REFUSAL,
        lambda: "The API potency is not usable (assay must be above 0 %, water from 0 % to below 100 %).")
    add("ASSAY_IMPLAUSIBLE", Severity.REFUSAL,
        lambda: f"An assay of {format_percent(float(r.assay_used[i]))} is not a plausible CoA figure: "
        "check the "
        "certificate (did you mean e.g. 99.2% rather than 992%?).")
    if m["OPIOID_USE"] or m["OPIOID_USE_OVERRIDDEN"]:
        out.append(opioid_finding(ctx.opioid_reason))
    add("FILLER_AVOID", Severity.WARNING,
        lambda: f"Filler {ctx.filler.get('name', ctx.filler['key'])}: {ctx.filler.get('reason', '')} "
        "Choose another filler (--filler mcc).", source=ctx.filler["source"])
    fill = float(r.fill_weight_mg[i])
    if r.triturated[i]:
        what = f"the trituration aliquot ({format_mass(r.trituration['aliquot_mg'][i])})"
    else:
        what = f"the active powder ({format_mass(r.active_total_mg[i])})"
    add("CAPSULE_OVERFILLED", Severity.REFUSAL,
        lambda: f"The capsules cannot hold the dose: {what} is more than the blend of "
        f"{format_count(r.capsules_to_prepare[i], 'capsule')} × {format_mass(fill)} "
        f"({format_mass(r.blend_total_mg[i])}). Use a larger capsule size (--capsule-size), API powder "
        "instead of tablets, more capsules, or a more sensitive balance.")
    add("TABLET_WEIGHT_REQUIRED", Severity.REFUSAL,
        lambda: "Weighing tablet powder needs the measured average tablet weight. "
        + str(resolve.rule("tablet_weight")["how_to_measure"]))
    tablets, caps_needed = r.shortcut_tablets[i], r.capsules_needed[i]
    closest, closest_mg = r.closest_capsules[i], r.closest_strength_mg[i]
    closest_pct = _signed_pct(float(r.closest_error[i]))
    if m["TABLET_WEIGHT_MISSING"]:
        how = str(resolve.rule("tablet_weight")["how_to_measure"])
        if ctx.route_given:
            out.append(Finding("TABLET_WEIGHT_MISSING", Severity.INFO,
                               "Whole-tablet route without a tablet weight: the filler is added q.s. to the "
                               f"blend total; weigh the crushed powder first (it must be below the blend "
                               f"total). {how}"))
        else:
            out.append(Finding("TABLET_WEIGHT_MISSING", Severity.WARNING,
                               "No average tablet weight was given, so no tablet powder can be weighed: "
                               "planned the whole-tablet route instead (crush whole tablets, make the "
                               "capsule count closest to the strength, filler q.s. to the blend total). "
                               f"To weigh the powder exactly: {how}"))
    add("WHOLE_TABLET_COUNT", Severity.INFO,
        lambda: f"Whole tablets: {format_count(tablets, 'tablet')} make "
        f"{format_count(closest, 'capsule')} of "
        f"{format_mass(closest_mg)} ({closest_pct} from the strength), not the "
        f"{format_count(caps_needed, 'capsule')} needed; the extra capsules are made in the same batch.")
    add("SHORTCUT_OUT_OF_TOLERANCE", Severity.REFUSAL,
        lambda: f"Whole tablets cannot make this strength: {format_count(tablets, 'tablet')} into "
        f"{format_count(closest, 'capsule')} is {format_mass(closest_mg)} ({closest_pct}), outside the "
        "potency tolerance. Give the average tablet weight (--tablet-weight) and weigh the powder.")
    if m["SHORTCUT_STRENGTH_OFF"]:
        whole = bool(r.whole_tablet_route[i])
        out.append(Finding(
            "SHORTCUT_STRENGTH_OFF", Severity.WARNING if whole else Severity.INFO,
            f"Crushing {format_count(tablets, 'whole tablet')} into {format_count(closest, 'capsule')} gives "
            f"{format_mass(closest_mg)} per capsule, {closest_pct} from the prescribed "
            f"{format_mass(strength)}"
            + (": weigh the tablet powder instead (--tablet-weight)." if whole
               else ": do not use the whole-tablet shortcut for this strength."),
            {"error_pct": _pct(float(r.closest_error[i]))}))
    if m["TABLET_EXCIPIENTS"]:
        low = ctx.product.get("content_tolerance_low_pct")
        high = ctx.product.get("content_tolerance_high_pct")
        tol = f" and the tablets' content tolerance ({low}–{high} % of label)" if low and high else ""
        out.append(Finding("TABLET_EXCIPIENTS", Severity.INFO,
                           "Crushed tablets carry their excipients (lactose, cellulose, coating) into every "
                           f"capsule{tol}: not for lactose-intolerant patients; the strength can be no more "
                           "exact than the tablets.", {"source": ctx.product["source"]}))
    if r.triturated[i]:
        t = {k: float(v[i]) for k, v in r.trituration.items()}
        substance = "tablet powder" if r.source_is_tablet[i] else "API"
        add("TRITURATION_PLANNED", Severity.INFO,
            lambda: f"{format_mass(r.active_total_mg[i])} of {substance} is below the balance's "
            "minimum weighable "
            f"quantity ({format_mass(r.mwq_mg[i])}): a trituration is planned (weigh "
            f"{format_mass(t['drug_mg'])}, dilute 1 in {format_number(t['overall_factor'])} with "
            f"{_diluent_name()} by geometric dilution, weigh an aliquot of "
            f"{format_mass(t['aliquot_mg'])}).")
    add("FILLER_QS", Severity.INFO,
        lambda: f"The filler to add ({format_mass(r.filler_to_add_mg[i])}) is below the minimum "
        "weighable quantity "
        f"({format_mass(r.mwq_mg[i])}): do not weigh it on its own; add filler q.s. to the blend total "
        f"of {format_mass(r.blend_total_mg[i])}.")
    add("BLEND_BELOW_MWQ", Severity.WARNING,
        lambda: f"The whole blend ({format_mass(r.blend_total_mg[i])}) is below the minimum "
        "weighable quantity "
        f"({format_mass(r.mwq_mg[i])}): the capsule weights cannot be checked to 5 % on this balance. "
        "Make more capsules or use a more sensitive balance.")
    water = float(r.water_used[i])
    add("HYDRATE_MISMATCH", Severity.WARNING,
        lambda: f"The CoA water ({format_percent(water)}) is high for an API declared anhydrous: "
        "it looks like the "
        f"dihydrate (theoretical water {format_percent(ctx.salts.dihydrate_water)}). The water is corrected "
        "for here (assay × (1 − water)), but weighed as if anhydrous a dihydrate would under-dose by "
        f"{format_percent(-float(hydrate_mismatch_error(water)))}. Check the label and CoA; if it is the "
        "dihydrate, plan with --api-form dihydrate.",
        error_pct=_pct(float(hydrate_mismatch_error(water))))
    add("DIHYDRATE_WATER_OFF", Severity.WARNING,
        lambda: f"The CoA water ({format_percent(water)}) is far from the dihydrate's theoretical "
        f"{format_percent(ctx.salts.dihydrate_water)}: check the form and the certificate "
        "(the CoA value is used).")
    add("DIHYDRATE_WATER_ASSUMED", Severity.INFO,
        lambda: "No CoA water given: the dihydrate's theoretical water "
        f"{format_percent(ctx.salts.dihydrate_water)} "
        "is used (molecules.csv). Type --water from the CoA for the lot's value.",
        source=ctx.salts.source_dihydrate)
    add("ASSAY_ASSUMED", Severity.INFO,
        lambda: "No CoA assay given: 100 % is assumed. Type --assay from the lot's certificate of analysis.")
    add("ASSAY_OUTSIDE_USP", Severity.WARNING,
        lambda: f"The assay {format_percent(float(r.assay_used[i]))} is outside the USP range for naltrexone "
        "hydrochloride (98.0–102.0 %, anhydrous basis): check the certificate and the grade.",
        source=str(resolve.rule("api_assay")["source"]))
    if ctx.fill_weight_method == "volume-x-density" and not any(f.severity is Severity.REFUSAL for f in out):
        out.append(Finding(
            "FILL_WEIGHT_ESTIMATED", Severity.INFO,
            f"Fill weight estimated from the capsule volume × the filler's bulk density "
            f"({format_mass(fill)}); capsule charts differ by up to 10 % and filler lots vary: measure "
            "your pack statistic and add it to pack_stats.csv in your catalog."))
    return out


# ---------------------------------------------------------------- working


def _g_per_mol(x: float) -> str:
    return f"{format_number(x, 6)} g/mol"  # quoted as in molecules.csv, not rounded to 4 figures


def working_for(result: core.CapsuleResult, i: int, ctx: CapsuleContext) -> Working:
    """The steps of row ``i``: every number, its formula in words, inputs and source.

    Empty for a row whose numbers cannot be computed (a zero count or strength): such a
    row is refused, and a refused plan shows no working.
    """
    r, w = result, Working()
    if not r.computable[i]:
        return w
    route = _route(r, i)
    fm = format_mass

    def step(key: str, label: str, formula: str, inputs: dict[str, str], value: float | None,
             *, source: str = "arithmetic", note: str | None = None, count: bool = False,
             result_text: str | None = None) -> None:
        val: int | float | None = None
        if value is None:
            if result_text is None:
                return
            shown = result_text
        elif count:
            shown, val = str(int(value)), int(value)
        elif key.endswith("_pct"):
            shown, val = f"{format_number(value)} %", json_number(value)
        elif key.endswith("_mg"):
            shown, val = fm(value), json_number(value)
        else:
            shown, val = format_number(value), json_number(value)
        w.add(Step(key, label, formula, inputs, result_text or shown, val, source, note))

    s = ctx.salts
    strength = float(r.strength_hcl_mg[i])
    if ctx.basis == "base":
        step("strength_hcl_mg", "Strength per capsule as naltrexone HCl",
             "strength as naltrexone base × MW naltrexone HCl ÷ MW naltrexone base",
             {"strength (base)": fm(_as_written(strength, ctx)), "MW HCl": _g_per_mol(s.mw_hcl),
              "MW base": _g_per_mol(s.mw_base)}, strength,
             source=f"molecules.csv hcl: {s.source_hcl}; base: {s.source_base}")
    else:
        step("strength_hcl_mg", "Strength per capsule (naltrexone HCl)",
             "as prescribed (strengths are naltrexone HCl unless --basis base)",
             {"strength": fm(strength)}, strength, source="prescription")
    count, needed = int(r.count[i]), _num(r.capsules_needed, i)
    if r.overage_fraction[i] > 0:
        step("capsules_needed", "Capsules needed (prescribed + overage)",
             "capsules prescribed + ⌈capsules prescribed × overage⌉ (whole capsules, rounded up)",
             {"prescribed": str(count), "overage": format_percent(float(r.overage_fraction[i]))},
             needed, count=True, note="Extra capsules cover the powder lost in filling (UNC punch method).")
    else:
        step("capsules_needed", "Capsules needed (prescribed + overage)",
             "capsules prescribed + extra capsules",
             {"prescribed": str(count), "extra": str(int(r.overage_units[i]))}, needed, count=True,
             note="Extra capsules cover the powder lost in filling (UNC punch method).")
    step("api_required_mg", "Naltrexone HCl required", "strength per capsule × capsules needed",
         {"strength": fm(strength), "capsules needed": str(needed and int(needed))},
         _num(r.api_required_mg, i))
    bal = ctx.balance
    step("minimum_weighable_quantity_mg", "Minimum weighable quantity (MWQ)",
         "balance sensitivity ÷ acceptable weighing error",
         {"balance": bal.name, "sensitivity": fm(bal.sensitivity_mg),
          "acceptable error": format_percent(bal.max_error)}, _num(r.mwq_mg, i),
         source=f"balances.csv {bal.key}: {bal.source}")

    tablet_strength = float(r.tablet_strength_mg[i])
    product_source = f"products.csv {ctx.product['key']}: {ctx.product['source']}"
    if route != "api":
        _tablet_steps(step, r, i, ctx, route, tablet_strength, product_source)
    else:
        _api_steps(step, r, i, ctx)
    if route != "whole-tablets":
        step("actual_strength_mg", "Strength per capsule as made (naltrexone HCl)",
             "the prescribed strength (the powder is weighed to it)", {"strength": fm(strength)},
             _num(r.actual_strength_mg, i))
    _fill_steps(step, r, i, ctx, route)
    return w


def _tablet_steps(step: Any, r: core.CapsuleResult, i: int, ctx: CapsuleContext, route: str,
                  tablet_strength: float, product_source: str) -> None:
    fm = format_mass
    tablets = _num(r.tablets_to_crush, i)
    sc_tablets = _num(r.shortcut_tablets, i)
    required = _num(r.api_required_mg, i)
    note = None
    if r.triturated[i] and tablets != sc_tablets:
        note = (f"More than the {sc_tablets and int(sc_tablets)} tablets the naltrexone needs: the "
                f"trituration weighs {fm(r.trituration['drug_mg'][i])} of powder.")
    step("tablets_to_crush", "Whole tablets to crush",
         "⌈naltrexone HCl required ÷ tablet strength⌉ (whole tablets, rounded up)",
         {"naltrexone HCl required": fm(required or 0), "tablet strength": fm(tablet_strength)},
         tablets, count=True, source=product_source, note=note)
    tablet_weight = float(r.tablet_weight_mg[i])
    if route == "weighed":
        triturated = bool(r.triturated[i])
        step("tablet_powder_mg",
             "Tablet powder to incorporate (by trituration, below)" if triturated
             else "Tablet powder to weigh",
             "naltrexone HCl required ÷ tablet strength × average tablet weight",
             {"naltrexone HCl required": fm(required or 0), "tablet strength": fm(tablet_strength),
              "average tablet weight": fm(tablet_weight)},
             _num(r.tablet_powder_mg, i), source=ctx.tablet_weight_source)
        step("powder_left_over_mg", "Tablet powder left over",
             "tablets crushed × average tablet weight − powder weighed",
             {"tablets crushed": str(tablets and int(tablets)),
              "average tablet weight": fm(tablet_weight)},
             _num(r.powder_left_over_mg, i))
        step("capsules_to_prepare", "Capsules to prepare", "capsules needed",
             {"capsules needed": str(int(r.capsules_needed[i]))}, _num(r.capsules_to_prepare, i),
             count=True)
    else:
        step("capsules_to_prepare", "Capsules the whole tablets make",
             "round(tablets × tablet strength ÷ strength per capsule)",
             {"tablets": str(tablets and int(tablets)), "tablet strength": fm(tablet_strength),
              "strength per capsule": fm(r.strength_hcl_mg[i])},
             _num(r.capsules_to_prepare, i), count=True,
             note="Whole-tablet route: every crushed tablet goes into the blend; no drug is weighed.")
        step("actual_strength_mg", "Strength per capsule as made (naltrexone HCl)",
             "tablets × tablet strength ÷ capsules to prepare",
             {"tablets": str(tablets and int(tablets)), "tablet strength": fm(tablet_strength),
              "capsules": str(int(r.capsules_to_prepare[i]))}, _num(r.actual_strength_mg, i))
        step("tablet_powder_mg", "Tablet powder in the blend", "tablets × average tablet weight",
             {"tablets": str(tablets and int(tablets)),
              "average tablet weight": fm(tablet_weight)},
             _num(r.tablet_powder_mg, i), source=ctx.tablet_weight_source)
        step("powder_left_over_mg", "Tablet powder left over", "none: all crushed tablets are used", {},
             _num(r.powder_left_over_mg, i))
    n, c = int(r.shortcut_tablets[i]), int(r.shortcut_capsules[i])
    step("shortcut.strength_mg", f"Shortcut check: {n} whole tablets into {c} capsules",
         "tablets × tablet strength ÷ capsules",
         {"tablets": str(n), "tablet strength": fm(tablet_strength), "capsules": str(c)},
         _num(r.shortcut_strength_mg, i))
    step("shortcut.error_pct", "Shortcut check: error against the prescribed strength",
         "(shortcut strength ÷ prescribed strength − 1) × 100",
         {"shortcut strength": fm(r.shortcut_strength_mg[i]), "prescribed": fm(r.strength_hcl_mg[i])},
         float(r.shortcut_error[i]) * 100)
    step("shortcut.closest_capsules", "Shortcut check: capsule count closest to the strength",
         "round(tablets × tablet strength ÷ prescribed strength)",
         {"tablets": str(n), "tablet strength": fm(tablet_strength), "prescribed": fm(r.strength_hcl_mg[i])},
         _num(r.closest_capsules, i), count=True)
    step("shortcut.closest_strength_mg", "Shortcut check: strength at the closest count",
         "tablets × tablet strength ÷ closest count",
         {"tablets": str(n), "closest count": str(int(r.closest_capsules[i]))},
         _num(r.closest_strength_mg, i))
    step("shortcut.closest_error_pct", "Shortcut check: error at the closest count",
         "(closest strength ÷ prescribed strength − 1) × 100",
         {"closest strength": fm(r.closest_strength_mg[i]), "prescribed": fm(r.strength_hcl_mg[i])},
         float(r.closest_error[i]) * 100)


def _api_steps(step: Any, r: core.CapsuleResult, i: int, ctx: CapsuleContext) -> None:
    s, fm = ctx.salts, format_mass
    assay, water = float(r.assay_used[i]), float(r.water_used[i])
    assay_src = "assay from the CoA" if r.assay_given[i] else "assay assumed 100 % (no CoA assay given)"
    water_src = ("water from the CoA" if r.water_given[i]
                 else "theoretical dihydrate water, molecules.csv" if ctx.api_form == "dihydrate"
                 else "water taken as 0 (none given)")
    inputs = {"assay": format_percent(assay), "water": format_percent(water)}
    if ctx.api_form == "base":
        formula = "(MW naltrexone base ÷ MW naltrexone HCl) ÷ (assay × (1 − water))"
        inputs = {"MW base": _g_per_mol(s.mw_base), "MW HCl": _g_per_mol(s.mw_hcl), **inputs}
        source = f"molecules.csv base, hcl: {s.source_base}; {assay_src}; {water_src}"
    else:
        formula = "1 ÷ (assay × (1 − water)) — the USP assay is on the anhydrous basis"
        source = f"USP 28 Naltrexone Hydrochloride (assay on the anhydrous basis); {assay_src}; {water_src}"
    step("api_factor", f"API factor ({ctx.api_form} powder per mg naltrexone HCl)", formula, inputs,
         _num(r.api_factor, i), source=source)
    triturated = bool(r.triturated[i])
    step("api_to_weigh_mg",
         "Naltrexone API to incorporate (by trituration, below; not weighed directly)" if triturated
         else "Naltrexone API to weigh",
         "naltrexone HCl required × API factor",
         {"naltrexone HCl required": fm(r.api_required_mg[i]),
          "API factor": format_number(r.api_factor[i], 6)}, _num(r.api_to_weigh_mg, i))
    step("capsules_to_prepare", "Capsules to prepare", "capsules needed",
         {"capsules needed": str(int(r.capsules_needed[i]))}, _num(r.capsules_to_prepare, i), count=True)


def _fill_steps(step: Any, r: core.CapsuleResult, i: int, ctx: CapsuleContext, route: str) -> None:
    fm = format_mass
    fill = float(r.fill_weight_mg[i])
    size, filler = ctx.capsule_size, ctx.filler
    if ctx.fill_weight_method == "volume-x-density":
        volume = number(size, "volume_ml", table_name="capsule_sizes")
        density = number(filler, "bulk_density_g_per_ml", table_name="excipients")
        step("fill_weight_mg", f"Fill weight per capsule (#{size['key']}, {filler['key']})",
             "capsule volume × filler bulk density × 1000 (volume-x-density)",
             {"capsule volume": f"{format_number(volume)} mL",
              "bulk density": f"{format_number(density)} g/mL"}, fill, source=ctx.fill_weight_source)
    elif ctx.fill_weight_method == "pack-stat":
        step("fill_weight_mg", f"Fill weight per capsule (#{size['key']}, {filler['key']})",
             "the pharmacy's pack statistic for this filler and size (pack-stat)", {}, fill,
             source=ctx.fill_weight_source)
    else:
        step("fill_weight_mg", "Fill weight per capsule", "given (the pharmacy's measured fill weight)",
             {}, fill, source=ctx.fill_weight_source)
    wv = resolve.rule("weight_variation")
    step("fill_weight_low_mg", "Each capsule at least", f"fill weight × {wv['low_pct']} %",
         {"fill weight": fm(fill)}, _num(r.fill_weight_low_mg, i), source=str(wv["source"]))
    step("fill_weight_high_mg", "Each capsule at most", f"fill weight × {wv['high_pct']} %",
         {"fill weight": fm(fill)}, _num(r.fill_weight_high_mg, i), source=str(wv["source"]))
    caps = str(int(r.capsules_to_prepare[i]))
    step("blend_total_mg", "Blend total", "fill weight × capsules to prepare",
         {"fill weight": fm(fill), "capsules": caps}, _num(r.blend_total_mg, i))
    active = "tablet powder" if route != "api" else "API powder"
    step("active_powder_per_capsule_mg", f"{'Tablet' if route != 'api' else 'API'} powder per capsule",
         f"{active} ÷ capsules to prepare",
         {active: fm(r.active_total_mg[i]), "capsules": caps}, _num(r.active_per_capsule_mg, i))
    step("filler_per_capsule_mg", "Filler per capsule", f"fill weight − {active} per capsule",
         {"fill weight": fm(fill), f"{active} per capsule": fm(r.active_per_capsule_mg[i])},
         _num(r.filler_per_capsule_mg, i),
         note="Calibrated-fill method: assumes the active powder packs like the filler; "
              "check with the capsule weight window.", source="domain.md 4.3 calibrated fill")
    step("filler_total_mg", "Filler in the blend", f"blend total − {active}",
         {"blend total": fm(r.blend_total_mg[i]), active: fm(r.active_total_mg[i])},
         _num(r.filler_total_mg, i))
    if r.triturated[i]:
        _trituration_steps(step, r, i, ctx, active)
    if route == "whole-tablets" and not np.isfinite(r.filler_to_add_mg[i]):
        step("filler_to_add_mg", "Filler to add", "q.s. to the blend total",
             {"blend total": fm(r.blend_total_mg[i])}, None,
             result_text=f"q.s. to {fm(r.blend_total_mg[i])}",
             note="Weigh the crushed tablet powder, then add filler on the balance until the blend "
                  "weighs the blend total.")
        return
    qs = bool(r.masks["FILLER_QS"][i])
    formula = ("filler in the blend − diluent carried in the aliquot" if r.triturated[i]
               else "filler in the blend")
    inputs = {"filler in the blend": fm(r.filler_total_mg[i])}
    if r.triturated[i]:
        inputs["diluent carried"] = fm(r.trituration["diluent_carried_mg"][i])
    value = _num(r.filler_to_add_mg, i)
    step("filler_to_add_mg", f"Filler to add ({filler['key']})", formula, inputs, value,
         result_text=(f"{fm(value)}: add q.s. to the blend total {fm(r.blend_total_mg[i])} "
                      "(below the MWQ: do not weigh it on its own)") if qs and value is not None else None,
         source=f"excipients.csv {filler['key']}: {filler['source']}")


def _trituration_steps(step: Any, r: core.CapsuleResult, i: int, ctx: CapsuleContext, active: str) -> None:
    fm = format_mass
    t = {k: float(v[i]) for k, v in r.trituration.items()}
    trit_rule = resolve.rule("trituration")
    diluent = _diluent_name()
    stages = int(t["stages"])
    source = str(trit_rule["source"])
    needed = float(r.active_total_mg[i])
    step("trituration.drug_mg", f"Trituration: {active} to weigh", "the MWQ (every weighing ≥ MWQ)",
         {"MWQ": fm(r.mwq_mg[i])}, t["drug_mg"], source=source)
    step("trituration.factor", "Trituration: dilution factor per stage",
         "f = max(2, ⌈MWQ ÷ amount needed⌉); per stage ⌈f^(1/stages)⌉, within the largest factor per stage",
         {"amount needed": fm(needed), "MWQ": fm(r.mwq_mg[i]), "stages": str(stages),
          "largest factor per stage": str(trit_rule["max_factor_per_stage"])},
         t["factor_per_stage"], count=True, source=source)
    step("trituration.diluent_mg", f"Trituration: {diluent} to add (each stage)",
         "(factor − 1) × amount weighed", {"factor": format_number(t["factor_per_stage"]),
                                          "amount weighed": fm(t["drug_mg"])}, t["diluent_per_stage_mg"])
    step("trituration.triturate_mg", "Trituration: triturate made (each stage)",
         "factor × amount weighed", {"factor": format_number(t["factor_per_stage"]),
                                     "amount weighed": fm(t["drug_mg"])}, t["triturate_per_stage_mg"])
    if stages > 1:
        step("trituration.carry_mg", "Trituration: taken from each stage into the next",
             "the MWQ (weighed from the previous triturate)", {"MWQ": fm(r.mwq_mg[i])}, t["carry_mg"])
    step("trituration.aliquot_mg", "Trituration: aliquot to weigh into the blend",
         "amount needed × factor^stages", {"amount needed": fm(needed),
                                          "overall factor": format_number(t["overall_factor"])},
         t["aliquot_mg"], note=f"Contains {fm(needed)} of {active}.")
    step("trituration.diluent_carried_mg", "Trituration: diluent carried in the aliquot",
         "aliquot − amount needed", {"aliquot": fm(t["aliquot_mg"]), "amount needed": fm(needed)},
         t["diluent_carried_mg"])
