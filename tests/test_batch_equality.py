"""A batch row equals the one-at-a-time plan of the same prescription.

Hypothesis draws random prescriptions (valid, refused and unreadable ones
alike), plans them as one DataFrame with ``plan_frame`` and one by one with
``plan_capsules`` / ``plan_liquid`` / ``plan_drops``, and compares the
rounded output: every amount, every finding code in order, the status, and
"error" exactly where the single plan raises an InputError.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compound.batch import plan_frame
from compound.errors import InputError
from compound.planning.capsules import plan_capsules
from compound.planning.drops import plan_drops
from compound.planning.liquid import plan_liquid

SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def mg(low: float, high: float) -> st.SearchStrategy[str]:
    return st.floats(low, high, allow_nan=False).map(lambda x: f"{round(x, 3)}mg")


def blank_or(*values: str) -> st.SearchStrategy[str]:
    return st.sampled_from(("", *values))


@st.composite
def capsule_rows(draw: Any) -> dict[str, str]:
    """Mostly prescriptions plan_capsules accepts; now and then one cell it must refuse to read."""
    source = draw(blank_or("tablet", "api", "API"))
    api = source.lower() == "api"
    row = {
        "form": "capsules",
        "strength": draw(st.one_of(mg(0.05, 12), st.sampled_from(["4.5mg", "500mcg", "4.5g", "0mg"]))),
        "count": draw(st.sampled_from(["30", "60", "1", "100", "0"])),
        "overage": draw(blank_or("0", "1", "2", "5%", "10%", "-1")),
        "source": source,
        "fill_weight": draw(blank_or("100mg", "150mg", "60mg", "20mg")),
        "capsule_size": draw(blank_or("3", "4", "1", "0")),
        "filler": draw(blank_or("mcc", "lactose-anhydrous", "calcium-carbonate")),
        "basis": draw(blank_or("hcl", "base")),
        "balance": draw(blank_or("class-iii", "analytical-0.1mg")),
        "balance_sensitivity": draw(st.sampled_from(["", "", "1mg"])),
        "opioid_use": draw(st.sampled_from(["", "no", "no", "yes"])),
        "override_opioid": draw(st.sampled_from(["", "", "", "prescriber confirmed opioid-free"])),
        "tablet_weight": "", "route": "", "api_form": "", "assay": "", "water": "",
    }
    if api:
        row["api_form"] = draw(blank_or("anhydrous", "dihydrate", "base"))
        row["assay"] = draw(blank_or("99.2%", "97%", "100.5%"))
        row["water"] = draw(blank_or("0.5%", "8.7%", "6%"))
    else:
        row["tablet_weight"] = draw(blank_or("200mg", "195.5mg", "200mg", "40mg"))
        row["route"] = draw(st.sampled_from(["", "", "whole-tablets"]
                                            + (["weighed"] if row["tablet_weight"] else [])))
    if draw(st.integers(0, 6)) == 0:  # one unreadable or contradictory cell
        column, bad = draw(st.sampled_from([
            ("strength", "4,5mg"), ("strength", "4.5"), ("strength", "500ug"), ("count", "2.5"),
            ("overage", "5"), ("capsule_size", "9"), ("filler", "chalk"), ("source", "tablets"),
            ("route", "weighed"), ("tablet_weight", "0mg"), ("assay", "99.2"), ("water", "120%"),
            ("balance", "kitchen-scale"), ("opioid_use", "maybe"), ("basis", "salt")]))
        row[column] = bad
    return row


_BAD_LIQUID_CELLS = (("strength", "1,5mg/mL"), ("strength", "1mg"), ("volume", "30"), ("dose", "4.5"),
                     ("days", "14"), ("volume", ""), ("strength", ""),
                     ("days", "2.5"), ("days", "-3"), ("overage", "5"), ("overage", "150%"),
                     ("tablet_weight", "20mg"), ("vehicle", "syrup"), ("product", "aspirin"),
                     ("api_form", "salt"), ("assay", "99.2"), ("water", "120%"), ("basis", "salt"),
                     ("balance", "kitchen-scale"), ("opioid_use", "maybe"))


@st.composite
def liquid_rows(draw: Any) -> dict[str, str]:
    """Oral liquids of every route: tablets whole or weighed (triturated below the MWQ), API
    direct or by a liquid aliquot, vehicles, devices, overage, days' supply, refusals and,
    now and then, a cell plan_liquid refuses to read or a contradiction it raises for."""
    source = draw(blank_or("tablet", "api", "API"))
    api = source.lower() == "api"
    row = {
        "form": "liquid",
        "strength": draw(st.sampled_from(["1mg/mL", "5mg/mL", "2mg/mL", "0.5mg/mL", "150mg/mL", "1mg/mL",
                                          "0.01mg/mL", "0.001mg/mL", "0.05mg/mL", "0mg/mL", "1.5mg/mL",
                                          "500mcg/mL", "0.2mg/mL"])),
        "volume": draw(st.sampled_from(["100mL", "30mL", "50mL", "75mL", "100mL", "2mL", "10mL", "1L"])),
        "dose": draw(blank_or("4.5mg", "1.5mg", "3mg", "0.5mg", "4.5g", "4.5mcg", "0mg", "0.05mg")),
        "days": "",
        "source": source,
        "vehicle": draw(blank_or("fawcett-1997", "purified-water")),
        "basis": draw(blank_or("hcl", "base")),
        "balance": draw(blank_or("class-iii", "analytical-0.1mg")),
        "balance_sensitivity": draw(st.sampled_from(["", "", "", "1mg"])),
        "overage": draw(blank_or("", "", "5%", "10%")),
        "opioid_use": draw(blank_or("", "no", "yes")),
        "override_opioid": draw(st.sampled_from(["", "", "", "prescriber confirmed opioid-free"])),
        "tablet_weight": "", "api_form": "", "assay": "", "water": "", "product": "",
    }
    if draw(st.integers(0, 3)) == 0:  # a days' supply instead of a volume
        row["volume"] = ""
        row["days"] = draw(st.sampled_from(["14", "30d", "2 weeks", "0", "7"]))
        row["dose"] = row["dose"] or "4.5mg"
    if api:
        row["api_form"] = draw(blank_or("anhydrous", "dihydrate", "base"))
        row["assay"] = draw(blank_or("99.2%", "97%", "100.5%", "992%"))
        row["water"] = draw(blank_or("0.5%", "8.7%", "6%"))
        row["product"] = draw(st.sampled_from(["", "", "", "naltrexone-hcl-api",
                                               "naltrexone-hcl-dihydrate-api"]))
    else:
        row["tablet_weight"] = draw(blank_or("200mg", "195.5mg", "200mg"))
        row["product"] = draw(st.sampled_from(["", "", "naltrexone-hcl-50mg-tablet"]))
    if draw(st.integers(0, 6)) == 0:
        column, bad = draw(st.sampled_from(_BAD_LIQUID_CELLS))
        row[column] = bad
    return row


_BAD_DROPS_CELLS = (("per_drop", "0.5mL"), ("strength", "10mg"), ("calibration", "46 drops"),
                    ("per_drop", ""), ("strength", "10mg/mL"), ("calibration", "40 drops/2mL"),
                    ("dose", "9 drops"), ("volume", ""),
                    ("drops_per_ml", "many"), ("volume", "30"), ("dose", "2.5 drops"),
                    ("dose", "4.5"), ("tablet_weight", "20mg"), ("vehicle", "syrup"),
                    ("api_form", "salt"), ("basis", "salt"), ("opioid_use", "maybe"))


@st.composite
def drops_rows(draw: Any) -> dict[str, str]:
    """Drops by the drop or by strength, calibrated or not, doses in mg or in drops (a calibration
    needed), tablets or API (an aliquot below the MWQ), refusals and unreadable cells."""
    source = draw(blank_or("api", "tablet"))
    by_drop = draw(st.booleans())
    calibration, drops_per_ml = draw(st.sampled_from([("", ""), ("46 drops/2mL", ""), ("35 drops/2mL", ""),
                                                      ("", "23"), ("", "18.5")]))
    row = {
        "form": "drops",
        "per_drop": draw(st.sampled_from(["0.5mg/drop", "0.25mg/drop", "0.5mg", "0.01mg", "0.1mg/drop"]))
        if by_drop else "",
        "strength": "" if by_drop else draw(st.sampled_from(["10mg/mL", "5mg/mL", "0.02mg/mL", "200mg/mL"])),
        "calibration": calibration,
        "drops_per_ml": drops_per_ml,
        "volume": draw(st.sampled_from(["30mL", "15mL", "10mL", "50mL", "1mL"])),
        "dose": draw(blank_or("4.5mg", "1.5mg", "3mg", "0.5mg", "0.001mg", "4.5g")
                     if not (calibration or drops_per_ml) else
                     blank_or("4.5mg", "1.5mg", "3mg", "9 drops", "0.5mg", "1 drop", "0.001mg")),
        "source": source,
        "vehicle": draw(blank_or("fawcett-1997", "purified-water")),
        "basis": draw(blank_or("hcl", "base")),
        "balance": draw(blank_or("class-iii", "analytical-0.1mg")),
        "opioid_use": draw(blank_or("", "no", "yes")),
        "tablet_weight": "", "api_form": "", "assay": "",
    }
    if source == "tablet":
        row["tablet_weight"] = draw(blank_or("200mg", "195.5mg"))
    else:
        row["api_form"] = draw(blank_or("anhydrous", "dihydrate", "base"))
        row["assay"] = draw(blank_or("99.2%", "97%"))
    if draw(st.integers(0, 6)) == 0:
        column, bad = draw(st.sampled_from(_BAD_DROPS_CELLS))
        row[column] = bad
    return row


def liquid_objects(d: dict[str, Any]) -> dict[str, Any]:
    """The plan's JSON objects as the batch's flat columns (trituration, aliquot, device, vehicle)."""
    trit = d.get("trituration") or {}
    out = {f"trituration_{k}": trit.get(k) for k in (
        "stages", "factor_per_stage", "powder_mg", "diluent_per_stage_mg", "triturate_per_stage_mg",
        "aliquot_mg")}
    out["aliquot_overall_factor"] = (d.get("aliquot") or {}).get("overall_factor")
    device = d.get("device") or {}
    out["device_capacity_ml"] = device.get("capacity_ml")
    out["device_graduation_ml"] = device.get("graduation_ml")
    return out


def liquid_texts(d: dict[str, Any]) -> dict[str, Any]:
    """Text columns: the device's name, the vehicle's key and the product, as the plan says."""
    return {"device": (d.get("device") or {}).get("name"), "vehicle": (d.get("vehicle") or {}).get("key"),
            "product": d["inputs"]["product"],
            "aliquot_stages": len((d.get("aliquot") or {}).get("stages", []))}


def frame_of(rows: list[dict[str, str]]) -> pd.DataFrame:
    columns = sorted({k for r in rows for k in r})
    return pd.DataFrame({c: [r.get(c) or None for r in rows] for c in columns}, dtype="str")


def kwargs_of(row: dict[str, str], skip: tuple[str, ...] = ("form",)) -> dict[str, Any]:
    out: dict[str, Any] = {k: v for k, v in row.items() if v and k not in skip}
    if "opioid_use" in row:  # a flag on the command line: a cell other than yes/no cannot be typed
        if row["opioid_use"] not in ("", "yes", "no"):
            raise InputError("opioid_use: not yes or no")
        out["opioid_use"] = row["opioid_use"] == "yes"
    for key in ("source", "basis", "api_form"):
        if key in out:
            out[key] = out[key].lower()
    return out


def same(batch_value: Any, plan_value: Any) -> bool:
    missing = batch_value is None or (isinstance(batch_value, float) and math.isnan(batch_value)) \
        or batch_value is pd.NA
    if plan_value is None:
        return missing
    if missing:
        return False
    return float(batch_value) == float(plan_value)


def compare(out: pd.DataFrame, rows: list[dict[str, str]], plan_one: Any,
            flatten: Any = lambda d: {}, texts: Any = None) -> None:
    assert len(out) == len(rows)
    assert out["row"].tolist() == list(range(1, len(rows) + 1))
    for i, row in enumerate(rows):
        got = out.iloc[i]
        try:
            single = plan_one(row)
        except InputError:
            assert got["status"] == "error", (row, got["errors"])
            continue
        if row.get("source", "").lower() not in ("", "tablet", "api"):
            pytest.fail(f"plan accepted source {row['source']!r}")
        assert got["status"] == single.status, (row, got["errors"], got["finding_codes"])
        as_json = single.to_dict()
        codes = ";".join(f["code"] for f in as_json["findings"]) or None
        assert (None if pd.isna(got["finding_codes"]) else got["finding_codes"]) == codes, row
        expected = {**{k: as_json.get(k) for k in single.amounts}, **flatten(as_json)}
        for key, value in expected.items():
            if key in out.columns:
                assert same(got[key], value), (key, got[key], value, row)
        if texts is not None and "steps" in as_json:
            want = texts(as_json)
            assert (None if pd.isna(got["device"]) else got["device"]) == want["device"], row
            assert got["vehicle"] == want["vehicle"] and got["product"] == want["product"], row
            steps = got["aliquot_steps"]
            assert (0 if pd.isna(steps) else steps.count("; stage ")) == want["aliquot_stages"], row


@SETTINGS
@given(st.lists(capsule_rows(), min_size=1, max_size=12))
def test_capsule_rows_equal_plan_capsules(rows):
    def one(row):
        return plan_capsules(row["strength"], row["count"], **kwargs_of(row, ("form", "strength", "count")))

    def flatten(d):
        out = {}
        for key, name in (("stages", "stages"), ("factor", "factor"), ("overall_factor", "overall_factor"),
                          ("drug_mg", "drug_mg"), ("diluent_mg", "diluent_mg"),
                          ("triturate_mg", "triturate_mg"), ("aliquot_mg", "aliquot_mg"),
                          ("diluent_carried_mg", "diluent_carried_mg")):
            out[f"trituration_{name}"] = (d.get("trituration") or {}).get(key)
        for key in ("tablets", "capsules", "strength_mg", "error_pct", "closest_capsules",
                    "closest_strength_mg", "closest_error_pct"):
            out[f"shortcut_{key}"] = (d.get("shortcut") or {}).get(key)
        return out if "steps" in d else {}

    compare(plan_frame(frame_of(rows)), rows, one, flatten)


LIQUID_SETTINGS = settings(max_examples=40, deadline=None,
                           suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@LIQUID_SETTINGS
@given(st.lists(liquid_rows(), min_size=1, max_size=16))
def test_liquid_rows_equal_plan_liquid(rows):
    """Every row of a column planned at once (one core call) equals plan_liquid on that row."""
    def one(row):
        return plan_liquid(row["strength"], **kwargs_of(row, ("form", "strength")))

    compare(plan_frame(frame_of(rows)), rows, one, liquid_objects, liquid_texts)


@LIQUID_SETTINGS
@given(st.lists(drops_rows(), min_size=1, max_size=16))
def test_drops_rows_equal_plan_drops(rows):
    compare(plan_frame(frame_of(rows)), rows, lambda row: plan_drops(**kwargs_of(row)), liquid_objects,
            liquid_texts)


def test_capsule_text_columns_equal_the_plan():
    """Route, fill-weight method, filler and product: the plan's own words."""
    rows = [{"form": "capsules", "strength": "4.5mg", "count": "30", "source": "tablet"},
            {"form": "capsules", "strength": "0.5mg", "count": "30", "source": "api",
             "fill_weight": "100mg"}]
    out = plan_frame(frame_of(rows))
    for i, row in enumerate(rows):
        single = plan_capsules(row["strength"], row["count"], **kwargs_of(row, ("form", "strength", "count")))
        d = single.to_dict()
        assert out.loc[i, "route"] == d["route"]
        assert out.loc[i, "fill_weight_method"] == d["fill_weight_method"]
        assert out.loc[i, "filler"] == d["inputs"]["filler"]
        assert out.loc[i, "product"] == d["inputs"]["product"]
