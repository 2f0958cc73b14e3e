"""Liquid and drops rows of a batch planned a column at a time.

The batch calls the functions ``plan_liquid`` / ``plan_drops`` are made of
(``liquid_context`` / ``drops_context``, ``compute_all``, ``complete``), with the
core once on the column of every distinct prescription and without the working
steps. These tests pin that down: the core on a column equals the core row by row
(bit for bit), a plan without steps has the same numbers and findings, the core
runs once per block, the resolver parses and resolves each input once (errors too),
and published worked examples come out of a batch with their hand arithmetic.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import numpy as np
import pandas as pd
import pytest

from compound.batch import plan_frame
from compound.batch.plan import RunCache, plan_block
from compound.core.units import Q_
from compound.errors import InputError
from compound.planning import _source
from compound.planning import drops as drops_planning
from compound.planning import liquid as liquid_planning

# Varied prescriptions: tablets whole (volume raised) or weighed (triturated below the MWQ),
# API direct or by aliquot (one and two stages), a dose with a syringe, overage, days' supply.
LIQUIDS: list[dict[str, Any]] = [
    {"strength": "1mg/mL", "volume": "50mL", "dose": "4.5mg"},
    {"strength": "1.5mg/mL", "volume": "30mL"},
    {"strength": "0.5mg/mL", "volume": "75mL", "tablet_weight": "200mg"},
    {"strength": "0.01mg/mL", "volume": "50mL", "tablet_weight": "200mg"},
    {"strength": "0.1mg/mL", "volume": "30mL", "source": "api", "vehicle": "purified-water"},
    {"strength": "0.001mg/mL", "volume": "30mL", "source": "api"},
    {"strength": "1mg/mL", "dose": "4.5mg", "days": "14", "overage": "5%"},
    {"strength": "2mg/mL", "volume": "50mL", "source": "api", "api_form": "dihydrate", "assay": "99.2%",
     "dose": "3mg", "basis": "base"},
    {"strength": "0.05mg/mL", "volume": "2mL", "source": "api"},
]
DROPS: list[dict[str, Any]] = [
    {"per_drop": "0.5mg", "volume": "30mL", "dose": "4.5mg"},
    {"strength": "10mg/mL", "volume": "30mL", "dose": "4.5mg", "calibration": "46 drops/2mL"},
    {"strength": "5mg/mL", "volume": "15mL", "dose": "9 drops", "drops_per_ml": "23"},
    {"per_drop": "0.01mg", "volume": "10mL", "dose": "0.1mg", "source": "tablet", "tablet_weight": "200mg"},
    {"per_drop": "0.01mg", "volume": "30mL", "drops_per_ml": "20"},
    {"per_drop": "0.25mg/drop", "volume": "30mL", "source": "tablet"},
]


def contexts(make: Any, prescriptions: list[dict[str, Any]]) -> list[Any]:
    out = []
    for kwargs in prescriptions:
        if "strength" in kwargs and make is liquid_planning.liquid_context:
            args = dict(kwargs)
            plan, ctx = make(args.pop("strength"), **args)
        else:
            plan, ctx = make(**kwargs)
        assert ctx is not None, plan.findings
        out.append(ctx)
    return out


def arrays_of(obj: Any, prefix: str = "") -> dict[str, np.ndarray]:
    """Every array in a core result (nested results and dicts of masks too), by dotted name."""
    out: dict[str, np.ndarray] = {}
    items = obj.items() if isinstance(obj, dict) else ((f.name, getattr(obj, f.name)) for f in fields(obj))
    for name, value in items:
        if isinstance(value, np.ndarray):
            out[prefix + name] = value
        elif isinstance(value, dict) or hasattr(value, "__dataclass_fields__"):
            out.update(arrays_of(value, f"{prefix}{name}."))
    return out


def assert_row_equals(column: dict[str, np.ndarray], single: dict[str, np.ndarray], i: int) -> None:
    assert column.keys() == single.keys()
    for name, values in single.items():
        got, want = column[name][i], values[0]
        # Bit for bit: NaN where NaN, the same float64 elsewhere (no tolerance).
        assert np.array_equal(np.asarray(got), np.asarray(want), equal_nan=True), (name, i, got, want)


def test_liquid_core_on_a_column_equals_the_core_row_by_row():
    ctxs = contexts(liquid_planning.liquid_context, LIQUIDS)
    column = liquid_planning.compute_all(ctxs)
    assert column.device is not None
    for i, ctx in enumerate(ctxs):
        single = liquid_planning.compute(ctx)
        assert_row_equals(arrays_of(column.liquid), arrays_of(single.liquid), i)
        for name in ("dispensed_ml", "dose_volume", "days_supply"):
            assert np.array_equal(getattr(column, name)[i:i + 1], getattr(single, name), equal_nan=True)
        if ctx.dose is not None:
            assert single.device is not None
            assert_row_equals(arrays_of(column.device), arrays_of(single.device), i)


def test_drops_core_on_a_column_equals_the_core_row_by_row():
    ctxs = contexts(drops_planning.drops_context, DROPS)
    column = drops_planning.compute_all(ctxs)
    for i, ctx in enumerate(ctxs):
        single = drops_planning.compute(ctx)
        assert_row_equals(arrays_of(column.drops), arrays_of(single.drops), i)
        assert_row_equals(arrays_of(column.liquid), arrays_of(single.liquid), i)


@pytest.mark.parametrize(("module", "make", "prescriptions"), [
    (liquid_planning, liquid_planning.liquid_context, LIQUIDS),
    (drops_planning, drops_planning.drops_context, DROPS),
])
def test_a_plan_without_steps_has_the_same_numbers_and_findings(module, make, prescriptions):
    ctxs = contexts(make, prescriptions)
    column = module.compute_all(ctxs)
    for i, kwargs in enumerate(prescriptions):
        args = dict(kwargs)
        if module is liquid_planning:
            strength = args.pop("strength")
            with_steps, without = make(strength, **args)[0], make(strength, **args)[0]
        else:
            with_steps, without = make(**args)[0], make(**args)[0]
        module.complete(with_steps, column, i, ctxs[i])
        module.complete(without, column, i, ctxs[i], with_steps=False)
        full, bare = with_steps.to_dict(), without.to_dict()
        assert bare.pop("steps") == [] and full.pop("steps")
        assert bare == full
        assert with_steps.amounts == without.amounts  # unrounded too


def test_the_core_runs_once_per_block(monkeypatch):
    calls: dict[str, list[int]] = {"liquid": [], "drops": []}
    real_liquid, real_drops = liquid_planning.compute_all, drops_planning.compute_all

    def count(form, real):
        def wrapped(ctxs):
            calls[form].append(len(ctxs))
            return real(ctxs)
        return wrapped

    monkeypatch.setattr(liquid_planning, "compute_all", count("liquid", real_liquid))
    monkeypatch.setattr(drops_planning, "compute_all", count("drops", real_drops))
    rows = ([{"form": "liquid", **p} for p in LIQUIDS] * 3 + [{"form": "drops", **p} for p in DROPS] * 2)
    frame = pd.DataFrame(rows, dtype="str")
    cache = RunCache()
    plan_block(frame, cache=cache)
    # One call per form, on the distinct prescriptions (the repeats share a plan).
    assert calls == {"liquid": [len(LIQUIDS)], "drops": [len(DROPS)]}
    plan_block(frame, cache=cache)  # a later block of the same run: every plan is remembered
    assert calls == {"liquid": [len(LIQUIDS)], "drops": [len(DROPS)]}


def test_the_resolver_parses_and_resolves_each_input_once(monkeypatch):
    counted: dict[str, int] = {"coerce": 0, "source": 0, "vehicle": 0}
    real_coerce, real_source, real_vehicle = (liquid_planning.units.coerce, _source.resolve_source,
                                              _source.vehicle)

    def counting(name, real):
        def wrapped(*args, **kwargs):
            counted[name] += 1
            return real(*args, **kwargs)
        return wrapped

    monkeypatch.setattr(liquid_planning.units, "coerce", counting("coerce", real_coerce))
    monkeypatch.setattr(_source, "resolve_source", counting("source", real_source))
    monkeypatch.setattr(_source, "vehicle", counting("vehicle", real_vehicle))
    resolver = liquid_planning.Resolver(remember=True)
    for _ in range(3):
        assert resolver.amount("4.5mg", "mass", "dose") == 4.5
        assert resolver.source("tablet", tablet_weight="200mg").tablet_weight_mg == 200
        assert resolver.vehicle(None).key == "fawcett-1997"
    assert counted == {"coerce": 2, "source": 1, "vehicle": 1}  # 4.5mg, and 200mg in the source

    # Without remembering (a single plan), every call parses again.
    counted.update(coerce=0)
    for _ in range(3):
        liquid_planning.DIRECT.amount("4.5mg", "mass", "dose")
    assert counted["coerce"] == 3


def test_the_resolver_remembers_an_error_and_raises_it_each_time():
    resolver = liquid_planning.Resolver(remember=True)
    messages = []
    for _ in range(2):
        with pytest.raises(InputError) as caught:
            resolver.amount("4,5mg", "mass", "dose")
        messages.append((str(caught.value), caught.value.field))
    with pytest.raises(InputError) as direct:
        _source.amount("4,5mg", "mass", "dose")
    assert messages == [(str(direct.value), "dose")] * 2
    with pytest.raises(InputError, match="tablet"):
        resolver.source("api", tablet_weight="200mg")
    with pytest.raises(InputError, match="tablet"):
        resolver.source("api", tablet_weight="200mg")


def test_the_resolver_takes_quantities_too():
    resolver = liquid_planning.Resolver(remember=True)
    assert resolver.amount(Q_(4.5, "mg"), "mass", "dose") == 4.5
    assert resolver.amount(Q_(0.0045, "g"), "mass", "dose") == pytest.approx(4.5)


def row_of(out: pd.DataFrame, i: int) -> dict[str, Any]:
    return out.iloc[i].to_dict()


def test_worked_examples_through_a_batch():
    rows = [
        # prior-art T1: 1 x 50 mg tablet in 50 mL = 1 mg/mL; 4.5 mg = 4.5 mL; 50 / 4.5 = 11.1 -> 11 days;
        # 4.5 mL fits the 5 mL oral syringe (marked every 0.2 mL: 22.5 marks, not on a mark).
        {"form": "liquid", "strength": "1mg/mL", "volume": "50mL", "dose": "4.5mg",
         "vehicle": "purified-water"},
        # The liquid aliquot: 0.1 mg/mL x 30 mL = 3 mg < MWQ 120 mg (6 mg / 5 %). Stock 120 mg in
        # 100 mL = 1.2 mg/mL; 1.2 / 0.1 = 12: take 30 / 12 = 2.5 mL of stock into 30 mL.
        {"form": "liquid", "strength": "0.1mg/mL", "volume": "30mL", "source": "api",
         "vehicle": "purified-water"},
        # USP <1101> / uhphar: 46 drops in 2 mL = 23 drops/mL; 10 mg/mL, 4.5 mg: 4.5 x 23 / 10 = 10.35
        # -> 10 drops = 10 x 10 / 23 = 4.348 mg, 4.348 / 4.5 - 1 = -3.382 %.
        {"form": "drops", "strength": "10mg/mL", "volume": "30mL", "dose": "4.5mg",
         "calibration": "46 drops/2mL"},
        # The same prescription again: the same plan.
        {"form": "liquid", "strength": "1mg/mL", "volume": "50mL", "dose": "4.5mg",
         "vehicle": "purified-water"},
    ]
    out = plan_frame(pd.DataFrame(rows, dtype="str"))
    t1 = row_of(out, 0)
    assert (t1["tablets_to_crush"], t1["api_mg"], t1["dose_volume_ml"], t1["days_supply"]) == (1, 50, 4.5, 11)
    assert "5 mL" in t1["device"]
    assert t1["device_capacity_ml"] == 5 and t1["device_graduation_ml"] == 0.2
    assert "DOSE_VOLUME_NOT_GRADUATED" in t1["finding_codes"]
    aliquot = row_of(out, 1)
    assert (aliquot["api_mg"], aliquot["api_to_weigh_mg"], aliquot["stock_concentration_mg_per_ml"],
            aliquot["stock_volume_ml"], aliquot["aliquot_overall_factor"]) == (3, 120, 1.2, 100, 12)
    assert "stage 1: take 2.5 mL of the stock, make up to 30 mL" in aliquot["aliquot_steps"]
    drops = row_of(out, 2)
    assert (drops["drops_per_ml"], drops["drops_per_dose"], drops["dose_delivered_mg"],
            drops["dose_error_pct"]) == (23, 10, 4.348, -3.382)
    assert "DROPS_DOSE_ROUNDED" in drops["finding_codes"]
    again = out.iloc[3].drop("row")
    assert again.equals(out.iloc[0].drop("row"))


def test_rows_the_plan_refuses_to_read_are_errors_with_its_message():
    rows = [
        {"form": "liquid", "strength": "1mg/mL", "volume": "50mL", "days": "14", "dose": "4.5mg"},
        {"form": "liquid", "strength": "1mg/mL", "volume": "50mL", "days": "14", "dose": "3mg"},
        {"form": "drops", "strength": "10mg/mL", "volume": "30mL", "dose": "9 drops"},
        {"form": "liquid", "strength": "1mg/mL", "volume": "50mL"},
    ]
    out = plan_frame(pd.DataFrame(rows, dtype="str"))
    with pytest.raises(InputError) as both:
        liquid_planning.plan_liquid("1mg/mL", volume="50mL", days="14", dose="4.5mg")
    with pytest.raises(InputError) as drops_error:
        drops_planning.plan_drops(strength="10mg/mL", volume="30mL", dose="9 drops")
    assert out["status"].tolist() == ["error", "error", "error", "warning"]
    assert str(both.value) in out.loc[0, "errors"] and str(both.value) in out.loc[1, "errors"]
    assert str(drops_error.value) in out.loc[2, "errors"]
    assert pd.isna(out.loc[3, "errors"])


def test_refused_rows_show_no_amounts():
    # 150 mg/mL is above naltrexone HCl's solubility in water (about 100 mg/mL): refused.
    out = plan_frame(pd.DataFrame([{"form": "liquid", "strength": "150mg/mL", "volume": "30mL",
                                    "source": "api"}], dtype="str"))
    row = row_of(out, 0)
    assert row["status"] == "refused" and "CONCENTRATION_ABOVE_SOLUBILITY" in row["finding_codes"]
    assert pd.isna(row["api_mg"]) and pd.isna(row["volume_ml"])


@pytest.mark.parametrize("plan", [
    lambda: liquid_planning.plan_liquid("1mg/mL", volume="30mL", basis="salt", opioid_use=True),
    lambda: liquid_planning.plan_liquid("1mg/mL", volume="30mL", basis="salt"),
    lambda: drops_planning.plan_drops(strength="10mg/mL", volume="30mL", basis="salt", opioid_use=True),
])
def test_an_unknown_basis_is_an_input_error_even_when_the_plan_is_refused(plan):
    # The batch reads the basis cell first, so its row is an error: the plan must agree (an
    # opioid refusal used to return before the basis was looked at).
    with pytest.raises(InputError, match="basis 'salt' is not known"):
        plan()
