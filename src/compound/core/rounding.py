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
* **Printing**: :func:`format_number` writes the rounded decimal itself (the
  digits the rounding kept), with a leading zero and no trailing zeros
  (``0.5``, ``4.5``, ``1``; never ``.5``, ``1.0`` or ``0.30000000000000004``)
  and no exponent.

One number at a time (the printers, and :func:`round_sig` of a float) runs in
pure Python in :mod:`compound.core.figures`, re-exported here; columns run in numpy:
:func:`round_sig` rounds a column and :func:`number_texts` prints one (a batch's
worksheet), each property-tested equal to the scalar rule for every float.

References
----------
ISMP List of Error-Prone Abbreviations, Symbols, and Dose Designations (trailing
and leading zeros); The Joint Commission "Do Not Use" list.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
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
from compound.core.figures import number_text as number_text

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
    with np.errstate(over="ignore"):  # a value near the float maximum rounds to inf, as the scalar rule says
        res[~pos] = np.round(v[~pos] / scale_down) * scale_down
    out[finite] = res
    return out


def rounded_decimals(x: npt.ArrayLike, sig: int = SIGNIFICANT_FIGURES) -> tuple[
        npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """:func:`compound.core.figures.rounded_decimal` of a column: ``(whole, exponent, ok)``.

    Each value rounded by the rule is ``whole × 10**exponent`` exactly (``whole`` signed, without
    trailing zeros; 0 and 0 for zero); ``ok`` is False for NaN, inf, subnormals and values that
    round to inf (whose
    ``whole`` and ``exponent`` are 0). ``whole`` is what :func:`round_sig` divides by its power
    of ten: the same operations on the same table.
    """
    a = np.asarray(x, dtype=np.float64).reshape(-1)
    whole = np.zeros(a.size, dtype=np.int64)
    exponent = np.zeros(a.size, dtype=np.int64)
    ok = np.isfinite(a)
    at = np.flatnonzero(ok & (a != 0))
    if at.size:
        v = a[at]
        digits = sig - 1 - np.floor(np.log10(np.abs(v))).astype(np.int64)
        pos = digits >= 0
        kept = np.empty_like(v)
        with np.errstate(over="ignore", invalid="ignore"):
            kept[pos] = np.round(v[pos] * _POWERS_OF_TEN[np.minimum(digits[pos], _BEYOND)])
            scale = _POWERS_OF_TEN[np.minimum(-digits[~pos], _BEYOND)]
            kept[~pos] = np.round(v[~pos] / scale)
            over = np.zeros(v.size, dtype=bool)
            over[~pos] = np.isinf(kept[~pos] * scale)  # rounded beyond the largest float
        beyond = ~np.isfinite(kept) | over  # subnormals: v × inf
        ok[at[beyond]] = False
        kept[beyond] = 0
        w = kept.astype(np.int64)
        e = np.where(beyond, 0, -digits)
        if sig <= 6:  # |w| ≤ 10**sig: its trailing zeros looked up
            stripped, zeros = _trailing_zeros(sig)
            magnitude = np.abs(w)
            w = np.where(w < 0, -stripped[magnitude], stripped[magnitude])
            e += zeros[magnitude]
        else:
            w, e = _strip_zeros(w, e)
        whole[at], exponent[at] = w, e
    return whole, exponent, ok


def _strip_zeros(w: npt.NDArray[np.int64], e: npt.NDArray[np.int64]) -> tuple[
        npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """``w`` without its trailing zeros, ``e`` raised by as many."""
    w, e = w.copy(), e.copy()
    while True:
        zero = (w % 10 == 0) & (w != 0)
        if not zero.any():
            return w, e
        w[zero] //= 10
        e[zero] += 1


@functools.cache
def _trailing_zeros(sig: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """For every whole number 0 … 10**sig: itself without its trailing zeros, and their count."""
    table = np.arange(10**sig + 1, dtype=np.int64)
    stripped, zeros = _strip_zeros(table, np.zeros_like(table))
    return stripped, zeros


@dataclass(frozen=True)
class Texts:
    """A column of text laid out as an Arrow ``large_string`` array: the UTF-8 bytes end to end,
    value ``i`` from ``offsets[i]`` to ``offsets[i + 1]``. No Python string per value."""

    offsets: npt.NDArray[np.int64]
    data: npt.NDArray[np.uint8]

    def __len__(self) -> int:
        return int(self.offsets.size) - 1

    def tolist(self) -> list[str]:
        raw = self.data.tobytes()
        bounds = self.offsets.tolist()
        return [raw[a:b].decode("utf-8") for a, b in itertools.pairwise(bounds)]


#: 10**0 … 10**18: the number of digits of a whole number is where it falls among them.
_TENS = 10 ** np.arange(19, dtype=np.int64)
#: Counts at or beyond this are printed one at a time (an int64 holds them below 2**63).
_WHOLE_LIMIT: Final = 2.0**62


def number_texts(x: npt.ArrayLike, *, count: bool = False, sig: int = SIGNIFICANT_FIGURES) -> Texts:
    """:func:`compound.core.figures.number_text` of every value of a column, as one block of text.

    Amounts are rounded by the rule and written from their decimal digits (``139.5``,
    ``0.0000001234``, ``3100``); counts as whole numbers; NaN as an empty cell. Values the
    vectorised path does not write (infinities, counts beyond 2**62) go through the scalar
    rule one by one (subnormals too), so every value's text is ``number_text``'s.
    """
    a = np.asarray(x, dtype=np.float64).reshape(-1)
    if count:
        special = ~np.isnan(a) & ~(np.abs(a) < _WHOLE_LIMIT)
        regular = np.abs(a) < _WHOLE_LIMIT
        whole = np.where(regular, np.trunc(np.where(regular, a, 0)), 0).astype(np.int64)
        exponent = np.zeros(a.size, dtype=np.int64)
    else:
        whole, exponent, regular = rounded_decimals(a, sig)
        special = ~regular & ~np.isnan(a)  # inf, given or rounded to; subnormals (empty)
    negative = whole < 0
    magnitude = np.abs(whole)
    digits = np.maximum(np.searchsorted(_TENS, magnitude, side="right"), 1)
    sign = negative.astype(np.int64)
    integral = exponent >= 0            # 3100: the digits, then zeros
    small = exponent <= -digits         # 0.0045: "0.", zeros, the digits
    inside = ~integral & ~small         # 139.5: the point among the digits
    length = sign + np.where(integral, digits + exponent, np.where(inside, digits + 1, 2 - exponent))
    length[~regular] = 0
    extra = {int(i): number_text(float(a[i]), count=count, sig=sig).encode("utf-8")
             for i in np.flatnonzero(special)}
    for i, text in extra.items():
        length[i] = len(text)
    offsets = np.zeros(a.size + 1, dtype=np.int64)
    np.cumsum(length, out=offsets[1:])
    data = np.full(int(offsets[-1]), ord("0"), dtype=np.uint8)
    rows = np.flatnonzero(regular)
    start = offsets[rows]
    data[start[negative[rows]]] = ord("-")
    body = start + sign[rows]
    n, e = digits[rows], exponent[rows]
    dot_inside, dot_small = inside[rows], small[rows]
    data[(body + n + e)[dot_inside]] = ord(".")
    data[(body + 1)[dot_small]] = ord(".")
    shift = np.where(dot_small, 2 - e - n, 0)
    m = magnitude[rows]
    for k in range(int(n.max()) if rows.size else 0):
        has = n > k
        place = _TENS[np.maximum(n - 1 - k, 0)]
        digit = (m // place) % 10
        at = body + k + shift + (dot_inside & (k >= n + e))
        data[at[has]] = ord("0") + digit[has]
    for i, text in extra.items():
        data[offsets[i]:offsets[i + 1]] = np.frombuffer(text, dtype=np.uint8)
    return Texts(offsets, data)


def _round_sig_scalar(v: np.float64, sig: int) -> npt.NDArray[np.float64]:
    """:func:`round_sig` of one float: the pure-Python rule (same operations, same bits).

    A plan formats a few dozen scalars; the array path's masking costs ~45 µs a call.
    """
    return np.array(figures.round_float(float(v), sig))


def ceil_count(x: npt.ArrayLike, tol: float = COUNT_TOLERANCE) -> Any:
    """Whole units needed to cover ``x``: ceiling, after snapping near-integers.

    Returned as float64 (a float for a float) so NaN (no value) survives in arrays; callers
    convert to ``int`` at the edge.

    Notes
    -----
    ``⌈x⌉``, except ``round(x)`` where ``|x − round(x)| ≤ tol × max(1, |x|)``.
    """
    a = ew.as_float(x)
    if isinstance(a, float) or a.size < ew.LONG_COLUMN:
        nearest = ew.rint(a)
        snapped = ew.where(ew.fabs(a - nearest) <= tol * ew.maximum(1.0, ew.fabs(a)), nearest, a)
        return ew.ceil(snapped)
    return _ceil_count_column(a, tol)


def _ceil_count_column(a: npt.NDArray[np.float64], tol: float) -> npt.NDArray[np.float64]:
    """:func:`ceil_count` of a column: the same operations, fewer passes and temporaries.

    ``⌈snapped⌉`` is ``round(x)`` where snapped (``round(x)`` is whole: its ceiling is itself,
    −0.0 included) and ``⌈x⌉`` elsewhere; the snap changes the answer only where ``⌈x⌉`` and
    ``round(x)`` differ (a fraction below one half, or NaN), so only those rows are tested when
    they are few (a count × 0 % overage, a column of whole numbers).
    """
    nearest = np.rint(a)
    out = np.ceil(a)
    differs = out != nearest
    if a.ndim == 1 and np.count_nonzero(differs) * 4 <= a.size:
        differ = np.flatnonzero(differs)
        sub, near = a[differ], nearest[differ]
        lim = np.abs(sub)
        np.maximum(lim, 1.0, out=lim)
        np.multiply(lim, tol, out=lim)
        np.subtract(sub, near, out=sub)
        np.abs(sub, out=sub)
        snap = sub <= lim
        out[differ[snap]] = near[snap]
        return out
    diff = np.subtract(a, nearest)
    np.abs(diff, out=diff)
    lim = np.abs(a)
    np.maximum(lim, 1.0, out=lim)
    np.multiply(lim, tol, out=lim)
    np.copyto(out, nearest, where=diff <= lim)
    return out


def round_count(x: npt.ArrayLike) -> Any:
    """Nearest whole number, ties away from zero (a count, not an amount).

    Notes
    -----
    ``sign(x) × ⌊|x| + 0.5⌋``.
    """
    a = ew.as_float(x)
    if isinstance(a, float) or a.size < ew.LONG_COLUMN:
        return ew.sign(a) * ew.floor(ew.fabs(a) + 0.5)
    out = np.abs(a)
    np.add(out, 0.5, out=out)
    np.floor(out, out=out)
    return np.multiply(np.sign(a), out, out=out)
