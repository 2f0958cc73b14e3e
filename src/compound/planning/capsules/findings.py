"""The findings of capsule plans, a column at a time (:func:`finding_columns`).

One set of rules serves ``compound plan capsules`` (one row: :func:`findings_for`)
and a batch of distinct prescriptions (a column): each rule says, with masks,
which rows have the finding and how severe it is there, and names the values
its message is built from, so a batch builds each distinct message once and
only when it is shown.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from compound.catalog.loader import number
from compound.core import capsules as core
from compound.core import elementwise as ew
from compound.core.findings import ColumnRule, Finding, FindingColumns, Severity
from compound.core.rounding import (
    ceil_count,
    format_count,
    format_mass,
    format_number,
    format_percent,
)
from compound.core.safety import dose_band_finding, opioid_finding
from compound.core.salts import hydrate_mismatch_error
from compound.planning import _source, resolve
from compound.planning.capsules.amounts import _pct
from compound.planning.capsules.context import CapsuleContext

#: Findings that describe the batch the arithmetic would make: noise beside a refused strength or count.
_CONSEQUENCES = ("CAPSULE_OVERFILLED", "SHORTCUT_OUT_OF_TOLERANCE", "SHORTCUT_STRENGTH_OFF",
                 "WHOLE_TABLET_COUNT", "TRITURATION_PLANNED", "FILLER_QS", "BLEND_BELOW_MWQ")


def _signed_pct(fraction: float) -> str:
    """``+1.01 %`` / ``−7.4 %``: an error against the target, with its sign."""
    if not math.isfinite(fraction):
        return "—"
    text = format_percent(abs(fraction))
    return text if text == "0 %" else ("+" if fraction > 0 else "−") + text


def _diluent_name() -> str:
    key = str(resolve.rule("trituration")["diluent"])
    return str(resolve.excipient(key).get("name") or key)


def _as_written(mg_hcl: float, ctx: CapsuleContext) -> float:
    return mg_hcl * ctx.salts.mw_base / ctx.salts.mw_hcl if ctx.basis == "base" else mg_hcl


def _slip_hint(strength: float, ctx: CapsuleContext) -> tuple[float, str]:
    written = _as_written(strength, ctx)
    guess = written / 1000 if written > 1 else written * 1000
    return guess, (f" {format_mass(written)} is 1000 times {'above' if written > 1 else 'below'} the "
                   f"usual LDN range: did you mean {format_mass(guess)}?")


def capacity_range_mg(ctx: CapsuleContext) -> tuple[float, float]:
    """What the capsule size holds of the filler: volume × the filler's bulk density range [mg].

    Size 3 (0.30 mL) of MCC at 0.28-0.33 g/mL holds 84-99 mg (domain.md 4.2).
    """
    volume = number(ctx.capsule_size, "volume_ml", table_name="capsule_sizes")
    low = number(ctx.filler, "bulk_density_g_per_ml", table_name="excipients")
    text = str(ctx.filler.get("bulk_density_range") or "")
    high = float(text.split("-")[1]) if "-" in text else low
    return volume * low * 1000.0, volume * high * 1000.0


def _fill_and_check_weight(add: Callable[..., None], r: core.CapsuleResult,
                           per_context: Callable[..., Any], rows: Any,
                           size_of: Callable[[CapsuleContext], Any]) -> None:
    """A fill weight far below what the size holds, and a capsule too light to check-weigh alone."""
    rule = resolve.rule("capsule")
    fraction = float(rule["min_fill_fraction_of_capacity"])
    low = per_context(lambda c: capacity_range_mg(c)[0], np.float64)
    high = per_context(lambda c: capacity_range_mg(c)[1], np.float64)
    fill = r.fill_weight_mg
    # Each context's capsule size as a number into ``names``, read once per context (not a sort
    # of every row's size text: a block of 25,000 plans shares a handful of contexts).
    names: list[str] = []

    def name_of(c: CapsuleContext) -> int:
        key = str(size_of(c))
        if key not in names:
            names.append(key)
        return names.index(key)

    size = per_context(name_of, np.int64)

    def far_below(fill: float, low: float, high: float, size: int) -> Finding:
        return Finding(
            "FILL_WEIGHT_LOW_FOR_SIZE", Severity.WARNING,
            f"A fill weight of {format_mass(fill)} is far below what a size {names[size]} capsule holds of "
            f"this filler ({format_mass(low)}–{format_mass(high)}: capsule volume × bulk density): "
            "check the figure and its unit, or measure the pack statistic (fill empty capsules with "
            "the filler, weigh, divide by the number).",
            {"expected_low_mg": low, "expected_high_mg": high,
             "source": f"capsule_sizes.csv; excipients.csv; rules.toml [capsule] "
                       f"min_fill_fraction_of_capacity: {rule['min_fill_source']}"})

    add("FILL_WEIGHT_LOW_FOR_SIZE", Severity.WARNING, far_below,
        present=rows & (fill < fraction * low), fill=fill, low=low, high=high, size=size)

    def check_weight(fill: float, mwq: float) -> Finding:
        group = int(ceil_count(mwq / fill))
        return Finding(
            "CHECK_WEIGHT_BELOW_MWQ", Severity.INFO,
            f"One capsule's fill ({format_mass(fill)}) is below the balance's minimum weighable "
            f"quantity ({format_mass(mwq)}), so a single capsule cannot be check-weighed to 5 %: "
            f"check-weigh on a more sensitive balance, or weigh groups of {group} capsules "
            f"(≥ {format_mass(group * fill)}) against as many empty shells and divide.",
            {"group_of": group, "source": "USP <1176> (MWQ = sensitivity ÷ 5 %); domain.md 4.4"})

    add("CHECK_WEIGHT_BELOW_MWQ", Severity.INFO, check_weight,
        present=rows & (fill < r.mwq_mg), fill=fill, mwq=r.mwq_mg)


def findings_for(result: core.CapsuleResult, i: int, ctx: CapsuleContext) -> list[Finding]:
    """Every finding for row ``i`` of ``result``, planned against ``ctx``."""
    row = result.at(i)
    one = _OnePlan(row)
    _apply_rules(row, [ctx], 0, one)
    return one.findings


def finding_columns(result: core.CapsuleResult, contexts: Sequence[CapsuleContext],
                    context_of: np.ndarray, made: dict[Any, Any] | None = None) -> FindingColumns:
    """The findings of every row of ``result``; row ``i`` was planned against ``contexts[context_of[i]]``.

    ``made``: the findings made by earlier calls with the same ``contexts`` in the same order (or
    that list with contexts appended), to build each distinct message once for them all
    (:class:`~compound.core.findings.FindingColumns`): a rule's message depends on its keys and
    on the context they number, nothing else.
    """
    n = len(result)
    if n == 0:
        return FindingColumns(0, [])
    columns = _Columns(n, result)
    _apply_rules(result, contexts, np.asarray(context_of, dtype=np.int64), columns)
    return FindingColumns(n, columns.rules, made, columns.worst)


class _Columns:
    """The rules over a column of plans: a :class:`ColumnRule` each, messages built when asked."""

    def __init__(self, n: int, result: core.CapsuleResult) -> None:
        self.n, self.result = n, result
        self.rules: list[ColumnRule] = []
        self._levels: dict[int, np.ndarray] = {}
        self.worst: tuple[int, np.ndarray] | None = None

    def column(self, values: Any, dtype: Any = None) -> np.ndarray:
        """``values`` as a column of the n rows: itself when it is one (most keys), else a scalar
        broadcast (a view: ``_constant`` tells a rule of one severity by its zero stride)."""
        if (type(values) is np.ndarray and values.shape == (self.n,)
                and (dtype is None or values.dtype == dtype)):
            return values
        if dtype is np.int64 and isinstance(values, int):  # a rule's one severity, shared by its rules
            level = self._levels.get(values)
            if level is None:
                level = self._levels[values] = np.broadcast_to(np.int64(values), (self.n,))
            return level
        return np.broadcast_to(np.asarray(values, dtype=dtype), (self.n,))

    def mask(self, code: str) -> np.ndarray:
        return self.column(self.result.masks.get(code, False), np.bool_)

    def per_context(self, contexts: Sequence[CapsuleContext], ci: Any,
                    get: Callable[[CapsuleContext], Any], dtype: Any) -> np.ndarray:
        return np.array([get(c) for c in contexts], dtype=dtype)[ci]

    def add(self, code: str, severity: Any, make: Callable[..., Finding], rows: Any, code_id: Any,
            keys: dict[str, Any]) -> None:
        self.rules.append(ColumnRule(code, np.asarray(rows, dtype=bool), self.column(severity, np.int64),
                                     {k: self.column(v) for k, v in keys.items()}, make, code_id))

    def refused(self) -> Any:
        worst = FindingColumns(self.n, self.rules).worst()
        self.worst = (len(self.rules), worst)  # the rules after it add to it (finding_columns)
        return worst >= Severity.REFUSAL


class _OnePlan:
    """The same rules for one plan of Python scalars: a present rule's finding is made at once."""

    def __init__(self, result: core.CapsuleResult) -> None:
        self.result = result
        self.findings: list[Finding] = []
        self.worst = -1

    def mask(self, code: str) -> bool:
        return bool(self.result.masks.get(code, False))

    def per_context(self, contexts: Sequence[CapsuleContext], ci: Any,
                    get: Callable[[CapsuleContext], Any], dtype: Any) -> Any:
        return get(contexts[0])

    def add(self, code: str, severity: Any, make: Callable[..., Finding], rows: Any, code_id: Any,
            keys: dict[str, Any]) -> None:
        if rows:
            self.worst = max(self.worst, int(severity))
            self.findings.append(make(**keys))

    def refused(self) -> bool:
        return self.worst >= Severity.REFUSAL


def _apply_rules(r: core.CapsuleResult, contexts: Sequence[CapsuleContext], ci: Any,
                 out: _Columns | _OnePlan) -> None:
    """Every rule, in output order, over ``r`` (columns, or one plan's scalars), into ``out``.

    Written once for both: operators and :mod:`compound.core.elementwise` work on either.
    """
    one = isinstance(out, _OnePlan)

    def per_context(get: Callable[[CapsuleContext], Any], dtype: Any) -> Any:
        return out.per_context(contexts, ci, get, dtype)

    mask = out.mask
    band = r.dose_band if one else np.asarray(r.dose_band, dtype=np.int64)
    width = max((len(c.bands) for c in contexts), default=0) + 1  # the last column: no band
    band_at = ew.where(band >= 0, band, width - 1)
    if one:
        band_severity = int(contexts[0].bands[band].severity) if band >= 0 else -1
    else:
        table = [[int(b.severity) for b in c.bands] + [-1] * (width - len(c.bands)) for c in contexts]
        band_severity = np.array(table, dtype=np.int64).reshape(len(contexts), width)[ci, band_at]
    # The strength or count itself is refused: what the arithmetic would say about such a batch
    # (overfilled, trituration, shortcut) is noise beside the real reason.
    limits = resolve.rule("batch_limits")
    too_large = r.capsules_needed > float(limits["max_capsules"])
    consequences = r.computable & (band_severity != Severity.REFUSAL) & ew.not_(too_large)
    m = {code: mask(code) & consequences if code in _CONSEQUENCES else mask(code) for code in r.masks}
    m["TRITURATION_PLANNED"] = m.get("TRITURATION_PLANNED", mask("")) & r.triturated
    none = False if one else np.zeros(len(r), dtype=bool)

    def ctx(j: int) -> CapsuleContext:
        return contexts[j]

    def add(code: str, severity: Any, make: Callable[..., Finding],
            present: Any = None, code_id: Any = None, **keys: Any) -> None:
        out.add(code, severity, make, m.get(code, none) if present is None else present, code_id, keys)

    def simple(code: str, severity: Severity, text: Callable[..., str], **keys: Any) -> None:
        add(code, severity, lambda **v: Finding(code, severity, text(**v)), **keys)

    strength = r.strength_hcl_mg
    slip = m.get("UNIT_SLIP_SUSPECTED", none)

    def unit_slip(strength: float, c: int) -> Finding:
        guess, hint = _slip_hint(strength, ctx(c))
        return Finding("UNIT_SLIP_SUSPECTED", Severity.WARNING, "Possible unit slip (mg/g or mcg/mg):" + hint,
                       {"suggested_mg": guess})

    add("UNIT_SLIP_SUSPECTED", Severity.WARNING, unit_slip, strength=strength, c=ci)

    def dose_band(strength: float, band: int, slip: bool, c: int) -> Finding:
        f = dose_band_finding(strength, ctx(c).bands[band], what="strength per capsule")
        if f.severity is Severity.REFUSAL and slip:
            f = Finding(f.code, f.severity, f.message + _slip_hint(strength, ctx(c))[1], f.data)
        return f

    add("DOSE_BAND", band_severity, dose_band, present=band >= 0, code_id=ci * width + band_at,
        strength=strength, band=band, slip=slip, c=ci)
    simple("COUNT_NOT_POSITIVE", Severity.REFUSAL,
           lambda count: f"The capsule count must be at least 1 (got {format_number(count)}). Type the "
           "number of capsules, e.g. --count 30.", count=r.count)
    simple("COUNT_NOT_WHOLE", Severity.REFUSAL,
           lambda count: f"The capsule count must be a whole number (got {format_number(count)}).",
           count=r.count)
    add("BATCH_TOO_LARGE", Severity.REFUSAL,
        lambda capsules: _source.batch_limit_findings(count=capsules)[0],
        present=too_large, capsules=r.capsules_needed)
    simple("OVERAGE_NEGATIVE", Severity.REFUSAL,
           lambda: "The overage cannot be negative: type extra capsules (1) or a percentage (5%), or 0.")
    simple("TABLET_WEIGHT_IMPOSSIBLE", Severity.REFUSAL,
           lambda weight, strength: f"An average tablet weight of {format_mass(weight)} is not more "
           f"than the {format_mass(strength)} of naltrexone HCl each tablet "
           "contains: check the weighing (weigh 20 tablets together, divide by 20) and its unit.",
           weight=r.tablet_weight_mg, strength=r.tablet_strength_mg)
    simple("FILL_WEIGHT_NOT_POSITIVE", Severity.REFUSAL,
           lambda: "The fill weight must be greater than zero: measure a pack statistic or type "
           "--fill-weight.")
    simple("INVALID_POTENCY", Severity.REFUSAL,
           lambda: "The API potency is not usable (assay must be above 0 %, water from 0 % to below 100 %).")
    simple("ASSAY_IMPLAUSIBLE", Severity.REFUSAL,
           lambda assay: f"An assay of {format_percent(assay)} is not a plausible CoA figure: check the "
           "certificate (did you mean e.g. 99.2% rather than 992%?).", assay=r.assay_used)
    opioids = [opioid_finding(c.opioid_reason) for c in contexts]
    add("OPIOID_USE", per_context(lambda c: int(opioid_finding(c.opioid_reason).severity), np.int64),
        lambda c: opioids[c], present=mask("OPIOID_USE") | mask("OPIOID_USE_OVERRIDDEN"),
        code_id=per_context(lambda c: int(c.opioid_reason is not None and bool(c.opioid_reason.strip())),
                            np.int64), c=ci)
    add("FILLER_AVOID", Severity.WARNING,
        lambda c: Finding("FILLER_AVOID", Severity.WARNING,
                          f"Filler {ctx(c).filler.get('name', ctx(c).filler['key'])}: "
                          f"{ctx(c).filler.get('reason', '')} Choose another filler (--filler mcc).",
                          {"source": ctx(c).filler["source"]}), c=ci)
    triturated = r.triturated

    def overfilled(triturated: bool, amount: float, capsules: float, fill: float, blend: float) -> str:
        what = (f"the trituration aliquot ({format_mass(amount)})" if triturated
                else f"the active powder ({format_mass(amount)})")
        return (f"The capsules cannot hold the dose: {what} is more than the blend of "
                f"{format_count(capsules, 'capsule')} × {format_mass(fill)} ({format_mass(blend)}). Use a "
                "larger capsule size (--capsule-size), API powder instead of tablets, more capsules, or a "
                "more sensitive balance.")

    simple("CAPSULE_OVERFILLED", Severity.REFUSAL, overfilled, triturated=triturated,
           amount=ew.where(triturated, r.trituration["aliquot_mg"], r.active_total_mg),
           capsules=r.capsules_to_prepare, fill=r.fill_weight_mg, blend=r.blend_total_mg)
    simple("TABLET_WEIGHT_REQUIRED", Severity.REFUSAL,
           lambda: "Weighing tablet powder needs the measured average tablet weight. "
           + str(resolve.rule("tablet_weight")["how_to_measure"]))
    route_given = per_context(lambda c: c.route_given, bool)

    def weight_missing(route_given: bool) -> Finding:
        how = str(resolve.rule("tablet_weight")["how_to_measure"])
        if route_given:
            return Finding("TABLET_WEIGHT_MISSING", Severity.INFO,
                           "Whole-tablet route without a tablet weight: the filler is added q.s. to the "
                           "blend total; weigh the crushed powder first (it must be below the blend "
                           f"total). {how}")
        return Finding("TABLET_WEIGHT_MISSING", Severity.WARNING,
                       "No average tablet weight was given, so no tablet powder can be weighed: "
                       "planned the whole-tablet route instead (crush whole tablets, make the "
                       "capsule count closest to the strength, filler q.s. to the blend total). "
                       f"To weigh the powder exactly: {how}")

    add("TABLET_WEIGHT_MISSING", ew.where(route_given, Severity.INFO, Severity.WARNING), weight_missing,
        route_given=route_given)
    shortcut = {"tablets": r.shortcut_tablets, "closest": r.closest_capsules,
                "closest_mg": r.closest_strength_mg, "error": r.closest_error}
    simple("WHOLE_TABLET_COUNT", Severity.INFO,
           lambda tablets, closest, closest_mg, error, needed: f"Whole tablets: "
           f"{format_count(tablets, 'tablet')} make {format_count(closest, 'capsule')} of "
           f"{format_mass(closest_mg)} ({_signed_pct(error)} from the strength), not the "
           f"{format_count(needed, 'capsule')} needed; the extra capsules are made in the same batch.",
           needed=r.capsules_needed, **shortcut)
    simple("SHORTCUT_OUT_OF_TOLERANCE", Severity.REFUSAL,
           lambda tablets, closest, closest_mg, error: f"Whole tablets cannot make this strength: "
           f"{format_count(tablets, 'tablet')} into {format_count(closest, 'capsule')} is "
           f"{format_mass(closest_mg)} ({_signed_pct(error)}), outside the potency tolerance. Give the "
           "average tablet weight (--tablet-weight) and weigh the powder.", **shortcut)
    whole = r.whole_tablet_route

    def strength_off(whole: bool, tablets: float, closest: float, closest_mg: float, error: float,
                     strength: float) -> Finding:
        return Finding(
            "SHORTCUT_STRENGTH_OFF", Severity.WARNING if whole else Severity.INFO,
            f"Crushing {format_count(tablets, 'whole tablet')} into {format_count(closest, 'capsule')} gives "
            f"{format_mass(closest_mg)} per capsule, {_signed_pct(error)} from the prescribed "
            f"{format_mass(strength)}"
            + (": weigh the tablet powder instead (--tablet-weight)." if whole
               else ": do not use the whole-tablet shortcut for this strength."),
            {"error_pct": _pct(error)})

    add("SHORTCUT_STRENGTH_OFF", ew.where(whole, Severity.WARNING, Severity.INFO), strength_off,
        whole=whole, strength=strength, **shortcut)

    def excipients(c: int) -> Finding:
        product = ctx(c).product
        low, high = product.get("content_tolerance_low_pct"), product.get("content_tolerance_high_pct")
        tol = f" and the tablets' content tolerance ({low}–{high} % of label)" if low and high else ""
        return Finding("TABLET_EXCIPIENTS", Severity.INFO,
                       "Crushed tablets carry their excipients (lactose, cellulose, coating) into every "
                       f"capsule{tol}: not for lactose-intolerant patients; the strength can be no more "
                       "exact than the tablets.", {"source": product["source"]})

    add("TABLET_EXCIPIENTS", Severity.INFO, excipients, c=ci)
    t = r.trituration
    simple("TRITURATION_PLANNED", Severity.INFO,
           lambda active, tablet, mwq, drug, factor, aliquot: f"{format_mass(active)} of "
           f"{'tablet powder' if tablet else 'API'} is below the balance's minimum weighable quantity "
           f"({format_mass(mwq)}): a trituration is planned (weigh {format_mass(drug)}, dilute 1 in "
           f"{format_number(factor)} with {_diluent_name()} by geometric dilution, weigh an aliquot of "
           f"{format_mass(aliquot)}).",
           active=r.active_total_mg, tablet=r.source_is_tablet, mwq=r.mwq_mg, drug=t["drug_mg"],
           factor=t["overall_factor"], aliquot=t["aliquot_mg"])
    simple("FILLER_QS", Severity.INFO,
           lambda filler, mwq, blend: f"The filler to add ({format_mass(filler)}) is below the minimum "
           f"weighable quantity ({format_mass(mwq)}): do not weigh it on its own; add filler q.s. to the "
           f"blend total of {format_mass(blend)}.",
           filler=r.filler_to_add_mg, mwq=r.mwq_mg, blend=r.blend_total_mg)
    simple("BLEND_BELOW_MWQ", Severity.WARNING,
           lambda blend, mwq: f"The whole blend ({format_mass(blend)}) is below the minimum weighable "
           f"quantity ({format_mass(mwq)}): the capsule weights cannot be checked to 5 % on this balance. "
           "Make more capsules or use a more sensitive balance.", blend=r.blend_total_mg, mwq=r.mwq_mg)
    water = r.water_used

    def hydrate(water: float, c: int) -> Finding:
        error = float(hydrate_mismatch_error(water))
        return Finding(
            "HYDRATE_MISMATCH", Severity.WARNING,
            f"The CoA water ({format_percent(water)}) is high for an API declared anhydrous: it looks like "
            f"the dihydrate (theoretical water {format_percent(ctx(c).salts.dihydrate_water)}). The water "
            "is corrected for here (assay × (1 − water)), but weighed as if anhydrous a dihydrate would "
            f"under-dose by {format_percent(-error)}. Check the label and CoA; if it is the dihydrate, plan "
            "with --api-form dihydrate.", {"error_pct": _pct(error)})

    add("HYDRATE_MISMATCH", Severity.WARNING, hydrate, water=water, c=ci)
    simple("DIHYDRATE_WATER_OFF", Severity.WARNING,
           lambda water, c: f"The CoA water ({format_percent(water)}) is far from the dihydrate's "
           f"theoretical {format_percent(ctx(c).salts.dihydrate_water)}: check the form and the "
           "certificate (the CoA value is used).", water=water, c=ci)
    add("DIHYDRATE_WATER_ASSUMED", Severity.INFO,
        lambda c: Finding("DIHYDRATE_WATER_ASSUMED", Severity.INFO,
                          "No CoA water given: the dihydrate's theoretical water "
                          f"{format_percent(ctx(c).salts.dihydrate_water)} is used (molecules.csv). Type "
                          "--water from the CoA for the lot's value.",
                          {"source": ctx(c).salts.source_dihydrate}),
        c=ci)
    simple("ASSAY_ASSUMED", Severity.INFO,
           lambda: "No CoA assay given: 100 % is assumed. Type --assay from the lot's certificate of "
           "analysis.")
    add("ASSAY_OUTSIDE_USP", Severity.WARNING,
        lambda assay: Finding("ASSAY_OUTSIDE_USP", Severity.WARNING,
                              f"The assay {format_percent(assay)} is outside the USP range for naltrexone "
                              "hydrochloride (98.0–102.0 %, anhydrous basis): check the certificate and the "
                              "grade.", {"source": str(resolve.rule("api_assay")["source"])}),
        assay=r.assay_used)
    refused = out.refused()
    _fill_and_check_weight(add, r, per_context, consequences & ew.not_(refused),
                           lambda c: c.capsule_size["key"])
    add("BASIS_BASE", Severity.WARNING,
        lambda strength, c: _source.base_basis_finding(
            [("strength per capsule", _as_written(strength, ctx(c)), "mg")], "base",
            ctx(c).salts)[0],
        present=per_context(lambda c: c.basis == "base", bool) & (strength > 0),
        strength=strength, c=ci)
    simple("FILL_WEIGHT_ESTIMATED", Severity.INFO,
           lambda fill: f"Fill weight estimated from the capsule volume × the filler's bulk density "
           f"({format_mass(fill)}); capsule charts differ by up to 10 % and filler lots vary: measure your "
           "pack statistic and add it to pack_stats.csv in your catalog.",
           present=per_context(lambda c: c.fill_weight_method == "volume-x-density", bool) & ew.not_(refused),
           fill=r.fill_weight_mg)
