"""The Lots table with thousands of lots: the rows shown are the register's, sorted, filtered
and paged by key; the first page is read ahead at start-up so F3 shows rows at once.

Today is 2025-03-10 (conftest). The lots are copies of one recorded lot inserted straight
into SQLite (as benchmarks/tui_benchmark.py makes its register): a table to read, quickly made.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from compound import paths
from compound.register import Register
from compound.tui import SCREENS, store
from compound.tui.app import CompoundApp
from compound.tui.screens.lot_detail import LotDetailScreen
from compound.tui.screens.lots import FIRST_PAGE, LotsScreen
from compound.tui.widgets.lots import LotTable
from test_tui_screens import record
from test_tui_workflow import TODAY, receive_tablets, settle, text

MANY = 2_500
STATUSES = ("quarantine", "released", "dispensed", "recalled")


def register_with_many_lots() -> Path:
    """One recorded lot and ``MANY`` copies: BUDs from 40 days ago to a year ahead, four
    statuses, a 360-day study window on every fifth."""
    receive_tablets()
    with Register.open() as register:
        record(register, "2025-03-01", "2025-08-27")
    path = Path(paths.default_db())
    con = sqlite3.connect(path)
    columns = [r[1] for r in con.execute("pragma table_info(lots)") if r[1] != "id"]
    row = dict(zip(columns, con.execute(f"select {','.join(columns)} from lots").fetchone(),
                   strict=True))
    copies = []
    for i in range(MANY):
        made = TODAY - dt.timedelta(days=i % 200)
        window = 360 if i % 5 == 0 else None
        bud = made + dt.timedelta(days=(window or 30 + i % 150) - 1)
        copies.append(tuple({**row, "lot_number": f"COPY-{(i * 7919) % MANY:05d}",
                             "description": f"Naltrexone HCl {1 + i % 9} mg capsules",
                             "compounded": made.isoformat(), "beyond_use_date": bud.isoformat(),
                             "stability_window_days": window, "status": STATUSES[i % 4]}[c]
                            for c in columns))
    con.executemany(f"insert into lots ({','.join(columns)}) values ({','.join('?' * len(columns))})",
                    copies)
    con.commit()
    con.close()
    return path


async def until_read(pilot) -> LotsScreen:
    """Settle until the Lots screen has read every lot (its full read starts after a paint)."""
    screen = pilot.app.screen
    assert isinstance(screen, LotsScreen)
    for _ in range(20):
        await settle(pilot)
        if screen.complete:
            return screen
    raise AssertionError("the Lots screen never finished reading")


@pytest.fixture
def many():
    register_with_many_lots()
    with Register.open() as register:
        return list(register.list_lots(today=TODAY))


async def test_the_rows_shown_are_the_registers_lots_in_bud_order(many):
    assert len(many) == MANY + 1
    app = CompoundApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f3")
        screen = await until_read(pilot)
        rows = screen.query_one(LotTable).rows
        assert [r.lot_number for r in rows] == [lot.lot_number for lot in many]
        assert [(r.status, r.beyond_use_date, r.days_left, r.window_used) for r in rows] == [
            (lot.status, lot.beyond_use_date, lot.days_left, lot.window_used) for lot in many]
        assert {r.status for r in rows} == {*STATUSES, "expired"}
        assert f"{MANY + 1:,} of {MANY + 1:,} lots" in text(app, "#lots-count")


async def test_sorting_filtering_and_paging_many_lots(many):
    app = CompoundApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f3")
        screen = await until_read(pilot)
        table = screen.query_one(LotTable)
        numbers = sorted(lot.lot_number for lot in many)
        await pilot.press("1")  # by lot number
        assert [r.lot_number for r in table.rows] == numbers
        await pilot.press("1")  # again: descending
        assert [r.lot_number for r in table.rows] == numbers[::-1]
        await pilot.press("5")  # days left, ascending: ties keep BUD, lot order
        assert [r.days_left for r in table.rows] == sorted(lot.days_left for lot in many)

        await pilot.press("home", "pagedown")
        page = table.scrollable_content_region.height - 1
        assert table.cursor == page and int(table.scroll_offset.y) > 0
        await pilot.press("end")
        assert table.cursor == MANY
        last = table.rows[-1].lot_number
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LotDetailScreen) and app.screen.lot_number == last
        await pilot.press("escape")
        await pilot.pause()

        await pilot.press("slash", *"7 mg")
        await pilot.pause()
        wanted = [lot for lot in many if "7 mg" in lot.description]
        assert 0 < len(wanted) < MANY
        assert sorted(r.lot_number for r in table.rows) == sorted(lot.lot_number for lot in wanted)
        assert f"{len(wanted):,} of {MANY + 1:,} lots" in text(app, "#lots-count")
        await pilot.press("escape")
        screen.query_one("#lots-show").value = "recalled"
        await pilot.pause()
        recalled = [lot for lot in many if lot.status == "recalled" and "7 mg" in lot.description]
        assert sorted(r.lot_number for r in table.rows) == sorted(
            lot.lot_number for lot in recalled)


async def test_the_first_page_is_read_ahead_so_f3_shows_rows_before_any_read(many, monkeypatch):
    reads: list[tuple[int | None, int, bool]] = []
    original = store.lot_page

    def counted(limit, offset=0):
        screen = app.screen
        shown = screen.query_one(LotTable).rows if isinstance(screen, LotsScreen) else ()
        reads.append((limit, len(shown), isinstance(screen, LotsScreen) and screen.complete))
        return original(limit, offset)

    monkeypatch.setattr(store, "lot_page", counted)
    app = CompoundApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)  # the warm-up, read-ahead included
        assert app.lots_read_ahead is not None
        first, total = app.lots_read_ahead
        assert total == MANY + 1 and [r.lot_number for r in first] == [
            lot.lot_number for lot in many[:FIRST_PAGE]]
        await pilot.press("f3")
        await until_read(pilot)
        # One read, of every lot, while the page read ahead was on screen (not yet complete);
        # the screen never read a first page of its own.
        assert reads == [(None, FIRST_PAGE, False)]
        assert app.lots_read_ahead is None


async def test_reading_ahead_creates_no_register(tmp_path):
    app = CompoundApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.lots_read_ahead is None
        assert not (tmp_path / "register.sqlite3").exists()


async def test_a_saved_lot_drops_the_page_read_ahead(clock):
    receive_tablets()
    with Register.open() as register:
        record(register, "2025-03-01", "2025-08-27")
    app = CompoundApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.lots_read_ahead is not None and app.lots_read_ahead[1] == 1
        with Register.open() as register:  # as the Formulate screen's save does
            number = record(register, "2025-03-10", "2025-09-05")
        from compound.tui.messages import LotSaved

        app.post_message(LotSaved("capsules", number))
        await pilot.pause()
        assert app.lots_read_ahead is None
        await pilot.press("f3")
        screen = await until_read(pilot)
        assert number in [r.lot_number for r in screen.query_one(LotTable).rows]


async def test_the_app_can_open_on_the_lots_screen(many):
    app = CompoundApp(screen="lots")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await until_read(pilot)
        assert app.current_mode == "lots"
        assert [r.lot_number for r in screen.query_one(LotTable).rows] == [
            lot.lot_number for lot in many]
        assert app.lots_read_ahead is None  # not read twice


def test_the_cli_screens_are_the_apps_modes():
    assert tuple(CompoundApp.MODES) == SCREENS
    with pytest.raises(ValueError, match="no screen 'label'"):
        CompoundApp(screen="label")


def test_screen_opens_the_tui_and_goes_without_a_command(cli):
    code, _, err = cli("--screen", "lots", "bud", "--help")
    assert code == 2 and "--screen opens the interactive calculator" in err
    code, _, err = cli("--screen", "label")
    assert code == 2 and "'label' is not one of" in err


@pytest.mark.parametrize("key", ["f3", "f4", "f5", "f7"])
async def test_a_screen_first_shown_is_styled_as_a_full_restyle_would(key):
    """The app skips Textual's restyle of the whole app when a mode's screen is new (each
    widget is styled as it mounts): what is drawn equals what a forced restyle draws.
    (Not Batch: its tab underline animates, so two of its screenshots differ anyway.)"""
    app = CompoundApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(key)
        await settle(pilot)
        shown = app.export_screenshot()
        app.refresh_css(animate=False)
        await settle(pilot)
        assert app.export_screenshot() == shown
