"""Issue 9, point 12: two lots of one ingredient share the plan's amount; a check needs a second person.

The worked capsule plan: 31 capsules x 100 mg = 3100 mg blend; 558 mg tablet powder; filler
3100 - 558 = 2542 mg (README "Capsules"). Today is 2025-03-10 (conftest).
"""

from __future__ import annotations

import re

import pytest

from compound.errors import InputError
from compound.register import Register

PLAN = ["plan", "capsules", "--strength", "4.5mg", "--count", "30", "--overage", "1",
        "--tablet-weight", "200mg", "--fill-weight", "100mg", "--compounded", "2025-03-10",
        "--ingredient-lot", "NTX2403"]


@pytest.fixture
def run(cli):
    return cli


@pytest.fixture
def received(run):
    assert run("lots", "receive", "naltrexone-hcl-50mg-tablet", "NTX2403", "--expiry", "2026-05",
               "--tablet-weight", "200mg", "--by", "AB")[0] == 0
    for lot in ("MCC77", "MCC78"):
        assert run("lots", "receive", "mcc", lot, "--expiry", "2026-08-31", "--by", "AB")[0] == 0


def components(out: str) -> dict[str, tuple[float, str]]:
    number = re.search(r'"lot_number": "([^"]+)"', out).group(1)
    with Register.open() as register:
        return {c.lot_number: (c.amount, c.unit) for c in register.get(number).components}


def test_two_filler_lots_without_amounts_are_refused_and_told_how(run, received):
    code, _, err = run(*PLAN, "--ingredient-lot", "MCC77", "--ingredient-lot", "MCC78", "--save",
                       "--by", "AB", "--json")
    assert code == 2
    assert "MCC77 and MCC78" in err and "2542 mg" in err
    assert "--ingredient-lot MCC77=AMOUNT --ingredient-lot MCC78=AMOUNT" in err
    with Register.open() as register:
        assert register.list_lots() == []  # nothing recorded


def test_two_filler_lots_split_the_plans_amount(run, received):
    # 1271 + 1271 = 2542 mg; the tablets 3 from NTX2403.
    code, out, err = run(*PLAN, "--ingredient-lot", "MCC77=1271mg", "--ingredient-lot",
                         "MCC78=1.271g", "--save", "--by", "AB", "--checked-by", "CD", "--json")
    assert code == 0, err
    assert components(out) == {"NTX2403": (3, "tablet"), "MCC77": (1271, "mg"),
                               "MCC78": (1271, "mg")}


def test_a_split_that_does_not_add_up_is_refused(run, received):
    code, _, err = run(*PLAN, "--ingredient-lot", "MCC77=1271mg", "--ingredient-lot", "MCC78=1000mg",
                       "--save", "--by", "AB", "--json")
    assert code == 2 and "add up to 2271 mg, but the plan uses 2542 mg" in err


def test_the_same_lot_twice_is_refused(run, received):
    code, _, err = run(*PLAN, "--ingredient-lot", "MCC77", "--ingredient-lot", "mcc77", "--save",
                       "--by", "AB", "--json")
    assert code == 2 and "named twice" in err


def test_the_checker_must_be_a_second_person(run, received):
    code, _, err = run(*PLAN, "--ingredient-lot", "MCC77", "--save", "--by", "AB",
                       "--checked-by", "ab", "--json")
    assert code == 2 and "second person" in err
    with Register.open() as register, pytest.raises(InputError, match="second person"):
        register.record_lot(
            kind="capsules", description="x", quantity=30, quantity_unit="capsules",
            plan={"kind": "capsules", "status": "ok"}, compounded="2025-03-10",
            beyond_use_date="2025-09-05", bud_limit="rule", bud_source="USP <795>",
            stability_window_days=None, storage="room", compounded_by="AB", checked_by="AB",
            components=[("NTX2403", 3, "tablets")])


def test_one_lot_per_ingredient_records_the_plans_amount(run, received):
    code, out, err = run(*PLAN, "--ingredient-lot", "MCC77", "--save", "--by", "AB", "--json")
    assert code == 0, err
    assert components(out)["MCC77"] == (2542, "mg")
