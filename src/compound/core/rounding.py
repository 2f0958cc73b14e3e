"""Rounding and formatting at the edge: one rule, stated, for every output.

The core computes in float64 and never rounds. Only when a number leaves the
tool (worksheet, JSON, CSV, label) is it rounded, by these rules:

* **Amounts** (masses, volumes, concentrations, percentages): to
  :data:`SIGNIFICANT_FIGURES` significant figures, nearest, ties to even, using
  numpy on the float64 result. The same function runs on a scalar (one plan)
  and on a column (a batch run), so both give identical numbers.
* **Counts of things to prepare** (tablets, capsules, drops to make up a dose):
  whole numbers by :func:`ceil_count`, which first snaps values within
  :data:`COUNT_TOLERANCE` of a whole number to it, so that a computed
  ``3.0000000000000004`` tablets is 3, not 4.
* **Printing**: :func:`format_number` writes the shortest decimal that reads
  back as the rounded value, with a leading zero and no trailing zeros
  (``0.5``, ``4.5``, ``1``; never ``.5``, ``1.0`` or ``0.30000000000000004``)
  and no exponent.

One number at a time (the printers, and :func:`round_sig` of a float) runs in
pure Python in :mod:`compound.core.figures`, re-exported here; columns run in numpy.

References
----------
ISMP List of Error-Prone Abbreviations, Symbols, and Dose Designations (trailing
and leading zeros); The Joint Commission "Do Not Use" list.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import numpy.typing as npt

from compound.core import elementwise as ew
from compound.core import figures
from compound.core.figures import SIGNIFICANT_FIGURES as SIGNIFICANT_FIGURES
from compound.core.figures import format_concentration as format_concentration
from compound.core.figures import format_count as format_count
from compound.core.figures import format_mass as format_mass
from compound.core.figures import format_number as format_number
from compound.core.figures import format_percent as format_percent
from compound.core.figures import format_volume as format_volume
from compound.core.figures import json_number as json_number

COUNT_TOLERANCE: Final = 1e-9

ArrayLike = float | npt.NDArray[np.float64]


# The scalar rule's table (figures.POWERS_OF_TEN), then inf: a subnormal's 10**digits is
# beyond float64, and v × inf / inf is NaN, as figures.round_float says.
_POWERS_OF_TEN = np.array([*figures.POWERS_OF_TEN, np.inf])
_BEYOND = len(figures.POWERS_OF_TEN)


def round_sig(x: npt.ArrayLike, sig: int = SIGNIFICANT_FIGURES) -> npt.NDArray[np.float64]:
    """Round to ``sig`` significant figures (ties to even); NaN and inf pass through.

    Powers of ten (the doubles nearest them, from one table) are applied as
    multiplications or divisions so the result is the float nearest the rounded
    decimal, which prints without noise.
    """
    if isinstance(x, (float, np.floating)):
        return _round_sig_scalar(np.float64(x), sig)
    a = np.asarray(x, dtype=np.float64)
    out = a.copy()
    finite = np.isfinite(a) & (a != 0)
    if not np.any(finite):
        return out
    v = a[finite]
    digits = sig - 1 - np.floor(np.log10(np.abs(v))).astype(np.int64)
    pos = digits >= 0
    res = np.empty_like(v)
    scale_up = _POWERS_OF_TEN[np.minimum(digits[pos], _BEYOND)]
    res[pos] = np.round(v[pos] * scale_up) / scale_up
    scale_down = _POWERS_OF_TEN[np.minimum(-digits[~pos], _BEYOND)]
    res[~pos] = np.round(v[~pos] / scale_down) * scale_down
    out[finite] = res
    return out


def _round_sig_scalar(v: np.float64, sig: int) -> npt.NDArray[np.float64]:
    """:func:`round_sig` of one float: the pure-Python rule (same operations, same bits).

    A plan formats a few dozen scalars; the array path's masking costs ~45 µs a call.
    """
    return np.array(figures.round_float(float(v), sig))


def ceil_count(x: npt.ArrayLike, tol: float = COUNT_TOLERANCE) -> Any:
    """Whole units needed to cover ``x``: ceiling, after snapping near-integers.

    Returned as float64 (a float for a float) so NaN (no value) survives in arrays; callers
    convert to ``int`` at the edge.
    """
    a = ew.as_float(x)
    nearest = ew.rint(a)
    snapped = ew.where(ew.fabs(a - nearest) <= tol * ew.maximum(1.0, ew.fabs(a)), nearest, a)
    return ew.ceil(snapped)


def round_count(x: npt.ArrayLike) -> Any:
    """Nearest whole number, ties away from zero (a count, not an amount)."""
    a = ew.as_float(x)
    return ew.sign(a) * ew.floor(ew.fabs(a) + 0.5)
