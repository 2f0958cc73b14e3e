"""One capsule plan runs the core on Python floats (issue 13); a batch runs it on columns.

The formulas are written once (compound.core.elementwise); these tests hold the two paths to
the same answers, bit for bit: every field of the core's result, and every figure and text
of the plan (JSON, findings' messages, working, worksheet).
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Any
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compound.core import capsules as core
from compound.core import elementwise as ew
from compound.errors import InputError
from compound.planning import capsules as planning
from compound.planning.capsules import plan as plan_module
from compound.planning.capsules import plan_capsules
from compound.planning.worksheet import render
from test_batch_equality import capsule_rows, kwargs_of

PLAN_SETTINGS = settings(max_examples=150, deadline=None,
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _same(a: Any, b: Any) -> bool:
    """Equal, NaN equal to NaN, and of the same kind (a float is not a bool)."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    return type(a) is type(b) and a == b


@contextmanager
def _columns_path() -> Any:
    """plan_capsules on the array path: one-row columns into the core, findings by the batch's rules."""
    real_inputs = core.CapsuleInputs

    def one_row(**kw: Any) -> core.CapsuleInputs:
        assert real_inputs(**kw).is_scalar  # plan_capsules asks for the float path
        return real_inputs(**{k: v if k == "rules" else [v] for k, v in kw.items()})

    def by_columns(result: core.CapsuleResult, i: int, ctx: Any) -> list[Any]:
        assert not result.is_scalar
        return planning.finding_columns(result, [ctx], np.zeros(len(result), dtype=np.int64)).row(i)

    with mock.patch.object(plan_module.core, "CapsuleInputs", one_row), \
            mock.patch.object(plan_module, "findings_for", by_columns):
        yield


def _plan(row: dict[str, str]) -> Any:
    return plan_capsules(row["strength"], row["count"], **kwargs_of(row, ("form", "strength", "count")))


@PLAN_SETTINGS
@given(capsule_rows())
def test_one_plan_on_floats_equals_the_plan_on_columns(row):
    try:
        scalar = _plan(row)
    except InputError:  # refused while reading the input, before the core: alike on both paths
        with _columns_path(), pytest.raises(InputError):
            _plan(row)
        return
    with _columns_path():
        columns = _plan(row)
    assert scalar.to_dict() == columns.to_dict()  # every rounded figure, finding message and step
    assert render(scalar) == render(columns)  # the worksheet's text
    assert [(f.code, f.severity, f.message, dict(f.data)) for f in scalar.findings] == \
        [(f.code, f.severity, f.message, dict(f.data)) for f in columns.findings]
    assert _same(dict(scalar.amounts), dict(columns.amounts))  # unrounded, too


def test_the_columns_path_really_is_taken_by_the_comparison():
    # Guard against a comparison of the float path with itself.
    seen = []
    real = core.compute_capsules

    def spy(inputs: core.CapsuleInputs) -> core.CapsuleResult:
        seen.append(inputs.is_scalar)
        return real(inputs)

    with mock.patch.object(plan_module.core, "compute_capsules", spy):
        plan_capsules("4.5mg", 30, tablet_weight="200mg")
        with _columns_path():
            plan_capsules("4.5mg", 30, tablet_weight="200mg")
    assert seen == [True, False]


_NUMBERS = {  # field: values, with the awkward ones (zero, negative, NaN, huge)
    "strength_mg": [4.5, 0.5, 0.001, 11.0, 4500.0, 0.0, -1.0, 3.3333333333333335, 1e300],
    "count": [30.0, 1.0, 0.0, 29.5, 10000.0, -3.0],
    "fill_weight_mg": [100.0, 20.0, 0.0, 1e-3],
    "mwq_mg": [120.0, 2.0, 20.0, 0.0],
    "overage_units": [0.0, 1.0, -1.0],
    "overage_fraction": [0.0, 0.05, 0.1, -0.05],
    "tablet_strength_mg": [50.0, math.nan, 0.0],
    "tablet_weight_mg": [200.0, math.nan, 11.0, 195.5],
    "assay": [math.nan, 0.992, 0.0, 9.92, 1.05],
    "water": [math.nan, 0.0871, 0.005, 1.0],
}
_FLAGS = ("basis_is_base", "source_is_tablet", "whole_tablet_route", "form_is_base", "form_is_dihydrate",
          "opioid_use", "opioid_override", "filler_avoid")


@settings(max_examples=400, deadline=None)
@given(st.fixed_dictionaries({**{k: st.sampled_from(v) for k, v in _NUMBERS.items()},
                              **{k: st.booleans() for k in _FLAGS}}))
def test_the_core_on_floats_equals_the_core_on_one_row_columns(values):
    rules = planning.capsule_rules()
    scalar = core.compute_capsules(core.CapsuleInputs(rules=rules, **values))
    columns = core.compute_capsules(core.CapsuleInputs(rules=rules, **{k: [v] for k, v in values.items()}))
    assert scalar.is_scalar and not columns.is_scalar
    assert _same(scalar.row(0), columns.row(0))


def test_a_usual_plan_never_builds_a_column_and_a_zero_count_falls_back_to_one():
    calls = []
    real = core.CapsuleInputs.columns

    def counted(self: core.CapsuleInputs) -> core.CapsuleInputs:
        calls.append(self.count)
        return real(self)

    with mock.patch.object(core.CapsuleInputs, "columns", counted):
        plan_capsules("4.5mg", 30, tablet_weight="200mg", fill_weight="100mg")
        plan_capsules("0.5mg", 30, source="api", assay="99.2%")  # triturated
        assert calls == []
        # 0 capsules: the shortcut divides by zero, which floats refuse: the columns answer.
        refused = plan_capsules("4.5mg", 0, tablet_weight="200mg")
    assert calls == [0.0]
    assert {f.code for f in refused.findings} >= {"COUNT_NOT_POSITIVE"}


SPECIAL = [0.0, -0.0, 0.5, 1.5, 2.5, -2.5, 1e-300, 1e300, math.inf, -math.inf, math.nan, 3.0000000001,
           2.9999999999999996, 7.0]


@pytest.mark.parametrize("x", SPECIAL)
def test_elementwise_functions_give_numpys_answer_on_a_float(x):
    for name in ("isfinite", "isnan", "fabs", "floor", "ceil", "rint", "sign", "nan_to_num", "log"):
        with np.errstate(all="ignore"):
            expected = getattr(ew, name)(np.array([x]))[0].item()
            got = getattr(ew, name)(x)
        assert _same(got, expected), (name, x)
    for y in SPECIAL:
        with np.errstate(all="ignore"):
            assert _same(ew.maximum(x, y), np.maximum(np.array([x]), y)[0].item()), (x, y)
            assert _same(ew.power(abs(x), y), np.power(np.array([abs(x)]), y)[0].item()), (x, y)
            assert _same(ew.divide(x, y), (np.array([x]) / y)[0].item()), (x, y)
    assert ew.not_(True) is False and ew.not_(False) is True  # not ~True, which is -2
    assert ew.where(True, 1.0, 2.0) == 1.0 and ew.where(False, 1.0, 2.0) == 2.0


def test_times_into_writes_a_column_in_place_and_multiplies_floats():
    column = np.array([1.5, -0.0, np.nan, 2.0])
    result = ew.times_into(column, np.array([2.0, 1.0, 1.0, np.nan]))
    assert result is column
    assert all(_same(a, b) for a, b in zip(result.tolist(), [3.0, -0.0, math.nan, math.nan], strict=True))
    assert _same(ew.times_into(1.5, 2.0), 3.0) and _same(ew.times_into(-0.0, 1.0), -0.0)


def test_and_then_skips_the_figures_only_where_no_row_can_have_the_finding():
    calls: list[int] = []

    def then() -> Any:
        calls.append(1)
        return np.array([True, False, True])

    mask = np.array([True, True, False])
    assert ew.and_then(mask, then).tolist() == [True, False, False] and calls == [1]
    none = np.zeros(3, dtype=np.bool_)
    result = ew.and_then(none, then)
    assert result.tolist() == [False] * 3 and result.dtype == np.bool_ and result is not none and calls == [1]
    assert ew.and_then(True, lambda: 1.0 > 2.0) is False and ew.and_then(True, lambda: 2.0 > 1.0) is True
    assert ew.and_then(False, then) is False and calls == [1]
