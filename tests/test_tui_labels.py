"""The Labels screen (F7): a released lot's patient or stock label, previewed and saved.

Lots are made as a pharmacist makes them (``compound plan … --rx … --save``, then
``compound lots release``); the screen must write what ``compound labels`` writes
(the same bytes for ZPL and CSV, the same text in the PDF) and refuse what it refuses.
At 80×24, from a fresh start.
"""

from __future__ import annotations

import pandas as pd
import pytest

from compound.register import Register
from compound.tui.app import CompoundApp
from compound.tui.screens.error import ErrorModal
from compound.tui.screens.labels import LabelsScreen
from test_labels import field_texts, pdf_text, released_for_rx, zpl_blocks
from test_tui_workflow import settle, text

SIZE = (80, 24)


@pytest.fixture
def run(cli):
    return cli


@pytest.fixture
def labels(tmp_path, monkeypatch):
    folder = tmp_path / "labels"
    monkeypatch.setenv("COMPOUND_LABELS", str(folder))
    return folder


async def open_lot(pilot, number: str) -> LabelsScreen:
    """F7 from wherever the app is, type the lot, Enter."""
    await pilot.press("f7")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, LabelsScreen)
    screen.query_one("#labels-lot").value = number
    await pilot.press("enter")
    await settle(pilot)
    return screen


async def test_f7_previews_the_patient_label_of_the_rx_and_saves_what_the_cli_writes(
        run, pharmacy, labels, tmp_path):
    number = released_for_rx(run, "RX7")
    app = CompoundApp()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_lot(pilot, number)
        assert screen.query_one("#labels-rx").value == "RX7"  # recorded against the lot
        assert screen.query_one("#labels-kind").value == "patient"
        drawn = text(app, "#label-preview")
        assert "Zelda Quux" in drawn and "Take 1 capsule at bedtime" in drawn and "▌" in drawn
        assert f"{number}: patient label, Rx RX7" in text(app, "#labels-where")
        await pilot.press("p", "z", "c")  # the preview has the focus after Enter
        await settle(pilot)
    for fmt in ("zpl", "csv"):
        cli_file = tmp_path / f"cli.{fmt}"
        assert run("labels", number, "--format", fmt, "-o", cli_file)[0] == 0
        assert (labels / f"{number}-RX7.{fmt}").read_bytes() == cli_file.read_bytes()
    (block,) = zpl_blocks((labels / f"{number}-RX7.zpl").read_text(encoding="ascii"))
    assert "Zelda Quux" in field_texts(block) and "RX7" in field_texts(block)
    flat = " ".join(pdf_text((labels / f"{number}-RX7.pdf").read_bytes(), tmp_path).split())
    assert "Zelda Quux" in flat and "Take 1 capsule at bedtime" in flat and "Rx RX7" in flat


async def test_an_rx_the_lot_was_dispensed_to_is_offered_and_a_stock_label_chosen(
        run, pharmacy, labels):
    number = released_for_rx(run, "RX7", "--refills", "1", "--quantity-per-fill", "15")
    with Register.open() as register:
        register.record_prescription(
            rx="RX8", patient_name="Yann Ypsilon", patient_dob="1980-05-06", prescriber="Dr B Jones",
            directions="Take 1 capsule in the morning", strength="4.5mg", form="capsules",
            quantity=10, refills=0, recorded_by="AB")
        register.dispense(number, "AB", quantity=10, rx="RX8")
    app = CompoundApp()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_lot(pilot, number)
        rx = screen.query_one("#labels-rx")
        assert [value for _, value in rx._options if isinstance(value, str)] == ["RX7", "RX8"]
        rx.value = "RX8"
        await settle(pilot)
        drawn = text(app, "#label-preview")
        assert "Yann Ypsilon" in drawn and "10 capsules" in drawn and "Zelda" not in drawn
        screen.query_one("#labels-kind").value = "stock"
        screen.query_one("#labels-copies").value = "2"
        await settle(pilot)
        drawn = text(app, "#label-preview")
        assert "Yann" not in drawn and f"Lot {number}" in drawn and "1 of 2" in drawn
        await pilot.press("c")
        await settle(pilot)
    frame = pd.read_csv(labels / f"{number}-stock.csv", dtype=str, keep_default_na=False)
    assert list(frame["copy"]) == ["1", "2"] and set(frame["label"]) == {"stock"}
    assert set(frame["quantity"]) == {"30 capsules"}  # the lot, not a fill


async def test_a_lot_not_released_is_refused_as_the_cli_refuses_and_nothing_is_saved(
        run, pharmacy, labels, tmp_path):
    number = released_for_rx(run, "RX7")
    assert run("lots", "recall", number, "--by", "AB", "--reason", "wrong filler")[0] == 0
    code, _, err = run("labels", number, "--format", "pdf", "-o", tmp_path / "x.pdf")
    assert code == 6
    app = CompoundApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_lot(pilot, number)
        drawn = " ".join(text(app, "#label-preview").split())
        assert drawn.startswith("No label:")
        assert f"lot {number} is recalled: no label may be printed for it." in drawn
        assert "recalled: no label may be printed" in err
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, ErrorModal)
    assert not labels.exists()


async def test_a_lot_with_no_rx_offers_its_stock_label_and_refuses_a_patient_one(
        run, pharmacy, labels):
    from test_labels import _saved

    assert run("lots", "receive", "naltrexone-hcl-50mg-tablet", "NTX2403", "--expiry", "2026-05",
               "--tablet-weight", "200mg", "--by", "AB")[0] == 0
    code, out, err = run("plan", "capsules", "--strength", "4.5mg", "--count", "30",
                         "--tablet-weight", "200mg", "--compounded", "2025-03-10",
                         "--ingredient-lot", "NTX2403", "--save", "--by", "AB", "--json")
    assert code == 0, err
    number = _saved(out)
    assert run("lots", "release", number, "--by", "CD")[0] == 0
    app = CompoundApp()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_lot(pilot, number)
        assert screen.query_one("#labels-kind").value == "stock"
        assert screen.query_one("#labels-rx").disabled
        assert f"Lot {number}" in text(app, "#label-preview")
        screen.query_one("#labels-kind").value = "patient"
        await settle(pilot)
        drawn = " ".join(text(app, "#label-preview").split())
        assert "No label:" in drawn and "no prescription is recorded against the lot" in drawn
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, ErrorModal)
    assert not labels.exists()


async def test_labels_is_in_the_palette_and_the_help():
    from compound.tui.screens.help import HELP

    app = CompoundApp()
    async with app.run_test(size=SIZE):
        titles = [c.title for c in app.get_system_commands(app.screen)]
    assert "Labels (F7)" in titles
    assert "| **F7** | Labels" in HELP.read_text(encoding="utf-8")


def test_the_preview_cuts_small_print_with_an_ellipsis_never_silently():
    from compound.labels.layout import Barcode, Layout, Text
    from compound.tui.widgets.labels import preview

    long = "This is a compounded preparation. " * 4
    layout = Layout(width=80.0, height=16.0, texts=(Text(long, 4.0, 0.0, 6.0, False, "statements"),),
                    barcode=Barcode("RX1", 4.0, 8.0, 40.0, 8.0, 1.0), content=None,  # type: ignore[arg-type]
                    critical_pt=11.0, secondary_pt=6.0)
    first = preview(layout).plain.splitlines()[1]
    assert first == "│ This is a compound…│"  # 20 columns: a margin, 18 characters and "…"
