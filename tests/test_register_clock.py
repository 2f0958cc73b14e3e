"""The register's clock: entries are dated by the real clock, or by an explicit --as-of.

In-process the real clock is injected (conftest: 2025-03-10 12:00 UTC, moved with
``clock.set``); ``COMPOUND_TODAY`` is set apart from it to show that the
environment cannot date an entry. One subprocess checks the same with the
machine's own clock, which no environment variable moves.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
import sys

import pytest
from click.testing import CliRunner

from compound import paths
from compound.cli import cli
from compound.errors import DateInputError, InputError, RegisterError
from compound.register import Register, db, schema
from test_register_api import capsules as api_capsules

NTX, MCC = "NTX2403", "MCC-7781"
TABLETS = "naltrexone-hcl-50mg-tablet"


@pytest.fixture
def reg(tmp_path):
    register = Register.open(tmp_path / "register.sqlite3")
    register.receive_ingredient(item=TABLETS, lot_number=NTX, expiry="2026-05",
                                received="2025-03-01", received_by="AB", tablet_weight="200mg")
    register.receive_ingredient(item="avicel", lot_number=MCC, expiry="2027-01-31",
                                received="2025-03-01", received_by="AB")
    yield register
    register.close()


def capsules(reg, **overrides):
    """test_register_api's lot, recorded without a study window or a checker."""
    return api_capsules(reg, **{"stability_window_days": None, "checked_by": None, **overrides})


def counts(reg):
    with db.read(reg.engine) as conn:
        return {t.name: conn.execute(t.select().with_only_columns(schema.sa.func.count())).scalar()
                for t in schema.metadata.sorted_tables}


# -- COMPOUND_TODAY is read strictly -----------------------------------------------------------

@pytest.mark.parametrize(("text", "match"), [
    ("20250310", "is not a date"),            # basic ISO: fromisoformat would take it
    ("2025-W11-1", "is not a date"),          # ISO week date: likewise
    ("2025-3-10", "is not a date"),
    ("2025-03-10T09:00", "is not a date"),
    (" 2025-03-10", "is not a date"),
    ("2025-02-30", "February 2025 has 28 days"),
    ("9999-12-31", "outside 1900–2999"),       # was a traceback in compound bud
])
def test_compound_today_is_strict_yyyy_mm_dd(monkeypatch, text, match):
    monkeypatch.setenv("COMPOUND_TODAY", text)
    with pytest.raises(DateInputError, match=match):
        paths.today()


def test_compound_today_moves_today_but_not_the_real_date(monkeypatch):
    monkeypatch.setenv("COMPOUND_TODAY", "2024-01-02")
    assert paths.today() == dt.date(2024, 1, 2)
    assert paths.real_today() == dt.date(2025, 3, 10)  # the injected real clock (conftest)


# -- writes with another "today" -----------------------------------------------------------------

WRITES = {
    "receive": lambda reg, **kw: reg.receive_ingredient(
        item="mcc", lot_number="MCC-2", expiry="2027-01", received_by="AB", **kw),
    "save": lambda reg, **kw: capsules(reg, compounded="2025-03-05", **kw),
    "release": lambda reg, lot, **kw: reg.release(lot, by="CD", **kw),
    "destroy": lambda reg, lot, **kw: reg.destroy(lot, by="CD", **kw),
    "recall": lambda reg, lot, **kw: reg.recall(lot, by="CD", **kw),
}


@pytest.mark.parametrize("action", sorted(WRITES))
def test_a_write_with_another_today_is_refused_and_saves_nothing(reg, monkeypatch, action):
    lot = capsules(reg)
    monkeypatch.setenv("COMPOUND_TODAY", "2025-03-09")
    before = counts(reg)
    args = () if action in ("receive", "save") else (lot,)
    kwargs = {"reason": "x"} if action not in ("receive", "save") else {}
    with pytest.raises(RegisterError, match=r"today is set to 2025-03-09 \(COMPOUND_TODAY\) but "
                                            r"the real date is 2025-03-10.*--as-of 2025-03-09"):
        WRITES[action](reg, *args, **kwargs)
    assert counts(reg) == before


def test_dispense_and_note_with_another_today_are_refused(reg, monkeypatch):
    lot = capsules(reg)
    reg.release(lot, by="CD")
    monkeypatch.setenv("COMPOUND_TODAY", "2025-03-11")
    before = counts(reg)
    with pytest.raises(RegisterError, match="COMPOUND_TODAY"):
        reg.dispense(lot, by="CD")
    with pytest.raises(RegisterError, match="COMPOUND_TODAY"):
        reg.note(lot, by="CD", text="hello")
    assert counts(reg) == before


@pytest.mark.parametrize("action", sorted(WRITES))
def test_as_of_with_a_reason_is_recorded_beside_the_real_time(reg, monkeypatch, action):
    lot = capsules(reg, compounded="2025-03-01")
    monkeypatch.setenv("COMPOUND_TODAY", "2025-03-07")  # ignored: as_of dates the entry
    args = () if action in ("receive", "save") else (lot,)
    WRITES[action](reg, *args, as_of="2025-03-06", reason="paper log, entered late")
    event = reg.events()[-1]
    assert event.at_utc == "2025-03-10T12:00:00.000000Z"   # the real time, injected
    assert {k: event.payload[k] for k in ("as_of", "as_of_reason", "real_date")} == {
        "as_of": "2025-03-06", "as_of_reason": "paper log, entered late",
        "real_date": "2025-03-10"}
    assert reg.verify().ok


def test_an_on_the_day_entry_carries_no_as_of(reg):
    lot = capsules(reg)
    reg.release(lot, by="CD")
    assert "as_of" not in reg.events()[-1].payload
    assert reg.events()[-1].payload["date"] == "2025-03-10"


def test_a_receipt_entered_late_is_dated_as_of(reg):
    reg.receive_ingredient(item="mcc", lot_number="MCC-2", expiry="2027-01", received_by="AB",
                           as_of="2025-03-02", reason="delivery note found")
    assert reg.get_ingredient("MCC-2").received == dt.date(2025, 3, 2)


@pytest.mark.parametrize(("as_of", "reason", "error", "match"), [
    ("2025-03-06", None, InputError, "needs a reason"),
    ("2025-03-06", "  ", InputError, "needs a reason"),
    ("2025-03-11", "tomorrow", DateInputError, "after the real date"),
    ("06/03/2025", "late", DateInputError, "year first"),
])
def test_as_of_needs_a_reason_and_a_past_date(reg, as_of, reason, error, match):
    before = counts(reg)
    with pytest.raises(error, match=match):
        reg.receive_ingredient(item="mcc", lot_number="MCC-2", expiry="2027-01",
                               received_by="AB", as_of=as_of, reason=reason)
    assert counts(reg) == before


# -- dates against the lot's own dates -----------------------------------------------------------

@pytest.mark.parametrize("action", ["release", "destroy", "recall"])
def test_a_move_dated_before_the_lot_was_compounded_is_refused(reg, action):
    lot = capsules(reg, compounded="2025-03-05")
    before = counts(reg)
    with pytest.raises(RegisterError, match=r"compounded on 2025-03-05: it cannot be .* on "
                                            r"2025-03-04, before it existed"):
        getattr(reg, action)(lot, by="CD", reason="late", as_of="2025-03-04")
    assert counts(reg) == before


def test_a_dispense_dated_before_compounding_is_refused(reg, clock):
    lot = capsules(reg, compounded="2025-03-05")
    reg.release(lot, by="CD")
    with pytest.raises(RegisterError, match="before it existed"):
        reg.dispense(lot, by="CD", reason="late", as_of="2025-03-04")


def test_dispensing_past_the_bud_by_the_real_clock_is_refused_even_as_of_an_earlier_day(
        reg, clock):
    lot = capsules(reg, beyond_use_date="2025-03-20")
    reg.release(lot, by="CD")
    clock.set("2025-03-21")  # the real date is now past the BUD
    before = counts(reg)
    with pytest.raises(RegisterError, match=r"expired \(BUD 2025-03-20, real date 2025-03-21\): "
                                            "it cannot be dispensed"):
        reg.dispense(lot, by="CD", reason="handed out yesterday", as_of="2025-03-20")
    with pytest.raises(RegisterError, match=r"expired \(BUD 2025-03-20, today 2025-03-21\)"):
        reg.dispense(lot, by="CD")
    assert counts(reg) == before


def test_a_lot_entered_late_within_its_bud_is_recorded(reg):
    lot = capsules(reg, compounded="2025-03-01", beyond_use_date="2025-03-10")  # last usable day
    assert reg.get(lot).compounded == dt.date(2025, 3, 1)


def test_a_lot_born_past_its_bud_is_refused_before_anything_is_saved(reg):
    before = counts(reg)
    with pytest.raises(RegisterError, match=r"born expired: its beyond-use date 2025-03-09 is "
                                            r"before the real date of entry \(2025-03-10\)"):
        capsules(reg, compounded="2025-03-01", beyond_use_date="2025-03-09")
    assert counts(reg) == before


def test_a_component_expired_by_the_real_date_of_entry_is_refused(reg, clock):
    clock.set("2025-02-01")
    reg.receive_ingredient(item="mcc", lot_number="MCC-OLD", expiry="2025-03-05",
                           received_by="AB")
    clock.set("2025-03-10")
    before = counts(reg)
    # In date when the lot was made (2025-03-01), expired by the day it is entered: the BUD
    # may not pass the component's expiry (2025-03-05), so the lot would be born expired.
    with pytest.raises(RegisterError, match="born expired"):
        capsules(reg, compounded="2025-03-01", beyond_use_date="2025-03-05",
                 components=[(NTX, 3, "tablets"), ("MCC-OLD", 2.1, "g")])
    with pytest.raises(RegisterError, match="after the expiry of ingredient lot MCC-OLD"):
        capsules(reg, compounded="2025-03-01", beyond_use_date="2025-03-31",
                 components=[(NTX, 3, "tablets"), ("MCC-OLD", 2.1, "g")])
    assert counts(reg) == before


# -- through the command line ------------------------------------------------------------------

CAPSULES = ["plan", "capsules", "--strength", "4.5mg", "--count", "30", "--overage", "1",
            "--tablet-weight", "200mg", "--fill-weight", "100mg"]


def run(*args):
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_plan_save_with_another_today_is_refused_before_planning(reg, monkeypatch):
    monkeypatch.setenv("COMPOUND_TODAY", "2025-03-09")
    db_path = str(reg.engine.url.database)
    code, out = run(*CAPSULES, "--compounded", "2025-03-09", "--save", "--by", "AB",
                    "--db", db_path)
    assert code == 6
    assert "register entries are dated by the real clock" in out
    assert "Tablets to crush" not in out  # no worksheet printed for a refused save
    code, out = run(*CAPSULES, "--compounded", "2025-03-09", "--save", "--by", "AB",
                    "--db", db_path, "--as-of", "2025-03-09", "--reason", "entered next day",
                    "--ingredient-lot", NTX, "--ingredient-lot", MCC, "--json")
    assert code == 0, out
    assert reg.events()[-1].payload["as_of_reason"] == "entered next day"


def test_plan_as_of_without_save_is_an_input_error():
    code, out = run(*CAPSULES, "--compounded", "2025-03-09", "--as-of", "2025-03-09")
    assert code == 2 and "--as-of and --reason date a saved lot" in out


def test_lots_commands_take_as_of_and_reason(reg, monkeypatch):
    db_path = str(reg.engine.url.database)
    lot = capsules(reg, compounded="2025-03-01")
    monkeypatch.setenv("COMPOUND_TODAY", "2025-03-02")
    code, out = run("lots", "release", lot, "--by", "CD", "--db", db_path)
    assert code == 6 and "COMPOUND_TODAY" in out
    code, out = run("lots", "release", lot, "--by", "CD", "--db", db_path,
                    "--as-of", "2025-03-02", "--reason", "released on paper")
    assert code == 0, out
    code, out = run("lots", "receive", "mcc", "MCC-9", "--expiry", "2027-01", "--by", "AB",
                    "--db", db_path, "--as-of", "2025-03-02", "--reason", "late")
    assert code == 0, out
    assert "on 2025-03-02 by AB" in out


def test_the_environment_cannot_set_the_real_clock(tmp_path):
    """A real process: COMPOUND_TODAY (or TZ/FAKETIME-style variables) never dates a write."""
    path = tmp_path / "register.sqlite3"
    real = dt.date.today()
    past = (real - dt.timedelta(days=400)).isoformat()
    env = {**os.environ, "COMPOUND_DB": str(path), "COMPOUND_TODAY": past,
           "COMPOUND_CATALOG": str(tmp_path / "none"), "FAKETIME": past, "SOURCE_DATE_EPOCH": "0"}
    argv = [sys.executable, "-m", "compound", "lots", "receive", "mcc", "MCC-1", "--expiry",
            "2999-12", "--by", "AB"]
    refused = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)
    assert refused.returncode == 6, refused.stderr
    assert f"today is set to {past} (COMPOUND_TODAY)" in refused.stderr
    assert "Traceback" not in refused.stderr
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM ingredient_lots").fetchone() == (0,)
    done = subprocess.run([*argv, "--as-of", past, "--reason", "audit of an old delivery"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(path) as conn:
        (payload,) = conn.execute("SELECT payload FROM events WHERE action = "
                                  "'ingredient.receive'").fetchone()
    assert f'"as_of":"{past}"' in payload
    # The machine's date (or the next day, should the run cross midnight), never COMPOUND_TODAY.
    assert any(f'"real_date":"{(real + dt.timedelta(days=d)).isoformat()}"' in payload
               for d in (0, 1))
