"""Serial liquid dilution (liquid aliquot method), vectorised over rows.

To make ``V`` mL at ``c`` mg/mL when ``c × V`` of drug is below the minimum
weighable quantity (MWQ), weigh a weighable amount, dissolve it to a stock, and
dilute the stock by measured aliquots until the last stage is made up to ``V``.

Every row may need a different number of stages, so stage arrays have shape
``(n, max_stages)`` and are NaN-padded past a row's last stage. Loops run over
stages and over the few measuring devices, never over rows.

Notes
-----
Exactness. The only number that is not "round" is the amount weighed. Every
volume is a whole number of graduations of a measuring device and every stage
factor is a ratio of two such volumes; the weighed amount is then computed
*back* from the target::

    stock concentration  C0 = c × f_1 × f_2 × … × f_n
    HCl to weigh         W  = C0 × S0            (S0: the stock vessel)
    powder to weigh      W × p                   (p: salt, hydrate, potency)

so the final concentration is the target by construction, with no drift from
rounding a volume. Intermediate stage factors come from a short list of whole
numbers (``stage_factors``: 1 + 99 mL → 100 mL is 1:100); the last stage takes
an aliquot ``a`` into ``V`` (factor ``V / a``).

Choice of stages, for each row:

1. Direct (no dilution) when ``c × V × p ≥ MWQ``.
2. Total factor needed so the stock weighing reaches MWQ:
   ``R = (MWQ / p) / (c × S0)``.
3. The last stage dilutes at most ``V / a_min`` with ``a_min`` the smallest
   measurable aliquot ≥ ``max(min volume, V / max factor)``. If that is not
   enough, ``m = ⌈log(R × a_min / V) / log(max stage factor)⌉`` intermediate
   stages are added, each the smallest listed factor ≥ the geometric share of
   what remains (so the product stays close to ``R``: little waste).
4. The last aliquot is the largest measurable volume ≤ ``V × P / R`` (``P`` the
   product of intermediate factors) and ≤ the room left in ``V`` and in the
   vessel it is taken from; then ``W ≥ MWQ`` holds.

References
----------
UNC Pharmaceutics lab, "Liquid aliquot method",
https://pharmlabs.unc.edu/labs/triturations/aliquot.htm (weigh at least the
MWQ, the least weighable quantity to minimise waste; aliquot and total volume
easily and accurately measured); UNC "Guidelines for selecting liquid
measurement devices", https://pharmlabs.unc.edu/labs/measurements/selection.htm.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_EPS = 1e-9  # relative slack when a float should equal a whole number of graduations


@dataclass(frozen=True, slots=True)
class Devices:
    """Measuring devices as parallel tuples (from ``measuring_devices.csv``)."""

    capacity_ml: tuple[float, ...]
    graduation_ml: tuple[float, ...]
    min_volume_ml: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class DilutionRules:
    """The stage limits (``rules.toml`` [dilution]) and the measuring devices."""

    vessel_ml: float
    max_factor: float
    stage_factors: tuple[float, ...]
    min_volume_ml: float
    max_stages: int
    devices: Devices


@dataclass(frozen=True, slots=True)
class DilutionInputs:
    """One row per preparation; every field is an array of the same length.

    Attributes
    ----------
    target_mg_per_ml : final concentration of naltrexone HCl [mg/mL]
    volume_ml : final volume [mL]
    powder_per_hcl : powder weighed per mg of naltrexone HCl it delivers [mg/mg]
    mwq_mg : minimum weighable quantity [mg]
    max_final_fraction : largest fraction of ``volume_ml`` the last aliquot may
        take (room for the vehicle's other components) [fraction]
    solubility_mg_per_ml : the limit for the stock concentration [mg/mL]
    """

    target_mg_per_ml: FloatArray
    volume_ml: FloatArray
    powder_per_hcl: FloatArray
    mwq_mg: FloatArray
    max_final_fraction: FloatArray
    solubility_mg_per_ml: FloatArray


@dataclass(frozen=True, slots=True)
class DilutionResult:
    """Per row: the weighing, the stock, and the stages (NaN past the last).

    ``stage_count`` counts dilution stages after the stock, the last one made
    up to the final volume; 0 means weigh the drug directly into the final
    volume. Stage ``j`` takes ``take_ml[:, j]`` of the previous solution and
    makes it up to ``make_up_to_ml[:, j]``, giving ``mg_per_ml[:, j]``.
    """

    direct: BoolArray
    stage_count: npt.NDArray[np.int64]
    weigh_mg: FloatArray
    stock_hcl_mg: FloatArray
    stock_volume_ml: FloatArray
    stock_mg_per_ml: FloatArray
    overall_factor: FloatArray
    factor: FloatArray
    take_ml: FloatArray
    make_up_to_ml: FloatArray
    mg_per_ml: FloatArray
    masks: dict[str, BoolArray] = field(default_factory=dict)
    """``DILUTION_TOO_MANY_STAGES``, ``DILUTION_VOLUME_TOO_SMALL``,
    ``STOCK_ABOVE_SOLUBILITY``: true where the row cannot be made as planned."""


def _on_grid(volume: FloatArray, graduation: float, round_up: bool) -> FloatArray:
    """``volume`` rounded to a whole number of graduations (up or down).

    A step that is 1/k for a whole k (0.01, 0.1, 0.2, 0.5) is applied as a
    division by k, so 12 steps of 0.1 mL are exactly 1.2, not 1.2000000000000002.
    """
    steps = volume / graduation
    k = np.ceil(steps - _EPS) if round_up else np.floor(steps + _EPS)
    inverse = 1.0 / graduation
    if abs(inverse - round(inverse)) < 1e-9:
        return np.asarray(k / round(inverse), dtype=np.float64)
    return np.asarray(k * graduation, dtype=np.float64)


def smallest_measurable(at_least_ml: npt.ArrayLike, devices: Devices) -> FloatArray:
    """Smallest volume ≥ ``at_least_ml`` that some device measures [mL]; NaN if none."""
    x = np.asarray(at_least_ml, dtype=np.float64)
    best = np.full(x.shape, np.inf)
    for cap, grad, low in zip(devices.capacity_ml, devices.graduation_ml, devices.min_volume_ml,
                              strict=True):
        a = _on_grid(np.maximum(x, low), grad, round_up=True)
        best = np.where(a <= cap * (1 + _EPS), np.minimum(best, a), best)
    return np.where(np.isfinite(best), best, np.nan)


def largest_measurable(at_most_ml: npt.ArrayLike, devices: Devices) -> FloatArray:
    """Largest volume ≤ ``at_most_ml`` that some device measures [mL]; NaN if none."""
    x = np.asarray(at_most_ml, dtype=np.float64)
    best = np.full(x.shape, -np.inf)
    for cap, grad, low in zip(devices.capacity_ml, devices.graduation_ml, devices.min_volume_ml,
                              strict=True):
        a = _on_grid(np.minimum(x, cap), grad, round_up=False)
        best = np.where(a >= low * (1 - _EPS), np.maximum(best, a), best)
    return np.where(np.isfinite(best), best, np.nan)


@functools.lru_cache(maxsize=16)
def usable_stage_factors(rules: DilutionRules) -> tuple[float, ...]:
    """The listed stage factors whose aliquot of the vessel is measurable, ascending.

    A factor ``f`` takes ``vessel / f`` mL: it must be at least the minimum
    measured volume and a whole number of graduations of some device. Remembered per
    ``rules`` (frozen, hashable): it was 60 % of one liquid plan's arithmetic.
    """
    usable = []
    for f in sorted(rules.stage_factors):
        if not 1 < f <= rules.max_factor:
            continue
        aliquot = rules.vessel_ml / f
        measurable = smallest_measurable(np.array([aliquot]), rules.devices)[0]
        if aliquot >= rules.min_volume_ml and np.isfinite(measurable) and \
                abs(measurable - aliquot) <= _EPS * aliquot:
            usable.append(float(f))
    return tuple(usable)


def serial_dilution(inputs: DilutionInputs, rules: DilutionRules) -> DilutionResult:
    """Plan the weighing and the dilution stages for each row.

    Parameters
    ----------
    inputs : DilutionInputs
        Arrays of equal length (see the class).
    rules : DilutionRules
        Vessel [mL], largest factor per stage, listed factors, minimum measured
        volume [mL], most stages, and the measuring devices.

    Returns
    -------
    DilutionResult
        Amounts in mg, volumes in mL, concentrations in mg/mL of naltrexone HCl.

    Notes
    -----
    See the module docstring for the rule. Rows whose inputs are not positive
    give NaN (the plan refuses them before this matters).
    """
    c = np.asarray(inputs.target_mg_per_ml, dtype=np.float64)
    v = np.asarray(inputs.volume_ml, dtype=np.float64)
    p = np.asarray(inputs.powder_per_hcl, dtype=np.float64)
    q = np.asarray(inputs.mwq_mg, dtype=np.float64)
    n = c.shape[0]
    k_max = max(int(rules.max_stages), 1)
    s0 = float(rules.vessel_ml)
    factors = usable_stage_factors(rules)
    f_list = np.asarray(factors if factors else (1.0,), dtype=np.float64)
    f_top = float(f_list[-1])

    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        valid = (c > 0) & (v > 0) & (p > 0) & (q > 0) & np.isfinite(c * v * p * q)
        direct = valid & (c * v * p >= q * (1 - 1e-12))
        hcl_min = q / p
        r_total = hcl_min / (c * s0)
        room = np.minimum(v * np.asarray(inputs.max_final_fraction, dtype=np.float64), s0)
        a_min = smallest_measurable(np.maximum(rules.min_volume_ml, v / rules.max_factor),
                                    rules.devices)
        too_small = valid & ~direct & ~(a_min <= room * (1 + _EPS))
        last_max = v / a_min
        remaining = r_total / last_max
        needs_more = remaining > 1 + 1e-12
        if f_top > 1:
            m = np.where(needs_more, np.ceil(np.log(remaining) / np.log(f_top) - 1e-12), 0.0)
        else:
            m = np.where(needs_more, np.inf, 0.0)
        m = np.where(np.isfinite(m), m, k_max + 1.0)
        too_many = valid & ~direct & ~too_small & (m + 1 > k_max)
        ok = valid & ~direct & ~too_small & ~too_many

        # Intermediate factors: each the smallest listed factor >= its geometric share.
        inter = np.full((n, k_max), np.nan)
        product = np.ones(n)
        left = np.where(ok, remaining, 1.0)
        for j in range(k_max - 1):
            active = ok & (j < m)
            share = left ** (1.0 / np.maximum(m - j, 1.0))
            idx = np.clip(np.searchsorted(f_list, share * (1 - 1e-12), side="left"), 0,
                          len(f_list) - 1)
            f_j = f_list[idx]
            inter[:, j] = np.where(active, f_j, np.nan)
            left = np.where(active, left / f_j, left)
            product = np.where(active, product * f_j, product)

        a_last = largest_measurable(np.minimum(v * product / r_total, room), rules.devices)
        a_last = np.where(ok, a_last, np.nan)
        f_last = v / a_last
        overall = np.where(ok, f_last * product, np.where(direct, 1.0, np.nan))

        stock_mg_per_ml = np.where(direct, c, c * overall)
        stock_volume = np.where(direct, v, np.where(ok, s0, np.nan))
        stock_hcl = stock_mg_per_ml * stock_volume
        weigh = stock_hcl * p

    stage_count = np.where(ok, m + 1, 0).astype(np.int64)
    cols = np.arange(k_max)[None, :]
    last_col = (stage_count - 1)[:, None]
    is_inter = cols < last_col
    is_last = (cols == last_col) & ok[:, None]
    factor = np.where(is_inter, inter, np.where(is_last, f_last[:, None], np.nan))
    take = np.where(is_inter, s0 / inter, np.where(is_last, a_last[:, None], np.nan))
    make_up = np.where(is_inter, s0, np.where(is_last, v[:, None], np.nan))
    # Concentration after each stage, computed back from the target: exact at the last stage.
    later = np.where(is_inter, inter, 1.0)
    after = np.cumprod(later[:, ::-1], axis=1)[:, ::-1]  # product of factors from j onwards
    after_next = np.concatenate([after[:, 1:], np.ones((n, 1))], axis=1)
    mg_per_ml = np.where(is_inter, c[:, None] * f_last[:, None] * after_next,
                         np.where(is_last, c[:, None], np.nan))

    solubility = np.asarray(inputs.solubility_mg_per_ml, dtype=np.float64)
    masks = {
        "DILUTION_TOO_MANY_STAGES": too_many,
        "DILUTION_VOLUME_TOO_SMALL": too_small,
        "STOCK_ABOVE_SOLUBILITY": (ok | direct) & (stock_mg_per_ml > solubility),
    }
    return DilutionResult(
        direct=direct, stage_count=stage_count, weigh_mg=weigh, stock_hcl_mg=stock_hcl,
        stock_volume_ml=stock_volume, stock_mg_per_ml=stock_mg_per_ml, overall_factor=overall,
        factor=factor, take_ml=take, make_up_to_ml=make_up, mg_per_ml=mg_per_ml, masks=masks,
    )
