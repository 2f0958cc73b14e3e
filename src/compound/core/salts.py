"""Salt basis, hydrate and potency corrections for naltrexone.

All functions take and return ``numeric`` (a float or a numpy array: a float for floats); masses
are in mg, fractions in 0–1. Molecular weights are passed in (they live in
``data/molecules.csv``), so the arithmetic is pure and testable against the
published values.

Notes
-----
LDN strengths are expressed as mg naltrexone **hydrochloride** (the 50 mg
tablet is 50 mg naltrexone HCl), unless the prescription says base.

The USP assay of Naltrexone Hydrochloride is "calculated on the anhydrous,
solvent-free basis", so the as-is potency of a powder, as mass of anhydrous
HCl per mass weighed, is::

    potency = assay × (1 − water)

For the dihydrate the water content includes the water of hydration (8.71 %
theoretical), so the same formula holds. For naltrexone base the assay is of
base, and the base mass is converted with the molar ratio MW(base)/MW(HCl).

References
----------
USP 28 monograph Naltrexone Hydrochloride (assay 98.0–102.0 %, anhydrous
basis); domain.md §1.1–1.2.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from compound.core import elementwise as ew

Numeric = float | npt.NDArray[np.float64]


def to_hcl_mg(amount_mg: npt.ArrayLike, basis_is_base: npt.ArrayLike, mw_hcl: float,
              mw_base: float) -> Any:
    """Naltrexone HCl [mg] for an amount written as HCl or as base.

    Parameters
    ----------
    amount_mg : numeric
        The amount as written on the prescription [mg].
    basis_is_base : bool or array of bool
        True where the amount is naltrexone base.
    mw_hcl, mw_base : float
        Molecular weights [g/mol].

    Notes
    -----
    ``hcl = amount × MW(HCl) / MW(base)`` for a base amount, else unchanged.
    4.5 mg base ≡ 4.5 × 377.86 / 341.40 = 4.980 mg HCl.
    """
    amount = ew.as_float(amount_mg)
    return ew.where(ew.as_bool(basis_is_base), amount * (mw_hcl / mw_base), amount)


def as_is_potency(assay: npt.ArrayLike, water: npt.ArrayLike) -> Any:
    """Fraction of the weighed powder that is drug on the assay's basis.

    Parameters
    ----------
    assay : numeric
        Assay on the anhydrous basis [fraction, e.g. 0.992].
    water : numeric
        Water content as is (Karl Fischer) [fraction, e.g. 0.0871].

    Notes
    -----
    ``potency = assay × (1 − water)``.
    """
    return ew.as_float(assay) * (1.0 - ew.as_float(water))


def api_to_weigh_mg(hcl_mg: npt.ArrayLike, form_is_base: npt.ArrayLike, assay: npt.ArrayLike,
                    water: npt.ArrayLike, mw_hcl: float, mw_base: float) -> Any:
    """API powder to weigh [mg] to deliver ``hcl_mg`` of naltrexone HCl.

    Notes
    -----
    ``weigh = hcl × m / (assay × (1 − water))`` with ``m = MW(base)/MW(HCl)``
    for base powder, else 1. With assay 100 % and the theoretical dihydrate
    water 8.705 %, 4.5 mg HCl needs 4.5 / 0.91295 = 4.929 mg dihydrate, which is
    4.5 × 413.89 / 377.86 (the molar ratio), as it must be.
    """
    molar = ew.where(ew.as_bool(form_is_base), mw_base / mw_hcl, 1.0)
    return ew.divide(ew.as_float(hcl_mg) * molar, as_is_potency(assay, water))


def hydrate_mismatch_error(water: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Relative dose error if a hydrated powder is weighed as if it were anhydrous.

    Notes
    -----
    Weighing ``m`` mg of a powder containing water fraction ``w`` as if it were
    dry delivers ``m × (1 − w)``: the error is ``−w`` (e.g. −8.705 % for the
    dihydrate). Returned as a fraction (negative = under-dose).
    """
    return -np.asarray(water, dtype=np.float64)
