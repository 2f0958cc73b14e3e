"""One row's findings (:func:`findings_for`), from the masks and the dose band."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from compound.core import capsules as core
from compound.core.findings import Finding, Severity, any_refusal
from compound.core.rounding import format_count, format_mass, format_number, format_percent
from compound.core.safety import dose_band_finding, opioid_finding
from compound.core.salts import hydrate_mismatch_error
from compound.planning import resolve
from compound.planning.capsules.amounts import _pct
from compound.planning.capsules.context import CapsuleContext

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
    if ctx.fill_weight_method == "volume-x-density" and not any_refusal(out):
        out.append(Finding(
            "FILL_WEIGHT_ESTIMATED", Severity.INFO,
            f"Fill weight estimated from the capsule volume × the filler's bulk density "
            f"({format_mass(fill)}); capsule charts differ by up to 10 % and filler lots vary: measure "
            "your pack statistic and add it to pack_stats.csv in your catalog."))
    return out
