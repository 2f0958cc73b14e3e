"""A pharmacy's overlay of studies.toml, bud_rules.csv and vehicles.csv: what it may write
works, and what is broken is a CatalogError (exit 5) naming the file, section and key.

Every test writes its overlay with the ``overlay`` fixture (tests/conftest.py) and
goes through the real entry points (assign_bud, category_for_plan, ``compound bud``).
"""

from __future__ import annotations

import datetime as dt

import pytest

from compound.catalog import loader
from compound.cli import main
from compound.errors import CatalogError, InputError
from compound.planning.stability import assign_bud, category_for_plan, policy, studies, study

D = dt.date

STUDY = ('[study.{key}]\nname = "Our study"\ncitation = "In-house report 7"\n'
         'preparation = "our preparation"\ncategory = "{category}"\n'
         'source = "QA report 7, 2026"\n')


def write(directory, name, text):
    (directory / name).write_text(text, encoding="utf-8")
    loader.clear_cache()


def our_study(key="our-2026", category="nonaqueous-solid", windows="room = 120",
              match=""):
    text = STUDY.format(key=key, category=category) + f"[study.{key}.window_days]\n{windows}\n"
    if match:
        text += f"[study.{key}.match]\n{match}\n"
    return text


def mismatch(result):
    return next(f.message for f in result.findings if f.code == "STUDY_MISMATCH")


def cli(capsys, *args):
    try:
        main(["bud", *args])
        code = 0
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


# ----------------------------------------------------------------------------- 1. day counts


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "0", "-30", "14.5", "1e400", '"180"',
                                   "true"])
def test_a_policy_cap_that_is_not_a_whole_number_of_days_is_a_catalog_error(overlay, value):
    write(overlay, "studies.toml", f"[policy.usp795-2023]\nmax_extended_days = {value}\n")
    with pytest.raises(CatalogError) as err:
        assign_bud("nonaqueous-solid", "2025-03-10", study="cote-2018", attest=True)
    assert err.value.exit_code == 5
    assert "studies.toml [policy.usp795-2023] max_extended_days" in err.value.message
    assert "whole number of days" in err.value.message


@pytest.mark.parametrize("value", ["inf", "nan", "0", "2.5"])
def test_a_study_window_that_is_not_a_whole_number_of_days_is_a_catalog_error(overlay, value):
    write(overlay, "studies.toml", our_study(windows=f"room = {value}"))
    with pytest.raises(CatalogError) as err:
        assign_bud("nonaqueous-solid", "2025-03-10", study="our-2026", attest=True)
    assert err.value.exit_code == 5
    assert "studies.toml [study.our-2026] window_days.room" in err.value.message
    assert "whole number of days" in err.value.message


def test_an_infinite_window_in_another_study_is_still_a_catalog_error(overlay):
    # Every study is read when any BUD is assigned (the shorter-study warning looks at all).
    write(overlay, "studies.toml", our_study(windows="room = inf"))
    with pytest.raises(CatalogError, match=r"\[study.our-2026\] window_days.room"):
        assign_bud("nonaqueous-solid", "2025-03-10", preparation={"filler": "mcc"})


@pytest.mark.parametrize("value", ["inf", "nan"])
def test_days_in_bud_rules_csv_that_are_not_finite_are_a_catalog_error(overlay, value):
    write(overlay, "bud_rules.csv", "key,days,source\nnonaqueous-solid," + value + ",ours\n")
    with pytest.raises(CatalogError) as err:
        assign_bud("nonaqueous-solid", "2025-03-10")
    assert "bud_rules.csv, row 'nonaqueous-solid', column 'days'" in err.value.message


def test_the_cli_exits_5_with_the_file_section_and_key_not_a_traceback(overlay, capsys):
    write(overlay, "studies.toml", "[policy.usp795-2023]\nmax_extended_days = inf\n")
    code, out, err = cli(capsys, "--category", "nonaqueous-solid", "--compounded", "2025-03-10",
                         "--study", "cote-2018", "--attest")
    assert code == 5 and out == ""
    assert "studies.toml [policy.usp795-2023] max_extended_days" in err
    assert "Traceback" not in err


def test_a_reference_cap_that_is_not_finite_is_a_catalog_error_under_the_study_policy(overlay):
    # The study policy compares its BUD with the usp795-2023 cap: that cap is checked too.
    write(overlay, "studies.toml", "[policy.usp795-2023]\nmax_extended_days = nan\n")
    with pytest.raises(CatalogError, match=r"\[policy.usp795-2023\] max_extended_days"):
        assign_bud("nonaqueous-solid", "2025-03-10", study="cote-2018", attest=True,
                   policy="study")


def test_a_large_whole_number_of_days_still_works(overlay):
    write(overlay, "studies.toml", "[policy.usp795-2023]\nmax_extended_days = 720.0\n")
    r = assign_bud("nonaqueous-solid", "2025-03-10", study="cote-2018", attest=True)
    # 360 < 720: the study's window governs; 2025-03-10 + 359 = 2026-03-04.
    assert r.beyond_use_date == D(2026, 3, 4) and r.limit.kind == "study"
    assert policy("usp795-2023").max_extended_days == 720


# ----------------------------------------------------------------------------- 2. key case


def test_a_study_key_with_capitals_can_be_chosen_however_it_is_typed(overlay):
    write(overlay, "studies.toml", our_study(key="Local-2024"))
    for typed in ("Local-2024", "local-2024", "LOCAL-2024 "):
        r = assign_bud("nonaqueous-solid", "2025-03-10", study=typed, attest=True)
        # 120 days, Day 1: 2025-03-10 + 119 = 2025-07-07.
        assert r.beyond_use_date == D(2025, 7, 7) and r.limit.kind == "study"
        assert r.study == "Local-2024"  # the catalog's spelling is kept
    assert study("local-2024").key == "Local-2024"
    assert "Local-2024" in studies()


def test_a_policy_key_with_capitals_can_be_chosen_however_it_is_typed(overlay):
    write(overlay, "studies.toml",
          '[policy.Ours-90]\nname = "Our 90-day cap"\nmax_extended_days = 90\n'
          'source = "SOP 12"\n')
    for typed in ("Ours-90", "ours-90"):
        r = assign_bud("nonaqueous-solid", "2025-03-10", study="cote-2018", attest=True,
                       policy=typed)
        # capped at 90 days: 2025-03-10 + 89 = 2025-06-07.
        assert r.beyond_use_date == D(2025, 6, 7) and r.limit.kind == "policy-cap"
        assert r.policy == "Ours-90"


def test_the_shorter_study_warning_names_a_key_that_can_be_typed(overlay):
    write(overlay, "studies.toml",
          our_study(key="Local-2024", windows="room = 30", match='filler = ["mcc"]'))
    r = assign_bud("nonaqueous-solid", "2025-03-10", preparation={"filler": "mcc"})
    warning = next(f for f in r.findings if f.code == "STUDY_SUGGESTS_SHORTER_BUD")
    assert "--study Local-2024 --attest" in warning.message
    again = assign_bud("nonaqueous-solid", "2025-03-10", study="Local-2024", attest=True,
                       preparation={"filler": "mcc"})
    assert again.limit.kind == "study"


def test_an_unknown_study_is_still_an_input_error_listing_the_catalog_spelling(overlay):
    write(overlay, "studies.toml", our_study(key="Local-2024"))
    with pytest.raises(InputError, match="unknown stability study") as err:
        assign_bud("nonaqueous-solid", "2025-03-10", study="local-2025", attest=True)
    assert "Local-2024" in (err.value.hint or "") and err.value.exit_code == 2


@pytest.mark.parametrize(("text", "section"), [
    (our_study(key="Cote-2018"), "study"),
    ('[policy.Study]\nname = "x"\nsource = "y"\n', "policy"),
])
def test_two_keys_that_differ_only_in_case_are_a_catalog_error(overlay, text, section):
    write(overlay, "studies.toml", text)
    with pytest.raises(CatalogError) as err:
        assign_bud("nonaqueous-solid", "2025-03-10", study="cote-2018", attest=True,
                   policy="study")
    assert f"studies.toml [{section}]" in err.value.message
    assert "differ only in case" in err.value.message


def test_category_and_storage_keys_with_capitals_match_however_they_are_typed(overlay):
    # A pharmacy's own category, spelled with capitals in bud_rules.csv, and a study that names it
    # and its storage with capitals too.
    write(overlay, "bud_rules.csv", "key,name,days,storage,default_storage,source\n"
          "Our-Gel,Our gel,21,Room; Refrigerated,Refrigerated,SOP 14\n")
    write(overlay, "studies.toml", our_study(key="gel-2026", category="OUR-GEL", windows="Room = 45"))
    r = assign_bud("our-gel", "2025-03-10")
    # 21 days refrigerated (the default), Day 1: 2025-03-10 + 20 = 2025-03-30.
    assert (r.beyond_use_date, r.storage) == (D(2025, 3, 30), "refrigerated")
    r = assign_bud("Our-Gel", "2025-03-10", storage="ROOM", study="gel-2026", attest=True)
    # The study's 45 days at room temperature: 2025-03-10 + 44 = 2025-04-23.
    assert (r.beyond_use_date, r.storage, r.limit.kind) == (D(2025, 4, 23), "room", "study")


def test_two_categories_that_differ_only_in_case_are_a_catalog_error(overlay):
    write(overlay, "bud_rules.csv", "key,name,days,storage,default_storage,source\n"
          "Nonaqueous-Solid,x,30,room,room,SOP\n")
    with pytest.raises(CatalogError, match="differ only in case"):
        assign_bud("nonaqueous-solid", "2025-03-10")


# ----------------------------------------------------------------------------- 3. concentration


def test_a_list_of_concentrations_matches_any_of_them(overlay):
    write(overlay, "studies.toml", our_study(
        category="aqueous-preserved", windows="refrigerated = 60",
        match="concentration_mg_per_ml = [1, 5]"))
    for strength in ("1mg/mL", "5 mg/mL"):
        r = assign_bud("aqueous-preserved", "2025-03-10", study="our-2026", attest=True,
                       preparation={"concentration": strength})
        # 60 days, Day 1: 2025-03-10 + 59 = 2025-05-08.
        assert r.beyond_use_date == D(2025, 5, 8) and r.limit.kind == "study"
    wrong = assign_bud("aqueous-preserved", "2025-03-10", study="our-2026", attest=True,
                       preparation={"concentration": "2mg/mL"})
    assert wrong.refused
    assert "it tested 1 or 5 mg/mL, this preparation is 2 mg/mL" in mismatch(wrong)


def test_a_single_concentration_still_reads_as_before():
    r = assign_bud("aqueous-preserved", "2025-03-10", study="fawcett-1997", attest=True,
                   storage="refrigerated", preparation={"concentration": "5mg/mL"})
    assert "it tested 1 mg/mL, this preparation is 5 mg/mL" in mismatch(r)


@pytest.mark.parametrize("value", ['"1 mg/mL"', "[]", '[1, "5"]', "0", "-1", "inf", "nan",
                                   "true", "{ value = 1 }"])
def test_a_concentration_that_is_not_a_number_is_a_catalog_error(overlay, value):
    write(overlay, "studies.toml", our_study(
        category="aqueous-preserved", windows="refrigerated = 60",
        match=f"concentration_mg_per_ml = {value}"))
    with pytest.raises(CatalogError) as err:
        assign_bud("aqueous-preserved", "2025-03-10", study="our-2026", attest=True,
                   preparation={"concentration": "2mg/mL"})
    assert err.value.exit_code == 5
    assert "studies.toml [study.our-2026] match.concentration_mg_per_ml" in err.value.message


# ----------------------------------------------------------------------------- 4. vehicles.csv


def test_an_unknown_bud_category_in_vehicles_csv_is_a_catalog_error(overlay):
    write(overlay, "vehicles.csv", "key,name,bud_category,source\n"
                                   "our-syrup,Our syrup,oily-liquid,SOP 3\n")
    with pytest.raises(CatalogError) as err:
        category_for_plan("liquid", vehicle="our-syrup")
    assert err.value.exit_code == 5
    assert "vehicles.csv, row 'our-syrup'" in err.value.message
    assert "bud_category 'oily-liquid'" in err.value.message
    assert "aqueous-preserved" in (err.value.hint or "")


def test_a_bud_category_in_vehicles_csv_is_read_as_the_user_would_type_it(overlay):
    write(overlay, "vehicles.csv", "key,name,bud_category,source\n"
                                   "our-syrup,Our syrup,Aqueous-Preserved,SOP 3\n")
    assert category_for_plan("liquid", vehicle="our-syrup") == "aqueous-preserved"


def test_a_category_the_user_types_is_still_an_input_error():
    with pytest.raises(InputError, match="unknown BUD category") as err:
        category_for_plan("liquid", "oily")
    assert err.value.exit_code == 2


# ----------------------------------------------------------------------------- 5. month rule


def test_the_month_rule_text_comes_from_the_data_in_note_and_finding(overlay):
    write(overlay, "studies.toml",
          '[component_limits.component-expiry]\nmonth_rule = "in date to the month\'s end"\n')
    r = assign_bud("nonaqueous-solid", "2025-03-10", storage="room",
                   component_expiries=[("tablets", "2025-06")])
    finding = next(f for f in r.findings if f.code == "EXPIRY_MONTH_END")
    assert finding.message == ("Component tablets: expiry 2025-06 read as 2025-06-30 "
                               "(in date to the month's end).")
    assert r.limit.note == "expiry 2025-06 read as 2025-06-30 (in date to the month's end)"


def test_a_day_count_over_100_years_is_a_catalog_error_not_a_date_overflow(overlay):
    # 3,000,000 days from 2025 is past the year 9999: it must not reach the date arithmetic.
    write(overlay, "studies.toml", our_study(windows="room = 3000000"))
    with pytest.raises(CatalogError, match=r"\[study.our-2026\] window_days.room: 3000000 days "
                                           r"is more than 100 years"):
        assign_bud("nonaqueous-solid", "2025-03-10", study="our-2026", attest=True,
                   policy="study")
    write(overlay, "studies.toml", our_study(windows="room = 36525"))
    r = assign_bud("nonaqueous-solid", "2025-03-10", study="our-2026", attest=True,
                   policy="study")
    assert r.stability_window_days == 36525


# ----------------------------------------------------------------------------- shapes


@pytest.mark.parametrize(("text", "where"), [
    ("[study]\nours = 1\n", "studies.toml [study.ours]"),
    ("[policy]\nours = 1\n", "studies.toml [policy.ours]"),
    (STUDY.format(key="ours", category="nonaqueous-solid") + "window_days = 30\n",
     "studies.toml [study.ours] window_days"),
    (STUDY.format(key="ours", category="nonaqueous-solid")
     + 'window_days = { room = 30 }\nmatch = ["mcc"]\n', "studies.toml [study.ours] match"),
    (STUDY.format(key="ours", category="nonaqueous-solid").replace(
        'category = "nonaqueous-solid"', 'category = ["nonaqueous-solid"]')
     + "window_days = { room = 30 }\n", "studies.toml [study.ours]: unknown category"),
])
def test_an_entry_of_the_wrong_shape_is_a_catalog_error(overlay, text, where):
    write(overlay, "studies.toml", text)
    with pytest.raises(CatalogError) as err:
        assign_bud("nonaqueous-solid", "2025-03-10", study="cote-2018", attest=True,
                   preparation={"filler": "mcc"})
    assert where in err.value.message and err.value.exit_code == 5
