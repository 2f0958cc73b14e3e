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

References
----------
ISMP List of Error-Prone Abbreviations, Symbols, and Dose Designations (trailing
and leading zeros); The Joint Commission "Do Not Use" list.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

SIGNIFICANT_FIGURES: Final = 4
COUNT_TOLERANCE: Final = 1e-9

ArrayLike = float | npt.NDArray[np.float64]


def round_sig(x: npt.ArrayLike, sig: int = SIGNIFICANT_FIGURES) -> npt.NDArray[np.float64]:
    """Round to ``sig`` significant figures (ties to even); NaN and inf pass through.

    Powers of ten are applied as exact multiplications or divisions so the
    result is the float nearest the rounded decimal, which prints without noise.
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
    scale_up = 10.0 ** digits[pos]
    res[pos] = np.round(v[pos] * scale_up) / scale_up
    scale_down = 10.0 ** (-digits[~pos])
    res[~pos] = np.round(v[~pos] / scale_down) * scale_down
    out[finite] = res
    return out


# 10**k for the scalar path, made by the array path's own power loop so both agree bit for bit.
_POWERS_OF_TEN = 10.0 ** np.arange(0, 309, dtype=np.int64)


def _round_sig_scalar(v: np.float64, sig: int) -> npt.NDArray[np.float64]:
    """:func:`round_sig` of one float, 10× faster, with the same ufuncs (so the same bits).

    A plan formats a few dozen scalars; the array path's masking costs ~45 µs a call.
    """
    if not np.isfinite(v) or v == 0:
        return np.array(v)
    digits = sig - 1 - int(np.floor(np.log10(np.abs(v))))
    if 0 <= digits < _POWERS_OF_TEN.size:
        scale = _POWERS_OF_TEN[digits]
        return np.array(np.rint(v * scale) / scale)
    if 0 < -digits < _POWERS_OF_TEN.size:
        scale = _POWERS_OF_TEN[-digits]
        return np.array(np.rint(v / scale) * scale)
    return round_sig(np.array([v]), sig).reshape(())  # beyond the table: the array path


def ceil_count(x: npt.ArrayLike, tol: float = COUNT_TOLERANCE) -> npt.NDArray[np.float64]:
    """Whole units needed to cover ``x``: ceiling, after snapping near-integers.

    Returned as float64 so NaN (no value) survives in arrays; callers convert
    to ``int`` at the edge.
    """
    a = np.asarray(x, dtype=np.float64)
    nearest = np.round(a)
    snapped = np.where(np.abs(a - nearest) <= tol * np.maximum(1.0, np.abs(a)), nearest, a)
    return np.ceil(snapped)


def round_count(x: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Nearest whole number, ties away from zero (a count, not an amount)."""
    a = np.asarray(x, dtype=np.float64)
    return np.sign(a) * np.floor(np.abs(a) + 0.5)


def format_number(x: float, sig: int = SIGNIFICANT_FIGURES) -> str:
    """Round by the rule and print with a leading zero and no trailing zeros."""
    value = float(round_sig(x, sig))
    if not np.isfinite(value):
        return "—"
    if value == 0:
        return "0"
    return np.format_float_positional(value, trim="-")


def json_number(x: float, sig: int = SIGNIFICANT_FIGURES) -> int | float | None:
    """Round by the rule for JSON: an int when whole, else a float; None for NaN."""
    value = float(round_sig(x, sig))
    if not np.isfinite(value):
        return None
    if value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def format_mass(mg: float) -> str:
    """A mass for people: mcg below 0.1 mg, g from 10 g, else mg (``4.5 mg``)."""
    value = float(round_sig(mg))
    if value != 0 and abs(value) < 0.1:
        return f"{format_number(value * 1000)} mcg"
    if abs(value) >= 10_000:
        return f"{format_number(value / 1000)} g"
    return f"{format_number(value)} mg"


def format_volume(ml: float) -> str:
    return f"{format_number(ml)} mL"


def format_concentration(mg_per_ml: float) -> str:
    """``1 mg/mL``; below 0.1 mg/mL in mcg/mL (``20 mcg/mL``)."""
    value = float(round_sig(mg_per_ml))
    if value != 0 and abs(value) < 0.1:
        return f"{format_number(value * 1000)} mcg/mL"
    return f"{format_number(value)} mg/mL"


def format_percent(fraction: float) -> str:
    """A fraction (0.05) as a percentage (``5 %``)."""
    return f"{format_number(fraction * 100)} %"


def format_count(n: float, singular: str, plural: str | None = None) -> str:
    whole = int(n)
    word = singular if whole == 1 else (plural or singular + "s")
    return f"{whole} {word}"
