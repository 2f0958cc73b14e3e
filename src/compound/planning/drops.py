"""``plan_drops``: LDN sublingual drops with a calibrated (or assumed USP) dropper.

Either a target per drop (``0.5mg/drop``: concentration = per drop × drops/mL)
or a fixed concentration (``10mg/mL``: whole drops per dose, the dose they
deliver and its error). The drug side (tablets or API, aliquot below the MWQ)
is the oral liquid's (:func:`compound.core.liquids.prepare_liquid`).

Shaped as the oral liquid: :func:`drops_context`, :func:`compute_all` (the core
on one context, or on a batch's column of them), :func:`complete`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from compound.core import units
from compound.core.drops import DropsInputs, DropsResult, drops_dose
from compound.core.findings import Finding, Severity, any_refusal
from compound.core.liquids import LiquidInputs, LiquidResult, prepare_liquid
from compound.core.rounding import (
    format_concentration,
    format_count,
    format_mass,
    format_number,
    format_volume,
    json_number,
)
from compound.core.safety import unit_slip_suspected
from compound.core.working import Step, Working
from compound.errors import InputError
from compound.planning import _source, resolve
from compound.planning import liquid as liquid_plan
from compound.planning._source import Source, Vehicle, to_hcl, typed
from compound.planning.base import LiquidBasePlan
from compound.planning.dilution import (
    dilution_rules,
    max_final_fraction,
    solubility_hcl,
)
from compound.planning.stability.supply import default_window, longer_than_bud

if TYPE_CHECKING:
    import pint

_DROP_DOSE = re.compile(r"^\s*(?P<n>[+-]?\d+(?:\.\d+)?)\s*(?:drops?|gtts?)\s*$", re.IGNORECASE)


@dataclass
class DropsPlan(LiquidBasePlan):
    """Sublingual drops; typed results as pint quantities (None where not applicable)."""

    count_keys = (*liquid_plan.LiquidPlan.count_keys, "drops_per_dose")  # it carries a liquid's amounts

    @property
    def drops_per_ml(self) -> pint.Quantity | None:
        return self.quantity("drops_per_ml")

    @property
    def dose_delivered(self) -> pint.Quantity | None:
        return self.quantity("dose_delivered_mg")

    @property
    def drops_per_dose(self) -> int | None:
        return self.whole("drops_per_dose")


@dataclass(frozen=True)
class DropsContext:
    per_drop: float | None
    strength: float | None
    drops_per_ml: float
    calibrated: bool
    calibration_text: str | None
    volume: float
    dose: float | None
    dose_drops: float | None
    basis: str
    source: Source
    vehicle: Vehicle
    tolerance: float
    low_d: float
    """Fewest drops per mL of the USP dropper (its largest drop), when not calibrated."""
    high_d: float
    max_drops: float
    solubility: float


@dataclass(frozen=True)
class DropsComputed:
    drops: DropsResult
    liquid: LiquidResult
    as_liquid: liquid_plan.LiquidComputed
    """The drug side as an oral liquid's result (no dose volume), for its findings and working."""


def compute_all(ctxs: Sequence[DropsContext]) -> DropsComputed:
    """The core, once, on a column of preparations: row ``i`` is ``ctxs[i]``."""
    def col(get: Callable[[DropsContext], Any], dtype: Any = np.float64) -> np.ndarray:
        return np.array([get(x) for x in ctxs], dtype=dtype)

    def opt(get: Callable[[DropsContext], float | None]) -> np.ndarray:
        return col(lambda x: np.nan if get(x) is None else get(x))

    dres = drops_dose(DropsInputs(
        mg_per_drop=opt(lambda x: x.per_drop), concentration_mg_per_ml=opt(lambda x: x.strength),
        drops_per_ml=col(lambda x: x.drops_per_ml), dose_mg=opt(lambda x: x.dose),
        dose_drops=opt(lambda x: x.dose_drops), tolerance=col(lambda x: x.tolerance),
        calibrated=col(lambda x: x.calibrated, bool), uncalibrated_low=col(lambda x: x.low_d),
        uncalibrated_high=col(lambda x: x.high_d), volume_ml=col(lambda x: x.volume),
        max_drops=col(lambda x: x.max_drops)))
    to_hcl_factor = col(lambda x: x.source.salts.mw_hcl / x.source.salts.mw_base
                        if x.basis == "base" else 1.0)
    lres = prepare_liquid(LiquidInputs(
        concentration_mg_per_ml=dres.concentration_mg_per_ml * to_hcl_factor,
        volume_ml=col(lambda x: x.volume), from_tablets=col(lambda x: x.source.from_tablets, bool),
        tablet_strength_mg=col(lambda x: x.source.tablet_strength_mg),
        tablet_weight_mg=col(lambda x: x.source.tablet_weight_mg),
        powder_per_hcl=col(lambda x: x.source.powder_per_hcl), mwq_mg=col(lambda x: x.source.mwq_mg),
        solubility_mg_per_ml=col(lambda x: x.solubility),
        max_final_fraction=col(lambda x: max_final_fraction(x.vehicle))),
        dilution_rules(), float(resolve.rule("trituration")["max_factor_per_stage"]))
    nan = np.full(len(ctxs), np.nan)
    return DropsComputed(dres, lres, liquid_plan.LiquidComputed(lres, lres.volume_ml, nan, nan, None))


def compute(ctx: DropsContext) -> DropsComputed:
    """The core calls for one preparation."""
    return compute_all([ctx])


def _liquid_ctx(ctx: DropsContext, concentration: float) -> liquid_plan.LiquidContext:
    """The oral-liquid context for the drug side, so its findings and working are reused."""
    return liquid_plan.LiquidContext(
        concentration, to_hcl(concentration, ctx.basis, ctx.source.salts), ctx.volume, None, None,
        None, 0.0, ctx.basis, ctx.source, ctx.vehicle, ctx.solubility)


def findings_for(comp: DropsComputed, i: int, ctx: DropsContext) -> list[Finding]:
    d, m = comp.drops, comp.drops.masks
    conc = float(d.concentration_mg_per_ml[i])
    lctx = _liquid_ctx(ctx, conc)
    out = [f for f in liquid_plan.findings_for(comp.as_liquid, i, lctx)
           if f.code != "SUSPENSION_SHAKE_WELL"]
    if any_refusal(out):
        return out
    if ctx.source.from_tablets:
        out.append(Finding(
            "DROPS_FROM_SUSPENSION", Severity.WARNING,
            "Drops made from crushed tablets are a suspension: the insoluble tablet excipients make "
            "drop size and drug per drop unreliable. Prefer API for drops; if tablets are used, "
            "label 'Shake well' and calibrate the dropper with this preparation.",
            {"source": "domain.md 1.4 (tablet excipients insoluble); USP <1101> (calibrate with "
                       "the preparation)"}))
    dropper = resolve.rule("dropper")
    has_dose = bool(np.isfinite(d.drops_exact[i]))
    drops = float(d.drops_per_dose[i]) if has_dose else float("nan")
    if m["DROPPER_UNCALIBRATED"][i]:
        low_d, high_d = ctx.low_d, ctx.high_d
        if has_dose:
            what = (f"{_deliver(drops)} {format_mass(d.delivered_low_mg[i])} to "
                    f"{format_mass(d.delivered_high_mg[i])} (planned {format_mass(d.dose_delivered_mg[i])})")
        else:
            what = (f"one drop holds {format_mass(conc / high_d)} to {format_mass(conc / low_d)} "
                    f"(planned {format_mass(conc / ctx.drops_per_ml)})")
        out.append(Finding(
            "DROPPER_UNCALIBRATED", Severity.WARNING,
            f"No dropper calibration given: the USP medicine dropper "
            f"({format_number(ctx.drops_per_ml)} drops/mL; a drop of water "
            f"{format_number(dropper['usp_drop_mass_low_mg'])}–"
            f"{format_number(dropper['usp_drop_mass_high_mg'])} mg) is "
            f"assumed. At {format_number(low_d)}–{format_number(high_d)} drops/mL {what}. Calibrate: "
            "count the drops of this preparation that fill a measured volume, e.g. "
            "--calibration '46 drops/2mL'.",
            {"drops_per_ml_low": low_d, "drops_per_ml_high": high_d,
             "dose_delivered_low_mg": float(d.delivered_low_mg[i]) if has_dose else None,
             "dose_delivered_high_mg": float(d.delivered_high_mg[i]) if has_dose else None,
             "source": dropper["source"]}))
    if not has_dose:
        return out
    exact = float(d.drops_exact[i])
    error = float(d.dose_error[i])
    refusals = _dose_refusals(comp, i, ctx, conc, dropper)
    if refusals:
        return out + refusals
    if abs(error) > 1e-9:
        out.append(Finding(
            "DROPS_DOSE_ROUNDED", Severity.INFO,
            f"{format_number(exact)} drops rounded to {format_count(drops, 'drop')}: "
            f"{format_mass(d.dose_delivered_mg[i])} delivered ({_signed_pct(error)}), within "
            f"±{format_number(ctx.tolerance * 100)} %.", {"dose_error_pct": error * 100}))
    supply = float(d.days_supply[i])
    longer = longer_than_bud(
        "SUPPLY_LONGER_THAN_BUD", supply, default_window(ctx.vehicle.bud_category),
        lead=liquid_plan.supply_lead(ctx.volume, supply), daily_ml=drops / ctx.drops_per_ml)
    if longer is not None:
        out.append(longer)
    return out


def _dose_refusals(comp: DropsComputed, i: int, ctx: DropsContext, conc: float,
                   dropper: dict[str, Any]) -> list[Finding]:
    """Refusals of the drops per dose: too many, more than the bottle, or outside ±tolerance.

    Each names the limit it crosses and the concentration that would work; a dose that
    works 10 or 1000 times over with the other unit also says so (a likely slip).
    """
    d, m = comp.drops, comp.drops.masks
    exact, drops = float(d.drops_exact[i]), float(d.drops_per_dose[i])
    error, dose = float(d.dose_error[i]), float(d.dose_mg[i])
    most = int(ctx.max_drops)
    out: list[Finding] = []
    # A dose that is itself 1000 × off already says so (UNIT_SLIP_SUSPECTED from the dose bands).
    dose_slip = bool(unit_slip_suspected(to_hcl(dose, ctx.basis, ctx.source.salts),
                                         resolve.dose_bands()))
    slip = None if dose_slip else _slip(exact, most, conc)
    if m["TOO_MANY_DROPS"][i]:
        fits = dose * ctx.drops_per_ml / most
        out.append(Finding(
            "TOO_MANY_DROPS", Severity.REFUSAL,
            f"The dose {format_mass(dose)} at {format_concentration(conc)} is "
            f"{format_number(exact)} drops, more than the {most} drops one dose may take "
            f"(pharmacy policy, rules.toml [dropper] max_drops_per_dose). "
            f"At {format_concentration(fits)} or more "
            f"the dose is {most} drops or fewer.",
            {"drops_exact": exact, "max_drops_per_dose": most,
             "least_concentration_mg_per_ml": fits, "source": dropper["max_drops_source"]}))
    if m["LESS_THAN_ONE_DOSE"][i]:
        out.append(liquid_plan.less_than_one_dose(
            f"{format_volume(ctx.volume)} is {format_number(float(d.drops_in_container[i]))} drops, "
            f"less than one dose of {format_count(drops, 'drop')}"))
    if not out and (m["DROPS_DOSE_NOT_WHOLE"][i] or m["DOSE_BELOW_ONE_DROP"][i]):
        suggested = float(d.suggested_concentration_mg_per_ml[i])
        below = f"{format_number(exact)} of a drop" if m["DOSE_BELOW_ONE_DROP"][i] else \
            f"{format_number(exact)} drops"
        out.append(Finding(
            "DOSE_BELOW_ONE_DROP" if m["DOSE_BELOW_ONE_DROP"][i] else "DROPS_DOSE_NOT_WHOLE",
            Severity.REFUSAL,
            f"{format_mass(dose)} at {format_concentration(conc)} is {below}: no whole number of "
            f"drops is within ±{format_number(ctx.tolerance * 100)} % of the dose. "
            f"{_deliver(drops)} {format_mass(d.dose_delivered_mg[i])} ({_signed_pct(error)}). "
            f"At {format_concentration(suggested)}, {_deliver(drops)} the dose exactly.",
            {"drops_exact": exact, "dose_error_pct": error * 100,
             "suggested_concentration_mg_per_ml": suggested, "source": dropper["source"]}))
    if out and slip is not None:
        out.append(slip)
    return out


def _slip(exact: float, most: int, conc: float) -> Finding | None:
    """The 1000× (mg/mcg) or 10× (decimal point) reading under which the dose is 1 to ``most`` drops."""
    for factor, what in ((1000.0, "unit slip (mg/mcg)"), (10.0, "decimal slip (10×)")):
        for drops, meant in ((exact / factor, conc * factor), (exact * factor, conc / factor)):
            if 0.95 <= drops <= most:
                return Finding(
                    "UNIT_SLIP_SUSPECTED", Severity.WARNING,
                    f"Possible {what}: at {format_concentration(meant)} (or with the dose "
                    f"{format_number(factor)} × {'smaller' if meant > conc else 'larger'}) the "
                    f"dose would be {format_number(drops)} drops. Check the units of the "
                    "concentration and the dose.",
                    {"factor": factor, "suggested_concentration_mg_per_ml": meant,
                     "source": "ISMP Canada Bulletin 23(10), 2023 (mcg/mg slips)"})
    return None


def _deliver(drops: float) -> str:
    return f"{format_count(drops, 'drop')} {'delivers' if int(drops) == 1 else 'deliver'}"


def _signed_pct(fraction: float) -> str:
    """``+66.67 %`` / ``−3.382 %`` (a true minus sign, as the capsule plans print)."""
    sign = "+" if fraction > 0 else "−" if fraction < 0 else ""
    return f"{sign}{format_number(abs(fraction) * 100)} %"


def working_for(comp: DropsComputed, i: int, ctx: DropsContext, *, with_steps: bool = True
                ) -> tuple[dict[str, float | None], dict[str, Any], Working]:
    """Row ``i``'s amounts (unrounded), JSON objects (rounded) and steps (none if not ``with_steps``)."""
    d = comp.drops
    conc = float(d.concentration_mg_per_ml[i])
    w = Working()
    if with_steps:
        for step in _dropper_steps(d, i, ctx, conc):
            w.add(step)
    amounts: dict[str, float | None] = {"drops_per_ml": ctx.drops_per_ml,
                                        "concentration_mg_per_ml": conc,
                                        "drug_mg_per_drop": float(d.mg_per_drop[i])}
    l_amounts, l_extra, l_work = liquid_plan.working_for(comp.as_liquid, i, _liquid_ctx(ctx, conc),
                                                         with_steps=with_steps)
    for s in l_work:
        w.add(s)
    amounts.update({k: v for k, v in l_amounts.items() if k != "concentration_mg_per_ml"})
    if np.isfinite(d.drops_exact[i]):
        if with_steps:
            for step in _dose_steps(d, i, ctx, conc):
                w.add(step)
        amounts.update({"drops_per_dose": float(d.drops_per_dose[i]),
                        "days_supply": float(d.days_supply[i]),
                        "dose_delivered_mg": float(d.dose_delivered_mg[i]),
                        "dose_error_pct": float(d.dose_error[i]) * 100})
        if not ctx.calibrated:
            amounts["dose_delivered_low_mg"] = float(d.delivered_low_mg[i])
            amounts["dose_delivered_high_mg"] = float(d.delivered_high_mg[i])
    return amounts, l_extra, w


def _dropper_steps(d: DropsResult, i: int, ctx: DropsContext, conc: float) -> list[Step]:
    """The dropper's drops per mL, then the concentration or the drug per drop."""
    if ctx.calibrated:
        steps = [Step(key="drops_per_ml", label="Dropper calibration",
                      formula="drops counted ÷ volume collected",
                      inputs={"counted": ctx.calibration_text
                              or f"{format_number(ctx.drops_per_ml)} drops/mL"},
                      result=f"{format_number(ctx.drops_per_ml)} drops/mL",
                      value=json_number(ctx.drops_per_ml),
                      source="uhphar-4330 calculation of doses (35 drops in 2 mL = 17.5 drops/mL); "
                             "USP <1101>")]
    else:
        steps = [Step(key="drops_per_ml", label="Dropper (assumed, not calibrated)",
                      formula="USP medicine dropper", inputs={},
                      result=f"{format_number(ctx.drops_per_ml)} drops/mL",
                      value=json_number(ctx.drops_per_ml), source=resolve.rule("dropper")["source"])]
    if ctx.per_drop is not None:
        steps.append(Step(key="concentration_mg_per_ml", label="Concentration",
                          formula="naltrexone per drop × drops per mL",
                          inputs={"per drop": f"{format_mass(ctx.per_drop)}/drop",
                                  "drops per mL": format_number(ctx.drops_per_ml)},
                          result=format_concentration(conc), value=json_number(conc)))
    else:
        steps.append(Step(key="drug_mg_per_drop", label="Naltrexone per drop",
                          formula="concentration ÷ drops per mL",
                          inputs={"concentration": format_concentration(conc),
                                  "drops per mL": format_number(ctx.drops_per_ml)},
                          result=f"{format_mass(d.mg_per_drop[i])}/drop",
                          value=json_number(d.mg_per_drop[i])))
    return steps


def _dose_steps(d: DropsResult, i: int, ctx: DropsContext, conc: float) -> list[Step]:
    """Drops for the dose, whole drops, the dose they deliver and its error."""
    exact, drops = float(d.drops_exact[i]), float(d.drops_per_dose[i])
    steps = []
    if ctx.dose_drops is None:
        steps.append(Step(key="drops_exact", label="Drops for the dose",
                          formula="dose × drops per mL ÷ concentration",
                          inputs={"dose": format_mass(float(d.dose_mg[i])),
                                  "drops per mL": format_number(ctx.drops_per_ml),
                                  "concentration": format_concentration(conc)},
                          result=f"{format_number(exact)} drops", value=json_number(exact)))
    steps.append(Step(key="drops_per_dose", label="Drops per dose",
                      formula="drops for the dose, to the nearest whole drop (at least 1)",
                      inputs={"drops": format_number(exact)}, result=format_count(drops, "drop"),
                      value=int(drops)))
    delivered = float(d.dose_delivered_mg[i])
    steps.append(Step(key="dose_delivered_mg", label="Dose delivered",
                      formula="drops per dose × naltrexone per drop",
                      inputs={"drops": format_number(drops),
                              "per drop": f"{format_mass(d.mg_per_drop[i])}/drop"},
                      result=format_mass(delivered), value=json_number(delivered)))
    steps.append(Step(key="days_supply", label="Days supplied at one dose a day",
                      formula="volume × drops per mL ÷ drops per dose, rounded down to whole days",
                      inputs={"volume": format_volume(ctx.volume),
                              "drops per mL": format_number(ctx.drops_per_ml),
                              "drops per dose": format_number(drops)},
                      result=format_count(float(d.days_supply[i]), "day"),
                      value=int(d.days_supply[i])))
    err = float(d.dose_error[i]) * 100
    steps.append(Step(key="dose_error_pct", label="Dose error", formula="delivered ÷ dose − 1",
                      inputs={"delivered": format_mass(delivered),
                              "dose": format_mass(float(d.dose_mg[i]))},
                      result=_signed_pct(err / 100), value=json_number(err)))
    return steps


def parse_drops_per_ml(calibration: Any, drops_per_ml: Any) -> tuple[float | None, str | None]:
    """The calibration from ``"46 drops/2mL"`` or a drops-per-mL number; None if neither."""
    if calibration is not None and drops_per_ml is not None:
        raise InputError("give the dropper calibration once.",
                         hint="Use --calibration '46 drops/2mL' or --drops-per-ml 23, not both.",
                         field="calibration")
    if calibration is not None:
        text = typed(calibration) or ""
        if units.is_quantity(calibration):
            return units.coerce(calibration, "calibration", field="calibration"), text
        return units.parse(text, "calibration", field="calibration").value, text
    if drops_per_ml is not None:
        if units.is_quantity(drops_per_ml):
            return units.coerce(drops_per_ml, "calibration", field="drops_per_ml"), None
        text = str(drops_per_ml).strip()
        if re.fullmatch(r"[+-]?[\d.,]+", text):
            text = f"{text} drops/mL"
        return units.parse(text, "calibration", field="drops_per_ml").value, None
    return None, None


def plan_drops(*, per_drop: Any = None, strength: Any = None, calibration: Any = None,
               drops_per_ml: Any = None, volume: Any = None, dose: Any = None, source: str = "api",
               vehicle: str | None = None, tablet_weight: Any = None, api_form: str = "anhydrous",
               assay: Any = None, water: Any = None, basis: str = "hcl", product: str | None = None,
               balance: str | None = None, balance_sensitivity: Any = None,
               opioid_use: bool = False, override_opioid: str | None = None) -> DropsPlan:
    """Plan sublingual drops: ``per_drop`` (``"0.5mg/drop"``) or ``strength`` (``"10mg/mL"``).

    ``calibration`` (``"46 drops/2mL"``) or ``drops_per_ml`` (``23``) describe the
    dropper; with neither, the USP dropper is assumed (a warning). ``dose`` is a
    mass (``"4.5mg"``) or, with a calibration, whole drops (``"9 drops"``).
    """
    plan, ctx = drops_context(
        per_drop=per_drop, strength=strength, calibration=calibration, drops_per_ml=drops_per_ml,
        volume=volume, dose=dose, source=source, vehicle=vehicle, tablet_weight=tablet_weight,
        api_form=api_form, assay=assay, water=water, basis=basis, product=product, balance=balance,
        balance_sensitivity=balance_sensitivity, opioid_use=opioid_use,
        override_opioid=override_opioid)
    if ctx is None:
        return plan
    return complete(plan, compute(ctx), 0, ctx)


def drops_context(*, per_drop: Any = None, strength: Any = None, calibration: Any = None,
                  drops_per_ml: Any = None, volume: Any = None, dose: Any = None, source: str = "api",
                  vehicle: str | None = None, tablet_weight: Any = None, api_form: str = "anhydrous",
                  assay: Any = None, water: Any = None, basis: str = "hcl", product: str | None = None,
                  balance: str | None = None, balance_sensitivity: Any = None,
                  opioid_use: bool = False, override_opioid: str | None = None,
                  resolver: liquid_plan.Resolver | None = None
                  ) -> tuple[DropsPlan, DropsContext | None]:
    """``plan_drops`` up to the core: the plan with its inputs and first findings, and the context.

    The context is None when those findings already refuse the plan. Raises InputError as
    ``plan_drops`` does; ``resolver`` (a batch's) remembers what it parsed and resolved.
    """
    if (per_drop is None) == (strength is None):
        raise InputError("give either the amount per drop or the concentration, not "
                         + ("both." if per_drop is not None else "neither."),
                         hint="Use --per-drop 0.5mg or --strength 10mg/mL.", field="per_drop")
    if volume is None or (isinstance(volume, str) and not volume.strip()):
        raise InputError("drops need the volume to make.", hint="Give --volume, e.g. 30mL.",
                         field="volume")
    r = resolver or liquid_plan.DIRECT
    dpm, cal_text = r.remember(("drops_per_ml", calibration, drops_per_ml),
                               lambda: parse_drops_per_ml(calibration, drops_per_ml))
    pd = None
    if per_drop is not None:
        text = typed(per_drop) or ""
        if isinstance(per_drop, str) and "/" not in text:
            text = f"{text}/drop"
        pd = r.remember(("per_drop", text if isinstance(per_drop, str) else per_drop),
                        lambda: units.coerce(text if isinstance(per_drop, str) else per_drop,
                                             "mass_per_drop", field="per_drop"))
    c = r.amount(strength, "concentration", "strength")
    v = r.amount(volume, "volume", "volume")
    d: float | None = None
    d_drops: float | None = None
    m = _DROP_DOSE.match(dose) if isinstance(dose, str) else None
    if m:
        if dpm is None:
            raise InputError(f"dose: {dose!r} is in drops, but the dropper is not calibrated.",
                             hint="Give the dose in mg (e.g. 4.5mg), or calibrate the dropper "
                                  "(--calibration '46 drops/2mL').", field="dose")
        d_drops = float(m.group("n"))
        if d_drops > 0 and d_drops != int(d_drops):
            raise InputError(f"dose: {dose!r} is not a whole number of drops.",
                             hint="Type whole drops, e.g. 9 drops.", field="dose")
    else:
        d = r.amount(dose, "mass", "dose")
    src = r.source(source, product=product, tablet_weight=tablet_weight, api_form=api_form,
                   assay=assay, water=water, balance=balance,
                   balance_sensitivity=balance_sensitivity)
    veh = r.vehicle(vehicle)
    dropper = resolve.rule("dropper")
    inputs: dict[str, Any] = {
        "per_drop": typed(per_drop), "strength": typed(strength), "calibration": cal_text,
        "drops_per_ml": typed(drops_per_ml), "volume": typed(volume), "dose": typed(dose),
        "basis": basis, "source": src.kind, "product": src.product_key,
        "api_form": src.api_form if src.kind == "api" else None,
        "tablet_weight": typed(tablet_weight), "assay": typed(assay), "water": typed(water),
        "vehicle": veh.key, "balance": src.balance.key, "opioid_use": bool(opioid_use),
        "override_opioid": override_opioid,
    }
    findings = _source.non_positive_findings({"amount per drop": pd, "strength": c, "volume": v,
                                              "dose in drops": d_drops})
    calibrated = dpm is not None
    dpm_used = dpm if dpm is not None else float(dropper["usp_drops_per_ml"])
    dose_basis = d
    if d_drops is not None and d_drops > 0:
        per = pd if pd is not None else (c or 0.0) / dpm_used
        dose_basis = d_drops * per
    to_hcl(1.0, basis, src.salts)  # an unknown basis raises, dose or not, refused or not
    d_hcl = None if dose_basis is None else to_hcl(dose_basis, basis, src.salts)
    findings += r.safety(d_hcl, opioid_use=opioid_use, override_opioid=override_opioid)
    if v is not None and v > 0:
        findings += _source.batch_limit_findings(volume_ml=v)
    findings += _source.base_basis_finding(
        [("strength", c, "mg/mL"), ("per drop", pd, "mg/drop"), ("dose", d, "mg")], basis, src.salts)
    findings += src.findings
    if dose is None:
        findings.append(Finding("NO_DOSE_GIVEN", Severity.INFO,
                                "No dose given: the dose band and drops per dose are not checked. "
                                "Add --dose.", {}))
    plan = DropsPlan("drops", inputs, findings=findings)
    if plan.refused:
        plan.findings = _source.rounded(plan.findings)
        return plan, None
    assert v is not None
    return plan, DropsContext(pd, c, dpm_used, calibrated, cal_text, v, d, d_drops, basis, src, veh,
                              float(dropper["dose_tolerance_pct"]) / 100.0,
                              1000.0 / float(dropper["usp_drop_mass_high_mg"]),
                              1000.0 / float(dropper["usp_drop_mass_low_mg"]),
                              float(dropper["max_drops_per_dose"]), solubility_hcl(src))


def complete(plan: DropsPlan, comp: DropsComputed, i: int, ctx: DropsContext, *,
             with_steps: bool = True) -> DropsPlan:
    """Finish ``plan`` from row ``i`` of the core's result: findings, then amounts and objects.

    ``with_steps=False`` leaves the working empty (a batch does not print it).
    """
    plan.findings.extend(findings_for(comp, i, ctx))
    if not plan.refused:
        plan.amounts, plan.extra, plan.working = working_for(comp, i, ctx, with_steps=with_steps)
    plan.findings = _source.rounded(plan.findings)
    return plan
