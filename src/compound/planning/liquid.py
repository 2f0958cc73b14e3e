"""``plan_liquid``: an LDN oral liquid from whole tablets or API, with the working.

Parse and resolve the inputs into a :class:`LiquidContext` (:func:`liquid_context`),
call the vectorised core (:func:`compute_all`, here on one context), then turn row
``i`` into findings (:func:`findings_for`) and amounts, JSON objects and steps
(:func:`working_for`; :func:`complete` does both). A batch run calls the same
functions with the core on the column of every distinct prescription, and
without the steps.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from compound.core import units
from compound.core.findings import Finding, Severity, any_refusal
from compound.core.liquids import (
    DeviceChoice,
    LiquidInputs,
    LiquidResult,
    days_supply,
    dose_volume_ml,
    is_whole,
    prepare_liquid,
    volume_for_supply,
)
from compound.core.rounding import (
    format_concentration,
    format_count,
    format_mass,
    format_number,
    format_percent,
    format_volume,
    json_number,
)
from compound.core.safety import unit_slip_suspected
from compound.core.working import Step, Working
from compound.errors import InputError
from compound.planning import _source, resolve
from compound.planning._source import Source, Vehicle, amount, basis_step, to_hcl, typed
from compound.planning.base import LiquidBasePlan
from compound.planning.dilution import (
    aliquot_findings,
    aliquot_working,
    choose_dose_device,
    device_findings,
    device_working,
    dilution_rules,
    max_final_fraction,
    mwq_step,
    solubility_finding,
    solubility_hcl,
    vehicle_findings,
    vehicle_working,
)
from compound.planning.stability.supply import default_window, longer_than_bud

if TYPE_CHECKING:
    import pint


@dataclass
class LiquidPlan(LiquidBasePlan):
    """An oral liquid; typed results as pint quantities (None where not applicable)."""

    count_keys = ("tablets_to_crush", "days_supply")

    @property
    def tablet_powder(self) -> pint.Quantity | None:
        return self.quantity("tablet_powder_mg")

    @property
    def tablets_to_crush(self) -> int | None:
        return self.whole("tablets_to_crush")

    @property
    def days_supply(self) -> int | None:
        return self.whole("days_supply")


@dataclass(frozen=True)
class LiquidContext:
    """One liquid's parsed inputs, resolved source and vehicle (canonical units)."""

    c: float
    """Strength on the prescription's basis [mg/mL]."""
    c_hcl: float
    volume: float | None
    dose: float | None
    dose_hcl: float | None
    days: float | None
    overage: float
    basis: str
    source: Source
    vehicle: Vehicle
    solubility: float

    @property
    def requested_volume(self) -> float:
        if self.volume is not None:
            return self.volume
        assert self.dose is not None and self.days is not None
        return float(volume_for_supply(self.dose, self.c, self.days))


class Resolver:
    """Parses amounts and resolves sources and vehicles, as the plan functions do.

    ``remember=True`` (a batch run's) keeps each result, and each InputError, by the
    text given: a column of a million rows holds few distinct cells and option sets.
    """

    def __init__(self, *, remember: bool = False) -> None:
        self._memo: dict[Any, tuple[Any, InputError | None]] | None = {} if remember else None

    def remember(self, key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
        """``make()``, or what it gave (or raised) before for ``key`` when remembering."""
        if self._memo is None:
            return make()
        try:
            hit = self._memo.get(key)
        except TypeError:  # a pint quantity or other unhashable input: not remembered
            return make()
        if hit is None:
            try:
                hit = (make(), None)
            except InputError as exc:
                hit = (None, exc)
            self._memo[key] = hit
        if hit[1] is not None:
            raise hit[1].with_traceback(None)
        return hit[0]

    def amount(self, value: Any, kind: units.Kind, field_name: str) -> float | None:
        return self.remember(("amount", value, kind, field_name),  # type: ignore[no-any-return]
                         lambda: amount(value, kind, field_name))

    def source(self, source: str, **options: Any) -> Source:
        return self.remember(("source", source, *sorted(options.items())),  # type: ignore[no-any-return]
                         lambda: _source.resolve_source(source, **options))

    def safety(self, dose_hcl_mg: float | None, *, opioid_use: bool,
               override_opioid: str | None) -> list[Finding]:
        """Dose band, unit slip and opioid findings (a shared list: copy it, do not change it)."""
        return self.remember(  # type: ignore[no-any-return]
            ("safety", dose_hcl_mg, bool(opioid_use), override_opioid),
            lambda: _source.safety_findings(dose_hcl_mg, opioid_use=opioid_use,
                                            override_opioid=override_opioid))

    def vehicle(self, key: str | None) -> Vehicle:
        return self.remember(("vehicle", key), lambda: _source.vehicle(key))  # type: ignore[no-any-return]


DIRECT = Resolver()
"""Resolves every time (a single plan)."""


@dataclass(frozen=True)
class LiquidComputed:
    liquid: LiquidResult
    dispensed_ml: np.ndarray
    dose_volume: np.ndarray
    days_supply: np.ndarray
    device: DeviceChoice | None


def liquid_inputs_of(ctxs: Sequence[LiquidContext]) -> LiquidInputs:
    """Core inputs with one row per context (a batch plans its distinct liquids at once)."""
    def col(get: Callable[[LiquidContext], Any], dtype: Any = np.float64) -> np.ndarray:
        return np.array([get(x) for x in ctxs], dtype=dtype)

    return LiquidInputs(
        concentration_mg_per_ml=col(lambda x: x.c_hcl),
        volume_ml=col(lambda x: x.requested_volume * (1 + x.overage)),
        from_tablets=col(lambda x: x.source.from_tablets, bool),
        tablet_strength_mg=col(lambda x: x.source.tablet_strength_mg),
        tablet_weight_mg=col(lambda x: x.source.tablet_weight_mg),
        powder_per_hcl=col(lambda x: x.source.powder_per_hcl),
        mwq_mg=col(lambda x: x.source.mwq_mg),
        solubility_mg_per_ml=col(lambda x: x.solubility),
        max_final_fraction=col(lambda x: max_final_fraction(x.vehicle)),
    )


def liquid_inputs(ctx: LiquidContext) -> LiquidInputs:
    """One-element core inputs for a context."""
    return liquid_inputs_of([ctx])


def compute_all(ctxs: Sequence[LiquidContext]) -> LiquidComputed:
    """The core, once, on a column of liquids: row ``i`` is ``ctxs[i]``.

    Rows without a dose get NaN dose volumes (and their device is not used).
    """
    res = prepare_liquid(liquid_inputs_of(ctxs), dilution_rules(),
                         float(resolve.rule("trituration")["max_factor_per_stage"]))
    dispensed = res.volume_ml / (1 + np.array([x.overage for x in ctxs], dtype=np.float64))
    if all(x.dose is None for x in ctxs):
        nan = np.full(len(ctxs), np.nan)
        return LiquidComputed(res, dispensed, nan, nan, None)
    dose = np.array([np.nan if x.dose is None else x.dose for x in ctxs], dtype=np.float64)
    dv = dose_volume_ml(dose, np.array([x.c for x in ctxs], dtype=np.float64))
    return LiquidComputed(res, dispensed, dv, days_supply(dispensed, dv), choose_dose_device(dv))


def compute(ctx: LiquidContext) -> LiquidComputed:
    return compute_all([ctx])


def findings_for(comp: LiquidComputed, i: int, ctx: LiquidContext) -> list[Finding]:
    """Row ``i``'s findings from the core masks."""
    res, m = comp.liquid, comp.liquid.masks
    if m["CONCENTRATION_ABOVE_SOLUBILITY"][i]:
        return [solubility_finding(ctx.c_hcl, ctx.solubility, ctx.source)]
    out: list[Finding] = []
    if m["SUSPENSION"][i]:
        out.append(Finding(
            "SUSPENSION_SHAKE_WELL", Severity.INFO,
            "Made from crushed tablets: the tablet excipients do not dissolve, so this is a "
            "suspension. Label 'Shake well before use'; do not filter (drug may be lost).",
            {"source": "domain.md 1.4: tablet excipients (MCC, crospovidone, silica, TiO2) are "
                       "water-insoluble; AHS recipe 156 auxiliary label 'shake well'"}))
    if m["VOLUME_ADJUSTED_TO_WHOLE_TABLETS"][i]:
        requested = ctx.requested_volume * (1 + ctx.overage)
        final = float(res.volume_ml[i])
        exact = ctx.c_hcl * requested / ctx.source.tablet_strength_mg
        out.append(Finding(
            "VOLUME_ADJUSTED_TO_WHOLE_TABLETS", Severity.WARNING,
            f"{format_volume(requested)} at {format_concentration(ctx.c)} needs "
            f"{format_number(exact)} tablets' worth of drug. Without a tablet weight only whole "
            f"tablets can be used, so the volume is raised to {format_volume(final)} "
            f"({format_count(res.tablets_to_crush[i], 'tablet')}), "
            f"{format_volume(final - requested)} more. To make {format_volume(requested)}, give "
            "the measured tablet weight (--tablet-weight) and weigh the powder instead.",
            {"requested_volume_ml": requested, "volume_ml": final,
             "added_ml": final - requested,
             "how_to_measure": resolve.rule("tablet_weight")["how_to_measure"]}))
    if m["TABLET_POWDER_WEIGHED"][i]:
        out.append(Finding(
            "TABLET_POWDER_WEIGHED", Severity.INFO,
            f"{format_number(res.tablets_exact[i])} tablets' worth: crush "
            f"{format_count(res.tablets_to_crush[i], 'tablet')} and weigh "
            f"{format_mass(res.tablet_powder_mg[i])} of the pooled powder.", {}))
    if m["TRITURATION_PLANNED"][i]:
        out.append(Finding(
            "TRITURATION_PLANNED", Severity.INFO,
            f"The tablet powder needed ({format_mass(res.tablet_powder_mg[i])}) is below the "
            f"minimum weighable quantity ({format_mass(ctx.source.mwq_mg)}): it is triturated "
            "(see the trituration).", {"source": resolve.rule("trituration")["source"]}))
    if m["LIQUID_ALIQUOT_REQUIRED"][i]:
        out.append(Finding(
            "LIQUID_ALIQUOT_REQUIRED", Severity.INFO,
            f"The API needed ({format_mass(res.api_to_weigh_mg[i])}) is below the minimum "
            f"weighable quantity ({format_mass(ctx.source.mwq_mg)}): a weighable amount is "
            "dissolved to a stock and an aliquot taken (see the stages).",
            {"source": resolve.rule("dilution")["source"]}))
        out += aliquot_findings(res.aliquot, i)
    if ctx.dose is not None and comp.device is not None:
        supply = float(comp.days_supply[i])
        dv = float(comp.dose_volume[i])
        if supply < 1:
            return [*out, less_than_one_dose(
                f"{format_volume(float(comp.dispensed_ml[i]))} is less than one dose of "
                f"{format_volume(dv)} ({format_mass(ctx.dose)} at {format_concentration(ctx.c)})")]
        out += device_findings(comp.device, i, dv, ctx.c_hcl)
        longer = longer_than_bud(
            "SUPPLY_LONGER_THAN_BUD", supply, default_window(ctx.vehicle.bud_category),
            lead=supply_lead(float(comp.dispensed_ml[i]), supply), daily_ml=dv)
        if longer is not None:
            out.append(longer)
    out += vehicle_findings(ctx.vehicle, float(res.volume_ml[i]), ctx.source.mwq_mg)
    return out


def less_than_one_dose(what: str) -> Finding:
    """The container holds less than one dose: refused."""
    return Finding("LESS_THAN_ONE_DOSE", Severity.REFUSAL,
                   f"{what}: the container holds less than one dose. Check the volume, the "
                   "strength and the dose (and their units).", {})


def supply_lead(volume_ml: float, days: float) -> str:
    """``150 mL lasts 33 days at one dose a day`` (the opening of SUPPLY_LONGER_THAN_BUD)."""
    return f"{format_volume(volume_ml)} lasts {format_count(days, 'day')} at one dose a day"


def _trituration_parts(res: LiquidResult, i: int, ctx: LiquidContext, with_steps: bool = True
                       ) -> tuple[dict[str, Any], list[Step]]:
    t = {k: float(v[i]) for k, v in res.trituration.items()}
    trit_rules = resolve.rule("trituration")
    diluent = resolve.excipient(str(trit_rules["diluent"]))
    name = diluent.get("name", diluent["key"])
    powder = float(res.tablet_powder_mg[i])
    stages = int(t["stages"])
    extra = {"stages": stages, "factor_per_stage": json_number(t["factor_per_stage"]),
             "powder_mg": json_number(t["drug_mg"]), "diluent": name,
             "diluent_per_stage_mg": json_number(t["diluent_per_stage_mg"]),
             "triturate_per_stage_mg": json_number(t["triturate_per_stage_mg"]),
             "aliquot_mg": json_number(t["aliquot_mg"])}
    if not with_steps:
        return extra, []
    steps = [
        Step(key="trituration_factor", label="Trituration factor per stage",
             formula="smallest whole factor with every weighing ≥ MWQ "
                     "(max(2, ⌈MWQ ÷ powder needed⌉), split over stages)",
             inputs={"powder needed": format_mass(powder), "MWQ": format_mass(ctx.source.mwq_mg),
                     "stages": str(stages)},
             result=f"1:{format_number(t['factor_per_stage'])}", value=json_number(t["factor_per_stage"]),
             source=trit_rules["source"]),
        Step(key="trituration_diluent_mg", label=f"{name} per stage",
             formula="(factor − 1) × amount carried into the stage",
             inputs={"factor": format_number(t["factor_per_stage"]),
                     "carried": format_mass(t["drug_mg"])},
             result=format_mass(t["diluent_per_stage_mg"]), value=json_number(t["diluent_per_stage_mg"])),
        Step(key="trituration_aliquot_mg", label="Aliquot of the last triturate to weigh",
             formula="powder needed × overall factor",
             inputs={"powder needed": format_mass(powder),
                     "overall factor": format_number(t["overall_factor"])},
             result=format_mass(t["aliquot_mg"]), value=json_number(t["aliquot_mg"]),
             note=f"Contains {format_mass(powder)} of tablet powder."),
    ]
    return extra, steps


def working_for(comp: LiquidComputed, i: int, ctx: LiquidContext, *, with_steps: bool = True
                ) -> tuple[dict[str, float | None], dict[str, Any], Working]:
    """Row ``i``'s amounts (unrounded), JSON objects (rounded) and steps.

    ``with_steps=False`` gives the same amounts and objects with no steps (a batch
    does not print the working; the formatting is most of a plan's cost).
    """
    res, m = comp.liquid, comp.liquid.masks
    src = ctx.source
    w = Working()
    amounts: dict[str, float | None] = {"concentration_mg_per_ml": ctx.c}
    extra: dict[str, Any] = {}
    if with_steps:
        for step in (basis_step("concentration_hcl_mg_per_ml", "Strength as naltrexone HCl", ctx.c,
                                ctx.basis, src.salts, "mg/mL"),
                     None if ctx.dose is None else basis_step(
                         "dose_hcl_mg", "Dose as naltrexone HCl", ctx.dose, ctx.basis, src.salts, "mg")):
            if step is not None:
                w.add(step)
    requested = ctx.requested_volume
    if ctx.volume is None and with_steps:
        assert ctx.dose is not None and ctx.days is not None
        w.add(Step(key="requested_volume_ml", label="Volume for the days asked",
                   formula="dose ÷ concentration × days",
                   inputs={"dose": format_mass(ctx.dose), "concentration": format_concentration(ctx.c),
                           "days": format_number(ctx.days)},
                   result=format_volume(requested), value=json_number(requested)))
    prepared = requested * (1 + ctx.overage)
    if ctx.overage and with_steps:
        w.add(Step(key="prepared_volume_ml", label="Volume to prepare (with overage)",
                   formula="volume × (1 + overage)",
                   inputs={"volume": format_volume(requested), "overage": format_percent(ctx.overage)},
                   result=format_volume(prepared), value=json_number(prepared)))
    final = float(res.volume_ml[i])

    if src.from_tablets:
        if with_steps:
            exact_before = ctx.c_hcl * prepared / src.tablet_strength_mg
            w.add(Step(key="tablets_exact", label="Tablets' worth of drug",
                       formula="concentration × volume ÷ naltrexone HCl per tablet",
                       inputs={"concentration": format_concentration(ctx.c_hcl),
                               "volume": format_volume(prepared),
                               "per tablet": format_mass(src.tablet_strength_mg)},
                       result=f"{format_number(exact_before)} tablet{'' if exact_before <= 1 else 's'}",
                       value=json_number(exact_before),
                       source=src.product_source))
        if m["VOLUME_ADJUSTED_TO_WHOLE_TABLETS"][i] and with_steps:
            w.add(Step(key="volume_ml", label="Volume raised to whole tablets",
                       formula="whole tablets × naltrexone HCl per tablet ÷ concentration",
                       inputs={"whole tablets": format_number(res.tablets_to_crush[i]),
                               "per tablet": format_mass(src.tablet_strength_mg),
                               "concentration": format_concentration(ctx.c_hcl)},
                       result=format_volume(final), value=json_number(final),
                       note="No tablet weight was given, so a fraction of a tablet cannot be "
                            "weighed."))
        amounts["volume_ml"] = final
        api = float(res.api_mg[i])
        if with_steps:
            w.add(_api_step(ctx, final, api))
        amounts["api_mg"] = api
        crush = float(res.tablets_to_crush[i])
        if with_steps:
            w.add(Step(key="tablets_to_crush", label="Tablets to crush",
                       formula="tablets' worth, rounded up to whole tablets",
                       inputs={"tablets' worth": format_number(res.tablets_exact[i])},
                       result=format_count(crush, "tablet"), value=int(crush),
                       source=src.product_source))
        amounts["tablets_to_crush"] = crush
        if m["TABLET_POWDER_WEIGHED"][i]:
            powder = float(res.tablet_powder_mg[i])
            if with_steps:
                w.add(Step(key="tablet_powder_mg", label="Crushed tablet powder to weigh",
                           formula="tablets' worth × average tablet weight",
                           inputs={"tablets' worth": format_number(res.tablets_exact[i]),
                                   "tablet weight": format_mass(src.tablet_weight_mg)},
                           result=format_mass(powder), value=json_number(powder)))
            amounts["tablet_powder_mg"] = powder
            if with_steps:
                w.add(mwq_step(src))
            if m["TRITURATION_PLANNED"][i]:
                extra["trituration"], steps = _trituration_parts(res, i, ctx, with_steps)
                for s in steps:
                    w.add(s)
    else:
        amounts["volume_ml"] = final
        api = float(res.api_mg[i])
        if with_steps:
            w.add(_api_step(ctx, final, api))
        amounts["api_mg"] = api
        if with_steps:
            for s in src.steps:
                w.add(s)
            w.add(mwq_step(src))
        if m["LIQUID_ALIQUOT_REQUIRED"][i]:
            parts, steps = aliquot_working(res.aliquot, i, source=src, power=src.powder_per_hcl,
                                           final_diluent=ctx.vehicle.name, what="API powder",
                                           with_steps=with_steps)
            for s in steps:
                w.add(s)
            amounts["api_to_weigh_mg"] = float(res.aliquot.weigh_mg[i])
            amounts["stock_concentration_mg_per_ml"] = float(res.aliquot.stock_mg_per_ml[i])
            amounts["stock_volume_ml"] = float(res.aliquot.stock_volume_ml[i])
            extra["aliquot"] = parts
        else:
            weigh = float(res.api_to_weigh_mg[i])
            if with_steps:
                w.add(Step(key="api_to_weigh_mg", label="API powder to weigh",
                           formula="naltrexone HCl needed × powder per mg HCl",
                           inputs={"naltrexone HCl": format_mass(api),
                                   "powder per mg HCl": format_number(src.powder_per_hcl)},
                           result=format_mass(weigh), value=json_number(weigh)))
            amounts["api_to_weigh_mg"] = weigh

    if ctx.overage:
        dispensed = float(comp.dispensed_ml[i])
        amounts["dispensed_volume_ml"] = dispensed
    if ctx.dose is not None and comp.device is not None:
        dv = float(comp.dose_volume[i])
        supply = float(comp.days_supply[i])
        if with_steps:
            w.add(Step(key="dose_volume_ml", label="Volume of one dose", formula="dose ÷ concentration",
                       inputs={"dose": format_mass(ctx.dose),
                               "concentration": format_concentration(ctx.c)},
                       result=format_volume(dv), value=json_number(dv)))
            w.add(Step(key="days_supply", label="Days supplied at one dose a day",
                       formula="volume dispensed ÷ dose volume, rounded down to whole days",
                       inputs={"volume": format_volume(float(comp.dispensed_ml[i])),
                               "dose volume": format_volume(dv)},
                       result=format_count(supply, "day"), value=int(supply)))
        amounts["dose_volume_ml"] = dv
        amounts["days_supply"] = supply
        dev_extra, dev_steps = device_working(comp.device, i, dv, with_steps=with_steps)
        for s in dev_steps:
            w.add(s)
        if dev_extra:
            extra["device"] = dev_extra
    veh_extra, veh_steps = vehicle_working(ctx.vehicle, final, with_steps=with_steps)
    for s in veh_steps:
        w.add(s)
    extra["vehicle"] = veh_extra
    return amounts, extra, w


def _api_step(ctx: LiquidContext, final: float, api: float) -> Step:
    return Step(key="api_mg", label="Naltrexone HCl needed", formula="concentration × volume",
                inputs={"concentration": format_concentration(ctx.c_hcl),
                        "volume": format_volume(final)},
                result=format_mass(api), value=json_number(api))


def parse_days(days: Any, resolver: Resolver | None = None) -> float | None:
    """Days' supply: ``14d``, ``2 weeks``, or a bare whole number (the option is named days)."""
    if isinstance(days, str) and re.fullmatch(r"\s*[+-]?\d+\s*", days):
        days = f"{days.strip()}d"
    n = (resolver or DIRECT).amount(days, "duration", "days")
    if n is not None and n > 0 and not bool(is_whole(n)):
        raise InputError(f"days: {format_number(n)} is not a whole number of days.",
                         hint="Type whole days, e.g. 14d or 2 weeks.", field="days")
    return n


def parse_liquid_overage(overage: Any) -> float:
    """A liquid's overage: a percentage of extra volume (``5%``); 0 when not given."""
    if overage is None or (isinstance(overage, str) and not overage.strip()):
        return 0.0
    if not isinstance(overage, str):
        return max(0.0, units.coerce(overage, "fraction", field="overage"))
    extra_units, fraction = units.parse_overage(overage)
    if extra_units or not 0 <= fraction <= 1:
        raise InputError(f"overage: {overage!r} is not a percentage of the volume.",
                         hint="A liquid's overage is extra volume in percent, e.g. 5%.",
                         field="overage")
    return fraction


def plan_liquid(strength: Any, *, volume: Any = None, dose: Any = None, days: Any = None,
                source: str = "tablet", vehicle: str | None = None, tablet_weight: Any = None,
                api_form: str = "anhydrous", assay: Any = None, water: Any = None,
                basis: str = "hcl", product: str | None = None, balance: str | None = None,
                balance_sensitivity: Any = None, overage: Any = None, opioid_use: bool = False,
                override_opioid: str | None = None) -> LiquidPlan:
    """Plan an oral liquid of ``strength`` (``"1mg/mL"``).

    Give exactly one of ``volume`` (``"100mL"``) or ``dose`` and ``days``
    (``"4.5mg"``, ``"14d"``: volume = dose ÷ strength × days). A ``dose`` with a
    volume adds the dose volume, days supplied and the oral syringe.
    """
    plan, ctx = liquid_context(
        strength, volume=volume, dose=dose, days=days, source=source, vehicle=vehicle,
        tablet_weight=tablet_weight, api_form=api_form, assay=assay, water=water, basis=basis,
        product=product, balance=balance, balance_sensitivity=balance_sensitivity, overage=overage,
        opioid_use=opioid_use, override_opioid=override_opioid)
    if ctx is None:
        return plan
    return complete(plan, compute(ctx), 0, ctx)


def liquid_context(strength: Any, *, volume: Any = None, dose: Any = None, days: Any = None,
                   source: str = "tablet", vehicle: str | None = None, tablet_weight: Any = None,
                   api_form: str = "anhydrous", assay: Any = None, water: Any = None,
                   basis: str = "hcl", product: str | None = None, balance: str | None = None,
                   balance_sensitivity: Any = None, overage: Any = None, opioid_use: bool = False,
                   override_opioid: str | None = None, resolver: Resolver | None = None
                   ) -> tuple[LiquidPlan, LiquidContext | None]:
    """``plan_liquid`` up to the core: the plan with its inputs and first findings, and the context.

    The context is None when those findings already refuse the plan (which is then
    complete). Raises InputError as ``plan_liquid`` does. ``resolver`` (a batch's)
    remembers the source and vehicle of options already resolved.
    """
    r = resolver or DIRECT
    c = r.amount(strength, "concentration", "strength")
    if c is None:
        raise InputError("a liquid needs a strength.", hint="Give --strength, e.g. 1mg/mL.",
                         field="strength")
    v = r.amount(volume, "volume", "volume")
    d = r.amount(dose, "mass", "dose")
    n_days = parse_days(days, r)
    if v is not None and n_days is not None:
        raise InputError("give the volume or the days' supply, not both.",
                         hint="Use --volume 100mL, or --dose 4.5mg --days 14.", field="volume")
    if v is None and n_days is None:
        raise InputError("a liquid needs a volume, or a dose and a number of days.",
                         hint="Give --volume 100mL, or --dose 4.5mg --days 14.", field="volume")
    if n_days is not None and d is None:
        raise InputError("the days' supply needs the dose.", hint="Add --dose, e.g. 4.5mg.",
                         field="dose")
    ov = parse_liquid_overage(overage)
    src = r.source(source, product=product, tablet_weight=tablet_weight, api_form=api_form,
                   assay=assay, water=water, balance=balance,
                   balance_sensitivity=balance_sensitivity)
    veh = r.vehicle(vehicle)
    inputs: dict[str, Any] = {
        "strength": typed(strength), "volume": typed(volume), "dose": typed(dose),
        "days": typed(days), "basis": basis, "source": src.kind, "product": src.product_key,
        "api_form": src.api_form if src.kind == "api" else None,
        "tablet_weight": typed(tablet_weight), "assay": typed(assay), "water": typed(water),
        "overage": typed(overage), "vehicle": veh.key, "balance": src.balance.key,
        "opioid_use": bool(opioid_use), "override_opioid": override_opioid,
    }
    to_hcl(1.0, basis, src.salts)  # an unknown basis raises, dose or not, refused or not
    d_hcl = None if d is None else to_hcl(d, basis, src.salts)
    findings = _source.non_positive_findings({"strength": c, "volume": v, "days": n_days})
    findings += r.safety(d_hcl, opioid_use=opioid_use, override_opioid=override_opioid)
    if not any_refusal(findings):
        findings += _size_findings(c, v, d, d_hcl, n_days, ov)
    findings += _source.base_basis_finding([("strength", c, "mg/mL"), ("dose", d, "mg")], basis,
                                           src.salts)
    findings += src.findings
    if d is None:
        findings.append(Finding("NO_DOSE_GIVEN", Severity.INFO,
                                "No dose given: the dose band, dose volume, days supplied and "
                                "measuring device are not checked. Add --dose.", {}))
    plan = LiquidPlan("liquid", inputs, findings=findings)
    if plan.refused:
        plan.findings = _source.rounded(plan.findings)
        return plan, None
    return plan, LiquidContext(c, to_hcl(c, basis, src.salts), v, d, d_hcl, n_days, ov, basis, src,
                               veh, solubility_hcl(src))


def _size_findings(c: float, v: float | None, d: float | None, d_hcl: float | None,
                   n_days: float | None, ov: float) -> list[Finding]:
    """A batch above the pharmacy's largest, and a dose volume no oral syringe measures.

    Both are usually a slip (1 mcg/mL for 1 mg/mL): the dose volume says which reading works.
    """
    out: list[Finding] = []
    if d is not None and d_hcl is not None and not unit_slip_suspected(d_hcl, resolve.dose_bands()):
        slip = dose_volume_slip(d / c, f"{format_mass(d)} at {format_concentration(c)}", c)
        if slip is not None:
            out.append(slip)
    volume = (v if v is not None else float(volume_for_supply(d or 0.0, c, n_days or 0.0))) * (1 + ov)
    how = "" if v is not None else (f"{format_mass(d or 0.0)} ÷ {format_concentration(c)} × "
                                    f"{format_count(n_days or 0.0, 'day')}")
    return _source.batch_limit_findings(volume_ml=volume, how=how) + out


def dose_volume_slip(dose_ml: float, what: str, c: float) -> Finding | None:
    """A dose volume beyond the largest oral syringe that 10 or 1000 times over would fit one."""
    devices = [float(x["capacity_ml"]) for x in _source.measuring_devices(for_dose=True)[0]]
    smallest = min(float(x.get("min_volume_ml") or x["graduation_ml"])
                   for x in _source.measuring_devices(for_dose=True)[0])
    if not devices or dose_ml <= max(devices):
        return None
    for factor, kind in ((1000.0, "unit slip (mg/mcg)"), (10.0, "decimal slip (10×)")):
        if smallest <= dose_ml / factor <= max(devices):
            return Finding(
                "UNIT_SLIP_SUSPECTED", Severity.WARNING,
                f"Possible {kind}: {what} is {format_volume(dose_ml)} a dose, more than the "
                f"largest oral syringe ({format_volume(max(devices))}); at "
                f"{format_concentration(c * factor)} it would be {format_volume(dose_ml / factor)}. "
                "Check the units of the strength and the dose.",
                {"dose_volume_ml": dose_ml, "factor": factor,
                 "suggested_concentration_mg_per_ml": c * factor,
                 "source": "ISMP Canada Bulletin 23(10), 2023 (mcg/mg slips); measuring_devices.csv"})
    return None


def complete(plan: LiquidPlan, comp: LiquidComputed, i: int, ctx: LiquidContext, *,
             with_steps: bool = True) -> LiquidPlan:
    """Finish ``plan`` from row ``i`` of the core's result: findings, then amounts and objects.

    ``with_steps=False`` leaves the working empty (a batch does not print it).
    """
    plan.findings.extend(findings_for(comp, i, ctx))
    if not plan.refused:
        plan.amounts, plan.extra, plan.working = working_for(comp, i, ctx, with_steps=with_steps)
    plan.findings = _source.rounded(plan.findings)
    return plan
