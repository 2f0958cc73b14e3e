"""assign_bud: the USP <795> table, attested studies, policies and every other limit.

Expected dates are counted by hand in the comments (Day 1: BUD = compounded +
N − 1; Day 0: compounded + N). Sources: domain.md §3, prior-art §6 T2, T4,
T20, T23.
"""

from __future__ import annotations

import datetime as dt

import pytest

import compound
from compound.catalog import loader
from compound.core.findings import Severity
from compound.errors import CatalogError, DateInputError, FormulationRefused, InputError
from compound.planning.stability import (
    assign_bud,
    bud_rule,
    category_for_plan,
    policy,
    storages,
    study,
)

D = dt.date


def codes(result):
    return {f.code: f.severity for f in result.findings}


def message(result, code):
    return next(f.message for f in result.findings if f.code == code)


# ----------------------------------------------------------------------------- T23


@pytest.mark.parametrize(("category", "storage", "day0", "day1"), [
    # compounded 2025-01-01: + N (Day 0) and + N - 1 (Day 1); arithmetic in test_bud_core T23.
    ("aqueous-unpreserved", "refrigerated", D(2025, 1, 15), D(2025, 1, 14)),
    ("aqueous-preserved", None, D(2025, 2, 5), D(2025, 2, 4)),
    ("nonaqueous-liquid", None, D(2025, 4, 1), D(2025, 3, 31)),
    ("nonaqueous-solid", "room", D(2025, 6, 30), D(2025, 6, 29)),
])
def test_t23_usp795_2023_defaults(category, storage, day0, day1):
    zero = assign_bud(category, "2025-01-01", storage=storage, day_zero=True)
    one = assign_bud(category, D(2025, 1, 1), storage=storage)
    assert zero.beyond_use_date == day0 and zero.day_counting == "day-0"
    assert one.beyond_use_date == day1 and one.day_counting == "day-1"
    assert one.limit.kind == "rule" and "USP <795> (2023) Table 4" in one.limit.source
    assert one.stability_window_days is None
    assert one.status == "ok"  # at most an info finding (storage assumed)


def test_rule_days_come_from_the_data_table():
    assert [bud_rule(k).days for k in ("aqueous-unpreserved", "aqueous-preserved",
                                       "nonaqueous-liquid", "nonaqueous-solid")] == [14, 35, 90, 180]
    assert bud_rule("aqueous-unpreserved").storage == ("refrigerated",)


def test_year_boundary_and_leap_day_through_the_planner():
    # 2025-12-20, aqueous-unpreserved 14 days, Day 1: + 13 -> 2026-01-02.
    assert assign_bud("aqueous-unpreserved", "2025-12-20").beyond_use_date == D(2026, 1, 2)
    # 2028-02-16 + 13 = 2028-02-29 (leap day).
    assert assign_bud("aqueous-unpreserved", "2028-02-16").beyond_use_date == D(2028, 2, 29)
    # 2028-01-15, capsules 180 days, Day 1: + 179 -> 2028-07-12 (counted in test_bud_core).
    assert assign_bud("nonaqueous-solid", "2028-01-15").beyond_use_date == D(2028, 7, 12)


def test_storage_defaults_are_stated():
    only = assign_bud("aqueous-unpreserved", "2025-03-10")
    assert only.storage == "refrigerated"
    solid = assign_bud("nonaqueous-solid", "2025-03-10")
    assert solid.storage == "room"
    assert codes(solid)["STORAGE_ASSUMED"] is Severity.INFO
    assert "STORAGE_ASSUMED" not in codes(assign_bud("nonaqueous-solid", "2025-03-10",
                                                     storage="room"))


# ----------------------------------------------------------------------------- refusals


def test_storage_the_category_does_not_allow_is_refused_without_a_date():
    r = assign_bud("aqueous-unpreserved", "2025-03-10", storage="room")
    assert r.refused and codes(r)["STORAGE_NOT_ALLOWED"] is Severity.REFUSAL
    assert r.beyond_use_date is None and r.limit is None
    msg = message(r, "STORAGE_NOT_ALLOWED")
    assert "in a refrigerator (2–8 °C)" in msg and "--storage refrigerated" in msg
    d = r.to_dict()
    assert d["status"] == "refused"
    assert "beyond_use_date" not in d and "limit" not in d and "stability_window_days" not in d
    with pytest.raises(FormulationRefused, match="must be stored in a refrigerator") as err:
        r.raise_if_refused()
    assert err.value.exit_code == 3


def test_component_expired_before_compounding_is_refused():
    # Expiry 2025-03-09 and 2025-02 (= 2025-02-28) are both before 2025-03-10.
    r = assign_bud("nonaqueous-solid", "2025-03-10",
                   component_expiries=[("tablets lot A", "2025-03-09"), ("MCC lot B", "2025-02")])
    assert r.refused and codes(r)["COMPONENT_EXPIRED"] is Severity.REFUSAL
    msg = message(r, "COMPONENT_EXPIRED")
    assert "tablets lot A expired 2025-03-09" in msg and "MCC lot B expired 2025-02-28" in msg
    assert r.beyond_use_date is None


def test_component_expiring_on_the_compounding_day_gives_that_day():
    r = assign_bud("nonaqueous-solid", "2025-03-10", storage="room",
                   component_expiries=[("tablets", "2025-03-10")])
    assert not r.refused and r.beyond_use_date == D(2025, 3, 10)
    assert r.limit.kind == "component-expiry"


def test_sub_lot_past_its_bud_is_refused():
    r = assign_bud("nonaqueous-solid", "2025-03-10", sub_lot_buds=[("trit T1", "2025-03-09")])
    assert codes(r)["SUB_LOT_EXPIRED"] is Severity.REFUSAL and r.beyond_use_date is None


# ----------------------------------------------------------------------------- T20, expiries


def test_t20_sub_lot_bud_earlier_than_the_rule_wins():
    # Pharmetika T20: formula span 180 d, a sub-formula lot with a 120-day BUD -> lot BUD 120 d.
    # Sub-lot made 2025-01-01 with 120 days, Day 1: + 119 -> Jan 31 (+30), Feb 28 (+58),
    # Mar 31 (+89), Apr 30 (+119) = 2025-04-30. Main lot 2025-01-01, 180 d -> 2025-06-29.
    r = assign_bud("nonaqueous-solid", "2025-01-01", storage="room",
                   component_expiries=[("tablets", "2027-01-31")],
                   sub_lot_buds=[("trituration T1", "2025-04-30")])
    assert r.beyond_use_date == D(2025, 4, 30)
    assert r.limit.kind == "sub-lot" and r.limit.name == "trituration T1"
    assert "sub-lot" in r.limit.source.lower()
    assert [lim.kind for lim in r.limits] == ["rule", "component-expiry", "sub-lot"]
    assert r.limits[0].date == D(2025, 6, 29)
    assert "sub-lot trituration T1 has a BUD of 2025-04-30" in r.explanation


def test_component_expiry_earlier_wins_and_is_cited():
    # Capsules 2025-03-10: rule 2025-09-05 (+179). Tablets expire 2025-06-15: earlier.
    r = assign_bud("nonaqueous-solid", "2025-03-10", storage="room",
                   component_expiries=[("naltrexone 50 mg tablets lot A123", "2025-06-15"),
                                       ("MCC lot M9", "2026-01-31")])
    assert r.beyond_use_date == D(2025, 6, 15)
    assert r.limit.kind == "component-expiry"
    assert r.limit.name == "naltrexone 50 mg tablets lot A123"
    assert "expiration date of any component" in r.limit.source
    assert "component naltrexone 50 mg tablets lot A123 expires on 2025-06-15" in r.explanation


def test_expiry_written_as_a_month_is_its_last_day_and_is_stated():
    # 2025-06 -> 2025-06-30, before the rule's 2025-09-05.
    r = assign_bud("nonaqueous-solid", "2025-03-10", storage="room",
                   component_expiries=[("tablets", "2025-06")])
    assert r.beyond_use_date == D(2025, 6, 30)
    assert codes(r)["EXPIRY_MONTH_END"] is Severity.INFO
    # The reading is studies.toml's month_rule, in the note as in the finding.
    assert r.limit.note == ("expiry 2025-06 read as 2025-06-30 (an expiry written YYYY-MM is in "
                            "date until the last day of that month)")
    # February of a leap year.
    leap = assign_bud("nonaqueous-solid", "2028-01-15", storage="room",
                      component_expiries=[("tablets", "2028-02")])
    assert leap.beyond_use_date == D(2028, 2, 29)


def test_ties_are_reported():
    # Rule 2025-09-05 and a component expiring the same day: the rule is listed first and
    # wins; the component is reported as tied.
    r = assign_bud("nonaqueous-solid", "2025-03-10", storage="room",
                   component_expiries=[("tablets", "2025-09-05")])
    assert r.beyond_use_date == D(2025, 9, 5)
    assert r.limit.kind == "rule"
    assert [(t.kind, t.name) for t in r.ties] == [("component-expiry", "tablets")]
    assert "Tie: component-expiry tablets" in r.explanation
    assert r.to_dict()["ties"][0]["date"] == "2025-09-05"


# ----------------------------------------------------------------------------- cote-2018 (T4)


def test_cote_2018_under_usp795_2023_is_capped_at_180_days():
    # 2025-03-10 + 180 - 1: Mar 31 (+21), Apr 30 (+51), May 31 (+82), Jun 30 (+112),
    # Jul 31 (+143), Aug 31 (+174), Sep 5 (+179) = 2025-09-05.
    # Window 360 d: 2025-03-10 + 365 = 2026-03-10 (no Feb 29 between), so + 359 = 2026-03-04.
    r = assign_bud("nonaqueous-solid", "2025-03-10", study="cote-2018", attest=True)
    assert r.beyond_use_date == D(2025, 9, 5)
    assert r.limit.kind == "policy-cap" and r.limit.days == 180
    assert "Maxima" in r.limit.source and "not verified" in r.limit.source
    assert r.stability_window_days == 360 and r.stability_window_end == D(2026, 3, 4)
    assert r.storage == "room" and r.policy == "usp795-2023"
    assert codes(r)["STUDY_WINDOW_CAPPED"] is Severity.INFO
    assert [lim.kind for lim in r.limits] == ["study", "policy-cap"]


def test_cote_2018_under_the_study_policy_gives_360_days_with_a_warning():
    r = assign_bud("nonaqueous-solid", "2025-03-10", study="cote-2018", attest=True,
                   policy="study")
    assert r.beyond_use_date == D(2026, 3, 4)
    assert r.limit.kind == "study" and r.limit.days == 360
    assert "Int J Pharm Compd" in r.limit.source
    assert r.stability_window_days == 360
    assert codes(r)["BUD_BEYOND_USP795_CAP"] is Severity.WARNING
    # Day 0: + 360 = 2026-03-05.
    zero = assign_bud("nonaqueous-solid", "2025-03-10", study="cote-2018", attest=True,
                      policy="study", day_zero=True)
    assert zero.beyond_use_date == D(2026, 3, 5) and zero.stability_window_end == D(2026, 3, 5)


def test_cote_2018_checks_filler_and_storage():
    ok = assign_bud("nonaqueous-solid", "2025-03-10", study="cote-2018", attest=True,
                    preparation={"filler": "Avicel", "container": "light-resistant"})
    assert not ok.refused
    lactose = assign_bud("nonaqueous-solid", "2025-03-10", study="cote-2018", attest=True,
                         preparation={"filler": "lactose"})
    assert codes(lactose)["STUDY_MISMATCH"] is Severity.REFUSAL
    assert "its filler was mcc, this preparation's is lactose-anhydrous" in \
        message(lactose, "STUDY_MISMATCH")
    fridge = assign_bud("nonaqueous-solid", "2025-03-10", storage="refrigerated",
                        study="cote-2018", attest=True)
    assert codes(fridge)["STUDY_MISMATCH"] is Severity.REFUSAL
    assert "it tested storage at controlled room temperature" in message(fridge, "STUDY_MISMATCH")


def test_a_study_without_attestation_is_refused():
    r = assign_bud("nonaqueous-solid", "2025-03-10", study="cote-2018")
    assert codes(r)["STUDY_NOT_ATTESTED"] is Severity.REFUSAL
    msg = message(r, "STUDY_NOT_ATTESTED")
    assert "--attest" in msg and "microcrystalline cellulose" in msg and "180 days" in msg
    assert r.beyond_use_date is None


# ----------------------------------------------------------------------------- fawcett-1997 (T2)


def test_t2_fawcett_1997_refrigerated_60_days():
    # 2025-03-10 + 60 - 1 = + 59: Mar 31 (+21), Apr 30 (+51), May 8 (+59) = 2025-05-08.
    r = assign_bud("aqueous-preserved", "2025-03-10", storage="refrigerated",
                   study="fawcett-1997", attest=True,
                   preparation={"vehicle": "fawcett-1997", "concentration": "1mg/mL",
                                "container": "light-resistant"})
    assert r.beyond_use_date == D(2025, 5, 8)
    assert r.limit.kind == "study" and r.limit.days == 60
    assert "Ann Pharmacother" in r.limit.source
    assert r.stability_window_days == 60
    # 60 > 35-day default: USP <51> antimicrobial effectiveness testing is flagged.
    assert codes(r)["EXTENSION_REQUIREMENT"] is Severity.WARNING


def test_t2_fawcett_1997_room_temperature_30_days_is_shorter_than_the_default():
    # + 29: Mar 31 (+21), Apr 8 (+29) = 2025-04-08 (the USP default would give 35 d).
    r = assign_bud("aqueous-preserved", "2025-03-10", storage="room", study="fawcett-1997",
                   attest=True)
    assert r.beyond_use_date == D(2025, 4, 8) and r.limit.days == 30
    assert codes(r)["STUDY_SHORTER_THAN_DEFAULT"] is Severity.INFO


def test_fawcett_without_a_storage_asks_which():
    with pytest.raises(InputError, match="different BUD for each storage") as err:
        assign_bud("aqueous-preserved", "2025-03-10", study="fawcett-1997", attest=True)
    assert "--storage refrigerated or --storage room" in err.value.hint


def test_fawcett_for_capsules_is_refused():
    r = assign_bud("nonaqueous-solid", "2025-03-10", storage="room", study="fawcett-1997",
                   attest=True)
    assert codes(r)["STUDY_MISMATCH"] is Severity.REFUSAL
    assert "it studied aqueous-preserved preparations, this one is nonaqueous-solid" in \
        message(r, "STUDY_MISMATCH")


@pytest.mark.parametrize(("prep", "what"), [
    ({"concentration": "5mg/mL"}, "it tested 1 mg/mL, this preparation is 5 mg/mL"),
    ({"vehicle": "purified-water"}, "its vehicle was fawcett-1997"),
    ({"container": "clear"}, "its container was light-resistant"),
])
def test_fawcett_preparation_mismatches_are_named(prep, what):
    r = assign_bud("aqueous-preserved", "2025-03-10", storage="refrigerated",
                   study="fawcett-1997", attest=True, preparation=prep)
    assert r.refused and what in message(r, "STUDY_MISMATCH")


def test_fawcett_unpreserved_at_room_is_refused_twice_over():
    r = assign_bud("aqueous-unpreserved", "2025-03-10", storage="room", study="fawcett-1997",
                   attest=True)
    assert {"STORAGE_NOT_ALLOWED", "STUDY_MISMATCH"} <= set(codes(r))


def test_a_known_shorter_study_warns_when_not_used():
    r = assign_bud("aqueous-preserved", "2025-03-10", storage="room",
                   preparation={"vehicle": "fawcett-1997"})
    assert r.beyond_use_date == D(2025, 4, 13)  # + 34: Mar 31 (+21), Apr 13 (+34)
    assert codes(r)["STUDY_SUGGESTS_SHORTER_BUD"] is Severity.WARNING


def test_attest_without_a_study_is_noted():
    assert codes(assign_bud("nonaqueous-solid", "2025-03-10", attest=True))[
        "ATTEST_WITHOUT_STUDY"] is Severity.INFO


# ----------------------------------------------------------------------------- input errors


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"category": "aqueous"}, "category"),
    ({"study": "smith-2020"}, "study"),
    ({"policy": "usp795-2019"}, "policy"),
    ({"storage": "freezer"}, "storage"),
    ({"preparation": {"colour": "red"}}, "preparation"),
    ({"preparation": {"filler": "chalk"}}, "filler"),
])
def test_unknown_names_are_input_errors(kwargs, field):
    args = {"category": "nonaqueous-solid", **kwargs}
    with pytest.raises(InputError) as err:
        assign_bud(args.pop("category"), "2025-03-10", **args)
    assert err.value.field == field and err.value.exit_code == 2
    assert "Known" in (err.value.hint or "") or "Use one of" in (err.value.hint or "")


@pytest.mark.parametrize(("kwargs", "text"), [
    ({"compounded": "2025-02-30"}, "February 2025 has 28 days"),
    ({"compounded": "10/03/2025"}, "year first"),
    ({"component_expiries": [("tablets", "2025-13")]}, "no month 13"),
    ({"sub_lot_buds": [("trit", "2025-06")]}, "cannot read"),
])
def test_bad_dates_are_date_input_errors(kwargs, text):
    args = {"compounded": "2025-03-10", **kwargs}
    with pytest.raises(DateInputError, match=text):
        assign_bud("nonaqueous-solid", args.pop("compounded"), **args)


def test_a_component_that_is_not_a_pair_is_an_input_error():
    with pytest.raises(InputError, match="pair"):
        assign_bud("nonaqueous-solid", "2025-03-10", component_expiries=["2025-06-30"])


# ----------------------------------------------------------------------------- output


def test_to_dict_carries_the_documented_keys():
    d = assign_bud("nonaqueous-solid", "2025-03-10", study="cote-2018", attest=True,
                   component_expiries=[("tablets", "2026-01")]).to_dict()
    for key in ("beyond_use_date", "limit", "limits", "ties", "stability_window_days",
                "stability_window_end", "storage", "day_counting", "policy", "findings",
                "explanation", "study", "category_detail", "study_detail", "policy_detail"):
        assert key in d, key
    assert d["beyond_use_date"] == "2025-09-05" and d["limit"]["kind"] == "policy-cap"
    assert d["stability_window_end"] == "2026-03-04"
    assert d["limits"][2] == {"kind": "component-expiry", "name": "tablets",
                              "date": "2026-01-31", "days": None,
                              "source": d["limits"][2]["source"],
                              "note": "expiry 2026-01 read as 2026-01-31 (an expiry written "
                                      "YYYY-MM is in date until the last day of that month)"}
    assert d["study_detail"]["attested"] is True and d["day_counting"] == "day-1"


def test_package_root_exposes_assign_bud():
    assert compound.assign_bud is assign_bud


# ----------------------------------------------------------------------------- categories, data


def test_category_for_plan(overlay):
    # The vehicles table belongs to the liquids plans; an overlay keeps this test independent.
    (overlay / "vehicles.csv").write_text(
        "key,name,bud_category,source\n"
        "test-water,Water,aqueous-unpreserved,test\n"
        "test-preserved,Preserved,aqueous-preserved,test\n"
        "test-blank,No category,,test\n", encoding="utf-8")
    loader.clear_cache()
    assert category_for_plan("capsules") == "nonaqueous-solid"
    assert category_for_plan("liquid", "aqueous-preserved") == "aqueous-preserved"
    assert category_for_plan("drops", vehicle="test-water") == "aqueous-unpreserved"
    assert category_for_plan("liquid", vehicle="test-preserved") == "aqueous-preserved"
    with pytest.raises(CatalogError, match="no bud_category"):
        category_for_plan("liquid", vehicle="test-blank")
    with pytest.raises(InputError, match="unknown vehicle"):
        category_for_plan("liquid", vehicle="olive-oil")
    with pytest.raises(InputError, match="depends on its vehicle"):
        category_for_plan("liquid")
    with pytest.raises(InputError, match="unknown BUD category"):
        category_for_plan("liquid", "oily")


def test_vocabulary_policies_and_studies_cite_sources():
    assert set(storages()) == {"room", "refrigerated"}
    assert policy("usp795-2023").max_extended_days == 180
    assert policy("study").max_extended_days is None
    cote, fawcett = study("cote-2018"), study("fawcett-1997")
    assert dict(cote.window_days) == {"room": 360}
    assert dict(fawcett.window_days) == {"refrigerated": 60, "room": 30}
    assert all(s.source and s.citation for s in (cote, fawcett))
    for section, entries in loader.rules("studies").items():
        for key, value in entries.items():
            if isinstance(value, dict) and key not in ("window_days", "match"):
                assert value.get("source"), f"[{section}.{key}]"


def test_a_pharmacy_can_add_its_own_study_in_an_overlay(overlay):
    (overlay / "studies.toml").write_text(
        '[study.our-2026]\nname = "Our capsule study"\ncitation = "In-house report 7"\n'
        'preparation = "our LDN capsules"\ncategory = "nonaqueous-solid"\n'
        'source = "QA report 7, 2026"\n[study.our-2026.window_days]\nroom = 120\n',
        encoding="utf-8")
    loader.clear_cache()
    r = assign_bud("nonaqueous-solid", "2025-03-10", study="our-2026", attest=True)
    # 120 days, Day 1: + 119 -> Mar 31 (+21), Apr 30 (+51), May 31 (+82), Jul 7 (+119).
    assert r.beyond_use_date == D(2025, 7, 7) and r.limit.kind == "study"
    assert "cote-2018" in {s for s in loader.rules("studies")["study"]}


@pytest.mark.parametrize(("row", "problem"), [
    ("nonaqueous-solid,X,14.5,room,room,capsules,,,src", "whole number of days"),
    ("nonaqueous-solid,X,0,room,room,capsules,,,src", "whole number of days"),
    ("nonaqueous-solid,X,180,freezer,freezer,capsules,,,src", "storage"),
])
def test_malformed_bud_rules_are_catalog_errors(overlay, row, problem):
    header = ("key,name,days,storage,default_storage,dosage_forms,water_activity,"
              "extension_requirement,source\n")
    (overlay / "bud_rules.csv").write_text(header + row + "\n", encoding="utf-8")
    loader.clear_cache()
    with pytest.raises(CatalogError, match=problem) as err:
        assign_bud("nonaqueous-solid", "2025-03-10")
    assert err.value.exit_code == 5
