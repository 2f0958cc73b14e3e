"""Issue 9, "done means": every 10x and 1000x slip of strength, dose and concentration.

On capsules, liquids and drops, a slip (mg<->mcg = x1000 or /1000, a decimal point = x10 or
/10) of any one of the figures either gives a correct plan, is refused, or is warned with a
finding that names the slip (UNIT_SLIP_SUSPECTED). "Correct" is checked against the figures
as typed: the dose delivered within +/-10 % (USP <795>), at least one dose in the container,
at most 20 drops a dose and a batch within rules.toml [batch_limits].
"""

from __future__ import annotations

import itertools
from collections import Counter
from decimal import Decimal

from compound.planning.capsules import plan_capsules
from compound.planning.drops import plan_drops
from compound.planning.liquid import plan_liquid

FACTORS = [Decimal(1000), Decimal("0.001"), Decimal(10), Decimal("0.1")]
DOSES = ["0.5", "1", "1.5", "3", "4.5"]


def slipped(number: str, factor: Decimal, unit: str) -> str:
    return f"{(Decimal(number) * factor).normalize():f}" + unit


def named_or_refused(plan) -> bool:
    return plan.refused or plan.finding("UNIT_SLIP_SUSPECTED") is not None


def outcome(plan) -> str:
    return "refused" if plan.refused else "named" if named_or_refused(plan) else "planned"


def within(delivered: float, prescribed: float) -> bool:
    return abs(delivered / prescribed - 1) <= 0.1 + 1e-9


def test_every_capsule_strength_slip():
    seen: Counter[str] = Counter()
    for dose, factor in itertools.product(DOSES, FACTORS):
        plan = plan_capsules(slipped(dose, factor, "mg"), 30, tablet_weight="200mg")
        seen[outcome(plan)] += 1
        if named_or_refused(plan):
            continue
        d = plan.to_dict()
        assert within(d["actual_strength_mg"], float(Decimal(dose) * factor)), (dose, factor)
        assert d["capsules_to_prepare"] <= 10000
    # x1000 is refused (above 10 mg); /1000 (0.5-4.5 mcg) is named; x10 and /10 mostly planned.
    assert seen["refused"] >= 5 and seen["named"] >= 5 and seen["planned"] >= 5


def test_every_liquid_slip():
    seen: Counter[str] = Counter()
    for args in itertools.product(DOSES, ["0.5", "1", "2"], ["30", "100"], ["strength", "dose"],
                                  FACTORS):
        seen[_liquid(*args)] += 1
    assert seen["refused"] and seen["named"] and seen["planned"]


def _liquid(dose: str, strength: str, volume: str, which: str, factor: Decimal) -> str:
    c = slipped(strength, factor, "mg/mL") if which == "strength" else f"{strength}mg/mL"
    dd = slipped(dose, factor, "mg") if which == "dose" else f"{dose}mg"
    plan = plan_liquid(c, volume=f"{volume}mL", dose=dd, source="api", vehicle="purified-water")
    if named_or_refused(plan):
        return outcome(plan)
    d = plan.to_dict()
    typed_dose = float(Decimal(dose) * (factor if which == "dose" else 1))
    assert within(d["dose_volume_ml"] * d["concentration_mg_per_ml"], typed_dose), (c, dd)
    assert d["days_supply"] >= 1 and d["volume_ml"] <= 5000
    return "planned"


def test_every_drops_slip():
    seen: Counter[str] = Counter()
    for args in itertools.product(DOSES, ["strength:10", "strength:5", "per_drop:0.5",
                                          "per_drop:0.25"], ["strength", "dose"], FACTORS,
                                  [None, "23"]):
        seen[_drops(*args)] += 1
    assert seen["refused"] and seen["planned"]


def _drops(dose: str, form: str, which: str, factor: Decimal, calibration: str | None) -> str:
    kind, number = form.split(":")
    unit = "mg/mL" if kind == "strength" else "mg"
    value = slipped(number, factor, unit) if which == "strength" else f"{number}{unit}"
    dd = slipped(dose, factor, "mg") if which == "dose" else f"{dose}mg"
    plan = plan_drops(**{kind: value}, drops_per_ml=calibration, volume="30mL", dose=dd,
                      source="api", vehicle="purified-water")
    if named_or_refused(plan):
        return outcome(plan)
    d = plan.to_dict()
    assert abs(d["dose_error_pct"]) <= 10 + 1e-9, (value, dd)
    assert 1 <= d["drops_per_dose"] <= 20 and d["days_supply"] >= 1
    return "planned"
