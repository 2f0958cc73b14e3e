"""LDN capsules: the arithmetic of one plan or a column of a million, in one pass.

Every input is a column (a numpy array, one element per prescription row; a
scalar broadcasts), every output is a column, and every finding is a boolean
mask over the rows. Nothing here loops over rows or reads a file: the planning
layer resolves the catalog into :class:`CapsuleInputs` and :class:`CapsuleRules`.

One plan (every input a number: the TUI plans on every keystroke) runs the same
formulas on Python floats, ~50 times quicker than on one-element columns, and its
result holds floats and bools; the formulas are written once, with operators and
:mod:`compound.core.elementwise`, and the two paths agree bit for bit
(tests/test_capsules_scalar_path.py).

Canonical units: masses [mg], counts [1] (whole numbers held as float64 so that
NaN can mark "not applicable"), fractions [0–1].

Routes (chosen per row with masks):

* **weighed tablet powder**: crush whole 50 mg tablets, weigh the powder that
  holds the naltrexone needed (needs the measured average tablet weight);
* **whole tablets**: crush N whole tablets and make the capsule count closest
  to the strength (no drug weighing; filler q.s. to the blend total);
* **API powder**: weigh the powder corrected for salt, hydrate and potency.

Notes
-----
Calibrated-fill (packing statistic) method: each capsule holds ``fill weight``
of powder; the filler per capsule is ``fill weight − active powder per
capsule``, which assumes the active powder packs like the filler (true enough
for a few mg of drug; for tablet powder it is an approximation, checked by the
90–110 % weight window).

Any substance that would be weighed below the balance's minimum weighable
quantity (MWQ) is triturated (:func:`compound.core.weighing.trituration`); the
diluent carried in the aliquot is taken off the filler to add.

References
----------
domain.md §1 (salts), §2.1 (capsule fillers), §4.2–4.4 (fill weights, calibrated
fill, weight variation 90–110 %, MWQ, trituration); UNC Pharmaceutics capsule
and trituration labs; USP <795>, <1176>; prior-art.md §6 T6, T8, T10–T13, T16,
T25, T29.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from compound.core import elementwise as ew
from compound.core.rounding import ceil_count, round_count
from compound.core.safety import DoseBand, classify_dose, unit_slip_suspected
from compound.core.salts import api_to_weigh_mg, to_hcl_mg
from compound.core.weighing import trituration

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
#: A result's value: a Python float (bool) for one plan of scalars, else a float64 (bool) column.
Floats = Any
Bools = Any

#: Finding codes whose masks :func:`compute_capsules` returns (dose bands come
#: as ``dose_band`` indices instead).
MASK_CODES: tuple[str, ...] = (
    "COUNT_NOT_POSITIVE", "COUNT_NOT_WHOLE", "OVERAGE_NEGATIVE", "FILL_WEIGHT_NOT_POSITIVE",
    "INVALID_POTENCY", "UNIT_SLIP_SUSPECTED", "OPIOID_USE", "OPIOID_USE_OVERRIDDEN",
    "FILLER_AVOID", "CAPSULE_OVERFILLED", "SHORTCUT_OUT_OF_TOLERANCE", "SHORTCUT_STRENGTH_OFF",
    "TABLET_WEIGHT_REQUIRED", "TABLET_WEIGHT_IMPOSSIBLE", "TABLET_WEIGHT_MISSING",
    "WHOLE_TABLET_COUNT", "TABLET_EXCIPIENTS",
    "TRITURATION_PLANNED",
    "FILLER_QS", "BLEND_BELOW_MWQ", "HYDRATE_MISMATCH", "DIHYDRATE_WATER_OFF",
    "DIHYDRATE_WATER_ASSUMED", "ASSAY_ASSUMED", "ASSAY_OUTSIDE_USP", "ASSAY_IMPLAUSIBLE",
)


@dataclass(frozen=True, slots=True)
class CapsuleRules:
    """Constants shared by every row of a run (from molecules.csv and rules.toml).

    No defaults: every value comes from the data (:func:`compound.planning.capsules.capsule_rules`).
    Fractions are 0–1 (``weight_low = 0.9`` for 90 %).
    """

    mw_hcl: float
    mw_base: float
    dihydrate_water: float
    dose_bands: tuple[DoseBand, ...]
    weight_low: float
    weight_high: float
    potency_low: float
    potency_high: float
    hydrate_mismatch_water: float
    dihydrate_water_tolerance: float
    assay_low: float
    assay_high: float
    assay_max_plausible: float
    shortcut_warn_error: float
    max_trituration_factor: float


_BOOL_FIELDS: Final = frozenset({
    "basis_is_base", "source_is_tablet", "whole_tablet_route", "form_is_base",
    "form_is_dihydrate", "opioid_use", "opioid_override", "filler_avoid",
})


@dataclass(frozen=True)
class CapsuleInputs:
    """One element per prescription row; scalars broadcast to the row count.

    Parameters
    ----------
    strength_mg : numeric
        Strength per capsule as written [mg] (HCl, or base where ``basis_is_base``).
    count : numeric
        Capsules prescribed [1].
    fill_weight_mg : numeric
        Powder one capsule holds (given, pack statistic, or volume × density) [mg].
    mwq_mg : numeric
        Minimum weighable quantity of the balance [mg].
    rules : CapsuleRules
        Constants for the run.
    overage_units, overage_fraction : numeric
        Extra capsules [1], or extra as a fraction of ``count`` [0–1] (rounded up).
    basis_is_base : bool
        The strength is naltrexone base.
    source_is_tablet : bool
        Crushed tablets (else API powder).
    whole_tablet_route : bool
        Tablet rows: crush whole tablets and make the closest capsule count.
    tablet_strength_mg : numeric
        Naltrexone HCl per tablet [mg].
    tablet_weight_mg : numeric
        Measured average tablet weight [mg]; NaN = not measured.
    form_is_base, form_is_dihydrate : bool
        API form (neither = anhydrous HCl).
    assay, water : numeric
        CoA assay (anhydrous basis) and water [0–1]; NaN = not given (assay 100 %;
        water 0, or the theoretical dihydrate water for the dihydrate).
    opioid_use, opioid_override, filler_avoid : bool
        Safety flags resolved by the planning layer.
    """

    strength_mg: npt.ArrayLike
    count: npt.ArrayLike
    fill_weight_mg: npt.ArrayLike
    mwq_mg: npt.ArrayLike
    rules: CapsuleRules
    overage_units: npt.ArrayLike = 0.0
    overage_fraction: npt.ArrayLike = 0.0
    basis_is_base: npt.ArrayLike = False
    source_is_tablet: npt.ArrayLike = True
    whole_tablet_route: npt.ArrayLike = False
    tablet_strength_mg: npt.ArrayLike = np.nan
    tablet_weight_mg: npt.ArrayLike = np.nan
    form_is_base: npt.ArrayLike = False
    form_is_dihydrate: npt.ArrayLike = False
    assay: npt.ArrayLike = np.nan
    water: npt.ArrayLike = np.nan
    opioid_use: npt.ArrayLike = False
    opioid_override: npt.ArrayLike = False
    filler_avoid: npt.ArrayLike = False

    def __post_init__(self) -> None:
        names = _INPUT_FIELDS
        values = [getattr(self, n) for n in names]
        if all(isinstance(v, (float, int, np.number, np.bool_)) for v in values):
            # One plan: Python floats and bools, for the float path of compute_capsules.
            for n, v in zip(names, values, strict=True):
                object.__setattr__(self, n, bool(v) if n in _BOOL_FIELDS else float(v))
            return
        raw = {n: np.asarray(v) for n, v in zip(names, values, strict=True)}
        shape = np.broadcast_shapes((1,), *(a.shape for a in raw.values()))  # at least one row
        for n, a in raw.items():
            dtype = np.bool_ if n in _BOOL_FIELDS else np.float64
            # A read-only view of the caller's column when it has the dtype already (no copy).
            object.__setattr__(self, n, np.broadcast_to(np.asarray(a, dtype=dtype), shape))

    @property
    def is_scalar(self) -> bool:
        """One plan held as Python scalars (every input was a number), not columns."""
        return isinstance(self.strength_mg, float)

    def columns(self) -> CapsuleInputs:
        """The same inputs as one-row columns."""
        if not self.is_scalar:
            return self
        return CapsuleInputs(rules=self.rules, **{n: [getattr(self, n)] for n in _INPUT_FIELDS})

    def __len__(self) -> int:
        return 1 if self.is_scalar else int(np.asarray(self.strength_mg).size)


_INPUT_FIELDS: Final = tuple(f.name for f in fields(CapsuleInputs) if f.name != "rules")


@dataclass(frozen=True)
class CapsuleResult:
    """Every output column of :func:`compute_capsules`; NaN where not applicable.

    Counts are whole numbers held as float64. ``masks`` maps each finding code
    of :data:`MASK_CODES` to a boolean column; ``dose_band`` is the index into
    ``rules.dose_bands`` of each row's strength (−1 for none).
    """

    strength_hcl_mg: Floats
    count: Floats
    overage_units: Floats
    overage_fraction: Floats
    capsules_needed: Floats
    capsules_to_prepare: Floats
    api_required_mg: Floats
    actual_strength_mg: Floats
    tablet_strength_mg: Floats
    tablet_weight_mg: Floats
    tablets_to_crush: Floats
    tablet_powder_mg: Floats
    powder_left_over_mg: Floats
    api_factor: Floats
    assay_used: Floats
    water_used: Floats
    assay_given: Bools
    water_given: Bools
    api_to_weigh_mg: Floats
    active_total_mg: Floats
    active_per_capsule_mg: Floats
    fill_weight_mg: Floats
    fill_weight_low_mg: Floats
    fill_weight_high_mg: Floats
    filler_per_capsule_mg: Floats
    filler_total_mg: Floats
    filler_to_add_mg: Floats
    blend_total_mg: Floats
    mwq_mg: Floats
    triturated: Bools
    trituration: dict[str, Floats]
    shortcut_tablets: Floats
    shortcut_capsules: Floats
    shortcut_strength_mg: Floats
    shortcut_error: Floats
    closest_capsules: Floats
    closest_strength_mg: Floats
    closest_error: Floats
    dose_band: Any
    masks: dict[str, Bools]
    source_is_tablet: Bools
    whole_tablet_route: Bools
    computable: Bools

    def __len__(self) -> int:
        return 1 if self.is_scalar else int(self.strength_hcl_mg.size)

    @property
    def is_scalar(self) -> bool:
        """One plan of Python scalars (from scalar inputs), not columns."""
        return isinstance(self.strength_hcl_mg, float)

    def row(self, i: int) -> dict[str, Any]:
        """The scalar values of row ``i`` (floats; masks as bools)."""
        one = self.at(i)
        out: dict[str, Any] = {}
        for f in fields(one):
            value = getattr(one, f.name)
            out[f.name] = dict(value) if isinstance(value, dict) else value
        return out

    def at(self, i: int) -> CapsuleResult:
        """Row ``i`` as a one-plan result of Python scalars (itself when it is one)."""
        if self.is_scalar:
            if i != 0:
                raise IndexError(i)
            return self
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, dict):
                out[f.name] = {k: v[i].item() for k, v in value.items()}
            else:
                out[f.name] = value[i].item()
        return CapsuleResult(**out)


def compute_capsules(inputs: CapsuleInputs) -> CapsuleResult:
    """Plan LDN capsules for every row of ``inputs``.

    Returns
    -------
    CapsuleResult
        Amounts [mg], counts [1] and a finding mask per code.

    Notes
    -----
    ``capsules needed = count + extra + ⌈count × overage %⌉`` (ceil with the
    count tolerance, so 10 % of 30 is 3, not 4).

    ``naltrexone HCl required = strength(HCl) × capsules needed``; a base strength
    is converted with MW(HCl)/MW(base).

    Weighed tablet route: ``tablets = ⌈required ÷ tablet strength⌉``,
    ``tablet powder = required ÷ tablet strength × average tablet weight``.

    Whole-tablet route (and the shortcut analysis of every tablet row):
    ``N = ⌈required ÷ tablet strength⌉`` tablets into ``M`` capsules gives
    ``N × tablet strength ÷ M`` per capsule; the closest count is
    ``round(N × tablet strength ÷ strength)``.

    API route: ``API to weigh = required × m ÷ (assay × (1 − water))``
    (:func:`compound.core.salts.api_to_weigh_mg`).

    ``blend total = fill weight × capsules to prepare``;
    ``filler total = blend total − active powder``;
    ``filler to add = filler total − diluent carried in the trituration aliquot``.

    References
    ----------
    domain.md §1.1–1.4, §4.2–4.4; prior-art.md §6 T8, T11, T13, T25, T29.
    """
    if inputs.is_scalar:
        # One plan (the TUI recomputes on every keystroke): the same formulas on Python floats,
        # ~50× quicker than on one-element columns. Where floats raise and numpy would give
        # inf or NaN (a zero count or strength: a refused plan), the columns give the answer.
        try:
            return _compute(inputs, inputs.rules)
        except ew.ARRAY_ONLY:
            return compute_capsules(inputs.columns()).at(0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return _compute(inputs, inputs.rules)


def _triturations(weighs: BoolArray, weighed: BoolArray, active_total: FloatArray, mwq: FloatArray,
                  tw: FloatArray, tablets: FloatArray, r: CapsuleRules) -> tuple[BoolArray, dict[str, Any]]:
    """The trituration step of :func:`_compute` for a column, on the rows that can need one.

    The formulas are element by element, so only the weighed rows below the MWQ (or NaN) go
    through them: ``triturated`` is where they plan stages, every trituration column is NaN
    elsewhere, and ``tablets`` is raised in place on the tablet-powder rows among them to
    ``max(tablets, ⌈drug [mg] ÷ tablet weight [mg]⌉)``. Equal to the whole-column steps
    (tests/test_capsules_core.py).
    """
    at = np.flatnonzero(weighs & ~(active_total >= mwq))
    some = trituration(active_total[at], mwq[at], r.max_trituration_factor)
    hit = np.nan_to_num(some["stages"]) > 0
    rows = at[hit]
    triturated = np.zeros(active_total.shape, dtype=np.bool_)
    triturated[rows] = True
    trit: dict[str, Any] = {}
    for key, values in some.items():
        column = np.full(active_total.shape, np.nan)
        column[rows] = values[hit]
        trit[key] = column
    crush = rows[weighed[rows]]
    tablets[crush] = np.maximum(tablets[crush], ceil_count(trit["drug_mg"][crush] / tw[crush]))
    return triturated, trit


def _compute(inp: CapsuleInputs, r: CapsuleRules) -> CapsuleResult:
    """The formulas, once, for Python floats (one plan) and columns alike (:mod:`.elementwise`)."""
    one = inp.is_scalar
    nan = math.nan  # a column where()s broadcast (numpy's NaN: a full column of it is the same bits)
    strength_hcl = to_hcl_mg(inp.strength_mg, inp.basis_is_base, r.mw_hcl, r.mw_base)
    count = ew.as_float(inp.count)
    over_units, over_fraction = ew.as_float(inp.overage_units), ew.as_float(inp.overage_fraction)
    capsules_needed = count + over_units + ceil_count(count * over_fraction)
    api_required = strength_hcl * capsules_needed

    is_tablet = ew.as_bool(inp.source_is_tablet)
    whole = is_tablet & ew.as_bool(inp.whole_tablet_route)
    weighed = is_tablet & ew.not_(whole)
    is_api = ew.not_(is_tablet)
    ts, tw = ew.as_float(inp.tablet_strength_mg), ew.as_float(inp.tablet_weight_mg)
    tw_known = ew.isfinite(tw) & (tw > 0)

    # The "crush N whole tablets into M capsules" analysis, for every tablet row.
    sc_tablets = ceil_count(api_required / ts)
    sc_drug = sc_tablets * ts
    sc_strength = sc_drug / capsules_needed
    closest = round_count(sc_drug / strength_hcl)
    closest_strength = sc_drug / closest
    capsules_to_prepare = ew.where(whole, closest, capsules_needed)
    actual_strength = ew.where(whole, closest_strength, strength_hcl)

    # API powder: salt, hydrate and potency correction.
    form_base, form_di = ew.as_bool(inp.form_is_base), ew.as_bool(inp.form_is_dihydrate)
    assay_in, water_in = ew.as_float(inp.assay), ew.as_float(inp.water)
    assay_given, water_given = ew.isfinite(assay_in), ew.isfinite(water_in)
    assay = ew.where(assay_given, assay_in, 1.0)
    water = ew.where(water_given, water_in, ew.where(form_di, r.dihydrate_water, 0.0))
    api_factor = api_to_weigh_mg(1.0, form_base, assay, water, r.mw_hcl, r.mw_base)
    api_to_weigh = api_to_weigh_mg(api_required, form_base, assay, water, r.mw_hcl, r.mw_base)

    tablet_powder = ew.where(weighed, api_required / ts * tw, ew.where(whole, sc_tablets * tw, nan))
    active_total = ew.where(is_api, api_to_weigh, tablet_powder)

    count_ok = count > 0
    overage_ok = (over_units >= 0) & (over_fraction >= 0)
    assay_implausible = is_api & (assay > r.assay_max_plausible)
    potency_ok = is_tablet | ((assay > 0) & (water >= 0) & (water < 1) & ew.not_(assay_implausible))
    # A tablet cannot weigh less than the drug it contains: a smaller figure is a typo or a
    # wrong unit, and weighing powder by it would under-dose every capsule.
    tablet_weight_impossible = is_tablet & tw_known & (tw <= ts)
    tablet_ok = is_api | ((ts > 0) & (whole | tw_known) & ew.not_(tablet_weight_impossible))
    fill = ew.as_float(inp.fill_weight_mg)
    mwq = ew.as_float(inp.mwq_mg)
    count_whole = count == ew.floor(count)
    computable = (strength_hcl > 0) & count_ok & count_whole & overage_ok \
        & potency_ok & tablet_ok & (fill > 0) & (mwq > 0) & (capsules_to_prepare > 0)

    # Only a substance that is weighed can fall below the MWQ (whole tablets are not weighed).
    weighs = (weighed | is_api) & computable
    tablets = ew.where(is_tablet, sc_tablets, nan)
    if one or np.ndim(active_total) != 1 or np.size(active_total) < ew.LONG_COLUMN:
        trit = trituration(ew.where(weighs, active_total, math.nan), mwq, r.max_trituration_factor)
        triturated = weighs & (ew.nan_to_num(trit["stages"]) > 0)
        trit = {k: ew.where(triturated, v, math.nan) for k, v in trit.items()}
        # Enough whole tablets must be crushed to weigh the trituration's first portion.
        raised = ew.maximum(tablets, ceil_count(trit["drug_mg"] / tw))
        tablets = ew.where(weighed & triturated, raised, tablets)
    else:
        triturated, trit = _triturations(weighs, weighed, active_total, mwq, tw, tablets, r)
    powder_weighed = ew.where(triturated, trit["drug_mg"], tablet_powder)
    left_over = ew.where(weighed, tablets * tw - powder_weighed, ew.where(whole, 0.0, nan))

    blend_total = fill * capsules_to_prepare
    active_per_capsule = active_total / capsules_to_prepare
    filler_total = blend_total - active_total
    diluent_carried = ew.where(triturated, trit["aliquot_mg"] - active_total, 0.0)
    filler_to_add = filler_total - diluent_carried
    trit["diluent_carried_mg"] = ew.where(triturated, diluent_carried, math.nan)

    overfilled = computable & (ew.where(triturated, trit["aliquot_mg"], active_total) > blend_total)
    closest_error = closest_strength / strength_hcl - 1.0
    opioid, override = ew.as_bool(inp.opioid_use), ew.as_bool(inp.opioid_override)
    no = False if one else np.zeros(np.shape(is_tablet), dtype=np.bool_)
    masks: dict[str, Any] = {
        "COUNT_NOT_POSITIVE": ew.not_(count_ok),
        "COUNT_NOT_WHOLE": count_ok & ew.not_(count_whole),
        "OVERAGE_NEGATIVE": ew.not_(overage_ok),
        "FILL_WEIGHT_NOT_POSITIVE": ew.not_(fill > 0),
        "INVALID_POTENCY": ew.not_(potency_ok) & ew.not_(assay_implausible),
        "ASSAY_IMPLAUSIBLE": assay_implausible,
        "UNIT_SLIP_SUSPECTED": unit_slip_suspected(strength_hcl, r.dose_bands)
        if any(b.key == "ldn" for b in r.dose_bands) else no,
        "OPIOID_USE": opioid & ew.not_(override),
        "OPIOID_USE_OVERRIDDEN": opioid & override,
        "FILLER_AVOID": ew.as_bool(inp.filler_avoid) | no,
        "CAPSULE_OVERFILLED": overfilled,
        # A few rows' findings: their figures are compared only when a row can have them.
        "SHORTCUT_OUT_OF_TOLERANCE": ew.and_then(whole & computable, lambda: (
            closest_strength < strength_hcl * r.potency_low) | (
            closest_strength > strength_hcl * r.potency_high)),
        "SHORTCUT_STRENGTH_OFF": is_tablet & computable & (ew.fabs(closest_error) > r.shortcut_warn_error),
        "TABLET_WEIGHT_REQUIRED": weighed & ew.not_(tw_known),
        "TABLET_WEIGHT_IMPOSSIBLE": tablet_weight_impossible,
        "TABLET_WEIGHT_MISSING": whole & ew.not_(tw_known),
        "WHOLE_TABLET_COUNT": ew.and_then(whole & computable, lambda: capsules_to_prepare != capsules_needed),
        "TABLET_EXCIPIENTS": is_tablet | no,
        "TRITURATION_PLANNED": triturated,
        "FILLER_QS": computable & ew.not_(overfilled) & (filler_to_add > 0) & (filler_to_add < mwq)
        & (blend_total >= mwq),
        "BLEND_BELOW_MWQ": computable & (blend_total < mwq),
        "HYDRATE_MISMATCH": ew.and_then(is_api & ew.not_(form_base) & ew.not_(form_di) & water_given,
                                        lambda: water_in >= r.hydrate_mismatch_water),
        "DIHYDRATE_WATER_OFF": ew.and_then(is_api & form_di & water_given, lambda: (
            ew.fabs(water_in - r.dihydrate_water) > r.dihydrate_water_tolerance)),
        "DIHYDRATE_WATER_ASSUMED": is_api & form_di & ew.not_(water_given),
        "ASSAY_ASSUMED": is_api & ew.not_(assay_given),
        "ASSAY_OUTSIDE_USP": ew.and_then(
            is_api & ew.not_(form_base) & assay_given & ew.not_(assay_implausible),
            lambda: (assay < r.assay_low) | (assay > r.assay_high)),
    }
    tab = ew.where(is_tablet, 1.0, math.nan)  # NaN on API rows: not applicable
    api = ew.where(is_api, 1.0, math.nan)
    shortcut_error = ew.times_into(sc_strength / strength_hcl - 1.0, tab)
    # The columns made here and not returned as they are take their NaNs in place.
    into = ew.times_into
    return CapsuleResult(
        strength_hcl_mg=strength_hcl,
        count=count,
        overage_units=over_units,
        overage_fraction=over_fraction,
        capsules_needed=capsules_needed,
        capsules_to_prepare=capsules_to_prepare,
        api_required_mg=api_required,
        actual_strength_mg=actual_strength,
        tablet_strength_mg=ts * tab,
        tablet_weight_mg=tw * tab,
        tablets_to_crush=tablets,
        tablet_powder_mg=tablet_powder,
        powder_left_over_mg=left_over,
        api_factor=into(api_factor, api),
        assay_used=into(assay, api),
        water_used=into(water, api),
        assay_given=assay_given & is_api,
        water_given=water_given & is_api,
        api_to_weigh_mg=into(api_to_weigh, api),
        active_total_mg=active_total,
        active_per_capsule_mg=active_per_capsule,
        fill_weight_mg=fill,
        fill_weight_low_mg=fill * r.weight_low,
        fill_weight_high_mg=fill * r.weight_high,
        filler_per_capsule_mg=fill - active_per_capsule,
        filler_total_mg=filler_total,
        filler_to_add_mg=filler_to_add,
        blend_total_mg=blend_total,
        mwq_mg=mwq,
        triturated=triturated,
        trituration=trit,
        shortcut_tablets=into(sc_tablets, tab),
        shortcut_capsules=capsules_needed * tab,
        shortcut_strength_mg=into(sc_strength, tab),
        shortcut_error=shortcut_error,
        closest_capsules=into(closest, tab),
        closest_strength_mg=into(closest_strength, tab),
        closest_error=into(closest_error, tab),
        dose_band=classify_dose(strength_hcl, r.dose_bands),
        masks={code: masks[code] if one else np.asarray(masks[code], dtype=np.bool_) for code in MASK_CODES},
        source_is_tablet=is_tablet,
        whole_tablet_route=whole,
        computable=computable,
    )
