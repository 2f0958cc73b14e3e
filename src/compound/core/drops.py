"""Sublingual drops: dropper calibration and whole drops per dose, vectorised.

Drop volume depends on the dropper, the liquid and the technique, so a drop is
never converted to mL without a calibration: drops counted into a measured
volume (``46 drops / 2 mL = 23 drops/mL``). Without one, the USP medicine
dropper (20 drops/mL; a drop of water weighs 45–55 mg, so 18.18–22.22 drops/mL)
is assumed and the plan says so.

Notes
-----
* Calibration: ``drops per mL = drops counted / mL collected``.
* Target per drop: ``concentration = mg per drop × drops per mL``.
* Fixed concentration: ``drops per dose = dose × drops per mL / concentration``,
  rounded to a whole drop (nearest; at least one); the dose then delivered is
  ``drops × concentration / drops per mL`` and its error
  ``delivered / dose − 1``. When that error is outside the tolerance, the
  concentration that makes the same whole number of drops exact is
  ``dose × drops per mL / drops``.
* Uncalibrated: a water drop of ``m`` mg is ``1000 / m`` drops/mL, so 45–55 mg
  gives ``d_low = 18.18`` to ``d_high = 22.22`` drops/mL, and the same drops
  deliver ``drops × concentration / d_high`` to ``drops × concentration / d_low``.
* Drops in the container: ``volume × drops per mL``; days supplied at one dose
  a day: ``⌊drops in the container ÷ drops per dose⌋``.

References
----------
USP 32 <1101> Medicine Dropper (water drops 45–55 mg, about 20 drops/mL;
calibrate with the preparation; error ≤ 15 %),
https://www.drugfuture.com/Pharmacopoeia/USP32/pub/data/v32270/usp32nf27s0_c1101.html ;
calibration arithmetic (35 drops in 2 mL = 17.5 drops/mL),
https://uhphar-4330.herokuapp.com/module/calculation_of_doses/topics/general_dose_2 ;
Dickson LDN drops, 0.5 mg per drop, https://ldnresearchtrust.org/content/new-formulation-ldn-sublingual-drops
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from compound.core.rounding import round_count

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def _f(x: npt.ArrayLike) -> FloatArray:
    return np.asarray(x, dtype=np.float64)


def drops_per_ml(drops_counted: npt.ArrayLike, volume_ml: npt.ArrayLike) -> FloatArray:
    """Dropper calibration [drops/mL] = drops counted / volume collected [mL]."""
    return _f(drops_counted) / _f(volume_ml)


@dataclass(frozen=True, slots=True)
class DropsInputs:
    """One row per preparation; NaN where a field does not apply.

    Attributes
    ----------
    mg_per_drop : target naltrexone per drop [mg/drop] (NaN: concentration given)
    concentration_mg_per_ml : fixed concentration [mg/mL] (NaN: per drop given)
    drops_per_ml : dropper calibration [drops/mL]
    dose_mg : dose [mg] (NaN: none, or given as drops)
    dose_drops : dose as a whole number of drops (NaN: given in mg or none)
    tolerance : largest acceptable dose error of whole drops [fraction]
    calibrated : False where the USP dropper is assumed
    uncalibrated_low : fewest drops per mL of the USP dropper [drops/mL] (largest drop)
    uncalibrated_high : most drops per mL of the USP dropper [drops/mL] (smallest drop)
    volume_ml : volume in the container [mL]
    max_drops : most drops one dose may take
    """

    mg_per_drop: FloatArray
    concentration_mg_per_ml: FloatArray
    drops_per_ml: FloatArray
    dose_mg: FloatArray
    dose_drops: FloatArray
    tolerance: FloatArray
    calibrated: BoolArray
    uncalibrated_low: FloatArray
    uncalibrated_high: FloatArray
    volume_ml: FloatArray
    max_drops: FloatArray


@dataclass(frozen=True, slots=True)
class DropsResult:
    """Per row. Masks: ``DROPS_DOSE_NOT_WHOLE``, ``DOSE_BELOW_ONE_DROP``,
    ``DROPPER_UNCALIBRATED``, ``TOO_MANY_DROPS`` (more than ``max_drops``),
    ``LESS_THAN_ONE_DOSE`` (more drops than the container holds)."""

    concentration_mg_per_ml: FloatArray
    mg_per_drop: FloatArray
    dose_mg: FloatArray
    drops_exact: FloatArray
    drops_per_dose: FloatArray
    dose_delivered_mg: FloatArray
    dose_error: FloatArray
    suggested_concentration_mg_per_ml: FloatArray
    delivered_low_mg: FloatArray
    delivered_high_mg: FloatArray
    drops_in_container: FloatArray
    days_supply: FloatArray
    masks: dict[str, BoolArray] = field(default_factory=dict)


def drops_dose(inputs: DropsInputs) -> DropsResult:
    """Concentration, whole drops per dose and the dose they deliver.

    Parameters
    ----------
    inputs : DropsInputs

    Returns
    -------
    DropsResult
        mg, mg/mL, drops; ``dose_error`` as a fraction (−0.0338 = 3.38 % low).

    Notes
    -----
    10 mg/mL, 23 drops/mL, 4.5 mg: 4.5 × 23 / 10 = 10.35 drops → 10 drops →
    10 × 10 / 23 = 4.348 mg (−3.38 %). See the module docstring.
    """
    d = _f(inputs.drops_per_ml)
    per_drop_given = _f(inputs.mg_per_drop)
    by_drop = np.isfinite(per_drop_given)
    with np.errstate(divide="ignore", invalid="ignore"):
        conc = np.where(by_drop, per_drop_given * d, _f(inputs.concentration_mg_per_ml))
        per_drop = np.where(by_drop, per_drop_given, conc / d)
        given_drops = _f(inputs.dose_drops)
        as_drops = np.isfinite(given_drops)
        dose = np.where(as_drops, given_drops * per_drop, _f(inputs.dose_mg))
        exact = np.where(as_drops, given_drops, dose / per_drop)
        drops = np.where(np.isfinite(exact), np.maximum(1.0, round_count(exact)), np.nan)
        delivered = drops * per_drop
        error = delivered / dose - 1.0
        suggested = dose * d / drops
        low = drops * conc / _f(inputs.uncalibrated_high)
        high = drops * conc / _f(inputs.uncalibrated_low)
        in_container = _f(inputs.volume_ml) * d
        supply = np.floor(in_container / drops + 1e-9)
    has_dose = np.isfinite(exact)
    masks = {
        "DROPS_DOSE_NOT_WHOLE": has_dose & (np.abs(error) > _f(inputs.tolerance) + 1e-12),
        "DOSE_BELOW_ONE_DROP": has_dose & (exact < 0.5),
        "DROPPER_UNCALIBRATED": ~np.asarray(inputs.calibrated, dtype=bool),
        "TOO_MANY_DROPS": has_dose & (drops > _f(inputs.max_drops)),
        "LESS_THAN_ONE_DOSE": has_dose & (drops > in_container + 1e-9),
    }
    return DropsResult(
        concentration_mg_per_ml=conc, mg_per_drop=per_drop, dose_mg=dose, drops_exact=exact,
        drops_per_dose=drops, dose_delivered_mg=delivered, dose_error=error,
        suggested_concentration_mg_per_ml=suggested, delivered_low_mg=low,
        delivered_high_mg=high, drops_in_container=in_container, days_supply=supply,
        masks=masks,
    )
