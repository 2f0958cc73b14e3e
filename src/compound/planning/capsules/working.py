"""One row's working (:func:`working_for`): every number, its formula in words, inputs and source."""

from __future__ import annotations

import math
from typing import Any

from compound.catalog.loader import number
from compound.core import capsules as core
from compound.core.rounding import format_mass, format_number, format_percent, json_number
from compound.core.working import Step, Working
from compound.planning import resolve
from compound.planning.capsules.amounts import _num, _route
from compound.planning.capsules.context import CapsuleContext
from compound.planning.capsules.findings import _as_written, _diluent_name

# ---------------------------------------------------------------- working


def _g_per_mol(x: float) -> str:
    return f"{format_number(x, 6)} g/mol"  # quoted as in molecules.csv, not rounded to 4 figures


def working_for(result: core.CapsuleResult, i: int, ctx: CapsuleContext) -> Working:
    """The steps of row ``i``: every number, its formula in words, inputs and source.

    Empty for a row whose numbers cannot be computed (a zero count or strength): such a
    row is refused, and a refused plan shows no working.
    """
    r, w = result.at(i), Working()
    if not r.computable:
        return w
    route = _route(r)
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
    strength = float(r.strength_hcl_mg)
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
    count, needed = int(r.count), _num(r.capsules_needed)
    if r.overage_fraction > 0:
        step("capsules_needed", "Capsules needed (prescribed + overage)",
             "capsules prescribed + ⌈capsules prescribed × overage⌉ (whole capsules, rounded up)",
             {"prescribed": str(count), "overage": format_percent(float(r.overage_fraction))},
             needed, count=True, note="Extra capsules cover the powder lost in filling (UNC punch method).")
    else:
        step("capsules_needed", "Capsules needed (prescribed + overage)",
             "capsules prescribed + extra capsules",
             {"prescribed": str(count), "extra": str(int(r.overage_units))}, needed, count=True,
             note="Extra capsules cover the powder lost in filling (UNC punch method).")
    step("api_required_mg", "Naltrexone HCl required", "strength per capsule × capsules needed",
         {"strength": fm(strength), "capsules needed": str(needed and int(needed))},
         _num(r.api_required_mg))
    bal = ctx.balance
    step("minimum_weighable_quantity_mg", "Minimum weighable quantity (MWQ)",
         "balance sensitivity ÷ acceptable weighing error",
         {"balance": bal.name, "sensitivity": fm(bal.sensitivity_mg),
          "acceptable error": format_percent(bal.max_error)}, _num(r.mwq_mg),
         source=f"balances.csv {bal.key}: {bal.source}")

    tablet_strength = float(r.tablet_strength_mg)
    product_source = f"products.csv {ctx.product['key']}: {ctx.product['source']}"
    if route != "api":
        _tablet_steps(step, r, i, ctx, route, tablet_strength, product_source)
    else:
        _api_steps(step, r, i, ctx)
    if route != "whole-tablets":
        step("actual_strength_mg", "Strength per capsule as made (naltrexone HCl)",
             "the prescribed strength (the powder is weighed to it)", {"strength": fm(strength)},
             _num(r.actual_strength_mg))
    _fill_steps(step, r, i, ctx, route)
    return w


def _tablet_steps(step: Any, r: core.CapsuleResult, i: int, ctx: CapsuleContext, route: str,
                  tablet_strength: float, product_source: str) -> None:
    fm = format_mass
    tablets = _num(r.tablets_to_crush)
    sc_tablets = _num(r.shortcut_tablets)
    required = _num(r.api_required_mg)
    note = None
    if r.triturated and tablets != sc_tablets:
        note = (f"More than the {sc_tablets and int(sc_tablets)} tablets the naltrexone needs: the "
                f"trituration weighs {fm(r.trituration['drug_mg'])} of powder.")
    step("tablets_to_crush", "Whole tablets to crush",
         "⌈naltrexone HCl required ÷ tablet strength⌉ (whole tablets, rounded up)",
         {"naltrexone HCl required": fm(required or 0), "tablet strength": fm(tablet_strength)},
         tablets, count=True, source=product_source, note=note)
    tablet_weight = float(r.tablet_weight_mg)
    if route == "weighed":
        triturated = bool(r.triturated)
        step("tablet_powder_mg",
             "Tablet powder to incorporate (by trituration, below)" if triturated
             else "Tablet powder to weigh",
             "naltrexone HCl required ÷ tablet strength × average tablet weight",
             {"naltrexone HCl required": fm(required or 0), "tablet strength": fm(tablet_strength),
              "average tablet weight": fm(tablet_weight)},
             _num(r.tablet_powder_mg), source=ctx.tablet_weight_source)
        step("powder_left_over_mg", "Tablet powder left over",
             "tablets crushed × average tablet weight − powder weighed",
             {"tablets crushed": str(tablets and int(tablets)),
              "average tablet weight": fm(tablet_weight)},
             _num(r.powder_left_over_mg))
        step("capsules_to_prepare", "Capsules to prepare", "capsules needed",
             {"capsules needed": str(int(r.capsules_needed))}, _num(r.capsules_to_prepare),
             count=True)
    else:
        step("capsules_to_prepare", "Capsules the whole tablets make",
             "round(tablets × tablet strength ÷ strength per capsule)",
             {"tablets": str(tablets and int(tablets)), "tablet strength": fm(tablet_strength),
              "strength per capsule": fm(r.strength_hcl_mg)},
             _num(r.capsules_to_prepare), count=True,
             note="Whole-tablet route: every crushed tablet goes into the blend; no drug is weighed.")
        step("actual_strength_mg", "Strength per capsule as made (naltrexone HCl)",
             "tablets × tablet strength ÷ capsules to prepare",
             {"tablets": str(tablets and int(tablets)), "tablet strength": fm(tablet_strength),
              "capsules": str(int(r.capsules_to_prepare))}, _num(r.actual_strength_mg))
        step("tablet_powder_mg", "Tablet powder in the blend", "tablets × average tablet weight",
             {"tablets": str(tablets and int(tablets)),
              "average tablet weight": fm(tablet_weight)},
             _num(r.tablet_powder_mg), source=ctx.tablet_weight_source)
        step("powder_left_over_mg", "Tablet powder left over", "none: all crushed tablets are used", {},
             _num(r.powder_left_over_mg))
    n, c = int(r.shortcut_tablets), int(r.shortcut_capsules)
    step("shortcut.strength_mg", f"Shortcut check: {n} whole tablets into {c} capsules",
         "tablets × tablet strength ÷ capsules",
         {"tablets": str(n), "tablet strength": fm(tablet_strength), "capsules": str(c)},
         _num(r.shortcut_strength_mg))
    step("shortcut.error_pct", "Shortcut check: error against the prescribed strength",
         "(shortcut strength ÷ prescribed strength − 1) × 100",
         {"shortcut strength": fm(r.shortcut_strength_mg), "prescribed": fm(r.strength_hcl_mg)},
         float(r.shortcut_error) * 100)
    step("shortcut.closest_capsules", "Shortcut check: capsule count closest to the strength",
         "round(tablets × tablet strength ÷ prescribed strength)",
         {"tablets": str(n), "tablet strength": fm(tablet_strength), "prescribed": fm(r.strength_hcl_mg)},
         _num(r.closest_capsules), count=True)
    step("shortcut.closest_strength_mg", "Shortcut check: strength at the closest count",
         "tablets × tablet strength ÷ closest count",
         {"tablets": str(n), "closest count": str(int(r.closest_capsules))},
         _num(r.closest_strength_mg))
    step("shortcut.closest_error_pct", "Shortcut check: error at the closest count",
         "(closest strength ÷ prescribed strength − 1) × 100",
         {"closest strength": fm(r.closest_strength_mg), "prescribed": fm(r.strength_hcl_mg)},
         float(r.closest_error) * 100)


def _api_steps(step: Any, r: core.CapsuleResult, i: int, ctx: CapsuleContext) -> None:
    s, fm = ctx.salts, format_mass
    assay, water = float(r.assay_used), float(r.water_used)
    assay_src = "assay from the CoA" if r.assay_given else "assay assumed 100 % (no CoA assay given)"
    water_src = ("water from the CoA" if r.water_given
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
         _num(r.api_factor), source=source)
    triturated = bool(r.triturated)
    step("api_to_weigh_mg",
         "Naltrexone API to incorporate (by trituration, below; not weighed directly)" if triturated
         else "Naltrexone API to weigh",
         "naltrexone HCl required × API factor",
         {"naltrexone HCl required": fm(r.api_required_mg),
          "API factor": format_number(r.api_factor, 6)}, _num(r.api_to_weigh_mg))
    step("capsules_to_prepare", "Capsules to prepare", "capsules needed",
         {"capsules needed": str(int(r.capsules_needed))}, _num(r.capsules_to_prepare), count=True)


def _fill_steps(step: Any, r: core.CapsuleResult, i: int, ctx: CapsuleContext, route: str) -> None:
    fm = format_mass
    fill = float(r.fill_weight_mg)
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
         {"fill weight": fm(fill)}, _num(r.fill_weight_low_mg), source=str(wv["source"]))
    step("fill_weight_high_mg", "Each capsule at most", f"fill weight × {wv['high_pct']} %",
         {"fill weight": fm(fill)}, _num(r.fill_weight_high_mg), source=str(wv["source"]))
    caps = str(int(r.capsules_to_prepare))
    step("blend_total_mg", "Blend total", "fill weight × capsules to prepare",
         {"fill weight": fm(fill), "capsules": caps}, _num(r.blend_total_mg))
    active = "tablet powder" if route != "api" else "API powder"
    step("active_powder_per_capsule_mg", f"{'Tablet' if route != 'api' else 'API'} powder per capsule",
         f"{active} ÷ capsules to prepare",
         {active: fm(r.active_total_mg), "capsules": caps}, _num(r.active_per_capsule_mg))
    step("filler_per_capsule_mg", "Filler per capsule", f"fill weight − {active} per capsule",
         {"fill weight": fm(fill), f"{active} per capsule": fm(r.active_per_capsule_mg)},
         _num(r.filler_per_capsule_mg),
         note="Calibrated-fill method: assumes the active powder packs like the filler; "
              "check with the capsule weight window.", source="domain.md 4.3 calibrated fill")
    step("filler_total_mg", "Filler in the blend", f"blend total − {active}",
         {"blend total": fm(r.blend_total_mg), active: fm(r.active_total_mg)},
         _num(r.filler_total_mg))
    if r.triturated:
        _trituration_steps(step, r, i, ctx, active)
    if route == "whole-tablets" and not math.isfinite(r.filler_to_add_mg):
        step("filler_to_add_mg", "Filler to add", "q.s. to the blend total",
             {"blend total": fm(r.blend_total_mg)}, None,
             result_text=f"q.s. to {fm(r.blend_total_mg)}",
             note="Weigh the crushed tablet powder, then add filler on the balance until the blend "
                  "weighs the blend total.")
        return
    qs = bool(r.masks["FILLER_QS"])
    formula = ("filler in the blend − diluent carried in the aliquot" if r.triturated
               else "filler in the blend")
    inputs = {"filler in the blend": fm(r.filler_total_mg)}
    if r.triturated:
        inputs["diluent carried"] = fm(r.trituration["diluent_carried_mg"])
    value = _num(r.filler_to_add_mg)
    step("filler_to_add_mg", f"Filler to add ({filler['key']})", formula, inputs, value,
         result_text=(f"{fm(value)}: add q.s. to the blend total {fm(r.blend_total_mg)} "
                      "(below the MWQ: do not weigh it on its own)") if qs and value is not None else None,
         source=f"excipients.csv {filler['key']}: {filler['source']}")


def _trituration_steps(step: Any, r: core.CapsuleResult, i: int, ctx: CapsuleContext, active: str) -> None:
    fm = format_mass
    t = {k: float(v) for k, v in r.trituration.items()}
    trit_rule = resolve.rule("trituration")
    diluent = _diluent_name()
    stages = int(t["stages"])
    source = str(trit_rule["source"])
    needed = float(r.active_total_mg)
    step("trituration.drug_mg", f"Trituration: {active} to weigh", "the MWQ (every weighing ≥ MWQ)",
         {"MWQ": fm(r.mwq_mg)}, t["drug_mg"], source=source)
    step("trituration.factor", "Trituration: dilution factor per stage",
         "f = max(2, ⌈MWQ ÷ amount needed⌉); per stage ⌈f^(1/stages)⌉, within the largest factor per stage",
         {"amount needed": fm(needed), "MWQ": fm(r.mwq_mg), "stages": str(stages),
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
             "the MWQ (weighed from the previous triturate)", {"MWQ": fm(r.mwq_mg)}, t["carry_mg"])
    step("trituration.aliquot_mg", "Trituration: aliquot to weigh into the blend",
         "amount needed × factor^stages", {"amount needed": fm(needed),
                                          "overall factor": format_number(t["overall_factor"])},
         t["aliquot_mg"], note=f"Contains {fm(needed)} of {active}.")
    step("trituration.diluent_carried_mg", "Trituration: diluent carried in the aliquot",
         "aliquot − amount needed", {"aliquot": fm(t["aliquot_mg"]), "amount needed": fm(needed)},
         t["diluent_carried_mg"])
