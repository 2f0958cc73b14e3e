"""How the results pane writes values it did not get a formatted step for (nested objects)."""

from __future__ import annotations

import pytest

from compound.tui.widgets.plan.results import describe_extra, format_value, label_for


@pytest.mark.parametrize(
    ("key", "value", "shown"),
    [
        ("tablet_powder_mg", 558, "558 mg"),
        ("api_mg", 0.03, "30 mcg"),  # below 0.1 mg in mcg (rounding.format_mass)
        ("filler_total_mg", 0.1 + 0.2 + 2541.7, "2542 mg"),  # 4 significant figures, no float noise
        ("aliquot_ml", 0.1 + 0.2, "0.3 mL"),
        ("concentration_mg_per_ml", 0.001, "1 mcg/mL"),
        ("dose_error_pct", -3.382, "-3.382 %"),
        ("drops_per_ml", 23, "23 drops/mL"),
        ("stages", 2, "2"),
        ("fill_weight_mg", 100.0, "100 mg"),  # never "100.0 mg"
        ("diluent", "mcc", "mcc"),
        ("trituration", None, "—"),
        ("calibrated", True, "yes"),
    ],
)
def test_values_carry_the_unit_their_key_names(key, value, shown):
    assert format_value(key, value) == shown


def test_labels_drop_the_unit_suffix():
    assert label_for("fill_weight_low_mg") == "Fill weight low"
    assert label_for("stock_concentration_mg_per_ml") == "Stock concentration"
    assert label_for("route") == "Route"


def test_nested_objects_are_indented_and_lists_numbered():
    text = describe_extra("stages", [
        {"stage": 1, "take_ml": 2, "make_up_to_ml": 100, "concentration_mg_per_ml": 0.025},
        {"stage": 2, "take_ml": 1.2, "make_up_to_ml": 30, "concentration_mg_per_ml": 0.001},
    ]).plain
    assert text.splitlines() == [
        "Stages",
        "  1. take 2 mL, make up to 100 mL, concentration 25 mcg/mL",
        "  2. take 1.2 mL, make up to 30 mL, concentration 1 mcg/mL",
    ]
    text = describe_extra("trituration", {"diluent": "mcc", "diluent_mg": 840, "drug_mg": 120}).plain
    assert text.splitlines() == ["Trituration", "  Diluent: mcc", "  Diluent amount: 840 mg",
                                 "  Drug: 120 mg"]
