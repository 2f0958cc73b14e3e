"""The rounding edge: stated rule, no float noise, no trailing zeros, arrays == scalars."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from compound.core.rounding import (
    ceil_count,
    format_concentration,
    format_mass,
    format_number,
    format_percent,
    json_number,
    round_sig,
)


def significant_digits(text: str) -> int:
    """Digits a reader sees as significant: float noise shows up as many of them."""
    digits = text.lstrip("-").replace(".", "").lstrip("0")
    return len(digits.rstrip("0")) if "." not in text else len(digits)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.1 + 0.2, "0.3"),                 # prior-art T31: never 0.30000000000000004
        (1.0, "1"),                         # never 1.0
        (0.5, "0.5"),                       # leading zero, never .5
        (4.5, "4.5"),
        (139.5, "139.5"),
        (9.9926 / 1000, "0.009993"),        # prior-art T31 (4 significant figures)
        (12553.33333, "12550"),
        (100 / 88, "1.136"),                # prior-art T6
        (0.0045, "0.0045"),
        (1e-7, "0.0000001"),                # no exponent
        (0.0, "0"),
    ],
)
def test_format_number(value, text):
    assert format_number(value) == text


def test_units_in_words_pharmacists_use():
    assert format_mass(4.5) == "4.5 mg"
    assert format_mass(0.05) == "50 mcg"
    assert format_mass(0.5) == "0.5 mg"       # LDN doses stay in mg
    assert format_mass(12550.0) == "12.55 g"
    assert format_concentration(1.0) == "1 mg/mL"
    assert format_concentration(0.02) == "20 mcg/mL"  # prior-art T28: 20 mcg/mL
    assert format_percent(0.0101010101) == "1.01 %"


def test_ceil_count_does_not_turn_an_exact_three_into_four():
    # engineering-notes: rounding a float tablet count up can turn an exact 3 into 4
    assert ceil_count(139.5 / 50 * 0 + (0.1 + 0.2) * 10) == 3
    assert ceil_count(150 / 50) == 3
    assert ceil_count(3.0000000000000004) == 3
    assert ceil_count(2.79) == 3
    assert ceil_count(3.01) == 4


def test_json_number_is_int_when_whole_and_none_for_nan():
    assert json_number(31.0) == 31 and isinstance(json_number(31.0), int)
    assert json.dumps(json_number(0.1 + 0.2)) == "0.3"
    assert json_number(math.nan) is None


finite = st.floats(min_value=1e-9, max_value=1e9, allow_nan=False, allow_infinity=False)


@given(finite)
def test_formatter_never_prints_noise_or_trailing_zeros(x):
    text = format_number(x)
    assert significant_digits(text) <= 4, text
    assert "e" not in text.lower()
    if "." in text:
        assert not text.endswith("0") and not text.endswith(".")
    assert not text.startswith(".")
    # it reads back as the rounded value
    assert float(text) == float(round_sig(x))


@given(finite)
def test_rounding_keeps_four_significant_figures(x):
    r = float(round_sig(x))
    assert abs(r - x) <= 0.5 * 10 ** (math.floor(math.log10(x)) - 3) * (1 + 1e-9)


@given(st.lists(finite, min_size=1, max_size=50))
def test_array_rounding_equals_scalar_rounding_exactly(xs):
    column = round_sig(np.array(xs))
    assert [float(v) for v in column] == [float(round_sig(x)) for x in xs]


def test_powers_of_ten_are_the_nearest_doubles():
    """The one table both rounding paths use holds the double nearest each 10**k (exact arithmetic).

    numpy's power loop misses by an ulp from 10**23 on, so the table is not made with it.
    """
    from decimal import Decimal, localcontext

    from compound.core.figures import POWERS_OF_TEN

    with localcontext() as ctx:
        ctx.prec = 400
        for k, p in enumerate(POWERS_OF_TEN):
            error = abs(Decimal(p) - Decimal(10) ** k)
            half_ulp = Decimal(math.ulp(p)) / 2
            assert error <= half_ulp, k


@given(st.floats(allow_nan=True, allow_infinity=True, width=64))
def test_pure_python_printing_equals_numpys(x):
    """format_number (pure Python, for register reads) prints what numpy's positional printer would."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        rounded = float(round_sig(np.array([x]))[0])
    expected = ("—" if not np.isfinite(rounded) else "0" if rounded == 0
                else np.format_float_positional(rounded, trim="-"))
    assert format_number(x) == expected


@pytest.mark.parametrize("k", range(-12, 13))
def test_rounding_next_to_powers_of_ten_is_the_array_paths(k):
    """Where log10 lands on a whole number, the scalar and array paths still agree bit for bit."""
    p = 10.0 ** k
    near = [np.nextafter(p, 0), p, np.nextafter(p, np.inf), p * (1 - 5e-16), p * (1 + 5e-16),
            p * 0.99995, p * 0.99994999, -p]
    column = round_sig(np.array(near))
    assert [float(round_sig(float(v))) for v in near] == column.tolist()
    assert [format_number(v) for v in near] == [np.format_float_positional(c, trim="-")
                                                for c in column]
