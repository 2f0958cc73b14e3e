"""Lots, Stability, Titrate and Batch: each reached by its key from a fresh start and driven.

Dates are worked by hand from today = 2025-03-10 (conftest).
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from textual.app import App, ComposeResult
from textual.widgets import DataTable

from compound.register import LotSummary, Register
from compound.tui.app import CompoundApp
from compound.tui.screens.batch import BatchScreen
from compound.tui.screens.error import ErrorModal
from compound.tui.screens.lots import LotsScreen
from compound.tui.screens.stability import StabilityScreen, counts, expiring
from compound.tui.screens.titrate import TitrateScreen
from compound.tui.widgets.lots import LotTable, arrange
from compound.tui.widgets.stability import Timeline, bar
from test_tui_workflow import EXAMPLES, TODAY, receive_tablets, settle, text


def summary(n: int, *, status: str = "released", compounded: dt.date = dt.date(2025, 1, 1),
            bud: dt.date = dt.date(2025, 6, 29), window: int | None = None,
            description: str = "Naltrexone HCl 4.5mg capsules") -> LotSummary:
    return LotSummary(f"LDN-20250101-{n:04d}", "capsules", description, status, 30.0, "capsule",
                      compounded, bud, window, (bud - TODAY).days,
                      (TODAY - compounded).days / window if window else None)


def record(register: Register, compounded: str, bud: str, *, window: int | None = None) -> str:
    return register.record_lot(
        kind="capsules", description="Naltrexone HCl 4.5mg capsules", quantity=30,
        quantity_unit="capsule", plan={"kind": "capsules", "status": "ok"}, compounded=compounded,
        beyond_use_date=bud, bud_limit="rule: test", bud_source="test", storage="room",
        stability_window_days=window, compounded_by="AB", checked_by=None,
        components=[("NTX2403", 3, "tablet")])


def register_with_lots(clock) -> list[str]:
    """Four lots on hand: BUD in 5, 26 and 351 days (a 360-day window), and one expired
    (recorded on 2025-03-02, when none was; today is then 2025-03-10)."""
    clock.set("2025-03-02")
    receive_tablets()
    with Register.open() as register:
        numbers = [record(register, "2025-03-01", "2025-03-15"),
                record(register, "2025-03-02", "2025-04-05"),
                record(register, "2025-03-01", "2026-02-24", window=360),
                record(register, "2025-03-02", "2025-03-09")]
    clock.set(TODAY)
    return numbers


# -- Lots -------------------------------------------------------------------------------------

def test_arrange_filters_by_text_and_status_and_sorts_any_column():
    rows = [summary(1, bud=dt.date(2025, 3, 12)), summary(2, status="dispensed"),
            summary(3, status="expired", bud=dt.date(2025, 3, 1)),
            summary(4, description="Naltrexone HCl 1mg/mL oral liquid", bud=dt.date(2025, 8, 1))]
    assert [r.lot_number[-1] for r in arrange(rows, soon_days=30)] == ["1", "2", "3", "4"]
    assert [r.lot_number[-1] for r in arrange(rows, text="LIQUID", soon_days=30)] == ["4"]
    assert [r.lot_number[-1] for r in arrange(rows, show="expiring", soon_days=30)] == ["1", "3"]
    assert [r.lot_number[-1] for r in arrange(rows, show="on-hand", soon_days=30)] == ["1", "4"]
    by_bud = arrange(rows, sort="bud", descending=True, soon_days=30)
    assert [r.lot_number[-1] for r in by_bud] == ["4", "2", "1", "3"]
    assert [r.lot_number[-1] for r in arrange(rows, sort="status", soon_days=30)] == ["2", "3", "1", "4"]


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield LotTable(soon_days=30)


async def test_the_lot_table_draws_only_the_rows_on_screen(monkeypatch):
    rows = [summary(n % 10_000, bud=dt.date(2025, 6, 1)) for n in range(100_000)]
    drawn: list[str] = []
    original = LotTable.row_text

    def counting(self, row, width):
        drawn.append(row.lot_number)
        return original(self, row, width)

    monkeypatch.setattr(LotTable, "row_text", counting)
    app = TableApp()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(LotTable)
        table.show(rows)
        table.focus()
        await pilot.pause()
        assert 0 < len(drawn) <= 2 * 24  # a screenful (each line drawn at most twice), not 100,000
        drawn.clear()
        await pilot.press("end")
        await pilot.pause()
        assert table.cursor == 99_999
        assert 0 < len(drawn) <= 2 * 24


async def test_lots_screen_sorts_by_number_keys_and_filters_with_slash(clock):
    numbers = register_with_lots(clock)
    app = CompoundApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("f3")
        await settle(pilot)
        assert isinstance(app.screen, LotsScreen)
        table = app.screen.query_one(LotTable)
        # By BUD: 2025-03-09 (expired), 03-15, 04-05, 2026-02-24.
        assert [r.lot_number for r in table.rows] == [numbers[3], numbers[0], numbers[1], numbers[2]]
        assert [r.days_left for r in table.rows] == [-1, 5, 26, 351]
        assert table.rows[0].status == "expired"
        assert table.row_style(table.rows[0]) == table.get_component_rich_style("lot-table--expired")
        assert table.row_style(table.rows[1]) == table.get_component_rich_style("lot-table--expiring")
        # Used: 9 of 360 days = 2 % for the third (a study window); the others use their dating
        # period: 8 of 34 days = 23 %, 9 of 14 = 64 %, 8 of 7 = 114 % (the expired lot).
        await pilot.press("6")
        assert [r.lot_number for r in table.rows] == [numbers[2], numbers[1], numbers[0], numbers[3]]
        assert [table.row_text(r, 80).split()[-1] for r in table.rows] == ["2%", "23%", "64%", "114%"]
        assert "Used ▲" in table.header_text(80)
        await pilot.press("6")
        assert table.rows[-1].lot_number == numbers[2] and "Used ▼" in table.header_text(80)
        await pilot.press("slash", *"0301-0002")
        await pilot.pause()
        assert [r.lot_number for r in table.rows] == [numbers[2]]
        assert "1 of 4 lots" in text(app, "#lots-count")


# -- Stability ----------------------------------------------------------------------------------

def test_bar_marks_the_lived_part_today_and_what_is_left():
    # Axis from 2025-01-01, 10 days a cell, 10 cells. Lot 2025-01-11 → 2025-03-12: cells 1..7;
    # today 2025-02-10 is day 40: cell 4.
    row = summary(1, compounded=dt.date(2025, 1, 11), bud=dt.date(2025, 3, 12))
    assert bar(row, dt.date(2025, 1, 1), 10, 10, dt.date(2025, 2, 10)) == " ███│░░░  "


def test_expiring_lists_lots_on_hand_within_the_horizon():
    rows = [summary(1, bud=dt.date(2025, 3, 15)), summary(2, bud=dt.date(2025, 4, 5)),
            summary(3, status="dispensed", bud=dt.date(2025, 3, 12)),
            summary(4, status="expired", bud=dt.date(2025, 3, 9))]
    assert [r.lot_number[-1] for r in expiring(rows, 7)] == ["1", "4"]
    assert [r.lot_number[-1] for r in expiring(rows, 30)] == ["1", "2", "4"]
    assert counts(rows).startswith("Expiring: 1 within 7 days · 2 within 30 days · 2 within 90 days"
                                   " · 1 expired on hand")


async def test_stability_screen_shows_the_360_day_window_and_today(clock):
    register_with_lots(clock)
    app = CompoundApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("f4")
        await settle(pilot)
        assert isinstance(app.screen, StabilityScreen)
        assert "1 within 7 days · 2 within 30 days · 2 within 90 days · 1 expired" in text(
            app, "#stability-counts")
        timeline = app.screen.query_one(Timeline)
        assert len(timeline.rows) == 2  # within 7 days: the lot with 5 days left, and the expired
        app.screen.query_one("#stability-within").value = "all"
        await pilot.pause()
        assert len(timeline.rows) == 4
        assert timeline.end == dt.date(2026, 2, 24)  # the 360-day window sets the axis
        assert "today 2025-03-10" in timeline.header(100)
        drawn = text(app, "#stability-timeline")
        assert all("│" in line for line in drawn.splitlines()[1:5])


# -- Titrate and Batch --------------------------------------------------------------------------

async def test_titrate_turns_a_ladder_into_a_calendar_and_options():
    app = CompoundApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("f5")
        await pilot.pause()
        assert isinstance(app.screen, TitrateScreen)
        await pilot.press(*"1.5mg x7d, 3mg x7d, 4.5mg x7d")
        app.screen.query_one("#titrate-start").value = "2025-03-10"
        await pilot.pause()
        app.screen.query_one("#titrate-ladder").focus()
        await pilot.press("enter")
        await pilot.pause()
        schedule = " ".join(text(app, "#titrate-schedule").split())  # wrapped to the pane
        assert "Days 1–7 (10 Mar – 16 Mar 2025): take 1.5 mg at bedtime" in schedule
        # 7 × 1.5 + 7 × 3 + 7 × 4.5 = 63 mg over 21 days.
        assert "Total: 63 mg over 21 days" in schedule
        assert "42 capsules of 1.5 mg" in schedule
        assert text(app, "#titrate-status").startswith("OK")


async def test_batch_runs_a_csv_with_progress_and_shows_results_and_errors(tmp_path):
    out = tmp_path / "out"
    app = CompoundApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("f6")
        await pilot.pause()
        assert isinstance(app.screen, BatchScreen)
        app.screen.query_one("#batch-file").value = str(EXAMPLES / "ldn-prescriptions.csv")
        app.screen.query_one("#batch-out").value = str(out)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert app.screen.query_one("#batch-progress").percentage == 1.0
        with (out / "worksheet.csv").open(newline="", encoding="utf-8") as f:
            worksheet = list(csv.reader(f))
        with (out / "errors.csv").open(newline="", encoding="utf-8") as f:
            errors = list(csv.reader(f))
        assert app.screen.query_one("#batch-results", DataTable).row_count == len(worksheet) - 1 == 51
        assert app.screen.query_one("#batch-errors", DataTable).row_count == len(errors) - 1 > 0
        assert "51 rows" in text(app, "#batch-summary")


async def test_batch_names_a_missing_file_in_a_dialog(tmp_path):
    app = CompoundApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("f6")
        await pilot.pause()
        await pilot.press(*str(tmp_path / "nope.csv"), "enter")
        await settle(pilot)
        assert isinstance(app.screen, ErrorModal)
        assert "nope.csv" in app.screen.error.message
        assert not Path(tmp_path / "nope-out" / "worksheet.csv").exists()
