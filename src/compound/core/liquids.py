"""Oral liquids: drug for a volume, from whole tablets or API, dose volume, device.

All functions take numeric (float or numpy array) and return numpy arrays, in
canonical units: mg (naltrexone HCl unless stated), mL, mg/mL, days. Branches
are masks, so one call plans a single liquid or a column of a million.

Notes
-----
* Drug needed: ``api = concentration × volume``.
* From tablets the drug must come as whole tablets: ``tablets = api / tablet
  strength``. When that is not a whole number, either weigh that fraction of
  the pooled crushed powder (``tablet powder = tablets × average tablet
  weight``; below the MWQ by trituration), or, without a tablet weight, raise
  the volume to what the whole tablets make: ``volume = ⌈tablets⌉ × tablet
  strength / concentration``. Tablet excipients do not dissolve: the liquid is
  a suspension.
* From API: ``powder = api × p`` (salt, hydrate, potency); below the MWQ the
  liquid aliquot method (:mod:`compound.core.dilution`).
* Dose volume ``= dose / concentration``; days supplied ``= ⌊volume / dose
  volume⌋``; volume for a supply ``= dose / concentration × days``.

References
----------
One 50 mg tablet in 50 mL = 1 mg/mL, 4.5 mL = 4.5 mg, about 11 days
(http://nathankennard.com/ldn/dosecalculator.html); tablet excipients are
insoluble (domain.md 1.4); naltrexone HCl about 100 mg/mL in water (US
labels, domain.md 1.3); UNC liquid measurement device selection,
https://pharmlabs.unc.edu/labs/measurements/selection.htm ("select the smallest
device that will accommodate the volume").
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from compound.core.dilution import DilutionInputs, DilutionResult, DilutionRules, serial_dilution
from compound.core.rounding import COUNT_TOLERANCE, ceil_count
from compound.core.weighing import trituration

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def _f(x: npt.ArrayLike) -> FloatArray:
    return np.asarray(x, dtype=np.float64)


def is_whole(x: npt.ArrayLike, tol: float = COUNT_TOLERANCE) -> BoolArray:
    """True where ``x`` is a whole number, after snapping float noise."""
    a = _f(x)
    return np.asarray(np.abs(a - np.round(a)) <= tol * np.maximum(1.0, np.abs(a)))


def floor_count(x: npt.ArrayLike, tol: float = COUNT_TOLERANCE) -> FloatArray:
    """Whole units that ``x`` covers: floor, after snapping near-integers.

    ``63 / 4.5`` is ``13.999999999999998`` in float64 but 14 days.
    """
    a = _f(x)
    nearest = np.round(a)
    snapped = np.where(np.abs(a - nearest) <= tol * np.maximum(1.0, np.abs(a)), nearest, a)
    return np.floor(snapped)


def volume_for_supply(dose_mg: npt.ArrayLike, concentration_mg_per_ml: npt.ArrayLike,
                      days: npt.ArrayLike) -> FloatArray:
    """Volume [mL] for ``days`` of one ``dose_mg`` a day: ``dose / concentration × days``.

    4.5 mg a day for 14 days at 1 mg/mL is 63 mL.
    """
    return _f(dose_mg) / _f(concentration_mg_per_ml) * _f(days)


def dose_volume_ml(dose_mg: npt.ArrayLike, concentration_mg_per_ml: npt.ArrayLike) -> FloatArray:
    """Volume of one dose [mL] = dose [mg] / concentration [mg/mL]."""
    return _f(dose_mg) / _f(concentration_mg_per_ml)


def days_supply(volume_ml: npt.ArrayLike, dose_volume: npt.ArrayLike) -> FloatArray:
    """Whole days [day] a volume lasts at one dose a day: ``⌊volume / dose volume⌋``."""
    return floor_count(_f(volume_ml) / _f(dose_volume))


def scale_components(amount_per_batch: npt.ArrayLike, batch_volume_ml: npt.ArrayLike,
                     volume_ml: npt.ArrayLike) -> FloatArray:
    """A vehicle component scaled to the volume made: ``amount × volume / batch volume``."""
    return _f(amount_per_batch) * _f(volume_ml) / _f(batch_volume_ml)


@dataclass(frozen=True, slots=True)
class DeviceChoice:
    """The measuring device for each volume.

    ``index`` points into the device tuples (−1: none holds the volume);
    ``nearest_ml`` is the closest whole number of its graduations.
    """

    index: npt.NDArray[np.int64]
    on_graduation: BoolArray
    nearest_ml: FloatArray
    below_minimum: BoolArray
    above_largest: BoolArray


def choose_device(volume_ml: npt.ArrayLike, capacity_ml: tuple[float, ...],
                  graduation_ml: tuple[float, ...],
                  min_volume_ml: tuple[float, ...]) -> DeviceChoice:
    """The smallest device that holds the volume, preferring one it measures exactly.

    Parameters
    ----------
    volume_ml : numeric
        Volume to measure [mL].
    capacity_ml, graduation_ml, min_volume_ml : tuple of float
        The devices, in any order [mL].

    Notes
    -----
    Among devices with capacity ≥ volume, the smallest whose graduation divides
    the volume (within float noise); else the smallest that holds it. A volume
    below that device's minimum is flagged, as is one larger than every device.
    """
    v = _f(volume_ml)
    order = np.argsort(np.asarray(capacity_ml), kind="stable")
    cap = np.asarray(capacity_ml, dtype=np.float64)[order]
    grad = np.asarray(graduation_ml, dtype=np.float64)[order]
    low = np.asarray(min_volume_ml, dtype=np.float64)[order]
    holds = cap[None, :] >= v[..., None] * (1 - 1e-12)
    steps = v[..., None] / grad[None, :]
    exact = holds & (np.abs(steps - np.round(steps)) <= 1e-9 * np.maximum(1.0, steps))
    has_exact = exact.any(axis=-1)
    has_any = holds.any(axis=-1)
    pick = np.where(has_exact, np.argmax(exact, axis=-1), np.argmax(holds, axis=-1))
    index = np.where(has_any, order[pick], -1).astype(np.int64)
    g = np.where(has_any, grad[pick], np.nan)
    nearest = np.round(v / g) * g
    return DeviceChoice(
        index=index,
        on_graduation=np.asarray(has_exact),
        nearest_ml=np.where(has_any, nearest, np.nan),
        below_minimum=np.asarray(has_any & (v < np.where(has_any, low[pick], 0.0) * (1 - 1e-12))),
        above_largest=np.asarray(~has_any & (v > 0)),
    )


@dataclass(frozen=True, slots=True)
class LiquidInputs:
    """One row per liquid; every field an array of the same length.

    Attributes
    ----------
    concentration_mg_per_ml : naltrexone HCl [mg/mL]
    volume_ml : volume to make [mL]
    from_tablets : True for crushed tablets, False for API powder
    tablet_strength_mg : naltrexone HCl per tablet [mg] (NaN for API)
    tablet_weight_mg : measured average tablet weight [mg] (NaN if not given)
    powder_per_hcl : API powder weighed per mg naltrexone HCl [mg/mg]
    mwq_mg : minimum weighable quantity [mg]
    solubility_mg_per_ml : the drug's solubility in the vehicle [mg/mL]
    max_final_fraction : largest fraction of the volume an aliquot may take [fraction]
    """

    concentration_mg_per_ml: FloatArray
    volume_ml: FloatArray
    from_tablets: BoolArray
    tablet_strength_mg: FloatArray
    tablet_weight_mg: FloatArray
    powder_per_hcl: FloatArray
    mwq_mg: FloatArray
    solubility_mg_per_ml: FloatArray
    max_final_fraction: FloatArray


@dataclass(frozen=True, slots=True)
class LiquidResult:
    """The drug side of a liquid, per row (NaN where a route does not apply).

    Masks (by finding code): ``CONCENTRATION_ABOVE_SOLUBILITY``,
    ``SUSPENSION`` (from tablets), ``VOLUME_ADJUSTED_TO_WHOLE_TABLETS``,
    ``TABLET_POWDER_WEIGHED``, ``TRITURATION_PLANNED``,
    ``LIQUID_ALIQUOT_REQUIRED`` and the aliquot's ``DILUTION_*`` masks.
    """

    concentration_mg_per_ml: FloatArray
    requested_volume_ml: FloatArray
    volume_ml: FloatArray
    api_mg: FloatArray
    tablets_exact: FloatArray
    tablets_to_crush: FloatArray
    tablet_powder_mg: FloatArray
    trituration: dict[str, FloatArray]
    api_to_weigh_mg: FloatArray
    aliquot: DilutionResult
    masks: dict[str, BoolArray] = field(default_factory=dict)


def prepare_liquid(inputs: LiquidInputs, dilution_rules: DilutionRules,
                   max_trituration_factor: float) -> LiquidResult:
    """Drug, tablets or powder, and any aliquot for each liquid.

    Parameters
    ----------
    inputs : LiquidInputs
    dilution_rules : DilutionRules
        Limits for the liquid aliquot (API below the MWQ).
    max_trituration_factor : float
        Largest dilution factor per trituration stage (tablet powder below the MWQ).

    Returns
    -------
    LiquidResult

    Notes
    -----
    See the module docstring. The volume is raised to whole tablets only when
    no tablet weight is given; with one, the fraction is weighed instead.
    """
    c = _f(inputs.concentration_mg_per_ml)
    requested = _f(inputs.volume_ml)
    tabs = np.asarray(inputs.from_tablets, dtype=bool)
    strength = _f(inputs.tablet_strength_mg)
    weight = _f(inputs.tablet_weight_mg)
    mwq = _f(inputs.mwq_mg)

    with np.errstate(divide="ignore", invalid="ignore"):
        tablets_exact = np.where(tabs, c * requested / strength, np.nan)
        whole = is_whole(tablets_exact)
        has_weight = np.isfinite(weight) & (weight > 0)
        adjust = tabs & ~whole & ~has_weight & np.isfinite(tablets_exact)
        weigh_fraction = tabs & ~whole & has_weight
        to_crush = np.where(tabs, ceil_count(tablets_exact), np.nan)
        volume = np.where(adjust, to_crush * strength / c, requested)
        api = c * volume
        tablets_exact = np.where(adjust, to_crush, tablets_exact)
        powder = np.where(weigh_fraction, tablets_exact * weight, np.nan)
        triturate = weigh_fraction & (powder < mwq)
        trit = trituration(np.where(triturate, powder, mwq), mwq, max_trituration_factor)
        trit = {k: np.where(triturate, val, np.nan) for k, val in trit.items()}

        api_powder = np.where(tabs, np.nan, api * _f(inputs.powder_per_hcl))
        aliquot = serial_dilution(
            DilutionInputs(
                target_mg_per_ml=c, volume_ml=volume,
                powder_per_hcl=_f(inputs.powder_per_hcl), mwq_mg=mwq,
                max_final_fraction=_f(inputs.max_final_fraction),
                solubility_mg_per_ml=_f(inputs.solubility_mg_per_ml),
            ),
            dilution_rules,
        )
    needs_aliquot = ~tabs & (api_powder < mwq)
    masks: dict[str, BoolArray] = {
        "CONCENTRATION_ABOVE_SOLUBILITY": np.asarray(c > _f(inputs.solubility_mg_per_ml)),
        "SUSPENSION": tabs,
        "VOLUME_ADJUSTED_TO_WHOLE_TABLETS": adjust,
        "TABLET_POWDER_WEIGHED": weigh_fraction,
        "TRITURATION_PLANNED": triturate,
        "LIQUID_ALIQUOT_REQUIRED": needs_aliquot,
    }
    for code, mask in aliquot.masks.items():
        masks[code] = needs_aliquot & mask
    return LiquidResult(
        concentration_mg_per_ml=c, requested_volume_ml=requested, volume_ml=volume, api_mg=api,
        tablets_exact=tablets_exact, tablets_to_crush=to_crush, tablet_powder_mg=powder,
        trituration=trit, api_to_weigh_mg=api_powder, aliquot=aliquot, masks=masks,
    )
