"""A day at the counter, driven through the TUI: prescription → numbers → BUD → saved lot →
the Lots table → the lot's detail → released → its label previewed and exported.

Numbers are worked by hand (domain.md §1.4: 50 mg tablets; USP <795> 2023: 180 days
for a nonaqueous solid, counting the compounding day as Day 1). Today is 2025-03-10
(conftest), the register a temporary file (COMPOUND_DB).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from textual.color import Color
from textual.geometry import Region

from compound.register import Register
from compound.tui.app import CompoundApp
from compound.tui.messages import LotSaved
from compound.tui.screens.error import ErrorModal
from compound.tui.screens.lot_detail import LotDetailScreen
from compound.tui.screens.lots import LotsScreen
from compound.tui.screens.sign import SignModal
from compound.tui.widgets.lots import LotTable
from compound.tui.widgets.plan import PlanResults

TODAY = dt.date(2025, 3, 10)
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def receive_tablets(lot: str = "NTX2403") -> None:
    with Register.open() as register:
        register.receive_ingredient(item="naltrexone-hcl-50mg-tablet", lot_number=lot,
                                    expiry="2026-05", received_by="AB", received="2025-03-01",
                                    tablet_weight="200mg")


async def settle(pilot) -> None:
    """Let workers finish and their results reach the screen."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def set_values(pilot, form: str = "capsules", **values: str) -> None:
    for name, value in values.items():
        pilot.app.screen.query_one(f"#{form}-{name}").value = value
    await pilot.pause()


def section(app: CompoundApp, name: str, form: str = "capsules") -> str:
    """What a section of a form's results pane draws ("" when it is not shown)."""
    return app.screen.query_one(f"#{form}-results", PlanResults).text(name)


def text(app: CompoundApp, selector: str) -> str:
    """What the widget draws, line by line (works for Rich tables as for plain text)."""
    widget = app.screen.query_one(selector)
    lines = widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))
    return "\n".join(line.text.rstrip() for line in lines)


async def test_prescription_to_saved_lot_to_lots_table_to_release_to_label(tmp_path, monkeypatch):
    labels = tmp_path / "labels"
    monkeypatch.setenv("COMPOUND_LABELS", str(labels))
    receive_tablets()
    messages: list = []
    app = CompoundApp()
    async with app.run_test(size=(120, 40), message_hook=messages.append) as pilot:
        await pilot.pause()
        await pilot.press(*"4.5mg", "tab", *"30")
        await set_values(pilot, tablet_weight="200mg", fill_weight="100mg",
                         compounded="2025-03-10", ingredient_lots="NTX2403")
        app.screen.query_one("#capsules-strength").focus()
        await pilot.press("enter")
        await settle(pilot)

        results = app.screen.query_one("#capsules-results", PlanResults)
        assert results.plan is not None and results.bud is not None
        # 2025-03-10 + 180 - 1 days = 2025-09-05 (Day 1 counting); NTX2403 expires 2026-05-31, later.
        assert "Beyond-use date  2025-09-05" in section(app, "bud")
        assert [lot.lot_number for lot in results.ingredient_lots] == ["NTX2403"]

        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, SignModal)
        await pilot.press("A", "B", "enter")
        await settle(pilot)
        saved = [m for m in messages if isinstance(m, LotSaved)]
        assert saved and saved[0].lot_number == "LDN-20250310-0001"
        assert "Saved as lot LDN-20250310-0001" in section(app, "bud")

        await pilot.press("f3")
        await settle(pilot)
        assert isinstance(app.screen, LotsScreen)
        table = app.screen.query_one(LotTable)
        assert [r.lot_number for r in table.rows] == ["LDN-20250310-0001"]
        row = table.rows[0]
        assert (row.status, row.days_left, row.beyond_use_date) == ("quarantine", 179,
                                                                    dt.date(2025, 9, 5))
        assert "LDN-20250310-0001 quarantine" in table.row_text(row, 100)

        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LotDetailScreen)
        assert "NTX2403" in text(app, "#lot-components")
        assert "record" in text(app, "#lot-history")

        await pilot.press("r")
        await pilot.pause()
        await pilot.press("C", "D", "enter")
        await settle(pilot)
        assert "RELEASED" in text(app, "#lot-summary")
        assert "release" in text(app, "#lot-history")

        await pilot.press("l")  # its stock label, as it will print
        await settle(pilot)
        preview = text(app, "#label-preview")
        assert "Lot LDN-20250310-0001" in preview
        assert "Use by (BUD) 2025-09-05" in preview and "▌" in preview
        await pilot.press("c", "p")
        await settle(pilot)
        csv_file = labels / "LDN-20250310-0001-stock.csv"
        assert "LDN-20250310-0001" in csv_file.read_text(encoding="utf-8")
        assert (labels / "LDN-20250310-0001-stock.pdf").read_bytes().startswith(b"%PDF")
    with Register.open() as register:
        lot = register.get("LDN-20250310-0001", today=TODAY)
        assert lot.status == "released" and lot.compounded_by == "AB"
        assert [e.actor for e in lot.history] == ["AB", "CD"]


async def test_a_refused_plan_is_unmistakable_and_is_not_saved():
    app = CompoundApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await set_values(pilot, strength="4.5mg", count="30", tablet_weight="200mg",
                         compounded="2025-03-10")
        app.screen.query_one("#capsules-opioid_use").value = True
        await pilot.pause()
        app.screen.query_one("#capsules-strength").focus()
        await pilot.press("enter")
        await settle(pilot)
        results = app.screen.query_one("#capsules-results", PlanResults)
        assert results.look("status") == "refused"
        assert section(app, "status").startswith("REFUSED")
        # On the theme's error colour, edge to edge (the pane's first line is the verdict's).
        error = Color.parse(app.theme_variables["error"]).rich_color
        assert {segment.style.bgcolor for segment in results.render_line(0)} == {error}
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ErrorModal)
        assert "refused plan is never saved" in text(app, "#error-message")
    with Register.open() as register:
        assert register.lot_summaries(today=TODAY)[1] == 0


async def test_saving_without_ingredient_lots_names_the_tui_field():
    app = CompoundApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await set_values(pilot, strength="4.5mg", count="30", tablet_weight="200mg",
                         compounded="2025-03-10")
        app.screen.query_one("#capsules-strength").focus()
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ErrorModal)
        hint = text(app, "#error-hint")
        assert "“Ingredient lots”" in hint and "--" not in hint
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.focused is app.screen.query_one("#capsules-ingredient_lots")


async def test_an_unknown_ingredient_lot_is_an_error_dialog_not_a_plan():
    app = CompoundApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await set_values(pilot, strength="4.5mg", count="30", tablet_weight="200mg",
                         compounded="2025-03-10", ingredient_lots="NOPE-1")
        app.screen.query_one("#capsules-strength").focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ErrorModal)
        assert "NOPE-1" in text(app, "#error-message")
