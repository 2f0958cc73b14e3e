"""The unit allow-list: what is accepted, what is refused, and the hint given."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compound.core import units
from compound.core.units import Q_, coerce, parse, parse_column, parse_overage
from compound.errors import UnitInputError


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("4.5mg", "mass", 4.5),
        ("4.5 mg", "mass", 4.5),
        ("500mcg", "mass", 0.5),
        ("500 micrograms", "mass", 0.5),
        ("1.2g", "mass", 1200.0),
        ("250ng", "mass", 0.00025),
        ("30mL", "volume", 30.0),
        ("30 ml", "volume", 30.0),
        ("0.1L", "volume", 100.0),
        ("1mg/mL", "concentration", 1.0),
        ("500mcg/mL", "concentration", 0.5),
        ("5mg/5mL", "concentration", 1.0),  # pharmacy convention: mg per 5 mL
        ("20 mcg/mL", "concentration", 0.02),
        ("0.5mg/drop", "mass_per_drop", 0.5),
        ("5%", "fraction", 0.05),
        ("99.2%", "fraction", 0.992),
        ("14d", "duration", 14.0),
        ("2 weeks", "duration", 14.0),
        ("46 drops/2mL", "calibration", 23.0),
        ("35 drops/2mL", "calibration", 17.5),  # prior-art T27: 17.5 drops/mL
        ("23 drops/mL", "calibration", 23.0),
        ("30", "count", 30.0),
    ],
)
def test_accepted_spellings(text, kind, expected):
    assert parse(text, kind).value == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("text", "kind", "says"),
    [
        ("4,5mg", "mass", "4.5mg"),           # comma decimal: says what to type
        ("1,000mg", "mass", "1.000mg or 1000mg"),
        ("1,5,0mg", "mass", "150mg"),
        ("4.5", "mass", "no unit"),
        ("5 u", "mass", "units"),
        ("5 units", "mass", "units"),
        ("5 IU", "mass", "international units"),
        ("9gtt", "volume", "calibrat"),
        ("9 drops", "volume", "calibrat"),
        ("5ug", "mass", "mcg"),
        ("5µg", "mass", "mcg"),
        ("5cc", "volume", "mL"),
        (".5mg", "mass", "0.5mg"),            # naked decimal point
        ("1e-3mg", "mass", "scientific"),
        ("1%", "concentration", "ambiguous"),
        ("3 months", "duration", "days"),
        ("1 tsp", "volume", "mL"),
        ("2 gr", "mass", "mg"),
        ("mg", "mass", "number"),
        ("", "mass", "empty"),
        ("4.5 furlongs", "mass", "furlongs"),
        ("0.5mg/mL", "mass_per_drop", "per drop"),
        ("46 drops", "calibration", "per volume"),
        ("1.5", "count", "whole number"),
        ("0.992", "fraction", "% sign"),
    ],
)
def test_refused_with_what_to_type(text, kind, says):
    with pytest.raises(UnitInputError) as info:
        parse(text, kind, field="strength")
    message = str(info.value)
    assert says.lower() in message.lower()
    assert info.value.field == "strength"
    assert info.value.exit_code == 2


def test_registry_knows_no_pint_traps():
    # pint's default registry reads these as micronit and enzyme_unit; ours does not know them.
    for word in ("units", "U", "IU", "cc"):
        with pytest.raises(Exception):  # noqa: B017,PT011 - any pint error: undefined
            units.ureg.Unit(word)


def test_drops_never_convert_to_volume_without_calibration():
    import pint

    with pytest.raises(pint.DimensionalityError):
        Q_(1, "drop").to("mL")


def test_coerce_accepts_text_and_quantities_refuses_bare_numbers():
    assert coerce("4.5mg", "mass") == 4.5
    assert coerce(Q_(1.2, "g"), "mass") == pytest.approx(1200)
    assert coerce(Q_(500, "mcg") / Q_(1, "mL"), "concentration") == pytest.approx(0.5)
    assert coerce(30, "count") == 30
    with pytest.raises(UnitInputError, match="no unit"):
        coerce(4.5, "mass")
    with pytest.raises(UnitInputError, match="not a mass"):
        coerce(Q_(30, "mL"), "mass")


def test_coerce_takes_an_amount_already_read_as_its_kind_only():
    """A plan's own concentration goes to study matching as a Parsed amount (no pint): the same
    number a quantity of it gave, and a Parsed of another kind is refused like a quantity."""
    from compound.planning.dating import concentration_of

    for mg_per_ml in (1.0, 0.1 + 0.2, 1e-05, 123456.789, 2 / 3):
        assert coerce(concentration_of(mg_per_ml), "concentration") == mg_per_ml
        assert coerce(concentration_of(mg_per_ml), "concentration") == coerce(
            Q_(mg_per_ml, units.MG_PER_ML), "concentration")
    assert coerce(parse("4.5mg", "mass"), "mass") == 4.5
    with pytest.raises(UnitInputError, match="not a concentration"):
        coerce(parse("4.5mg", "mass"), "concentration")


def test_coerce_quantity_from_another_registry():
    import pint

    other = pint.UnitRegistry()
    assert coerce(other.Quantity(4.5, "milligram"), "mass") == pytest.approx(4.5)


def test_overage_is_extra_units_or_percent():
    assert parse_overage("1") == (1, 0.0)
    assert parse_overage("5%") == (0, 0.05)
    with pytest.raises(UnitInputError):
        parse_overage("5 caps")


def test_parse_column_parses_each_distinct_value_once(monkeypatch):
    calls = []
    real = units.parse

    def counting(text, kind, *, field=None):
        calls.append(text)
        return real(text, kind, field=field)

    monkeypatch.setattr(units, "parse", counting)
    values, errors = parse_column(["4.5mg"] * 1000 + ["1.5mg", "", None, "4,5mg"], "mass")
    assert sorted(set(calls)) == ["1.5mg", "4,5mg", "4.5mg"] and len(calls) == 3
    assert values[0] == 4.5 and values[1000] == 1.5
    assert math.isnan(values[1001]) and math.isnan(values[1002]) and math.isnan(values[1003])
    assert errors[1003] is not None and "4.5mg" in errors[1003]
    assert errors[0] is None


@given(st.decimals(min_value="0.0001", max_value="100000", places=4, allow_nan=False))
def test_mass_round_trips_mg_mcg_g(d):
    mg = float(d)
    assert parse(f"{d:f}mg", "mass").value == pytest.approx(mg, rel=1e-12)
    assert parse(f"{d * 1000:f}mcg", "mass").value == pytest.approx(mg, rel=1e-12)
    assert parse(f"{d / 1000:f}g", "mass").value == pytest.approx(mg, rel=1e-12)
    q = Q_(mg, units.MG)
    assert q.to(units.MCG).to(units.G).to(units.MG).magnitude == pytest.approx(mg, rel=1e-12)


@pytest.mark.parametrize(
    ("text", "kind", "exact"),
    [
        ("4.5mcg", "mass", 0.0045),       # not 4.5 × 1e-3 = 0.0045000000000000005
        ("4500mcg", "mass", 4.5),         # exactly on the inclusive LDN band edge
        ("0.3g", "mass", 300.0),
        ("0.7mg/5mL", "concentration", 0.14),
        ("1.1L", "volume", 1100.0),
        ("7%", "fraction", 0.07),
        ("35 drops/2mL", "calibration", 17.5),
    ],
)
def test_typed_amounts_are_the_nearest_double_to_what_was_typed(text, kind, exact):
    assert parse(text, kind).value == exact
