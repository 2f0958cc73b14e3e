"""One number rounded to significant figures and printed, in pure Python.

The rule is :mod:`compound.core.rounding`'s (which re-exports everything here):
amounts to :data:`SIGNIFICANT_FIGURES` significant figures, nearest, ties to
even; printed as the shortest decimal that reads back as the rounded value,
with a leading zero, no trailing zeros and no exponent. This module imports
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
from decimal import Decimal
from typing import Final

SIGNIFICANT_FIGURES: Final = 4

# The double nearest 10**k, k = 0..308 (float() of the decimal text is correctly rounded;
# C pow and numpy's power loop are not, past 10**22). The array path indexes this table too.
POWERS_OF_TEN: Final = tuple(float(f"1e{k}") for k in range(309))


def round_float(x: float, sig: int = SIGNIFICANT_FIGURES) -> float:
    """``x`` rounded to ``sig`` significant figures (ties to even); NaN and inf pass through."""
    if not math.isfinite(x) or x == 0:
        return x
    digits = sig - 1 - math.floor(math.log10(abs(x)))
    if 0 <= digits < len(POWERS_OF_TEN):
        scale = POWERS_OF_TEN[digits]
        return round(x * scale) / scale
    if 0 < -digits < len(POWERS_OF_TEN):
        scale = POWERS_OF_TEN[-digits]
        return round(x / scale) * scale
    # Subnormals (below ~1e-305): 10**digits overflows in the array path, which gives NaN.
    return math.nan


def format_number(x: float, sig: int = SIGNIFICANT_FIGURES) -> str:
    """Round by the rule and print with a leading zero and no trailing zeros."""
    value = round_float(float(x), sig)
    if not math.isfinite(value):
        return "—"
    if value == 0:
        return "0"
    # repr is the shortest text that reads back as the float (no trailing zeros but ``4.0``'s);
    # Decimal writes it without an exponent when it has one (below 1e-4, from 1e16).
    text = repr(value)
    if "e" in text:
        text = format(Decimal(text), "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
    elif text.endswith(".0"):
        text = text[:-2]
    return text


def json_number(x: float, sig: int = SIGNIFICANT_FIGURES) -> int | float | None:
    """Round by the rule for JSON: an int when whole, else a float; None for NaN."""
    value = round_float(float(x), sig)
    if not math.isfinite(value):
        return None
    if value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def format_mass(mg: float) -> str:
    """A mass for people: mcg below 0.1 mg, g from 10 g, else mg (``4.5 mg``)."""
    value = round_float(float(mg))
    if value != 0 and abs(value) < 0.1:
        return f"{format_number(value * 1000)} mcg"
    if abs(value) >= 10_000:
        return f"{format_number(value / 1000)} g"
    return f"{format_number(value)} mg"


def format_volume(ml: float) -> str:
    return f"{format_number(ml)} mL"


def format_concentration(mg_per_ml: float) -> str:
    """``1 mg/mL``; below 0.1 mg/mL in mcg/mL (``20 mcg/mL``)."""
    value = round_float(float(mg_per_ml))
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
