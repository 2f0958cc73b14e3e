"""How the results pane writes values it did not get a formatted step for (nested objects)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich import box
from rich.console import Console
from rich.table import Table

from compound.tui.widgets.plan.results import AmountsTable, describe_extra, format_value, label_for


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


_WORDS = ("Strength", "per", "capsule", "(naltrexone", "HCl)", "Capsules", "needed", "prescribed", "+",
          "overage", "Fill", "weight", "low", "×", "−", "µg", "API", "factor", "filler", "q.s.", "to", "the",
          "blend", "triturate", "(anhydrous)")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.lists(st.sampled_from(_WORDS), min_size=1, max_size=12).map(" ".join),
                          st.sampled_from(["4.5 mg", "30", "1.234 g", "—", "0.5 %", "q.s. to 3 g"])),
                min_size=1, max_size=6),
       st.integers(30, 120))
def test_the_amounts_print_as_richs_table_printed_them(rows, width):
    # The pane drew a Rich Table (12 times slower to draw); AmountsTable draws the same cells:
    # the same text on every line, bold where the table was bold (words no longer than the
    # label column: Rich's fold of a longer word can start the next line with a space).
    table = Table(box=box.SIMPLE_HEAD, expand=True, show_edge=False, pad_edge=False)
    table.add_column("Amount", ratio=1, overflow="fold")
    table.add_column("Value", justify="right", no_wrap=True)
    for label, value in rows:
        table.add_row(label, value)

    def drawn(renderable: object) -> list[list[tuple[str, bool]]]:
        console = Console(width=width, force_terminal=True, color_system="truecolor")
        return [[(ch, bool(seg.style and seg.style.bold)) for seg in line for ch in seg.text]
                for line in console.render_lines(renderable, console.options, pad=True)]

    assert drawn(AmountsTable(rows)) == drawn(table)


def test_the_working_heading_alone_is_bold_and_underlined():
    # Built as a Rich Text whose base style was the heading's, the whole working was underlined.
    from compound.planning.capsules import plan_capsules
    from compound.tui.widgets.plan.results import working_text

    data = plan_capsules("4.5mg", 30, tablet_weight="200mg").to_dict()
    content = working_text(data, data["steps"])
    underlined = [(s.start, s.end) for s in content.spans if "underline" in str(s.style)]
    assert underlined == [(0, len("Working"))]
    first = data["steps"][0]
    assert f"\n 1. {first['label']}: {first['result']}\n    = {first['formula']}" in content.plain
    bold = {content.plain[s.start:s.end] for s in content.spans if str(s.style) == "bold"}
    assert {step["label"] for step in data["steps"]} <= bold


def test_a_word_longer_than_the_label_column_is_folded_not_cut():
    lines = AmountsTable([("Naltrexonehydrochloridedihydrate powder", "4.929 mg")]).lines(24)
    labels = [line.plain[:13].rstrip() for line in lines[2:]]  # 24 − 8 (value) − 3 = 13 cells
    assert labels == ["Naltrexonehyd", "rochloridedih", "ydrate powder"]
    assert lines[2].plain.endswith("4.929 mg") and all(len(line.plain) == 24 for line in lines)
