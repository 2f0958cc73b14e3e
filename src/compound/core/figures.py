"""One number rounded to significant figures and printed, in pure Python.

The rule is :mod:`compound.core.rounding`'s (which re-exports everything here):
amounts to :data:`SIGNIFICANT_FIGURES` significant figures, nearest, ties to
even; printed as the rounded decimal itself (:func:`rounded_decimal`: the
digits the rounding kept, never the float's noise), with a leading zero, no
trailing zeros and no exponent. This module imports
no numpy, so reading the register (``compound lots list``) starts without it,
and one plan's few dozen numbers are rounded without numpy's per-call cost.

:func:`round_float` computes exactly what the array path
(:func:`compound.core.rounding.round_sig`) computes for a column: the same
IEEE operations in the same order (``rint(v × 10^d) / 10^d``), with the same
table of powers of ten (:data:`POWERS_OF_TEN`), so a number printed from a plan and from a batch column
is the same number (property-tested bit for bit).
"""

from __future__ import annotations

import math
from typing import Final

SIGNIFICANT_FIGURES: Final = 4

# The double nearest 10**k, k = 0..308 (float() of the decimal text is correctly rounded;
# C pow and numpy's power loop are not, past 10**22). The array path indexes this table too.
POWERS_OF_TEN: Final = tuple(float(f"1e{k}") for k in range(309))
_POWERS: Final = len(POWERS_OF_TEN)


def round_float(x: float, sig: int = SIGNIFICANT_FIGURES) -> float:
    """``x`` rounded to ``sig`` significant figures (ties to even); NaN and inf pass through."""
    if not math.isfinite(x) or x == 0:
        return x
    digits = sig - 1 - math.floor(math.log10(abs(x)))
    if 0 <= digits < _POWERS:
        scale = POWERS_OF_TEN[digits]
        return round(x * scale) / scale
    if 0 < -digits < _POWERS:
        scale = POWERS_OF_TEN[-digits]
        return round(x / scale) * scale
    # Subnormals (below ~1e-305): 10**digits overflows in the array path, which gives NaN.
    return math.nan


def rounded_decimal(x: float, sig: int = SIGNIFICANT_FIGURES) -> tuple[int, int] | None:
    """``x`` rounded by the rule as an exact decimal ``(digits, exponent)``.

    The value is ``digits × 10**exponent``, ``digits`` a signed int without trailing zeros
    (``(0, 0)`` for zero); None for NaN, inf, subnormals and what rounds to inf. ``digits`` is the integer
    :func:`round_float` divides by its power of ten, so the text made from it is the rounded
    decimal itself: beyond about 1e±22, where the powers of ten are inexact, the float
    :func:`round_float` returns may print with noise (``5.998999999999999e-255``); this never does.
    """
    if x == 0:
        return 0, 0
    if not math.isfinite(x):
        return None
    digits = sig - 1 - math.floor(math.log10(abs(x)))
    if 0 <= digits < _POWERS:
        whole = round(x * POWERS_OF_TEN[digits])
    elif 0 < -digits < _POWERS:
        whole = round(x / POWERS_OF_TEN[-digits])
        if math.isinf(whole * POWERS_OF_TEN[-digits]):
            return None  # rounded beyond the largest float (1.7975e308): round_float gives inf
    else:
        return None
    exponent = -digits
    while not whole % 10:
        whole //= 10
        exponent += 1
    return whole, exponent


def decimal_text(whole: int, exponent: int) -> str:
    """``whole × 10**exponent`` written out: a leading zero, no trailing zeros, no exponent."""
    sign = "-" if whole < 0 else ""
    digits = str(abs(whole))
    if exponent >= 0:
        return sign + digits + "0" * exponent if whole else "0"
    point = len(digits) + exponent
    if point > 0:
        return f"{sign}{digits[:point]}.{digits[point:]}"
    return f"{sign}0.{'0' * -point}{digits}"


def format_number(x: float, sig: int = SIGNIFICANT_FIGURES) -> str:
    """Round by the rule and print with a leading zero and no trailing zeros (``—`` for no number)."""
    parts = rounded_decimal(float(x), sig)
    return "—" if parts is None else decimal_text(*parts)


def number_text(x: float, *, count: bool = False, sig: int = SIGNIFICANT_FIGURES) -> str:
    """A number as a CSV cell: rounded by the rule and printed as :func:`format_number` prints it,
    but empty for NaN (and for a subnormal, which rounds to NaN); ``inf``/``-inf`` as such; a count
    (``count``) is its whole number, truncated (``31``, never ``31.0``).

    :func:`compound.core.rounding.number_texts` is the same for a column, without a Python
    string per value (property-tested equal for every float).
    """
    if x != x:  # NaN
        return ""
    if count:
        return str(int(x))
    parts = rounded_decimal(x, sig)
    if parts is not None:
        return decimal_text(*parts)
    value = round_float(x, sig)  # inf, given or rounded to; NaN for a subnormal
    return "" if value != value else "inf" if value > 0 else "-inf"


def json_number(x: float, sig: int = SIGNIFICANT_FIGURES) -> int | float | None:
    """Round by the rule for JSON: an int when whole, else a float; None for NaN."""
    value = round_float(float(x), sig)
    if not math.isfinite(value):
        return None
    if value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def format_mass(mg: float) -> str:
    """A mass for people: mcg below 0.1 mg, g from 10 g, else mg (``4.5 mg``).

    The unit is chosen on the rounded value, and the mcg or g text is the same decimal with its
    point moved (exactly what rounding ``value × 1000`` again prints, property-tested), so one
    rounding serves both: the TUI prints some fifty masses per keystroke.
    """
    return _scaled(float(mg), "mg", "mcg", "g")


def _scaled(x: float, unit: str, small: str, large: str | None) -> str:
    """``x`` rounded, printed in ``small`` (×1000) below 0.1, in ``large`` (÷1000) from 10,000."""
    parts = rounded_decimal(x)
    if parts is None:  # NaN, inf, subnormal: as rounding and formatting them always printed
        value = round_float(x)
        return f"{format_number(value)} {large if large and abs(value) >= 10_000 else unit}"
    whole, exponent = parts
    if whole == 0:
        return f"0 {unit}"
    leading = len(str(abs(whole))) - 1 + exponent  # the power of ten of the first digit
    if leading < -1:
        return f"{decimal_text(whole, exponent + 3)} {small}"
    if large and leading >= 4:
        return f"{decimal_text(whole, exponent - 3)} {large}"
    return f"{decimal_text(whole, exponent)} {unit}"


def format_volume(ml: float) -> str:
    return f"{format_number(ml)} mL"


def format_concentration(mg_per_ml: float) -> str:
    """``1 mg/mL``; below 0.1 mg/mL in mcg/mL (``20 mcg/mL``)."""
    return _scaled(float(mg_per_ml), "mg/mL", "mcg/mL", None)


def format_percent(fraction: float) -> str:
    """A fraction (0.05) as a percentage (``5 %``)."""
    return f"{format_number(fraction * 100)} %"


def format_count(n: float, singular: str, plural: str | None = None) -> str:
    whole = int(n)
    word = singular if whole == 1 else (plural or singular + "s")
    return f"{whole} {word}"
