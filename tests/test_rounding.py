"""The rounding edge: stated rule, no float noise, no trailing zeros, arrays == scalars."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compound.core.rounding import (
    ceil_count,
    format_concentration,
    format_mass,
    format_number,
    format_percent,
    json_number,
    number_text,
    number_texts,
    round_count,
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
def test_printing_is_the_rounded_decimal(x):
    """format_number (pure Python, for register reads) prints the decimal the rounding kept.

    Where the powers of ten are exact (1e-19 ≤ |x| < 1e25) that is numpy's shortest text of the
    rounded float; beyond, that float may be an ulp off the decimal and print with noise
    (5.998999999999999e-255), which the text never shows: it reads back within an ulp.
    """
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        rounded = float(round_sig(np.array([x]))[0])
    text = format_number(x)
    if not np.isfinite(rounded):
        assert text == "—"
        return
    assert significant_digits(text) <= 4, text
    assert "e" not in text and not text.startswith(".") and not text.endswith(".")
    assert "." not in text or not text.endswith("0")
    if rounded == 0 or 1e-19 <= abs(rounded) < 1e25:
        assert text == ("0" if rounded == 0 else np.format_float_positional(rounded, trim="-"))
    else:
        assert float(text) in (rounded, np.nextafter(rounded, -np.inf), np.nextafter(rounded, np.inf))


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


# The column printer (numpy, a batch's worksheet) against the scalar rule, value by value: any
# float64 (NaN, inf, subnormals included), tiny and huge decimals, ties at the fourth figure,
# whole numbers, and the same for counts.
any_float = st.floats(width=64, allow_nan=True, allow_infinity=True)
decimals = st.builds(lambda m, e: float(f"{m}e{e}"), st.integers(-10**7, 10**7), st.integers(-330, 310))
ties = st.builds(lambda m, k, sign: sign * (m * 10 + 5) * 10.0**k, st.integers(1000, 9999),
                 st.integers(-1, 11), st.sampled_from([1, -1]))
halves = st.builds(lambda m: m + 0.5, st.integers(-10**6, 10**6))
wholes = st.integers(-2**53, 2**53).map(float)
values = st.one_of(any_float, decimals, ties, halves, wholes)


@settings(max_examples=500)
@given(st.lists(values, max_size=40))
def test_column_texts_equal_the_scalar_number_text(xs):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert number_texts(np.array(xs, dtype=np.float64)).tolist() == [number_text(x) for x in xs]


@settings(max_examples=300)
@given(st.lists(st.one_of(wholes, halves, st.floats(allow_nan=True, allow_infinity=False),
                          st.floats(min_value=-1e6, max_value=1e6)), max_size=40))
def test_column_counts_equal_the_scalar_number_text(xs):
    assert number_texts(np.array(xs, dtype=np.float64), count=True).tolist() == \
        [number_text(x, count=True) for x in xs]


@given(values)
def test_printing_a_rounded_value_prints_the_same(x):
    """A batch rounds a column, then prints it: the second rounding changes nothing."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        rounded = float(round_sig(np.array([x]))[0])
    assert number_text(rounded) == number_text(x)
    assert number_texts(np.array([rounded])).tolist() == number_texts(np.array([x])).tolist()


def test_column_texts_examples():
    texts = number_texts(np.array([139.5, 3100.0, 0.0000001234, np.nan, -0.5, 12345.0, 12355.0, 0.0,
                                   -0.0, np.inf, 1.7975e308, 5e-324, 0.1 + 0.2]))
    assert texts.tolist() == ["139.5", "3100", "0.0000001234", "", "-0.5", "12340", "12360", "0", "0",
                              "inf", "inf", "", "0.3"]
    assert texts.data.dtype == np.uint8 and texts.offsets[-1] == texts.data.size  # no str objects
    assert number_texts(np.array([31.0, 2.7, -3.0, 1e20]), count=True).tolist() == \
        ["31", "2", "-3", "100000000000000000000"]


def _mass_by_rounding_twice(mg: float) -> str:
    """format_mass as first written: round, pick the unit, scale and round the scaled value again."""
    value = float(round_sig(mg))
    if value != 0 and abs(value) < 0.1:
        return f"{format_number(value * 1000)} mcg"
    if abs(value) >= 10_000:
        return f"{format_number(value / 1000)} g"
    return f"{format_number(value)} mg"


def _concentration_by_rounding_twice(mg_per_ml: float) -> str:
    value = float(round_sig(mg_per_ml))
    if value != 0 and abs(value) < 0.1:
        return f"{format_number(value * 1000)} mcg/mL"
    return f"{format_number(value)} mg/mL"


# Near the unit thresholds (0.1 and 10,000) and their rounding edges, plus anything at all.
thresholds = st.sampled_from([0.1, 10_000.0, 0.09999, 0.099995, 9999.5, 9999.49, 0.0999949])
near_thresholds = st.builds(lambda t, k: t * (1 + k * 2.0**-52), thresholds, st.integers(-8, 8))


@settings(max_examples=2000)
@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64), near_thresholds,
                 st.floats(1e-9, 1e9), st.floats(-1e9, -1e-9)))
def test_mass_and_concentration_move_the_point_as_rounding_the_scaled_value_prints(x):
    # format_mass rounds once and moves the decimal point for mcg or g; the scaled value,
    # rounded again, must print the same (it would not if the unit were picked on the unrounded x).
    assert format_mass(x) == _mass_by_rounding_twice(x)
    assert format_concentration(x) == _concentration_by_rounding_twice(x)


@pytest.mark.parametrize(("mg", "text"), [
    (0.099995, "0.1 mg"), (0.0999949, "99.99 mcg"), (9999.5, "10 g"), (9999.49, "9999 mg"),
    (-0.05, "-50 mcg"), (-0.0, "0 mg"), (float("nan"), "— mg"), (float("inf"), "— g"),
    (5e-310, "— mg"), (1.7976931348623157e308, "— g"), (1e-7, "0.0001 mcg"),
])
def test_mass_units_at_their_edges(mg, text):
    assert format_mass(mg) == text


_COUNT_EDGES = [0.0, -0.0, math.nan, math.inf, -math.inf, 3.0000000000000004, 2.9999999999, -2.0000000001,
                -0.3, -0.5, -0.7, 0.5, 1.5, 2.5, -1.5, 1e300, -1e300, 2.0**53 + 2, 5e-324, -5e-324, 5e-10,
                -5e-10, 1 + 1e-9, 1 + 2e-9, 1e12 + 1e-3, 1e12 + 1e-4, 139.5 / 50, 150 / 50]


def _bits(values) -> list[tuple[bool, float]]:
    """Each value as (is NaN, value with its zero's sign): equal lists are equal numbers bit for bit
    but for NaN payloads."""
    return [(math.isnan(v), 0.0 if math.isnan(v) else math.copysign(abs(v), v)) for v in values]


@pytest.mark.parametrize("fill", ["fractions", "zeros", "whole", "near-whole"])
def test_count_columns_equal_the_rule_of_one_number(fill):
    # A long column takes the column path (in place; a snap tested only where it can change the
    # ceiling when those rows are few): every value as the one-number rule gives it, -0.0 included.
    g = np.random.default_rng(5)
    body = {"fractions": g.uniform(-1e3, 1e3, 400), "zeros": np.zeros(400),
            "whole": g.integers(0, 200, 400).astype(float),
            "near-whole": g.integers(0, 200, 400) + g.choice([0.0, 1e-10, -1e-10, 1e-8], 400)}[fill]
    column = np.concatenate([_COUNT_EDGES, body])
    with np.errstate(invalid="ignore"):
        ceil_column, round_column = ceil_count(column), round_count(column)
    assert ceil_column.dtype == round_column.dtype == np.float64
    assert _bits(ceil_column.tolist()) == _bits([ceil_count(float(v)) for v in column])
    assert _bits(round_column.tolist()) == _bits([round_count(float(v)) for v in column])
    assert ceil_count(column[:1]).tolist() == [0.0]  # short columns: the formula as written
