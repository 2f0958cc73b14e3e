"""Weighing limits and trituration (solid aliquot) on scalars or arrays.

Masses in mg. A balance is described by its sensitivity requirement (SR) and
the largest acceptable fractional error; no amount below the minimum weighable
quantity (MWQ) may be weighed directly.

Notes
-----
``MWQ = SR / error``: a Class III balance (SR 6 mg) at 5 % error gives 120 mg.

Trituration (aliquot) method: to incorporate ``m`` mg of a substance when
``m < MWQ``, weigh ``q`` = MWQ of it, dilute it with diluent to a triturate of
``f × q`` mg (dilution factor ``f``, a whole number), mix by geometric
dilution, and weigh an aliquot of ``f × m`` mg, which contains ``m``. Every
weighing must be at least MWQ::

    drug q ≥ MWQ                     (by choice)
    aliquot f·m ≥ MWQ       ⇔  f ≥ MWQ / m
    diluent (f − 1)·q ≥ MWQ ⇔  f ≥ 2

so ``f = max(2, ⌈MWQ / m⌉)``. When ``f`` exceeds the largest factor per stage,
the substance is triturated in stages, each with the same factor ``g =
⌈f^(1/k)⌉`` for the fewest stages ``k`` that keep ``g`` within the limit.

References
----------
USP <1176> Prescription Balances and Volumetric Apparatus; UNC Pharmaceutics
labs, "Minimum weighable quantity" and "Trituration (aliquot) method",
https://pharmlabs.unc.edu/labs/measurements/weigh.htm,
https://pharmlabs.unc.edu/labs/triturations/method.htm; Pharmacy Times 2008-09
(Erickson), serial aliquot worked example (prior-art T16).
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

import numpy as np
import numpy.typing as npt

from compound.core import elementwise as ew
from compound.core.rounding import ceil_count


def minimum_weighable_quantity(sensitivity_mg: npt.ArrayLike,
                               max_error: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """MWQ [mg] = sensitivity requirement [mg] / acceptable error [fraction]."""
    return np.asarray(sensitivity_mg, dtype=np.float64) / np.asarray(max_error, dtype=np.float64)


def weighing_error(amount_mg: npt.ArrayLike, sensitivity_mg: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Fractional error of weighing ``amount_mg`` on a balance of this sensitivity."""
    return np.asarray(sensitivity_mg, dtype=np.float64) / np.asarray(amount_mg, dtype=np.float64)


def trituration_stages(required_mg: npt.ArrayLike, mwq_mg: npt.ArrayLike, max_factor: float) -> Any:
    """Number of trituration stages needed (0 where the amount is weighable).

    Takes and returns floats or arrays (:mod:`compound.core.elementwise`).

    Notes
    -----
    ``k = 0`` if ``m ≥ MWQ``; else the smallest ``k`` with
    ``⌈f^(1/k)⌉ ≤ max_factor`` where ``f = max(2, ⌈MWQ/m⌉)``.
    """
    m, q = ew.as_float(required_mg), ew.as_float(mwq_mg)
    return _stages(m, q, _overall_factor_needed(m, q), max_factor)


def _overall_factor_needed(m: Any, q: Any) -> Any:
    """``f = max(2, ⌈MWQ / m⌉)`` [1]."""
    return ew.maximum(2.0, ceil_count(q / m))


def _stages(m: Any, q: Any, f: Any, max_factor: float) -> Any:
    """:func:`trituration_stages` of the amounts ``m`` [mg] whose factor ``f`` is worked out."""
    k = ew.ceil(ew.log(f) / ew.log(float(max_factor)) - 1e-12)
    k = ew.maximum(k, 1.0)
    return ew.where(m >= q, 0.0, k)


def trituration(required_mg: npt.ArrayLike, mwq_mg: npt.ArrayLike, max_factor: float) -> dict[str, Any]:
    """Plan a (possibly staged) trituration for each required amount.

    Parameters
    ----------
    required_mg : numeric
        Substance to incorporate [mg] (drug, or crushed tablet powder).
    mwq_mg : numeric
        Minimum weighable quantity [mg].
    max_factor : float
        Largest dilution factor in one stage.

    Returns
    -------
    dict of floats or arrays (floats for float inputs)
        ``stages`` (0 = weigh directly), ``factor_per_stage`` (g),
        ``overall_factor`` (g**k), ``drug_mg`` (q, the first weighing),
        ``diluent_per_stage_mg`` ((g − 1)·q), ``triturate_per_stage_mg`` (g·q),
        ``carry_mg`` (q: what each later stage takes from the one before),
        ``aliquot_mg`` (m·g**k: weighed from the last triturate, contains m).
        NaN where no trituration is needed.
    """
    m = ew.as_float(required_mg)
    q = ew.as_float(mwq_mg)
    if not ew.is_scalar(m):
        q = np.broadcast_to(q, m.shape)
        if m.ndim == 1 and m.size >= ew.LONG_COLUMN:
            rest = np.flatnonzero(~(m >= q))
            if rest.size < m.size:
                # Only the rest (below the MWQ, or NaN) need the formulas, element by element: a
                # column's few triturations are planned on their own, then put back in place.
                return _put_back(_trituration(m[rest], q[rest], max_factor), rest, m.shape)
    return _trituration(m, q, max_factor)


def _put_back(some: dict[str, Any], at: npt.NDArray[np.intp], shape: tuple[int, ...]) -> dict[str, Any]:
    """:func:`trituration`'s columns of ``shape``, from those of the positions ``at`` (the others
    are weighed directly: no stages, nothing else)."""
    out = {}
    for key, values in some.items():
        column = np.full(shape, 0.0 if key == "stages" else np.nan)
        column[at] = values
        out[key] = column
    return out


def _trituration(m: Any, q: Any, max_factor: float) -> dict[str, Any]:
    f = _overall_factor_needed(m, q)
    k = _stages(m, q, f, max_factor)
    needed = k > 0
    with contextlib.nullcontext() if ew.is_scalar(m) else np.errstate(divide="ignore", invalid="ignore"):
        g = ew.where(needed, ceil_count(ew.power(f, 1.0 / ew.where(needed, k, 1.0))), math.nan)
    g = ew.where(needed, ew.maximum(g, 2.0), math.nan)
    overall = ew.power(g, ew.where(needed, k, math.nan))
    nan = math.nan if ew.is_scalar(m) else np.full(m.shape, np.nan)
    return {
        "stages": k,
        "factor_per_stage": g,
        "overall_factor": overall,
        "drug_mg": ew.where(needed, q, nan),
        "diluent_per_stage_mg": ew.where(needed, (g - 1.0) * q, nan),
        "triturate_per_stage_mg": ew.where(needed, g * q, nan),
        "carry_mg": ew.where(needed, q, nan),
        "aliquot_mg": ew.where(needed, m * overall, nan),
    }
