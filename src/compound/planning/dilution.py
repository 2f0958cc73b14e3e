"""Serial (microgram) dilutions, and the liquid pieces liquids and drops share.

:func:`plan_dilution` plans a very- or ultra-low-dose liquid: a final
concentration (``1mcg/mL``) and volume, made from a stock weighing ≥ MWQ by
stages that each dilute at most 1:100 with measurable volumes.

Shape (shared by liquid and drops): parse and resolve into a context, build
one-element arrays, call the vectorised core once, then :func:`findings_for`
and :func:`working_for` turn row ``i`` into findings, amounts and steps. A
batch run builds the same arrays for many rows and calls the core once. The
stage count varies per row; the core returns ``(rows, max_stages)`` arrays
padded with NaN, so no per-row loop is needed there.

Also here, because all three plans use them: the liquid-aliquot presentation
(:func:`aliquot_findings`, :func:`aliquot_working`), the oral syringe
(:func:`device_findings`, :func:`device_working`) and the vehicle
(:func:`vehicle_findings`, :func:`vehicle_working`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from compound.catalog import loader
from compound.catalog.loader import Row
from compound.core.dilution import (
    Devices,
    DilutionInputs,
    DilutionResult,
    DilutionRules,
    serial_dilution,
)
from compound.core.findings import Finding, Severity
from compound.core.liquids import DeviceChoice, choose_device, dose_volume_ml
from compound.core.rounding import (
    format_concentration,
    format_mass,
    format_number,
    format_volume,
    json_number,
)
from compound.core.working import Step, Working
from compound.errors import InputError
from compound.planning import _source, resolve
from compound.planning._source import Source, Vehicle, amount, basis_step, to_hcl, typed
from compound.planning.base import LiquidBasePlan

if TYPE_CHECKING:
    import pint

WATER = "purified water"
Parts = tuple[dict[str, Any], list[Step]]


# --- shared catalog values ------------------------------------------------------------------

def dilution_rules() -> DilutionRules:
    """The [dilution] limits and every measuring device, for the core."""
    r = resolve.rule("dilution")
    _, devices = _source.measuring_devices(for_dose=False)
    return DilutionRules(
        vessel_ml=float(r["stage_vessel_ml"]), max_factor=float(r["max_factor_per_stage"]),
        stage_factors=tuple(float(f) for f in r["stage_factors"]),
        min_volume_ml=float(r["min_measured_volume_ml"]), max_stages=int(r["max_stages"]),
        devices=devices,
    )


def max_final_fraction(v: Vehicle) -> float:
    """Largest share of the final volume the last aliquot may take (room for the vehicle)."""
    headroom = float(resolve.rule("dilution")["qs_headroom_pct"]) / 100.0
    return max(0.0, 1.0 - v.liquid_fraction - headroom)


def solubility_hcl(source: Source) -> float:
    """The water solubility limit as mg/mL of naltrexone HCl (base API: far lower)."""
    if source.kind == "api" and source.api_form == "base":
        base = float(resolve.rule("liquid")["base_water_solubility_mg_per_ml"])
        return base * source.salts.mw_hcl / source.salts.mw_base
    return float(resolve.rule("solubility")["hcl_water_mg_per_ml"])


def solubility_finding(c_hcl: float, sol: float, source: Source) -> Finding:
    what = "naltrexone base powder" if source.api_form == "base" and source.kind == "api" \
        else "naltrexone HCl"
    src = resolve.rule("liquid" if "base" in what else "solubility")["source"]
    return Finding(
        "CONCENTRATION_ABOVE_SOLUBILITY", Severity.REFUSAL,
        f"{format_concentration(c_hcl)} (as naltrexone HCl) is above the solubility of {what} in "
        f"water ({format_concentration(sol)} as HCl): it would not be a solution.",
        {"concentration_mg_per_ml": c_hcl, "limit_mg_per_ml": sol, "source": src})


def mwq_step(source: Source) -> Step:
    b = source.balance
    return Step(key="mwq_mg", label="Minimum weighable quantity (MWQ)",
                formula="balance sensitivity ÷ acceptable weighing error",
                inputs={"balance": b.name, "sensitivity": format_mass(b.sensitivity_mg),
                        "error": f"{format_number(b.max_error * 100)} %"},
                result=format_mass(b.mwq_mg), value=json_number(b.mwq_mg), source=b.source)


# --- the liquid aliquot (stock and stages) --------------------------------------------------

def aliquot_findings(res: DilutionResult, i: int) -> list[Finding]:
    """Refusals when row ``i`` cannot be diluted within the limits."""
    rules = resolve.rule("dilution")
    out = []
    if res.masks["DILUTION_TOO_MANY_STAGES"][i]:
        out.append(Finding(
            "DILUTION_TOO_MANY_STAGES", Severity.REFUSAL,
            f"More than {int(rules['max_stages'])} dilution stages of at most "
            f"1:{format_number(float(rules['max_factor_per_stage']))} would be needed: the "
            "concentration is too low to make reliably. Check the strength and its unit.",
            {"source": rules["source"]}))
    if res.masks["DILUTION_VOLUME_TOO_SMALL"][i]:
        out.append(Finding(
            "DILUTION_VOLUME_TOO_SMALL", Severity.REFUSAL,
            "The final volume is too small to take a measurable aliquot "
            f"(at least {format_volume(float(rules['min_measured_volume_ml']))}) into it and leave "
            "room for the vehicle: make a larger volume.", {"source": rules["source"]}))
    if res.masks["STOCK_ABOVE_SOLUBILITY"][i]:
        out.append(Finding(
            "STOCK_ABOVE_SOLUBILITY", Severity.REFUSAL,
            f"The stock ({format_concentration(res.stock_mg_per_ml[i])}) would be above the "
            "solubility of naltrexone: it would not be a solution.", {}))
    return out


def _from_label(j: int) -> str:
    return "the stock" if j == 0 else f"stage {j}"


def _aliquot_steps(res: DilutionResult, i: int, *, source: Source, power: float,
                   what: str) -> list[Step]:
    """The overall factor, stock concentration and weighing steps of row ``i``."""
    rules_source = resolve.rule("dilution")["source"]
    weigh = float(res.weigh_mg[i])
    stock_c = float(res.stock_mg_per_ml[i])
    stock_v = float(res.stock_volume_ml[i])
    n = int(res.stage_count[i])
    overall = float(res.overall_factor[i])
    target = float(res.mg_per_ml[i, n - 1])
    factor_inputs = {
        f"stage {j + 1}": (f"{format_volume(float(res.make_up_to_ml[i, j]))} ÷ "
                           f"{format_volume(float(res.take_ml[i, j]))} = "
                           f"{format_number(float(res.factor[i, j]))}")
        for j in range(n)
    }
    return [
        Step(key="overall_factor", label="Overall dilution factor",
             formula="product of the stage factors (each = volume made ÷ volume taken)",
             inputs=factor_inputs, result=format_number(overall), value=json_number(overall),
             source=rules_source,
             note="Every volume is a whole number of graduations of a measuring device; only the "
                  "weighing is calculated, so the final concentration is the target exactly."),
        Step(key="stock_concentration_mg_per_ml", label="Stock concentration (naltrexone HCl)",
             formula="final concentration × overall dilution factor",
             inputs={"final concentration": format_concentration(target),
                     "overall factor": format_number(overall)},
             result=format_concentration(stock_c), value=json_number(stock_c)),
        Step(key="api_to_weigh_mg", label=f"{what} to weigh for the stock",
             formula="stock concentration × stock volume × powder per mg naltrexone HCl",
             inputs={"stock concentration": format_concentration(stock_c),
                     "stock volume": format_volume(stock_v), "powder per mg HCl": format_number(power)},
             result=format_mass(weigh), value=json_number(weigh),
             source="UNC liquid aliquot method https://pharmlabs.unc.edu/labs/triturations/aliquot.htm",
             note=(f"At least the MWQ ({format_mass(source.mwq_mg)}). Dissolve and make up to "
                   f"{format_volume(stock_v)} with {WATER}. Record the actual weight: every "
                   "concentration below scales with it.")),
    ]


def aliquot_working(res: DilutionResult, i: int, *, source: Source, power: float,
                    final_diluent: str, what: str, with_steps: bool = True) -> Parts:
    """Row ``i``'s stock and stages as JSON (rounded) and steps (none when not ``with_steps``).

    The weighing is computed back from the target through the stage factors
    (core/dilution.py), so final concentration × overall factor = stock, exactly.
    """
    weigh = float(res.weigh_mg[i])
    stock_c = float(res.stock_mg_per_ml[i])
    stock_v = float(res.stock_volume_ml[i])
    n = int(res.stage_count[i])
    overall = float(res.overall_factor[i])
    steps = _aliquot_steps(res, i, source=source, power=power, what=what) if with_steps else []
    stages = []
    previous = stock_c
    for j in range(n):
        take, made, f, c = (float(res.take_ml[i, j]), float(res.make_up_to_ml[i, j]),
                            float(res.factor[i, j]), float(res.mg_per_ml[i, j]))
        diluent = final_diluent if j == n - 1 else WATER
        if with_steps:
            steps.append(Step(
                key=f"stage_{j + 1}_concentration_mg_per_ml",
                label=(f"Stage {j + 1}: take {format_volume(take)} of {_from_label(j)}, make up to "
                       f"{format_volume(made)} with {diluent}"),
                formula="previous concentration × volume taken ÷ volume made",
                inputs={"previous": format_concentration(previous), "taken": format_volume(take),
                        "made": format_volume(made)},
                result=format_concentration(c), value=json_number(c)))
        stages.append({
            "stage": j + 1, "take_ml": json_number(take), "from": _from_label(j),
            "from_concentration_mg_per_ml": json_number(previous), "make_up_to_ml": json_number(made),
            "diluent": diluent, "factor": json_number(f), "concentration_mg_per_ml": json_number(c),
        })
        previous = c
    extra = {
        "stock": {"weigh_mg": json_number(weigh), "make_up_to_ml": json_number(stock_v),
                  "diluent": WATER, "concentration_mg_per_ml": json_number(stock_c)},
        "stages": stages,
        "overall_factor": json_number(overall),
    }
    return extra, steps


# --- the oral syringe for one dose ----------------------------------------------------------

_dose_devices: list[Any] = [None, None]
"""The catalog table last read and the dose devices made from it."""


def dose_devices() -> tuple[list[Row], Devices]:
    """The oral syringes (measuring_devices.csv, for_dose = 1), remade when the catalog is reread.

    A batch asks for them for every distinct liquid with a dose.
    """
    table = loader.table("measuring_devices")
    if _dose_devices[0] is not table:
        _dose_devices[:] = [table, _source.measuring_devices(for_dose=True)]
    return _dose_devices[1]  # type: ignore[no-any-return]


def choose_dose_device(dose_volume: np.ndarray) -> DeviceChoice:
    _, dev = dose_devices()
    return choose_device(dose_volume, dev.capacity_ml, dev.graduation_ml, dev.min_volume_ml)


def device_findings(choice: DeviceChoice, i: int, volume: float, concentration_hcl: float
                    ) -> list[Finding]:
    """Findings when no oral syringe measures one dose volume exactly."""
    rows, dev = dose_devices()
    index = int(choice.index[i])
    if index < 0:
        return [Finding(
            "DOSE_VOLUME_ABOVE_DEVICE", Severity.WARNING,
            f"The dose volume {format_volume(volume)} is more than the largest oral syringe "
            f"({format_volume(max(dev.capacity_ml))}): use a higher strength so one dose fits one "
            "syringe.", {"dose_volume_ml": volume})]
    row, grad = rows[index], dev.graduation_ml[index]
    name = row.get("name", row["key"])
    out = []
    if choice.below_minimum[i]:
        out.append(Finding(
            "DOSE_VOLUME_BELOW_MEASURABLE", Severity.WARNING,
            f"The dose volume {format_volume(volume)} is below what a {name} measures reliably "
            f"({format_volume(dev.min_volume_ml[index])}): use a lower strength.",
            {"dose_volume_ml": volume, "source": row["source"]}))
    if not choice.on_graduation[i]:
        below = math.floor(volume / grad + 1e-9) * grad
        above = below + grad
        out.append(Finding(
            "DOSE_VOLUME_NOT_GRADUATED", Severity.WARNING,
            f"{format_volume(volume)} is not on a mark of the {name} (marked every "
            f"{format_volume(grad)}): the patient can measure {format_volume(below)} "
            f"({format_mass(below * concentration_hcl)}) or {format_volume(above)} "
            f"({format_mass(above * concentration_hcl)}). Choose a strength that puts the dose on a "
            "mark, or supply a syringe with finer marks.",
            {"dose_volume_ml": volume, "graduation_ml": grad, "source": row["source"]}))
    return out


def device_working(choice: DeviceChoice, i: int, volume: float, *, with_steps: bool = True) -> Parts:
    rows, dev = dose_devices()
    index = int(choice.index[i])
    if index < 0:
        return {}, []
    row, grad = rows[index], dev.graduation_ml[index]
    extra = {"key": row["key"], "name": row.get("name", row["key"]),
             "capacity_ml": json_number(dev.capacity_ml[index]), "graduation_ml": json_number(grad)}
    if not with_steps:
        return extra, []
    step = Step(key="device", label="Measuring device for one dose",
                formula="smallest oral syringe that holds the dose, preferring one whose marks "
                        "measure it exactly",
                inputs={"dose volume": format_volume(volume), "marked every": format_volume(grad)},
                result=row.get("name", row["key"]), value=None, source=row["source"])
    return extra, [step]


# --- the vehicle ----------------------------------------------------------------------------

def _scaled(v: Vehicle, volume: float) -> list[tuple[Any, float, bool]]:
    out = []
    for c in v.components:
        if c.qs:
            out.append((c, volume, False))
        else:
            is_mg = not math.isnan(c.amount_mg)
            per = c.amount_mg if is_mg else c.amount_ml
            out.append((c, per * volume / v.per_volume_ml, is_mg))
    return out


def vehicle_findings(v: Vehicle, volume: float, mwq: float) -> list[Finding]:
    out = []
    for c, scaled, is_mg in _scaled(v, volume):
        if is_mg and scaled < mwq:
            out.append(Finding(
                "VEHICLE_COMPONENT_BELOW_MWQ", Severity.WARNING,
                f"{c.name} {format_mass(scaled)} is below the minimum weighable quantity "
                f"({format_mass(mwq)}): make a larger batch of the vehicle and measure the volume "
                "needed, or use a more sensitive balance.",
                {"component": c.key, "amount_mg": scaled, "mwq_mg": mwq}))
    return out


def vehicle_working(v: Vehicle, volume: float, *, with_steps: bool = True) -> Parts:
    """The vehicle's components scaled to the volume made (and their steps if ``with_steps``)."""
    components = []
    steps = []
    per_text = format_volume(v.per_volume_ml)
    for c, scaled, is_mg in _scaled(v, volume):
        if c.qs:
            components.append({"name": c.name, "qs_to_ml": json_number(volume), "role": c.role})
            continue
        unit = "mg" if is_mg else "ml"
        fmt = format_mass if is_mg else format_volume
        per = c.amount_mg if is_mg else c.amount_ml
        components.append({"name": c.name, f"amount_{unit}": json_number(scaled), "role": c.role})
        if not with_steps:
            continue
        steps.append(Step(
            key=f"vehicle_{c.key.split('/')[-1].replace('-', '_')}_{unit}", label=c.name,
            formula=f"amount per {per_text} × volume made ÷ {per_text}",
            inputs={f"per {per_text}": fmt(per), "volume made": format_volume(volume)},
            result=fmt(scaled), value=json_number(scaled), source=c.source))
    extra = {"key": v.key, "name": v.name, "bud_category": v.bud_category, "method": v.method,
             "components": components, "source": v.source}
    return extra, steps


# --- plan_dilution --------------------------------------------------------------------------

@dataclass
class DilutionPlan(LiquidBasePlan):
    """A serial dilution; typed results as pint quantities."""

    @property
    def stock_concentration(self) -> pint.Quantity | None:
        return self.quantity("stock_concentration_mg_per_ml")

    @property
    def stages(self) -> list[dict[str, Any]]:
        return list(self.extra.get("stages", []))


@dataclass(frozen=True)
class DilutionContext:
    c: float
    c_hcl: float
    v: float
    dose: float | None
    dose_hcl: float | None
    basis: str
    source: Source
    vehicle: Vehicle
    power: float
    solubility: float

    @property
    def what(self) -> str:
        return "Crushed tablet powder" if self.source.from_tablets else "API powder"


@dataclass(frozen=True)
class DilutionComputed:
    dilution: DilutionResult
    dose_volume: np.ndarray
    device: DeviceChoice | None


def compute(ctx: DilutionContext) -> DilutionComputed:
    """The core calls for one row (a batch builds longer arrays the same way)."""
    res = serial_dilution(DilutionInputs(
        target_mg_per_ml=np.array([ctx.c_hcl]), volume_ml=np.array([ctx.v]),
        powder_per_hcl=np.array([ctx.power]), mwq_mg=np.array([ctx.source.mwq_mg]),
        max_final_fraction=np.array([max_final_fraction(ctx.vehicle)]),
        solubility_mg_per_ml=np.array([ctx.solubility])), dilution_rules())
    if ctx.dose is None:
        return DilutionComputed(res, np.array([np.nan]), None)
    dv = dose_volume_ml(np.array([ctx.dose]), np.array([ctx.c]))
    return DilutionComputed(res, dv, choose_dose_device(dv))


def findings_for(comp: DilutionComputed, i: int, ctx: DilutionContext) -> list[Finding]:
    if ctx.c_hcl > ctx.solubility:
        return [solubility_finding(ctx.c_hcl, ctx.solubility, ctx.source)]
    res = comp.dilution
    out = aliquot_findings(res, i)
    if res.direct[i]:
        out.append(Finding(
            "DILUTION_NOT_NEEDED", Severity.INFO,
            f"{format_mass(float(res.weigh_mg[i]))} of {ctx.what.lower()} can be weighed directly: "
            "no dilution is needed (compound plan liquid gives the same preparation).", {}))
    if ctx.source.from_tablets:
        out.append(Finding(
            "SUSPENSION_ALIQUOTS", Severity.WARNING,
            "Made from crushed tablets: the insoluble tablet excipients stay suspended in the stock. "
            "Shake well before taking each aliquot; naltrexone HCl itself dissolves.",
            {"source": "domain.md 1.4 (tablet excipients are water-insoluble)"}))
    if comp.device is not None:
        out += device_findings(comp.device, i, float(comp.dose_volume[i]), ctx.c_hcl)
    out += vehicle_findings(ctx.vehicle, ctx.v, ctx.source.mwq_mg)
    return out


def working_for(comp: DilutionComputed, i: int, ctx: DilutionContext
                ) -> tuple[dict[str, float | None], dict[str, Any], Working]:
    res = comp.dilution
    w = Working()
    b = basis_step("concentration_hcl_mg_per_ml", "Strength as naltrexone HCl", ctx.c, ctx.basis,
                   ctx.source.salts, "mg/mL")
    if b is not None:
        w.add(b)
    api = ctx.c_hcl * ctx.v
    w.add(Step(key="api_mg", label="Naltrexone HCl in the final liquid",
               formula="final concentration × final volume",
               inputs={"concentration": format_concentration(ctx.c_hcl),
                       "volume": format_volume(ctx.v)},
               result=format_mass(api), value=json_number(api)))
    for s in ctx.source.steps:
        w.add(s)
    if ctx.source.from_tablets:
        w.add(Step(key="powder_per_hcl", label="Tablet powder per mg naltrexone HCl",
                   formula="average tablet weight ÷ naltrexone HCl per tablet",
                   inputs={"tablet weight": format_mass(ctx.source.tablet_weight_mg),
                           "per tablet": format_mass(ctx.source.tablet_strength_mg)},
                   result=f"{format_number(ctx.power)} mg per mg", value=json_number(ctx.power),
                   source=ctx.source.product_source))
    w.add(mwq_step(ctx.source))
    amounts: dict[str, float | None] = {"concentration_mg_per_ml": ctx.c, "volume_ml": ctx.v,
                                        "api_mg": api}
    extra: dict[str, Any] = {}
    if res.direct[i]:
        weigh = float(res.weigh_mg[i])
        w.add(Step(key="api_to_weigh_mg", label=f"{ctx.what} to weigh",
                   formula="naltrexone HCl needed × powder per mg HCl",
                   inputs={"naltrexone HCl": format_mass(api),
                           "powder per mg HCl": format_number(ctx.power)},
                   result=format_mass(weigh), value=json_number(weigh)))
        amounts.update({"api_to_weigh_mg": weigh, "stage_count": 0.0})
        extra["stages"] = []
    else:
        parts, steps = aliquot_working(res, i, source=ctx.source, power=ctx.power,
                                       final_diluent=ctx.vehicle.name, what=ctx.what)
        for s in steps:
            w.add(s)
        amounts.update({
            "api_to_weigh_mg": float(res.weigh_mg[i]),
            "stock_concentration_mg_per_ml": float(res.stock_mg_per_ml[i]),
            "stock_volume_ml": float(res.stock_volume_ml[i]),
            "stage_count": float(res.stage_count[i]),
            "overall_factor": float(res.overall_factor[i]),
        })
        extra.update({"stock": parts["stock"], "stages": parts["stages"]})
    if ctx.dose is not None and comp.device is not None:
        dv = float(comp.dose_volume[i])
        amounts["dose_volume_ml"] = dv
        w.add(Step(key="dose_volume_ml", label="Volume of one dose", formula="dose ÷ concentration",
                   inputs={"dose": format_mass(ctx.dose),
                           "concentration": format_concentration(ctx.c)},
                   result=format_volume(dv), value=json_number(dv)))
        dev_extra, dev_steps = device_working(comp.device, i, dv)
        for s in dev_steps:
            w.add(s)
        if dev_extra:
            extra["device"] = dev_extra
    veh_extra, veh_steps = vehicle_working(ctx.vehicle, ctx.v)
    for s in veh_steps:
        w.add(s)
    extra["vehicle"] = veh_extra
    return amounts, extra, w


def plan_dilution(strength: Any, volume: Any, *, dose: Any = None, source: str = "api",
                  vehicle: str | None = None, tablet_weight: Any = None,
                  api_form: str = "anhydrous", assay: Any = None, water: Any = None,
                  basis: str = "hcl", product: str | None = None, balance: str | None = None,
                  balance_sensitivity: Any = None, opioid_use: bool = False,
                  override_opioid: str | None = None) -> DilutionPlan:
    """Plan a serial dilution to ``strength`` (e.g. ``"1mcg/mL"``) in ``volume`` (``"30mL"``).

    From API by default; ``source="tablet"`` weighs crushed tablet powder (needs
    ``tablet_weight``). The stock and intermediate stages are made up with
    purified water, the last stage with the vehicle.
    """
    c = amount(strength, "concentration", "strength")
    v = amount(volume, "volume", "volume")
    if c is None or v is None:
        raise InputError("a dilution needs a final strength and a volume.",
                         hint="Give --strength (e.g. 1mcg/mL) and --volume (e.g. 30mL).",
                         field="strength" if c is None else "volume")
    d = amount(dose, "mass", "dose")
    src = _source.resolve_source(source, product=product, tablet_weight=tablet_weight,
                                 api_form=api_form, assay=assay, water=water, balance=balance,
                                 balance_sensitivity=balance_sensitivity)
    if src.from_tablets and math.isnan(src.tablet_weight_mg):
        raise InputError(
            "a dilution from tablets weighs crushed tablet powder, so the tablet weight is needed.",
            hint=str(resolve.rule("tablet_weight")["how_to_measure"]), field="tablet_weight")
    veh = _source.vehicle(vehicle)
    inputs: dict[str, Any] = {
        "strength": typed(strength), "volume": typed(volume), "dose": typed(dose), "basis": basis,
        "source": src.kind, "product": src.product_key,
        "api_form": src.api_form if src.kind == "api" else None,
        "tablet_weight": typed(tablet_weight), "assay": typed(assay), "water": typed(water),
        "vehicle": veh.key, "balance": src.balance.key, "opioid_use": bool(opioid_use),
        "override_opioid": override_opioid,
    }
    d_hcl = None if d is None else to_hcl(d, basis, src.salts)
    findings = _source.non_positive_findings({"strength": c, "volume": v})
    findings += _source.safety_findings(d_hcl, opioid_use=opioid_use,
                                        override_opioid=override_opioid, small_slip=False)
    findings += _source.base_basis_finding([("strength", c, "mg/mL"), ("dose", d, "mg")], basis,
                                           src.salts)
    findings += src.findings
    plan = DilutionPlan("dilution", inputs, findings=findings)
    if plan.refused:
        plan.findings = _source.rounded(plan.findings)
        return plan
    power = src.tablet_weight_mg / src.tablet_strength_mg if src.from_tablets else src.powder_per_hcl
    ctx = DilutionContext(c, to_hcl(c, basis, src.salts), v, d, d_hcl, basis, src, veh, power,
                          solubility_hcl(src))
    comp = compute(ctx)
    plan.findings.extend(findings_for(comp, 0, ctx))
    if not plan.refused:
        plan.amounts, plan.extra, plan.working = working_for(comp, 0, ctx)
    plan.findings = _source.rounded(plan.findings)
    return plan
