"""plan_capsules: catalog resolution, findings, working, JSON; every refusal and error path."""

from __future__ import annotations

import json

import pytest

from compound.core.units import Q_
from compound.errors import InputError, UnitInputError
from compound.planning.capsules import CapsulePlan, plan_capsules


def codes(plan):
    return {f.code for f in plan.findings}


def severity(plan, code):
    return str(plan.finding(code).severity)


def step(plan, key):
    return next(s for s in plan.working if s.key == key)


# ---------------------------------------------------------------- worked examples


def test_worked_example_from_tablets():
    plan = plan_capsules("4.5mg", 30, overage="1", source="tablet", tablet_weight="200mg",
                         fill_weight="100mg")
    assert isinstance(plan, CapsulePlan) and plan.status == "ok"
    # hand arithmetic: 31 capsules; 4.5 x 31 = 139.5 mg; ceil(2.79) = 3 tablets;
    # 139.5 / 50 x 200 = 558 mg powder; 18 mg/capsule; filler 82 mg/capsule, 2542 mg;
    # blend 3100 mg; window 90-110 mg; left over 600 - 558 = 42 mg
    assert plan.capsules_to_prepare == 31 and plan.tablets_to_crush == 3
    assert plan.api_required == Q_(139.5, "mg")
    assert plan.tablet_powder.to("mg").magnitude == pytest.approx(558)
    assert plan.filler_per_capsule.to("mg").magnitude == pytest.approx(82)
    assert plan.filler_total.to("g").magnitude == pytest.approx(2.542)
    assert plan.blend_total.to("mg").magnitude == pytest.approx(3100)
    assert plan.fill_weight == Q_(100, "mg")
    d = plan.to_dict()
    assert (d["capsules_to_prepare"], d["api_required_mg"], d["tablets_to_crush"]) == (31, 139.5, 3)
    assert (d["tablet_powder_mg"], d["filler_per_capsule_mg"], d["filler_total_mg"]) == (558, 82, 2542)
    assert (d["blend_total_mg"], d["fill_weight_low_mg"], d["fill_weight_high_mg"]) == (3100, 90, 110)
    assert d["powder_left_over_mg"] == 42 and d["api_to_weigh_mg"] is None
    assert d["fill_weight_method"] == "given" and d["trituration"] is None
    assert d["shortcut"]["closest_capsules"] == 33
    # one 100 mg capsule is below the Class III balance's 120 mg MWQ: check-weigh ceil(120 / 100) = 2
    assert codes(plan) == {"DOSE_BAND_LDN", "TABLET_EXCIPIENTS", "CHECK_WEIGHT_BELOW_MWQ"}
    assert plan.finding("CHECK_WEIGHT_BELOW_MWQ").data["group_of"] == 2
    # every number in the JSON has a step
    keys = {s.key for s in plan.working}
    assert {k for k, v in d.items() if isinstance(v, (int, float)) and not isinstance(v, bool)} <= keys


def test_percentage_overage():
    # 5 % of 30 = 1.5 -> 2 extra -> 32
    plan = plan_capsules("4.5mg", "30", overage="5%", tablet_weight="200mg", fill_weight="100mg")
    assert plan.capsules_to_prepare == 32
    # 7 % of 100 = 7 exactly (not 8 from 7.000000000000001)
    assert plan_capsules("4.5mg", 100, overage="7%", tablet_weight="200mg").capsules_to_prepare == 107


def test_t13_api_capsules():
    # T13: 4.5 mg x 100, #3, MCC 130 mg/cap, anhydrous API 100 %: MCC 12.55 g + naltrexone 0.45 g
    plan = plan_capsules("4.5mg", 100, source="api", capsule_size="3", filler="mcc",
                         fill_weight="130mg", assay="100%")
    assert plan.api_to_weigh.to("g").magnitude == pytest.approx(0.45)
    assert plan.filler_total.to("g").magnitude == pytest.approx(12.55)
    assert step(plan, "filler_total_mg").result == "12.55 g"
    assert step(plan, "api_to_weigh_mg").result == "450 mg"
    assert plan.to_dict()["tablets_to_crush"] is None


def test_fill_weight_by_volume_times_density_cites_both_rows():
    # #3 = 0.30 mL x MCC 0.28 g/mL x 1000 = 84 mg (domain.md 4.2: 84-99 mg)
    plan = plan_capsules("4.5mg", 30, tablet_weight="200mg")
    assert plan.fill_weight.to("mg").magnitude == pytest.approx(84)
    assert plan.to_dict()["fill_weight_method"] == "volume-x-density"
    s = step(plan, "fill_weight_mg")
    assert "capsule_sizes.csv #3" in s.source and "excipients.csv mcc" in s.source
    assert "icapsulepack" in s.source and "Avicel" in s.source
    assert "FILL_WEIGHT_ESTIMATED" in codes(plan)


def test_pack_stat_from_overlay_wins_and_is_cited(overlay):
    (overlay / "pack_stats.csv").write_text(
        "key,filler,capsule_size,fill_weight_mg,lot,measured_on,source\n"
        "mcc-3-a,mcc,3,95,L123,2026-10-01,measured 2026-10-01 AB (100 capsules)\n")
    plan = plan_capsules("4.5mg", 30, tablet_weight="200mg")
    assert plan.fill_weight == Q_(95, "mg")
    assert plan.to_dict()["fill_weight_method"] == "pack-stat"
    assert "measured 2026-10-01 AB" in step(plan, "fill_weight_mg").source
    assert "FILL_WEIGHT_ESTIMATED" not in codes(plan)
    # an explicit fill weight beats the pack statistic
    assert plan_capsules("4.5mg", 30, tablet_weight="200mg", fill_weight="100mg").fill_weight == Q_(100, "mg")


def test_basis_base_converts_and_shows_it():
    # 4.5 mg base x 377.86 / 341.40 = 4.98058 mg HCl
    plan = plan_capsules("4.5mg", 30, basis="base", tablet_weight="200mg")
    s = step(plan, "strength_hcl_mg")
    assert s.value == 4.981 and "MW" in s.formula and s.inputs["strength (base)"] == "4.5 mg"
    assert plan.quantity("api_required_mg").magnitude == pytest.approx(4.5 * 377.86 / 341.40 * 30)


def test_trituration_planned_for_a_small_api_amount():
    # 0.5 mg x 30 = 15 mg < 120 mg (Class III): drug 120, diluent 840, triturate 960, aliquot 120
    plan = plan_capsules("0.5mg", 30, source="api", assay="100%")
    t = plan.to_dict()["trituration"]
    assert (t["drug_mg"], t["diluent_mg"], t["triturate_mg"], t["aliquot_mg"]) == (120, 840, 960, 120)
    assert (t["stages"], t["factor"], t["diluent"]) == (1, 8, "mcc")
    # filler to add: 84 x 30 - 15 - 105 = 2400 mg
    assert plan.filler_to_add.to("mg").magnitude == pytest.approx(2400)
    assert severity(plan, "TRITURATION_PLANNED") == "info"
    assert "not weighed directly" in step(plan, "api_to_weigh_mg").label
    # a more sensitive balance (SR 0.5 mg -> MWQ 10 mg) weighs the 15 mg directly
    plan = plan_capsules("0.5mg", 30, source="api", assay="100%", balance_sensitivity="0.5mg")
    assert plan.to_dict()["trituration"] is None and plan.to_dict()["minimum_weighable_quantity_mg"] == 10


def test_whole_tablet_route_without_tablet_weight():
    plan = plan_capsules("4.5mg", 30)
    d = plan.to_dict()
    assert d["route"] == "whole-tablets" and d["capsules_to_prepare"] == 33 and d["tablets_to_crush"] == 3
    assert d["tablet_powder_mg"] is None and d["filler_to_add_mg"] is None
    assert severity(plan, "TABLET_WEIGHT_MISSING") == "warning"
    assert "Weigh at least 20 tablets" in plan.finding("TABLET_WEIGHT_MISSING").message
    assert step(plan, "filler_to_add_mg").result == "q.s. to 2772 mg"  # 84 x 33
    # chosen explicitly, the same finding is for information
    assert severity(plan_capsules("4.5mg", 30, route="whole-tablets"), "TABLET_WEIGHT_MISSING") == "info"


def test_shortcut_object():
    # 3 tablets into 33 capsules for 4.5 mg: 150 / 33 = 4.545 mg, +1.01 %; closest count 33
    s = plan_capsules("4.5mg", 33, tablet_weight="200mg").to_dict()["shortcut"]
    assert s == {"tablets": 3, "capsules": 33, "strength_mg": 4.545, "error_pct": 1.01,
                 "closest_capsules": 33, "closest_strength_mg": 4.545, "closest_error_pct": 1.01}


def test_shortcut_warning_on_the_whole_tablet_route():
    # 9 mg x 1: 1 tablet into round(5.56) = 6 capsules of 8.333 mg, -7.4 %
    plan = plan_capsules("9mg", 1, route="whole-tablets")
    assert severity(plan, "SHORTCUT_STRENGTH_OFF") == "warning"
    assert "−7.407 %" in plan.finding("SHORTCUT_STRENGTH_OFF").message


def test_salt_and_hydrate_findings():
    # dihydrate without a CoA water: theoretical 8.705 %, factor 1 / 0.91295
    plan = plan_capsules("4.5mg", 30, source="api", api_form="dihydrate", assay="100%")
    assert plan.amounts["api_factor"] == pytest.approx(1 / (1 - 0.08705))
    assert severity(plan, "DIHYDRATE_WATER_ASSUMED") == "info"
    # declared anhydrous, CoA 99.2 % / 8.71 %: weigh 135 / (0.992 x 0.9129) = 149.07 mg; mismatch
    plan = plan_capsules("4.5mg", 30, source="api", assay="99.2%", water="8.71%")
    assert plan.api_to_weigh.to("mg").magnitude == pytest.approx(135 / 0.9055968)
    f = plan.finding("HYDRATE_MISMATCH")
    assert str(f.severity) == "warning" and "under-dose by 8.71 %" in f.message
    # declared dihydrate, CoA water 5 %: off the theoretical 8.71 % by more than 1.5 %
    plan = plan_capsules("4.5mg", 30, source="api", api_form="dihydrate", assay="99.5%", water="5%")
    assert severity(plan, "DIHYDRATE_WATER_OFF") == "warning"
    # T6: assay 88 % -> factor 1.13636 (RxOne 1.1363 truncated); outside USP 98-102 %
    plan = plan_capsules("4.5mg", 30, source="api", assay="88%")
    assert plan.amounts["api_factor"] == pytest.approx(1.136363636)
    assert plan.to_dict()["api_factor"] == 1.136
    assert severity(plan, "ASSAY_OUTSIDE_USP") == "warning"
    assert severity(plan_capsules("4.5mg", 30, source="api"), "ASSAY_ASSUMED") == "info"


# ---------------------------------------------------------------- refusals


def assert_refused(plan, code):
    assert plan.refused and plan.status == "refused"
    assert severity(plan, code) == "refusal"
    d = plan.to_dict()
    for key in ("api_required_mg", "tablet_powder_mg", "filler_total_mg", "capsules_to_prepare",
                "trituration", "shortcut", "steps"):
        assert key not in d
    assert "REFUSED" in plan.worksheet() and "Working" not in plan.worksheet()
    json.dumps(d, allow_nan=False)


@pytest.mark.parametrize(("strength", "code"), [("0mg", "DOSE_BAND_ZERO"), ("-1mg", "DOSE_BAND_ZERO"),
                                                ("11mg", "DOSE_BAND_ABOVE_LDN")])
def test_strength_refusals(strength, code):
    assert_refused(plan_capsules(strength, 30, tablet_weight="200mg"), code)


def test_zero_count_refused():
    assert_refused(plan_capsules("4.5mg", 0, tablet_weight="200mg"), "COUNT_NOT_POSITIVE")


def test_grams_for_milligrams_is_refused_with_the_slip_named():
    plan = plan_capsules("4.5g", 30, tablet_weight="200mg")
    assert_refused(plan, "DOSE_BAND_ABOVE_LDN")
    assert "did you mean 4.5 mg?" in plan.finding("DOSE_BAND_ABOVE_LDN").message
    assert "UNIT_SLIP_SUSPECTED" in codes(plan)
    # the consequences of a refused strength (540 g of powder overfills) are not listed
    assert "CAPSULE_OVERFILLED" not in codes(plan)


def test_upper_ldn_is_a_warning():
    plan = plan_capsules("6mg", 30, tablet_weight="200mg")
    assert plan.status == "warning" and severity(plan, "DOSE_BAND_LDN_UPPER") == "warning"


def test_opioid_use_refused_unless_overridden_with_a_reason():
    assert_refused(plan_capsules("4.5mg", 30, tablet_weight="200mg", opioid_use=True), "OPIOID_USE")
    plan = plan_capsules("4.5mg", 30, tablet_weight="200mg", opioid_use=True,
                         override_opioid="prescriber confirmed opioid-free 10 days")
    assert plan.status == "warning" and severity(plan, "OPIOID_USE_OVERRIDDEN") == "warning"
    assert plan.to_dict()["inputs"]["override_opioid"] == "prescriber confirmed opioid-free 10 days"


def test_capsule_that_cannot_hold_the_dose_is_refused():
    # 10 mg from 200 mg tablets = 40 mg powder a capsule; #5 holds 0.13 mL x 0.28 g/mL = 36.4 mg
    assert_refused(plan_capsules("10mg", 30, tablet_weight="200mg", capsule_size="5"), "CAPSULE_OVERFILLED")


def test_assay_typing_slip_refused():
    assert_refused(plan_capsules("4.5mg", 30, source="api", assay="992%"), "ASSAY_IMPLAUSIBLE")


@pytest.mark.parametrize("filler", ["calcium-carbonate", "caco3", "hpmc"])
def test_fillers_to_avoid_warn_with_the_reason(filler):
    plan = plan_capsules("4.5mg", 30, tablet_weight="200mg", filler=filler)
    f = plan.finding("FILLER_AVOID")
    assert str(f.severity) == "warning"
    assert "absorption" in f.message or "slow-release" in f.message


def test_filler_below_mwq_is_added_qs():
    # 4.5 mg x 7, 200 mg tablets: powder 126 mg; fill 30 mg: 210 - 126 = 84 mg filler < 120 mg
    plan = plan_capsules("4.5mg", 7, tablet_weight="200mg", fill_weight="30mg")
    assert "FILLER_QS" in codes(plan)
    assert "q.s. to the blend total 210 mg" in step(plan, "filler_to_add_mg").result


# ---------------------------------------------------------------- input errors


@pytest.mark.parametrize(("kwargs", "error", "says"), [
    ({"strength": "4,5mg"}, UnitInputError, "4.5mg"),
    ({"strength": "4.5"}, UnitInputError, "4.5mg"),
    ({"count": "30.5"}, UnitInputError, "whole number"),
    ({"filler": "chalk"}, InputError, "Known: mcc"),
    ({"capsule_size": "7"}, InputError, "Known: 0, 00, 000, 1"),
    ({"route": "weighed", "tablet_weight": None}, InputError, "Weigh at least 20 tablets"),
    ({"tablet_weight": "0mg"}, InputError, "greater than zero"),
    ({"assay": "99%"}, InputError, "--source api"),
    ({"source": "api", "tablet_weight": None, "route": "weighed"}, InputError, "Leave --route out"),
    ({"source": "api", "tablet_weight": None, "water": "100%"}, InputError, "8.71%"),
    ({"source": "api", "tablet_weight": None, "product": "naltrexone-hcl-dihydrate-api"}, InputError,
     "--api-form dihydrate"),
    ({"product": "naltrexone-hcl-api"}, InputError, "not tablet"),
    ({"overage": "1.5"}, UnitInputError, "5%"),
    ({"overage": "5"}, None, None),
])
def test_input_errors_say_what_to_type(kwargs, error, says):
    args = {"strength": "4.5mg", "count": 30, "tablet_weight": "200mg", **kwargs}
    if error is None:  # the control case: the same call without the mistake plans
        assert plan_capsules(args.pop("strength"), args.pop("count"), **args).status == "ok"
        return
    with pytest.raises(error) as info:
        plan_capsules(args.pop("strength"), args.pop("count"), **args)
    assert info.value.exit_code == 2
    assert says in str(info.value)


def test_counts_are_exact_whole_numbers_in_json():
    # amounts round to 4 significant figures; counts never do (at most 10,000 capsules: rules.toml
    # [batch_limits]; 9,999 + 1 extra = 10,000)
    d = plan_capsules("4.5mg", 9999, overage="1", tablet_weight="200mg", fill_weight="100mg").to_dict()
    assert d["capsules_to_prepare"] == 10000
    assert d["tablets_to_crush"] == 900           # ceil(4.5 x 10000 / 50) = 900
    d = plan_capsules("4.5mg", 9873, tablet_weight="200mg", fill_weight="100mg").to_dict()
    assert d["capsules_to_prepare"] == 9873
    assert d["tablets_to_crush"] == 889           # ceil(4.5 x 9873 / 50) = ceil(888.57)
    assert d["api_required_mg"] == 44430           # 44428.5 mg to 4 significant figures


def test_row_helpers_serve_any_row_of_a_many_row_result():
    # batch runs call findings_for / working_for / amounts_for on row i of a big result
    import numpy as np

    from compound.core.capsules import CapsuleInputs, compute_capsules
    from compound.planning import capsules as planning
    from compound.planning import resolve

    single = plan_capsules("4.5mg", 30, overage="1", tablet_weight="200mg", fill_weight="100mg")
    size, filler = resolve.capsule_size("3"), resolve.excipient("mcc")
    fill, method, source = planning.resolve_fill_weight(100.0, filler, size)
    rules = planning.capsule_rules()
    ctx = planning.CapsuleContext(
        salts=resolve.salts(), balance=resolve.balance(), bands=rules.dose_bands,
        product=resolve.product("naltrexone-hcl-50mg-tablet"), filler=filler, capsule_size=size,
        fill_weight_method=method, fill_weight_source=source)
    result = compute_capsules(CapsuleInputs(
        strength_mg=np.array([0.0, 11.0, 4.5]), count=30, fill_weight_mg=fill, mwq_mg=120.0,
        rules=rules, overage_units=1, tablet_strength_mg=50.0, tablet_weight_mg=200.0))
    assert planning.amounts_for(result, 2, ctx) == single.amounts
    assert planning.findings_for(result, 2, ctx) == single.findings
    assert planning.working_for(result, 2, ctx).to_list() == single.working.to_list()
    assert {f.code for f in planning.findings_for(result, 0, ctx)} >= {"DOSE_BAND_ZERO"}
    assert planning.working_for(result, 0, ctx).to_list() == []


@pytest.mark.parametrize("weight", ["11mg", "50mg", "0.05g"])
def test_a_tablet_cannot_weigh_less_than_its_drug(weight):
    # A 50 mg naltrexone HCl tablet weighing 11 mg is a typo or a wrong unit: weighing
    # powder by it would put a fraction of the dose in each capsule.
    from compound.errors import InputError

    with pytest.raises(InputError, match="a 50 mg tablet cannot weigh") as info:
        plan_capsules("4.5mg", 30, tablet_weight=weight)
    assert info.value.field == "tablet_weight"


def test_core_refuses_an_impossible_tablet_weight_row_by_row():
    # Batch runs reach the core without plan_capsules' input check: the row is refused there.
    import numpy as np

    from compound.core.capsules import CapsuleInputs, compute_capsules
    from compound.planning.capsules import capsule_rules

    result = compute_capsules(CapsuleInputs(
        strength_mg=np.array([4.5, 4.5]), count=np.array([30.0, 30.0]),
        fill_weight_mg=np.array([100.0, 100.0]), mwq_mg=np.array([120.0, 120.0]),
        rules=capsule_rules(), tablet_strength_mg=np.array([50.0, 50.0]),
        tablet_weight_mg=np.array([11.0, 200.0])))
    assert result.masks["TABLET_WEIGHT_IMPOSSIBLE"].tolist() == [True, False]
