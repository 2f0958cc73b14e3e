"""Element-wise functions that take one Python float (or bool) or a numpy column alike.

The core's formulas are written once, with operators (``+ − × ÷``, comparisons, ``&`` and
``|``) and these functions, and run on one plan's Python floats (the TUI recomputes a plan on
every keystroke) or on a batch's columns. On floats they are plain Python and :mod:`math`,
some 20-50 times quicker than numpy's call on a 0-d value; on arrays they are numpy's.

The results are the same IEEE operations either way (``log`` and ``power`` call numpy for
floats too: its own implementations differ from libm's in the last bit). Two differences
raise rather than differ, so a caller runs the float path and falls back to the array path
on them (:data:`ARRAY_ONLY`): Python raises :class:`ZeroDivisionError` where numpy divides
by zero (inf or NaN), and :class:`OverflowError` where a float operation overflows. One silent
difference is avoided by :func:`not_`: Python's ``~True`` is ``-2``, not ``False``.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from typing import Any, Final

import numpy as np

#: What the float path raises where numpy would return inf or NaN: run the array path instead.
ARRAY_ONLY = (ZeroDivisionError, ValueError, OverflowError)


def is_scalar(x: Any) -> bool:
    """True for one Python (or numpy) number or bool, or a 0-d array."""
    return isinstance(x, (float, int)) or np.ndim(x) == 0


def not_(x: Any) -> Any:
    """Logical not (``~`` on a column)."""
    return (not x) if isinstance(x, bool) else np.logical_not(x)


def where(condition: Any, x: Any, y: Any) -> Any:
    """``x`` where ``condition``, else ``y`` (both are computed first, as with numpy)."""
    if isinstance(condition, bool):
        return x if condition else y
    return np.where(condition, x, y)


def isfinite(x: Any) -> Any:
    return math.isfinite(x) if isinstance(x, float) else np.isfinite(x)


def isnan(x: Any) -> Any:
    return math.isnan(x) if isinstance(x, float) else np.isnan(x)


def fabs(x: Any) -> Any:
    return abs(x) if isinstance(x, float) else np.abs(x)


def floor(x: Any) -> Any:
    if isinstance(x, float):
        return math.copysign(float(math.floor(x)), x) if math.isfinite(x) else x  # numpy's −0.0
    return np.floor(x)


def ceil(x: Any) -> Any:
    if isinstance(x, float):
        return math.copysign(float(math.ceil(x)), x) if math.isfinite(x) else x  # numpy's −0.0
    return np.ceil(x)


def rint(x: Any) -> Any:
    """Nearest whole number, ties to even (numpy's ``round``)."""
    if isinstance(x, float):
        return math.copysign(float(round(x)), x) if math.isfinite(x) else x  # numpy's −0.0
    return np.round(x)


def sign(x: Any) -> Any:
    if isinstance(x, float):
        return x if x != x else float((x > 0) - (x < 0))
    return np.sign(x)


def maximum(x: Any, y: Any) -> Any:
    """The larger, NaN if either is NaN (numpy's ``maximum``; Python's ``max`` drops a NaN)."""
    if isinstance(x, float) and isinstance(y, float):
        if x != x or y != y:
            return math.nan
        return x if x > y else y  # numpy's choice on a tie (0.0, -0.0 → -0.0)
    return np.maximum(x, y)


# numpy's log and pow are its own (SIMD) and differ from math's in the last bit for some
# arguments (pow: 5 % of random ones): floats go through numpy too, to get its bits.
# (A NaN argument skips numpy: IEEE fixes those results, and C's pow agrees with numpy's.)
def log(x: Any) -> Any:
    if isinstance(x, float):
        return x if x != x else float(np.log(x))
    return np.log(x)


def power(x: Any, y: Any) -> Any:
    if isinstance(x, float) and isinstance(y, float):
        return math.pow(x, y) if x != x or y != y else float(np.power(x, y))
    return np.power(x, y)


def nan_to_num(x: Any) -> Any:
    """NaN → 0, ±inf → the largest finite float of its sign (numpy's ``nan_to_num``)."""
    if isinstance(x, float):
        if x != x:
            return 0.0
        return math.copysign(sys.float_info.max, x) if math.isinf(x) else x
    return np.nan_to_num(x)


def as_float(x: Any) -> Any:
    """A Python float for one number, else a float64 array."""
    return float(x) if isinstance(x, (float, int)) else np.asarray(x, dtype=np.float64)


def as_bool(x: Any) -> Any:
    """A Python bool for one bool (or number), else a bool array."""
    return bool(x) if isinstance(x, (bool, int, float, np.bool_)) else np.asarray(x, dtype=np.bool_)


#: Columns at least this long take the column paths of the core (in-place passes, or a step
#: worked out only on the rows it applies to); a shorter one, as a single plan's, costs more to
#: take apart than the plain formulas do. One threshold for rounding, weighing and capsules.
LONG_COLUMN: Final = 64


def and_then(mask: Any, then: Callable[[], Any]) -> Any:
    """``mask & then()``, without calling ``then`` where no row is in ``mask`` (a column all False,
    or False: the answer is all False either way, and ``then``'s columns are not worked out)."""
    if isinstance(mask, np.ndarray):
        return mask & then() if mask.any() else np.zeros(mask.shape, dtype=np.bool_)
    return mask & then() if mask else mask


def times_into(x: Any, y: Any) -> Any:
    """``x × y``; a column ``x`` is overwritten with it (the caller's own temporary, done with:
    no fresh column for a result, which costs more than the multiplication on a long column)."""
    if isinstance(x, np.ndarray):
        return np.multiply(x, y, out=x)
    return x * y


def divide(x: Any, y: Any) -> Any:
    """``x / y`` with numpy's answer for a zero divisor on floats too (±inf, or NaN for 0/0)."""
    if isinstance(x, float) and isinstance(y, float):
        if y != 0.0:
            return x / y
        if x != x or x == 0.0:
            return math.nan
        return math.copysign(math.inf, x) * math.copysign(1.0, y)
    return x / y
