"""compound.planning.titration: ladders and protocols → calendar, options, directions.

Every expected number is worked by hand in the test from the ladder and the
published rules (domain.md §5.2, §3.3; prior-art T5).
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

import compound
from compound.catalog import loader
from compound.errors import CatalogError, DateInputError, InputError, UnitInputError
from compound.planning.titration import parse_ladder, protocol, protocols, titrate

THREE_WEEKS = "1.5mg x7d, 3mg x7d, 4.5mg x7d"


def option(plan, name):
    found = plan.option(name)
    assert found is not None, [o["name"] for o in plan.options]
    return found


def codes(findings):
    return [f["code"] if isinstance(f, dict) else f.code for f in findings]


def units(opt):
    return [(u["strength_mg"], u["count"]) for u in opt["units"]]


# ----------------------------------------------------------------------------- the 3-week ladder


def test_three_week_ladder_needs_63_mg():
    plan = titrate(THREE_WEEKS, start="2025-06-02", form="all")
    # 1.5 × 7 + 3 × 7 + 4.5 × 7 = 10.5 + 21 + 31.5 = 63 mg over 21 days
    assert plan.status == "ok"
    assert plan.total.to("mg").magnitude == 63
    d = plan.to_dict()
    assert d["total_mg"] == 63 and d["course_days"] == 21
    assert len(d["calendar"]) == 21
    assert d["calendar"][0] == {"day": 1, "date": "2025-06-02", "dose_mg": 1.5}
    assert d["calendar"][7] == {"day": 8, "date": "2025-06-09", "dose_mg": 3}
    assert d["calendar"][20] == {"day": 21, "date": "2025-06-22", "dose_mg": 4.5}
    assert sum(c["dose_mg"] for c in d["calendar"]) == 63


def test_three_week_ladder_as_capsules():
    plan = titrate(THREE_WEEKS, start="2025-06-02", form="capsules")
    # one strength: gcd(1.5, 3, 4.5) = 1.5 mg; 1, 2, 3 capsules a day → (1 + 2 + 3) × 7 = 42
    single = option(plan, "single-strength")
    assert single["status"] == "ok" and units(single) == [(1.5, 42)]
    assert [p["units"][0]["count"] for p in single["per_dose"]] == [1, 2, 3]
    # one strength per step: 7 + 7 + 7
    assert units(option(plan, "strength-per-step")) == [(1.5, 7), (3, 7), (4.5, 7)]
    # kit: 1.5 mg and 4.5 mg (4.5 is the only multiple of 1.5 dividing 4.5):
    # 1.5 mg: 1 × 7 + 2 × 7 = 21; 4.5 mg: 1 × 7 = 7
    assert units(option(plan, "two-strength-kit")) == [(1.5, 21), (4.5, 7)]
    # capsules are nonaqueous-solid: 180 days, Day 1 counting → 2025-06-02 + 179 = 2025-11-28
    assert single["beyond_use_date"] == "2025-11-28"
    assert single["directions"] == [
        "Days 1–7 (2 Jun – 8 Jun 2025): take 1 capsule (1.5 mg) at bedtime",
        "Days 8–14 (9 Jun – 15 Jun 2025): take 2 capsules (3 mg) at bedtime",
        "Days 15–21 (16 Jun – 22 Jun 2025): take 3 capsules (4.5 mg) at bedtime",
    ]


def test_three_week_ladder_as_liquid_respects_the_14_day_bud():
    plan = titrate(THREE_WEEKS, start="2025-06-02", form="liquid", concentration="1mg/mL")
    liquid = option(plan, "liquid")
    # 63 mg at 1 mg/mL = 63 mL; doses 1.5, 3, 4.5 mL
    assert liquid["total_volume_ml"] == 63
    assert [r["volume_ml"] for r in liquid["dose_volumes"]] == [1.5, 3, 4.5]
    # Unpreserved water: 14 days, Day 1 = compounding day → BUD = made + 13 days.
    # Part 1 made 2 Jun (day 1), BUD 15 Jun: covers days 1-14 = 1.5 × 7 + 3 × 7 = 31.5 mL.
    # Part 2 made 16 Jun (day 15), BUD 29 Jun: covers days 15-21 = 4.5 × 7 = 31.5 mL.
    preps = liquid["preparations"]
    assert [(p["compounded"], p["volume_ml"], p["beyond_use_date"]) for p in preps] == [
        ("2025-06-02", 31.5, "2025-06-15"), ("2025-06-16", 31.5, "2025-06-29")]
    assert [(p["use_from"], p["use_until"], p["days"]) for p in preps] == [
        ("2025-06-02", "2025-06-15", 14), ("2025-06-16", "2025-06-22", 7)]
    assert [p["drug_mg"] for p in preps] == [31.5, 31.5]
    assert all(p["beyond_use_date"] >= p["use_until"] for p in preps)
    assert "LIQUID_SPLIT_BY_BUD" in codes(liquid["findings"])
    assert liquid["directions"][0] == "Days 1–7 (2 Jun – 8 Jun 2025): take 1.5 mL (1.5 mg) at bedtime"
    assert preps[1]["directions"] == ["Days 15–21 (16 Jun – 22 Jun 2025): take 4.5 mL (4.5 mg) at bedtime"]
    assert preps[0]["part"] == "1/2"


def test_liquid_dose_volume_off_the_syringe_marks_is_a_warning():
    # measuring_devices.csv: a 5 mL oral syringe marked every 0.2 mL; 4.5 mL / 0.2 = 22.5 marks
    plan = titrate(THREE_WEEKS, start="2025-06-02", form="liquid", concentration="1mg/mL")
    liquid = option(plan, "liquid")
    warn = [f for f in liquid["findings"] if f["code"] == "DOSE_VOLUME_NOT_MEASURABLE"]
    assert len(warn) == 1 and warn[0]["data"]["dose_mg"] == 4.5
    assert warn[0]["data"]["nearest_ml"] == pytest.approx(4.4)   # 22 marks × 0.2 mL
    assert liquid["status"] == "warning"


def test_a_syringe_in_the_overlay_clears_the_volume_warning(overlay):
    (overlay / "measuring_devices.csv").write_text(
        "key,name,capacity_ml,graduation_ml,min_volume_ml,for_dose,source\n"
        "oral-syringe-5ml,5 mL oral syringe,5,0.1,,1,stocked here: marked in 0.1 mL (checked 2025-06-01)\n")
    loader.clear_cache()
    liquid = option(titrate(THREE_WEEKS, start="2025-06-02", form="liquid"), "liquid")
    assert "DOSE_VOLUME_NOT_MEASURABLE" not in codes(liquid["findings"])


def test_preserved_vehicle_gives_one_preparation():
    # Fawcett vehicle = aqueous-preserved: 35 days ≥ 21, one part made on day 1
    liquid = option(titrate(THREE_WEEKS, start="2025-06-02", form="liquid", vehicle="fawcett-1997"),
                    "liquid")
    assert [(p["compounded"], p["volume_ml"]) for p in liquid["preparations"]] == [("2025-06-02", 63)]
    # 2025-06-02 + 35 − 1 = 2025-07-06
    assert liquid["preparations"][0]["beyond_use_date"] == "2025-07-06"
    assert liquid["bud_category"] == "aqueous-preserved"


def test_made_ahead_shortens_what_each_preparation_covers():
    # made the day before use: made 1 Jun, BUD 1 Jun + 13 = 14 Jun → covers 2-14 Jun (13 days)
    # = 1.5 × 7 + 3 × 6 = 28.5 mL; then made 14 Jun, BUD 27 Jun, covers 15-22 Jun = 3 + 31.5 = 34.5
    liquid = option(titrate(THREE_WEEKS, start="2025-06-02", form="liquid", made_ahead="1d"), "liquid")
    assert [(p["compounded"], p["use_from"], p["use_until"], p["volume_ml"])
            for p in liquid["preparations"]] == [
        ("2025-06-01", "2025-06-02", "2025-06-14", 28.5),
        ("2025-06-14", "2025-06-15", "2025-06-22", 34.5)]


def test_day_zero_counting_lets_a_preparation_cover_15_days():
    # Day 0: BUD = made + 14 → 2 Jun + 14 = 16 Jun covers days 1-15: 10.5 + 21 + 4.5 = 36 mL
    liquid = option(titrate(THREE_WEEKS, start="2025-06-02", form="liquid", day_zero=True), "liquid")
    assert [p["volume_ml"] for p in liquid["preparations"]] == [36, 27]


def test_liquid_overage_is_stated_apart():
    # 5 % of 31.5 mL = 1.575 mL; the need stays 31.5 mL
    liquid = option(titrate(THREE_WEEKS, start="2025-06-02", form="liquid", overage="5%"), "liquid")
    p = liquid["preparations"][0]
    assert p["volume_ml"] == 31.5 and p["overage_ml"] == 1.575 and p["volume_to_make_ml"] == 33.08
    liquid = option(titrate(THREE_WEEKS, start="2025-06-02", form="liquid", overage="2mL"), "liquid")
    assert liquid["preparations"][1]["volume_to_make_ml"] == 33.5


def test_capsule_overage_is_stated_apart():
    single = option(titrate(THREE_WEEKS, start="2025-06-02", overage="10%"), "single-strength")
    # 10 % of 42 = 4.2 → ⌈46.2⌉ = 47 to prepare, 5 overage
    assert {"strength_mg": 1.5, "count": 42, "overage_count": 5, "count_to_prepare": 47,
            "plan_command": "compound plan capsules --strength 1.5mg --count 47"}.items() \
        <= single["units"][0].items()


def test_overage_with_both_forms_goes_where_it_means_something():
    def both(overage):
        plan = titrate(THREE_WEEKS, start="2025-06-02", form="all", overage=overage)
        return (option(plan, "single-strength")["units"][0].get("overage_count"),
                option(plan, "liquid")["preparations"][0].get("overage_ml"))

    assert both("5%") == (3, 1.575)     # ⌈42 × 1.05⌉ = ⌈44.1⌉ = 45 → 3; 5 % of 31.5 mL
    assert both("1") == (1, None)       # a count of capsules
    assert both("2mL") == (None, 2)     # a volume of liquid


# ----------------------------------------------------------------------------- T5 starter kit


def test_t5_us_pharmacist_protocol_and_the_norland_kit():
    plan = titrate(protocol="us-pharmacist", start="2025-06-02")
    # 0.5 mg + 0.5 mg every 7 days to 4.5 mg: 9 steps × 7 days = 63 days;
    # total = 7 × (0.5 + 1 + … + 4.5) = 7 × 22.5 = 157.5 mg
    assert plan.amounts["course_days"] == 63 and plan.amounts["total_mg"] == 157.5
    # one strength: 157.5 / 0.5 = 315 capsules, up to 9 a day → warning
    single = option(plan, "single-strength")
    assert units(single) == [(0.5, 315)] and "MANY_UNITS_PER_DOSE" in codes(single["findings"])
    # the kit picks 0.5 mg + 1.5 mg, as Norland does. Large first, per week (× 7 days):
    #   dose  0.5 1 1.5 2 2.5 3 3.5 4 4.5
    #   1.5s   0  0  1  1  1  2  2  2  3   → 12 × 7 = 84
    #   0.5s   1  2  0  1  2  0  1  2  0   →  9 × 7 = 63
    kit = option(plan, "two-strength-kit")
    assert units(kit) == [(0.5, 63), (1.5, 84)]
    # Norland's kit is 0.5 mg × 63 + 1.5 mg × 63 = 31.5 + 94.5 = 126 mg, not 157.5 mg: it is
    # weeks 1-8 of this split (0.5 mg: 9 × 7 = 63; 1.5 mg: 9 × 7 = 63; 7 × (0.5 + … + 4) = 126 mg).
    # The 4.5 mg week (3 × 1.5 mg × 7 = 21 capsules) is not in it: our 84 = 63 + 21.
    per_dose = {p["dose_mg"]: {u["strength_mg"]: u["count"] for u in p["units"]} for p in kit["per_dose"]}
    weeks_1_to_8 = [0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4]
    assert sum(per_dose[d].get(0.5, 0) * 7 for d in weeks_1_to_8) == 63
    assert sum(per_dose[d].get(1.5, 0) * 7 for d in weeks_1_to_8) == 63
    to_four = titrate(protocol="us-pharmacist", start="2025-06-02", ceiling="4mg", kit="1.5mg, 0.5mg")
    assert to_four.amounts["total_mg"] == 126
    assert units(option(to_four, "two-strength-kit")) == [(0.5, 63), (1.5, 63)]
    # Left to choose for a ladder ending at 4 mg, compound takes 0.5 + 2 mg (2 divides the top
    # dose; 1.5 does not): 0.5 mg (1,2,3,0,1,2,3,0) × 7 = 84, 2 mg (0,0,0,1,1,1,1,2) × 7 = 42 —
    # also 126 capsules, the same count as Norland's pair.
    assert units(option(titrate(protocol="us-pharmacist", start="2025-06-02", ceiling="4mg"),
                        "two-strength-kit")) == [(0.5, 84), (2, 42)]
    kit_dir = kit["directions"]
    assert kit_dir[7] == ("Days 50–56 (21 Jul – 27 Jul 2025): take 2 capsules of 1.5 mg and "
                          "2 capsules of 0.5 mg (4 mg) at bedtime")


# ----------------------------------------------------------------------------- protocols


def test_every_protocol_has_a_source_and_lays_out():
    found = protocols()
    assert {"dickson", "dickson-sensitive", "ldnrt-cancer", "ldnrt-pack", "us-pharmacist",
            "us-clinic-sheet", "norway-ms"} <= set(found)
    for key, p in found.items():
        assert p.source and p.name
        plan = titrate(protocol=key, start="2025-06-02")
        assert plan.status in ("ok", "warning") and plan.amounts["total_mg"] > 0


@pytest.mark.parametrize(("key", "doses", "days"), [
    ("dickson", [1, 2, 3, 4, 4.5], 35),                       # 4.5 mg by week 5
    ("ldnrt-cancer", [1.5, 3, 4.5], 21),
    ("ldnrt-pack", [1.5, 2, 2.5, 3, 3.5, 4, 4.5], 98),        # 7 steps × 14 days
    ("dickson-sensitive", [0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5], 126),
    ("us-clinic-sheet", [1.5, 3, 4.5], 42),
    ("norway-ms", [1.5, 3, 4.5], 84),
])
def test_protocol_schedules(key, doses, days):
    plan = titrate(protocol=key, start="2025-06-02")
    assert [s["dose_mg"] for s in plan.extra["schedule"]] == doses
    assert plan.amounts["course_days"] == days


def test_ceiling_replaces_a_generated_protocols_top_dose():
    # Norway, cancer: up to 3.75 mg → 1.5, 3, 3.75
    plan = titrate(protocol="ldnrt-cancer", start="2025-06-02", ceiling="3.75mg")
    assert [s["dose_mg"] for s in plan.extra["schedule"]] == [1.5, 3, 3.75]
    # gcd(1.5, 3, 3.75) = 0.75 mg: 2, 4, 5 capsules → (2 + 4 + 5) × 7 = 77
    assert units(option(plan, "single-strength")) == [(0.75, 77)]


def test_protocol_from_an_overlay_and_a_broken_one(overlay):
    (overlay / "titration_protocols.toml").write_text(
        '[protocols.our-sop]\nname = "Our SOP"\nladder = "1mg x10d, 2mg x10d"\nsource = "SOP-7"\n')
    loader.clear_cache()
    assert protocol("our-sop").ladder == "1mg x10d, 2mg x10d"
    assert titrate(protocol="our-sop", start="2025-06-02").amounts["total_mg"] == 30
    (overlay / "titration_protocols.toml").write_text(
        '[protocols.bad]\nname = "Bad"\nladder = "1mg x10"\nsource = "SOP-8"\n')
    loader.clear_cache()
    with pytest.raises(CatalogError, match=r"\[protocols.bad\]"):
        protocols()
    (overlay / "titration_protocols.toml").write_text(
        '[protocols.nosource]\nname = "x"\nladder = "1mg x1d"\n')
    loader.clear_cache()
    with pytest.raises(CatalogError, match="source"):
        protocols()


def test_maintenance_continues_the_last_dose():
    # Dickson 1, 2, 3, 4, 4.5 mg × 7 = 101.5 mg, then 4.5 mg × 28 = 126 mg → 227.5 mg, 63 days
    plan = titrate(protocol="dickson", start="2025-06-02", maintenance="28d")
    assert plan.amounts["total_mg"] == 227.5 and plan.amounts["course_days"] == 63
    assert plan.extra["schedule"][-1]["kind"] == "maintenance"
    # the directions merge the last ladder week and maintenance into one run: days 29-63
    assert plan.directions[-1] == "Days 29–63 (30 Jun – 3 Aug 2025): take 4.5 mg at bedtime"


# ----------------------------------------------------------------------------- side-effect rules


def test_fifty_percent_reduction_week():
    # ldnrt-cancer from 2 Jun; side effects on 3 mg, reduce from 12 Jun (day 11):
    # days 8-10 3 mg, days 11-17 1.5 mg, days 18-21 3 mg (the 4 days left), days 22-28 4.5 mg.
    # total = 10.5 + 9 + 10.5 + 12 + 31.5 = 73.5 mg over 28 days
    plan = titrate(protocol="ldnrt-cancer", start="2025-06-02", reduce_at="2025-06-12")
    assert plan.amounts["total_mg"] == 73.5 and plan.amounts["course_days"] == 28
    assert plan.directions == [
        "Days 1–7 (2 Jun – 8 Jun 2025): take 1.5 mg at bedtime",
        "Days 8–10 (9 Jun – 11 Jun 2025): take 3 mg at bedtime",
        "Days 11–17 (12 Jun – 18 Jun 2025): take 1.5 mg at bedtime",
        "Days 18–21 (19 Jun – 22 Jun 2025): take 3 mg at bedtime",
        "Days 22–28 (23 Jun – 29 Jun 2025): take 4.5 mg at bedtime",
    ]
    assert [s["kind"] for s in plan.extra["schedule"]] == ["ladder", "ladder", "reduced", "resumed",
                                                          "ladder"]
    f = plan.finding("SIDE_EFFECT_REDUCTION")
    assert f is not None and f.data["from_mg"] == 3 and f.data["to_mg"] == 1.5
    # 1.5 mg capsules still make every dose: 7 + 6 + 7 + 8 + 21 = 49
    assert units(option(plan, "single-strength")) == [(1.5, 49)]


def test_reduction_dates_outside_or_inside_a_reduced_week_are_refused_inputs():
    with pytest.raises(InputError, match="outside the course"):
        titrate(THREE_WEEKS, start="2025-06-02", reduce_at="2025-07-30")
    with pytest.raises(InputError, match="reduced week already"):
        titrate(THREE_WEEKS, start="2025-06-02", reduce_at=["2025-06-10", "2025-06-12"])
    with pytest.raises(DateInputError):
        titrate(THREE_WEEKS, start="2025-06-02", reduce_at="12/06/2025")


def test_gi_cap_lengthens_the_ladder():
    # ldnrt-cancer capped at +0.5 mg a week: 1.5, 2, 2.5, 3, 3.5, 4, 4.5 × 7 days = 49 days;
    # total = 7 × 21 = 147 mg
    plan = titrate(protocol="ldnrt-cancer", start="2025-06-02", gi_sensitive=True)
    assert [s["dose_mg"] for s in plan.extra["schedule"]] == [1.5, 2, 2.5, 3, 3.5, 4, 4.5]
    assert plan.amounts["course_days"] == 49 and plan.amounts["total_mg"] == 147
    f = plan.finding("GI_CAP_APPLIED")
    assert f is not None and f.data["steps_added"] == 4 and f.data["days_added"] == 28
    # a ladder that already keeps to it is unchanged
    same = titrate(protocol="us-pharmacist", start="2025-06-02", gi_sensitive=True)
    assert same.amounts["course_days"] == 63
    assert same.finding("GI_CAP_APPLIED").data["days_added"] == 0


def test_gi_cap_reduction_and_maintenance_together():
    # GI: 1, 1.5, 2 (7 d each); + 7 d maintenance at 2 mg; reduce from day 8 (1.5 → 0.75 × 7)
    plan = titrate("1mg x7d, 2mg x7d", start="2025-06-02", gi_sensitive=True, maintenance="7d",
                   reduce_at="2025-06-09")
    # 1 × 7 + 0.75 × 7 + 1.5 × 7 + 2 × 7 + 2 × 7 = 7 + 5.25 + 10.5 + 14 + 14 = 50.75 mg, 35 days
    assert plan.amounts["total_mg"] == 50.75 and plan.amounts["course_days"] == 35
    # 0.75 mg is a dose now: the common strength drops to gcd(1, 0.75, 1.5, 2) = 0.25 mg
    assert option(plan, "single-strength")["units"][0]["strength_mg"] == 0.25


# ----------------------------------------------------------------------------- dates


def test_month_end_and_year_end_dates():
    plan = titrate("1mg x3d, 2mg x4d", start="2025-12-29")
    assert [c["date"] for c in plan.calendar] == ["2025-12-29", "2025-12-30", "2025-12-31",
                                                   "2026-01-01", "2026-01-02", "2026-01-03",
                                                   "2026-01-04"]
    assert plan.directions == ["Days 1–3 (29 Dec – 31 Dec 2025): take 1 mg at bedtime",
                               "Days 4–7 (1 Jan – 4 Jan 2026): take 2 mg at bedtime"]
    # 28-day February: 14 days from 22 Feb 2025 end on 7 Mar (22 + 13 = 35 − 28 = 7)
    feb = titrate("1.5mg x14d", start="2025-02-22")
    assert feb.directions == ["Days 1–14 (22 Feb – 7 Mar 2025): take 1.5 mg at bedtime"]
    # leap year: from 22 Feb 2028 the 14th day is 6 Mar
    assert titrate("1.5mg x14d", start="2028-02-22").extra["end"] == "2028-03-06"


def test_liquid_preparations_across_the_year_end():
    # made 25 Dec 2025, BUD 25 Dec + 13 = 7 Jan 2026; part 2 made 8 Jan, BUD 21 Jan
    liquid = option(titrate(THREE_WEEKS, start="2025-12-25", form="liquid"), "liquid")
    assert [(p["compounded"], p["beyond_use_date"]) for p in liquid["preparations"]] == [
        ("2025-12-25", "2026-01-07"), ("2026-01-08", "2026-01-21")]
    assert liquid["directions"][1] == "Days 8–14 (1 Jan – 7 Jan 2026): take 3 mL (3 mg) at bedtime"


def test_a_capsule_course_longer_than_the_capsule_bud():
    # Dickson 35 days + 180 days maintenance = 215 days > 180-day capsule BUD → 2 fills
    single = option(titrate(protocol="dickson", start="2025-06-02", maintenance="180d"),
                    "single-strength")
    f = [x for x in single["findings"] if x["code"] == "COURSE_LONGER_THAN_BUD"]
    assert f and f[0]["data"]["fills"] == 2 and f[0]["data"]["beyond_use_date"] == "2025-11-28"


# ----------------------------------------------------------------------------- refusals and findings


def test_a_50_mg_step_is_refused_and_shows_no_schedule():
    plan = titrate("1.5mg x7d, 50mg x7d", start="2025-06-02")
    assert plan.refused and plan.status == "refused"
    d = plan.to_dict()
    assert "calendar" not in d and "options" not in d and "total_mg" not in d and "steps" not in d
    assert codes(d["findings"]) == ["DOSE_BAND_ABOVE_LDN"]
    assert plan.calendar == [] and plan.options == []
    assert "REFUSED" in plan.worksheet()


def test_a_gram_slip_is_refused_with_the_likely_dose():
    plan = titrate("1.5g x7d", start="2025-06-02", gi_sensitive=True)
    assert plan.refused and "Did you mean 1.5 mg?" in plan.findings[0].message


def test_upper_range_step_is_a_warning():
    plan = titrate("4.5mg x7d, 6mg x7d", start="2025-06-02")
    assert plan.status == "warning" and plan.finding("DOSE_BAND_LDN_UPPER") is not None


def test_opioid_use_is_refused_unless_overridden():
    assert titrate(THREE_WEEKS, start="2025-06-02", opioid_use=True).refused
    plan = titrate(THREE_WEEKS, start="2025-06-02", opioid_use=True,
                   override_opioid="prescriber confirmed opioid-free 10 days")
    assert plan.status == "warning" and plan.inputs["override_opioid"].startswith("prescriber")


def test_a_capsule_strength_that_cannot_make_a_dose_refuses_that_option_only():
    plan = titrate(THREE_WEEKS, start="2025-06-02", capsule_strength="1mg")
    single = option(plan, "single-strength")
    assert single["status"] == "refused" and "units" not in single and "directions" not in single
    assert "1.5 mg would need 1.5 capsules" in single["findings"][0]["message"]
    assert "largest strength that makes every dose whole is 1.5 mg" in single["findings"][0]["message"]
    assert not plan.refused and option(plan, "strength-per-step")["status"] == "ok"


def test_a_kit_that_cannot_make_a_dose_is_refused():
    kit = option(titrate(THREE_WEEKS, start="2025-06-02", kit="1mg, 2mg"), "two-strength-kit")
    assert kit["status"] == "refused" and "units" not in kit
    # 1 mg + 0.5 mg does: 1.5 = 1 + 0.5, 3 = 3 × 1, 4.5 = 4 × 1 + 0.5 → 1 mg: (1+3+4) × 7 = 56
    kit = option(titrate(THREE_WEEKS, start="2025-06-02", kit=("0.5mg", "1mg")), "two-strength-kit")
    assert units(kit) == [(0.5, 14), (1, 56)]


# ----------------------------------------------------------------------------- malformed input


@pytest.mark.parametrize(("ladder", "error", "match"), [
    ("", InputError, "empty"),
    ("1.5mg", InputError, "no length"),
    ("1.5mg x7d,", InputError, "step 2 is empty"),
    ("1.5 x7d", UnitInputError, "no unit"),
    ("1.5mg x7", UnitInputError, "no unit"),
    ("1,5mg x7d", UnitInputError, "comma"),
    ("1.5mg x1.5d", InputError, "whole number of days"),
    ("1.5mg x0d", InputError, "whole number of days"),
    ("1.5mg x1 month", UnitInputError, "months differ"),
    ("1.5ug x7d", UnitInputError, "mcg"),
    (".5mg x7d", UnitInputError, "leading zero"),
])
def test_malformed_ladders_say_what_to_type(ladder, error, match):
    with pytest.raises(error, match=match) as caught:
        parse_ladder(ladder)
    assert caught.value.exit_code == 2 and caught.value.hint


def test_ladder_spellings():
    dose, days = parse_ladder("500mcg for 2 weeks; 1mg × 7 days\n1.5mg*7d")
    assert dose.tolist() == [0.5, 1, 1.5] and days.tolist() == [14, 7, 7]
    dose, days = parse_ladder([("1.5mg", "7d"), (compound.Q_(3, "mg"), compound.Q_(1, "week"))])
    assert dose.tolist() == [1.5, 3] and days.tolist() == [7, 7]
    with pytest.raises(UnitInputError, match="no unit"):
        parse_ladder([(1.5, "7d")])


@pytest.mark.parametrize(("kwargs", "match"), [
    ({}, "either a ladder or a protocol"),
    ({"ladder": THREE_WEEKS, "protocol": "dickson"}, "either a ladder or a protocol"),
    ({"protocol": "nope"}, "unknown titration protocol"),
    ({"ladder": THREE_WEEKS, "ceiling": "3mg"}, "ceiling"),
    ({"protocol": "norway-ms", "ceiling": "3mg"}, "fixed ladder"),
    ({"protocol": "dickson", "ceiling": "0.5mg"}, "below the protocol's starting dose"),
    ({"ladder": THREE_WEEKS, "form": "drops"}, "unknown form"),
    ({"ladder": THREE_WEEKS, "concentration": "1mg/mL"}, "apply to a liquid"),
    ({"ladder": THREE_WEEKS, "form": "liquid", "kit": "0.5mg,1mg"}, "apply to capsules"),
    ({"ladder": THREE_WEEKS, "form": "liquid", "concentration": "0mg/mL"}, "greater than zero"),
    ({"ladder": THREE_WEEKS, "form": "liquid", "vehicle": "purified-water",
      "bud_category": "aqueous-preserved"}, "not both"),
    ({"ladder": THREE_WEEKS, "form": "liquid", "vehicle": "orange-juice"}, "unknown vehicle"),
    ({"ladder": THREE_WEEKS, "maintenance": "2.5d"}, "whole number of days"),
    ({"ladder": THREE_WEEKS, "kit": "1mg"}, "two strengths"),
    ({"ladder": THREE_WEEKS, "capsule_strength": "0mg"}, "greater than zero"),
    ({"ladder": THREE_WEEKS, "timing": "noon"}, "unknown timing"),
    ({"ladder": THREE_WEEKS, "overage": "-1"}, "negative"),
    ({"ladder": "1mg x800d"}, "at most 730"),
])
def test_bad_options_are_input_errors(kwargs, match):
    with pytest.raises(InputError, match=match):
        titrate(start="2025-06-02", **kwargs)


def test_bad_start_date():
    with pytest.raises(DateInputError, match="February 2025 has 28 days"):
        titrate(THREE_WEEKS, start="2025-02-30")


def test_unpreserved_liquid_at_room_temperature_refuses_the_liquid_option():
    liquid = option(titrate(THREE_WEEKS, start="2025-06-02", form="liquid", storage="room"), "liquid")
    assert liquid["status"] == "refused" and "preparations" not in liquid
    assert "STORAGE_NOT_ALLOWED" in codes(liquid["findings"])


# ----------------------------------------------------------------------------- output hygiene


def test_json_has_no_float_noise_and_every_step_has_a_key():
    plan = titrate(protocol="us-pharmacist", start="2025-06-02", form="all", concentration="0.3mg/mL",
                   reduce_at="2025-06-20", overage="5%")
    text = json.dumps(plan.to_dict(), ensure_ascii=False)
    assert not re.search(r"\d\.\d*(0000|9999)\d", text), re.search(r"\d\.\d*(0000|9999)\d", text)
    for step in plan.to_dict()["steps"]:
        assert step["key"] and step["label"] and step["formula"] and step["result"]


def test_timing_morning_and_the_package_root():
    plan = compound.titrate("1.5mg x7d", start=dt.date(2025, 6, 2), timing="morning")
    assert plan.directions == ["Days 1–7 (2 Jun – 8 Jun 2025): take 1.5 mg in the morning"]


def test_worksheet_text():
    text = titrate(THREE_WEEKS, start="2025-06-02", form="all").worksheet()
    assert "Days 8–14 (9 Jun – 15 Jun 2025): take 3 mg at bedtime" in text
    assert "Day  21  Sun 22 Jun 2025" in text
    assert "Part 2/2: compound 16 Jun 2025, 31.5 mL (31.5 mg)" in text
    assert "42 capsules of 1.5 mg" in text
    assert "Total: 63 mg over 21 days" in text


def test_dose_volumes_below_the_syringe_minimum_and_above_every_syringe():
    # 0.05 mg at 1 mg/mL = 0.05 mL < 0.1 mL, the 1 mL syringe's smallest measured volume;
    # 4.5 mg at 0.3 mg/mL = 15 mL > 10 mL, the largest oral syringe (measuring_devices.csv)
    small = option(titrate("0.05mg x7d", start="2025-06-02", form="liquid"), "liquid")
    assert "DOSE_VOLUME_BELOW_DEVICE_MINIMUM" in codes(small["findings"])
    big = option(titrate("4.5mg x7d", start="2025-06-02", form="liquid", concentration="0.3mg/mL"),
                 "liquid")
    assert "DOSE_VOLUME_ABOVE_DEVICES" in codes(big["findings"])
    assert big["dose_volumes"][0] == {"dose_mg": 4.5, "volume_ml": 15, "device": None}


def test_each_preparation_is_checked_by_its_own_plan(monkeypatch):
    plan = titrate(THREE_WEEKS, start="2025-06-02", form="all")
    unit = option(plan, "single-strength")["units"][0]
    # the default capsule plan (tablets, no tablet weight) asks for the measured tablet weight
    assert unit["plan_status"] == "warning" and "TABLET_WEIGHT_MISSING" in unit["plan_warnings"]
    prep = option(plan, "liquid")["preparations"][0]
    # 31.5 mg is 0.63 of a 50 mg tablet: the liquid plan says so
    assert "VOLUME_ADJUSTED_TO_WHOLE_TABLETS" in prep["plan_warnings"]

    from compound.core.findings import Finding, Severity
    from compound.planning import capsules
    from compound.planning.base import Plan

    def refused(*args, **kwargs):
        return Plan("capsules", {}, findings=[Finding("CAPSULE_OVERFILLED", Severity.REFUSAL, "x")])

    monkeypatch.setattr(capsules, "plan_capsules", refused)
    single = option(titrate(THREE_WEEKS, start="2025-06-02"), "single-strength")
    assert single["status"] == "warning" and "PREPARATION_PLAN_REFUSED" in codes(single["findings"])


def test_an_attested_study_sets_the_liquid_bud():
    # Fawcett 1997, refrigerated: 60 days. Part 1 made 2 Jun, BUD 2 Jun + 59 = 31 Jul, covers days
    # 1-60: weeks 1-8 = 7 × (0.5 + … + 4) = 126 mg, days 57-60 = 4 × 4.5 = 18 → 144 mL at 1 mg/mL;
    # part 2 covers days 61-63: 3 × 4.5 = 13.5 mL.
    liquid = option(titrate(protocol="us-pharmacist", start="2025-06-02", form="liquid",
                            vehicle="fawcett-1997", study="fawcett-1997", attest=True,
                            storage="refrigerated"), "liquid")
    assert [(p["compounded"], p["volume_ml"], p["beyond_use_date"]) for p in liquid["preparations"]] == [
        ("2025-06-02", 144, "2025-07-31"), ("2025-08-01", 13.5, "2025-09-29")]
    # without --attest the study cannot set the BUD: the liquid option is refused
    refused = option(titrate(protocol="us-pharmacist", start="2025-06-02", form="liquid",
                             vehicle="fawcett-1997", study="fawcett-1997", storage="refrigerated"),
                     "liquid")
    assert refused["status"] == "refused" and "STUDY_NOT_ATTESTED" in codes(refused["findings"])


def test_liquid_without_a_vehicle_plans_each_part_in_a_vehicle_of_the_assumed_category():
    # The 14-day split assumes unpreserved water; the command the pharmacist is told to run
    # must plan that vehicle, not plan_liquid's preserved default (a 35-day BUD).
    from compound.planning.titration import titrate

    plan = titrate("1.5mg x7d, 3mg x7d, 4.5mg x7d", start="2025-06-02", form="liquid",
                   concentration="1mg/mL")
    parts = plan.option("liquid")["preparations"]
    assert [p["volume_ml"] for p in parts] == [31.5, 31.5]
    for part in parts:
        assert "--vehicle purified-water" in part["plan_command"]
        assert "VEHICLE_COMPONENT_BELOW_MWQ" not in part["plan_warnings"]
