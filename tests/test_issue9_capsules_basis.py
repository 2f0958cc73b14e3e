"""Issue 9, points 5-8: absurd sizes, impossible fills, the check weight, the salt basis.

Each figure is worked by hand in the comment above it.
"""

from __future__ import annotations

import pytest

from compound.core.units import parse, parse_overage
from compound.errors import UnitInputError
from compound.planning.capsules import plan_capsules
from compound.planning.dilution import plan_dilution
from compound.planning.drops import plan_drops
from compound.planning.liquid import plan_liquid
from compound.planning.titration import titrate


def test_point5_a_capsule_batch_above_10000_is_refused_with_the_limit():
    # 1,000,000,000 capsules > 10,000 (rules.toml [batch_limits], pharmacy policy).
    plan = plan_capsules("4.5mg", "1000000000")
    f = plan.finding("BATCH_TOO_LARGE")
    assert plan.refused and f.data["limit"] == 10000 and "Pharmacy policy" in f.data["source"]
    assert "tablets_to_crush" not in plan.to_dict()
    # The overage counts: 9,999 + 2 extra = 10,001.
    assert plan_capsules("4.5mg", 9999, overage="2").finding("BATCH_TOO_LARGE") is not None
    assert not plan_capsules("4.5mg", 10000, tablet_weight="200mg").refused


@pytest.mark.parametrize("args", [
    ["plan", "capsules", "--strength", "4.5mg", "--count", "99999999999999999999"],
    ["plan", "capsules", "--strength", "4.5mg", "--count", "1" + "0" * 400],
    ["plan", "liquid", "--strength", "1mg/mL", "--volume", "1" + "0" * 400 + "mL"],
    ["titrate", "--protocol", "dickson", "--start", "2025-06-02", "--form", "capsules",
     "--overage", "1000000000%"],
])
def test_point5_a_huge_number_is_an_input_error_not_an_overflow(cli, args):
    code, _out, err = cli(*args)
    assert code == 2 and "Traceback" not in err and "Overflow" not in err
    assert "error:" in err


def test_point5_parsing_limits():
    # A double holds 15 significant digits exactly (sys.float_info.dig): 16 are refused.
    assert parse("999999999999999", "count").value == 999999999999999
    with pytest.raises(UnitInputError, match="more than 15 digits"):
        parse("9999999999999999", "count")
    # An overage above 100 % is more than the batch itself.
    assert parse_overage("100%") == (0, 1.0)
    with pytest.raises(UnitInputError, match="more than the batch itself"):
        parse_overage("1000000000%")


def test_point5_titrate_with_a_huge_unit_overage_shows_the_refused_batch():
    # 1,000,000,000 extra capsules: every unit's plan check is BATCH_TOO_LARGE.
    plan = titrate(protocol="dickson", start="2025-06-02", form="capsules", overage="1000000000")
    units = [u for o in plan.to_dict()["options"] for u in o.get("units", [])]
    assert units and all(u["plan_status"] == "refused" and "BATCH_TOO_LARGE" in u["plan_warnings"]
                         for u in units)


def test_point6_fill_weight_far_below_the_size_is_warned_with_the_expected_range():
    # Size 3 = 0.30 mL (capsule_sizes.csv) x MCC 0.28-0.33 g/mL (excipients.csv) = 84-99 mg;
    # 5 mg < 0.5 x 84 = 42 mg (rules.toml [capsule] min_fill_fraction_of_capacity).
    plan = plan_capsules("0.5mg", 30, source="api", fill_weight="5mg", capsule_size="3")
    f = plan.finding("FILL_WEIGHT_LOW_FOR_SIZE")
    assert f.severity.name == "WARNING"
    assert (f.data["expected_low_mg"], f.data["expected_high_mg"]) == (84, 99)
    assert "84 mg–99 mg" in f.message and "size 3" in f.message
    # 60 mg is above 42 mg: no warning.
    assert plan_capsules("0.5mg", 30, source="api", fill_weight="60mg").finding(
        "FILL_WEIGHT_LOW_FOR_SIZE") is None


def test_point7_a_capsule_lighter_than_the_mwq_is_check_weighed_in_groups():
    # Class III balance: MWQ = 6 mg / 5 % = 120 mg (USP <1176>); an 84 mg capsule is below it:
    # weigh ceil(120 / 84) = 2 capsules together (168 mg).
    plan = plan_capsules("4.5mg", 30, tablet_weight="200mg")
    f = plan.finding("CHECK_WEIGHT_BELOW_MWQ")
    assert f.data["group_of"] == 2 and "groups of 2 capsules" in f.message and "168 mg" in f.message
    # A 4-place balance (sensitivity 1 mg, MWQ 20 mg) weighs one capsule: no finding.
    assert plan_capsules("4.5mg", 30, tablet_weight="200mg", balance="analytical-0.1mg").finding(
        "CHECK_WEIGHT_BELOW_MWQ") is None


@pytest.mark.parametrize("make", [
    lambda: plan_capsules("1.5mg", 30, basis="base", tablet_weight="200mg"),
    lambda: plan_liquid("1mg/mL", volume="30mL", dose="1.5mg", basis="base", source="api"),
    lambda: plan_drops(strength="10mg/mL", drops_per_ml=20, volume="10mL", dose="1.5mg",
                       basis="base"),
    lambda: plan_dilution("0.01mg/mL", volume="30mL", dose="1.5mg", basis="base", source="api"),
])
def test_point8_a_base_prescription_shows_its_hcl_equivalent_on_every_form(make):
    # 1.5 mg base x 377.86 / 341.41 (molecules.csv) = 1.660 mg HCl, +10.68 %.
    plan = make()
    f = plan.finding("BASIS_BASE")
    assert f is not None and f.severity.name == "WARNING"
    assert f.data["as_base"] == 1.5 and f.data["as_hcl"] == 1.66 and f.data["difference_pct"] == 10.68
    assert "1.5 mg base = 1.66 mg naltrexone HCl" in f.message and "--basis hcl" in f.message


def test_point8_no_basis_finding_for_hcl():
    assert plan_capsules("1.5mg", 30, tablet_weight="200mg").finding("BASIS_BASE") is None


@pytest.mark.parametrize("container", ["amber", "Amber glass bottle", "light-resistant",
                                       "light resistant"])
def test_point11_a_study_container_matches_by_synonym(cli, container):
    # Fawcett 1997 used an amber bottle: studies.toml [container.light-resistant] lists "amber".
    # Refrigerated: 60 days from 2025-03-10, Day 1 = 2025-05-08.
    code, out, _err = cli(*["bud", "--category", "aqueous-preserved", "--compounded",
                                   "2025-03-10", "--study", "fawcett-1997", "--attest",
                                   "--storage", "refrigerated", "--container", container])
    assert code == 0 and "Beyond-use date: 2025-05-08" in out


def test_point11_a_different_container_is_still_a_mismatch(cli):
    code, out, _err = cli(*["bud", "--category", "aqueous-preserved", "--compounded",
                                   "2025-03-10", "--study", "fawcett-1997", "--attest",
                                   "--storage", "refrigerated", "--container", "clear glass"])
    assert code == 3 and "container was light-resistant, this preparation's is clear glass" in out
