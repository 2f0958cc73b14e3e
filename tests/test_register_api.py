"""The register's Python API: receiving, recording, status moves, reading back.

Today is 2025-03-10 (COMPOUND_TODAY and the injected real clock, conftest) unless a test
moves the clock (``clock.set``) or reads with ``today``.
Day counts are worked by hand in the comments.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from types import SimpleNamespace

import pytest

from compound.errors import DateInputError, InputError, RegisterError, UnitInputError
from compound.register import Register, bud_fields, db, migrations, schema, summaries

TODAY = dt.date(2025, 3, 10)
NTX, MCC = "NTX2403", "MCC-7781"


@pytest.fixture
def reg(tmp_path):
    register = Register.open(tmp_path / "register.sqlite3")
    register.receive_ingredient(item="naltrexone-hcl-50mg-tablet", lot_number=NTX,
                                expiry="2026-05", received="2025-03-01", received_by="ab",
                                tablet_weight="200mg", supplier="Accord")
    register.receive_ingredient(item="avicel", lot_number=MCC, expiry="2027-01-31",
                                received="2025-03-01", received_by="AB",
                                pack_stats={"#3": "135mg"})
    yield register
    register.close()


def lot_args(**overrides):
    """record_lot's arguments for a lot of capsules (overrides change any)."""
    args = dict(
        kind="capsules", description="Naltrexone HCl 4.5 mg capsules", quantity=30,
        quantity_unit="capsules", plan={"kind": "capsules", "status": "ok"},
        compounded="2025-03-10", beyond_use_date="2025-09-05",
        bud_limit="rule: nonaqueous-solid (180 days)", bud_source="USP <795> (2023) Table 4",
        stability_window_days=360, storage="room", compounded_by="AB", checked_by="CD",
        components=[(NTX, 3, "tablets"), (MCC, 2.1, "g")],
    )
    args.update(overrides)
    return args


def capsules(reg, **overrides):
    return reg.record_lot(**lot_args(**overrides))


def snapshot(reg):
    """Row counts, statuses and the event count: what a refused operation must not change."""
    with db.read(reg.engine) as conn:
        counts = {t.name: conn.execute(t.select().with_only_columns(
            schema.sa.func.count())).scalar() for t in schema.metadata.sorted_tables}
        statuses = sorted(conn.execute(schema.sa.select(schema.lots.c.lot_number,
                                                        schema.lots.c.status)).all())
    return counts, statuses


# -- opening -------------------------------------------------------------------------------------

def test_open_creates_the_register_at_compound_db(tmp_path):
    with Register.open() as register:  # COMPOUND_DB = tmp_path/register.sqlite3 (conftest)
        assert (tmp_path / "register.sqlite3").exists()
        events = register.events()
    assert [e.action for e in events] == ["register.migrate"]
    assert events[0].payload["version"] == migrations.LATEST == 7


def test_a_version_3_register_gains_the_listing_index(tmp_path, monkeypatch):
    """v4 adds the (status, BUD, lot number) index to a register made before it; verify passes
    before and after, and the step is an audit event."""
    path = tmp_path / "old.sqlite3"
    with monkeypatch.context() as m:
        m.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:3])
        m.setattr(migrations, "LATEST", 3)
        with Register.open(path) as old:
            with db.write(old.engine) as conn:  # as compound made it before v4
                conn.exec_driver_sql("DROP INDEX lots_status_bud")
            assert old.verify().ok
    with Register.open(path) as new:
        with db.read(new.engine) as conn:
            assert migrations.current_version(conn) == migrations.LATEST
            indexes = {r[0] for r in conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert "lots_status_bud" in indexes
        assert [e.payload["version"] for e in new.events()
                if e.action == "register.migrate"][:2] == [3, 4]
        assert new.verify().ok


def test_a_version_5_register_gains_the_lots_table_index(tmp_path, monkeypatch):
    """v6 replaces the BUD-only index with one holding every column the Lots table shows, so
    that table is read from the index alone (the rows, each with its plan, are not visited)."""
    path = tmp_path / "old.sqlite3"
    with monkeypatch.context() as m:
        m.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:5])
        m.setattr(migrations, "LATEST", 5)
        with Register.open(path) as old:
            with db.write(old.engine) as conn:  # as compound made it before v6
                conn.exec_driver_sql("DROP INDEX lots_listed")
                conn.exec_driver_sql("CREATE INDEX lots_bud ON lots (beyond_use_date)")
            assert old.verify().ok
    with Register.open(path) as new:
        with db.read(new.engine) as conn:
            indexes = {r[0] for r in conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'index'")}
            query = summaries.lot_summaries_query(None, 0)
            compiled = query.compile(conn, compile_kwargs={"literal_binds": True})
            plan = " | ".join(r[-1] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}"))
        assert "lots_listed" in indexes and "lots_bud" not in indexes
        assert "USING COVERING INDEX lots_listed" in plan, plan
        assert "TEMP B-TREE" not in plan, plan
        assert [e.payload["version"] for e in new.events()
                if e.action == "register.migrate"][-2:] == [6, 7]
        assert new.verify().ok


def test_reopening_does_not_migrate_again(tmp_path):
    Register.open(tmp_path / "r.sqlite3").close()
    with Register.open(tmp_path / "r.sqlite3") as again:
        assert len(again.events()) == 1
        assert again.verify().ok


def test_a_database_url_is_accepted_and_other_databases_are_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'by-url.sqlite3'}"
    with Register.open(url) as register:
        assert register.location == url
    with pytest.raises(RegisterError, match="cannot use 'mysql'"):
        Register.open("mysql://host/db")
    with pytest.raises(RegisterError, match="is a directory"):
        Register.open(tmp_path)


def test_an_sqlite_file_that_is_not_a_register_is_refused(tmp_path):
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE patients (name TEXT)")
    with pytest.raises(RegisterError, match="not a compound register"):
        Register.open(other)


def test_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "r.sqlite3"
    Register.open(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TRIGGER schema_version_no_update")
        conn.execute("INSERT INTO schema_version VALUES (99, 'future', 'x')")
    with pytest.raises(RegisterError, match="schema version 99"):
        Register.open(path)


# -- receiving -----------------------------------------------------------------------------------

def test_receive_records_the_catalog_item_and_reads_a_month_expiry_as_its_last_day(reg):
    tablets = reg.get_ingredient(NTX)
    assert tablets.item_key == "naltrexone-hcl-50mg-tablet" and tablets.item_kind == "tablet"
    assert tablets.expiry == dt.date(2026, 5, 31) and tablets.expiry_from_month
    assert tablets.tablet_weight_mg == 200.0 and tablets.received_by == "AB"
    filler = reg.get_ingredient(MCC)
    assert filler.item_key == "mcc"  # "avicel" is an alias
    assert filler.pack_stats == {"3": 135.0}
    assert filler.to_dict()["pack_stats"] == {"3": {"fill_weight_mg": 135}}


def test_receive_api_with_coa_values(reg):
    reg.receive_ingredient(item="naltrexone-hcl-api", lot_number="API-1", expiry="2027-06-30",
                           received_by="AB", assay="99.2%", water="0.4%")
    api = reg.get_ingredient("API-1").to_dict()
    assert api["assay_pct"] == 99.2 and api["water_pct"] == 0.4


@pytest.mark.parametrize(("overrides", "error", "match"), [
    ({"item": "aspirin"}, InputError, "not a product, excipient or vehicle"),
    ({"lot_number": "=cmd"}, InputError, "not a lot number"),
    ({"lot_number": NTX}, RegisterError, "already received on 2025-03-01"),
    ({"expiry": "2025-02"}, RegisterError, "expired on 2025-02-28"),
    ({"expiry": "2025-02-30"}, DateInputError, "February 2025 has 28 days"),
    ({"expiry": "05/2026"}, DateInputError, "year first"),
    ({"received": "2025-03-11"}, DateInputError, "after today"),
    ({"received_by": "A"}, InputError, "initials"),
    ({"received_by": "A.B."}, InputError, "initials"),
    ({"assay": "99.2%"}, InputError, "CoA values of an API"),
    ({"tablet_weight": "45mg"}, InputError, "not more than the 50 mg"),
    ({"tablet_weight": "200"}, UnitInputError, "no unit"),
    ({"pack_stats": {"3": "135mg"}}, InputError, "capsule fillers"),
])
def test_receive_refusals_change_nothing(reg, overrides, error, match):
    args = dict(item="naltrexone-hcl-50mg-tablet", lot_number="NTX-NEW", expiry="2026-05-31",
                received_by="AB")
    args.update(overrides)
    before = snapshot(reg)
    with pytest.raises(error, match=match):
        reg.receive_ingredient(**args)
    assert snapshot(reg) == before


def test_receive_refuses_coa_values_that_cannot_be(reg):
    with pytest.raises(UnitInputError, match="needs the % sign"):
        reg.receive_ingredient(item="naltrexone-hcl-api", lot_number="API-2",
                               expiry="2027-01", received_by="AB", assay="99.2")
    with pytest.raises(InputError, match="outside 0–20 %"):
        reg.receive_ingredient(item="naltrexone-hcl-api", lot_number="API-2",
                               expiry="2027-01", received_by="AB", water="100%")
    with pytest.raises(InputError, match="unknown capsule size"):
        reg.receive_ingredient(item="mcc", lot_number="MCC-2", expiry="2027-01",
                               received_by="AB", pack_stats={"7": "100mg"})


# -- recording -----------------------------------------------------------------------------------

def test_record_generates_lot_numbers_per_compounding_day(reg):
    assert capsules(reg) == "LDN-20250310-0001"
    assert capsules(reg) == "LDN-20250310-0002"
    assert capsules(reg, compounded="2025-03-09") == "LDN-20250309-0001"


def test_record_stores_everything_the_compounding_record_needs(reg):
    lot = reg.get(capsules(reg))
    assert lot.status == "quarantine" and lot.kind == "capsules"
    assert (lot.quantity, lot.quantity_unit) == (30.0, "capsules")
    assert (lot.compounded, lot.beyond_use_date) == (TODAY, dt.date(2025, 9, 5))
    assert lot.bud_source == "USP <795> (2023) Table 4"
    assert (lot.compounded_by, lot.checked_by, lot.storage) == ("AB", "CD", "room")
    assert lot.plan == {"kind": "capsules", "status": "ok"}
    # 2.1 g of MCC is stored as 2.1 × 1000 = 2100 mg; tablets stay tablets.
    assert [(c.lot_number, c.amount, c.unit) for c in lot.components] == [
        (NTX, 3.0, "tablet"), (MCC, 2100.0, "mg")]
    assert lot.components[0].expiry == dt.date(2026, 5, 31)
    assert [e.action for e in lot.history] == ["lot.record"]


def test_days_left_and_stability_window_used(reg):
    number = capsules(reg)
    # 2025-03-10 -> 2025-09-05: 21 (rest of March) + 30 + 31 + 30 + 31 + 31 + 5 = 179 days.
    assert reg.get(number).days_left == 179
    # 2025-03-10 -> 2025-06-08: 21 + 30 + 31 + 8 = 90 days = 90/360 = 25 % of the window.
    later = reg.get(number, today=dt.date(2025, 6, 8)).to_dict()
    assert later["window_used_pct"] == 25 and later["days_left"] == 89
    # No study window: the lot's own dating period, 2025-03-10 -> 2025-09-05 = 179 days;
    # 90 / 179 = 50.28 % on 2025-06-08, 100 % on the BUD itself.
    rule_dated = capsules(reg, stability_window_days=None)
    assert reg.get(rule_dated, today=dt.date(2025, 6, 8)).to_dict()["window_used_pct"] == 50.28
    assert reg.get(rule_dated, today=dt.date(2025, 9, 5)).window_used == 1


@pytest.mark.parametrize(("overrides", "error", "match"), [
    ({"components": [("NOPE-1", 3, "tablets")]}, RegisterError, "unknown lot NOPE-1"),
    ({"beyond_use_date": "2025-03-09"}, DateInputError, "before the compounding date"),
    ({"compounded": "2025-03-11", "beyond_use_date": "2025-09-06"}, DateInputError,
     "after today"),
    ({"compounded": "10/03/2025"}, DateInputError, "year first"),
    ({"beyond_use_date": "2025-09-31"}, DateInputError, "September 2025 has 30 days"),
    ({"beyond_use_date": "2026-06-01"}, RegisterError, "after the expiry of ingredient lot"),
    ({"plan": {"status": "refused"}}, RegisterError, "refused plan"),
    ({"plan": {"x": float("nan")}}, InputError, "not JSON"),
    ({"components": [(MCC, 2, "tablets")]}, InputError, "only tablets are counted"),
    ({"components": [(NTX, 3, "drops")]}, UnitInputError, "drops"),
    ({"components": [(NTX, 1.3, "tablets")]}, InputError, "whole or half"),
    ({"components": [(NTX, -3, "tablets")]}, InputError, "greater than zero"),
    ({"components": []}, InputError, "needs its components"),
    ({"quantity": 0}, InputError, "greater than zero"),
    ({"quantity": 30.5}, InputError, "not a whole number"),
    ({"quantity_unit": "caps"}, InputError, "capsules"),
    ({"storage": "freezer"}, InputError, "room"),
    ({"compounded_by": "A1"}, InputError, "initials"),
    ({"checked_by": ""}, InputError, "initials"),
    ({"kind": "Capsules!"}, InputError, "preparation kind"),
    ({"bud_source": " "}, InputError, "bud_source is required"),
    ({"stability_window_days": 0}, InputError, "at least 1"),
])
def test_record_refusals_change_nothing(reg, overrides, error, match):
    capsules(reg)
    before = snapshot(reg)
    with pytest.raises(error, match=match):
        capsules(reg, **overrides)
    assert snapshot(reg) == before


def test_an_expired_ingredient_cannot_be_used(reg, clock):
    reg.receive_ingredient(item="mcc", lot_number="MCC-OLD", expiry="2025-04-30",
                           received="2025-01-02", received_by="AB")
    clock.set("2025-05-01")
    before = snapshot(reg)
    with pytest.raises(RegisterError, match="expired on 2025-04-30, before the compounding"):
        capsules(reg, components=[(NTX, 3, "tablets"), ("MCC-OLD", 2.1, "g")],
                 compounded="2025-05-01", beyond_use_date="2025-05-10")
    assert snapshot(reg) == before
    # Even a BUD that stays inside the lot's life is refused once the lot itself has expired;
    # the last day of its life is still usable.
    clock.set("2025-04-30")
    assert capsules(reg, components=[("MCC-OLD", 2.1, "g")], compounded="2025-04-30",
                    beyond_use_date="2025-04-30")


def test_an_ingredient_received_after_compounding_is_refused(reg):
    with pytest.raises(RegisterError, match="received on 2025-03-01, after the compounding"):
        capsules(reg, compounded="2025-02-28", beyond_use_date="2025-03-20")


# -- status moves --------------------------------------------------------------------------------

def test_release_then_dispense(reg):
    number = capsules(reg)
    assert reg.release(number, by="cd").status == "released"
    lot = reg.dispense(number, by="EF", reason="Rx 123456")
    assert lot.status == "dispensed"
    assert [(e.action, e.actor, e.payload["from"]) for e in lot.history[1:]] == [
        ("lot.release", "CD", "quarantine"), ("lot.dispense", "EF", "released")]
    assert lot.history[-1].payload["reason"] == "Rx 123456"


@pytest.mark.parametrize(("steps", "action", "match"), [
    ([], "dispense", "quarantine: it cannot be dispensed.*Release it first"),
    (["release"], "release", "released: it cannot be released"),
    (["release", "dispense"], "destroy", "dispensed: it cannot be destroyed"),
    (["destroy"], "recall", "destroyed: it cannot be recalled"),
    (["recall"], "release", "recalled: it cannot be released"),
])
def test_moves_that_are_not_allowed_change_nothing(reg, steps, action, match):
    number = capsules(reg)
    for step in steps:
        getattr(reg, step)(number, by="AB", reason="test")
    before = snapshot(reg)
    with pytest.raises(RegisterError, match=match):
        getattr(reg, action)(number, by="AB", reason="test")
    assert snapshot(reg) == before


def test_a_lot_past_its_bud_is_expired_and_cannot_be_released_or_dispensed(reg, clock):
    number = capsules(reg, beyond_use_date="2025-03-20")
    released = capsules(reg, beyond_use_date="2025-03-20")
    reg.release(released, by="CD")
    day_after = dt.date(2025, 3, 21)
    assert reg.get(number, today=dt.date(2025, 3, 20)).status == "quarantine"  # the BUD is usable
    assert reg.get(number, today=day_after).status == "expired"
    assert reg.get(number, today=day_after).recorded_status == "quarantine"
    clock.set(day_after)
    before = snapshot(reg)
    with pytest.raises(RegisterError, match=r"is expired .*cannot be released.*destroy"):
        reg.release(number, by="CD")
    with pytest.raises(RegisterError, match=r"is expired .*cannot be dispensed"):
        reg.dispense(released, by="CD")
    with pytest.raises(RegisterError, match="no label"):
        reg.check_can_label(released)
    assert snapshot(reg) == before
    assert reg.destroy(number, by="CD", reason="expired").status == "destroyed"


def test_recall_needs_a_reason_and_reaches_dispensed_lots(reg):
    number = capsules(reg)
    reg.release(number, by="CD")
    reg.dispense(number, by="CD")
    before = snapshot(reg)
    with pytest.raises(InputError, match="reason is required"):
        reg.recall(number, by="CD")
    assert snapshot(reg) == before
    assert reg.recall(number, by="CD", reason="supplier recall of NTX2403").status == "recalled"
    assert reg.destroy(number, by="CD").status == "destroyed"


def test_unknown_and_ingredient_lots_cannot_be_moved(reg):
    number = capsules(reg)
    before = snapshot(reg)
    with pytest.raises(RegisterError, match="unknown lot LDN-20250310-0099"):
        reg.release("LDN-20250310-0099", by="AB")
    with pytest.raises(RegisterError, match="is an ingredient lot"):
        reg.release(NTX, by="AB")
    with pytest.raises(InputError, match="initials"):
        reg.release(number, by="1")
    assert snapshot(reg) == before


def test_a_note_is_an_event_and_changes_no_row(reg):
    number = capsules(reg)
    before = snapshot(reg)[1]
    lot = reg.note(number, by="AB", text="Checker initials should read CD, not CB.")
    assert lot.history[-1].action == "lot.note"
    assert snapshot(reg)[1] == before
    assert reg.verify().ok


# -- lists and traces ----------------------------------------------------------------------------

def test_list_by_status_and_expiring(reg, clock):
    soon = capsules(reg, beyond_use_date="2025-03-31")      # 21 days away
    later = capsules(reg, beyond_use_date="2025-09-05")     # 179 days away
    clock.set("2025-03-01")  # recorded on the day it was made; expired by 2025-03-10
    gone = capsules(reg, compounded="2025-03-01", beyond_use_date="2025-03-09")
    clock.set("2025-03-10")
    sold = capsules(reg, beyond_use_date="2025-03-20")
    reg.release(sold, by="CD")
    reg.dispense(sold, by="CD")
    assert [lot.lot_number for lot in reg.list_lots()] == [gone, sold, soon, later]
    # Within 30 days: still in the pharmacy with BUD <= 2025-04-09, expired ones included.
    assert [lot.lot_number for lot in reg.list_lots(expiring_within_days=30)] == [gone, soon]
    assert [lot.lot_number for lot in reg.list_lots(expiring_within_days="30d")] == [gone, soon]
    assert [lot.lot_number for lot in reg.list_lots(status="expired")] == [gone]
    assert [lot.lot_number for lot in reg.list_lots(status="quarantine")] == [soon, later]
    assert [lot.lot_number for lot in reg.list_lots(status="dispensed")] == [sold]
    with pytest.raises(InputError, match="not a lot status"):
        reg.list_lots(status="sold")
    with pytest.raises(UnitInputError, match="months differ"):
        reg.list_lots(expiring_within_days="1 month")


def rows_per_query(reg, monkeypatch, module, builder: str, table: str) -> list[int]:
    """Rows turned into objects by ``module.builder`` after each query naming ``table``.

    Counted from now on: each query's count grows as its rows are built, so the list says
    how many rows each query fetched.
    """
    counts: list[int] = []
    real = getattr(module, builder)

    def before(conn, cursor, statement, parameters, context, executemany):
        if f"FROM {table}" in statement:
            counts.append(0)

    def counting(*args, **kwargs):
        counts[-1] += 1
        return real(*args, **kwargs)

    schema.sa.event.listen(reg.engine, "before_cursor_execute", before)
    monkeypatch.setattr(module, builder, counting)
    return counts


def test_listing_reads_only_the_listed_columns_in_bounded_batches(reg, monkeypatch):
    """Issue 13: a list never fetches plans (~10 KB a lot) and holds a batch of rows at a time."""
    from compound.register import reading

    made = [capsules(reg, plan={"kind": "capsules", "big": "x" * 5000}) for _ in range(7)]
    monkeypatch.setattr(reading, "LIST_BATCH", 3)
    sql: list[str] = []
    schema.sa.event.listen(reg.engine, "before_cursor_execute",
                           lambda conn, cursor, statement, *rest: sql.append(statement))
    counts = rows_per_query(reg, monkeypatch, reading, "lot", "lots")
    listed = list(reg.iter_lots())
    assert [lot.lot_number for lot in listed] == made
    assert all(lot.plan == {} and lot.components == [] and lot.history == [] for lot in listed)
    assert counts == [3, 3, 1]  # 7 lots, 3 per query
    assert not any("lots.plan" in s for s in sql if "FROM lots" in s)
    assert not any("plans" in s for s in sql)


def test_status_filters_run_in_sql_on_an_index(reg):
    """`lots list --status` walks the (status, BUD, lot number) index: no scan, no sort."""
    from compound.register import reading

    query = reading.lots_query(TODAY, "dispensed", None)
    with db.read(reg.engine) as conn:
        compiled = query.compile(conn, compile_kwargs={"literal_binds": True})
        plan = " | ".join(r[-1] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}"))
    assert "USING INDEX lots_status_bud" in plan, plan
    assert "TEMP B-TREE" not in plan, plan


def test_trace_follows_sub_lots(reg):
    trituration = capsules(reg, kind="trituration", description="Naltrexone HCl 1:10 in MCC",
                           quantity=15, quantity_unit="g",
                           components=[(NTX, 3, "tablets"), (MCC, 13.5, "g")])
    with pytest.raises(RegisterError, match="is quarantine: only a released lot"):
        capsules(reg, components=[(trituration, 450, "mg")])
    reg.release(trituration, by="CD")
    with pytest.raises(RegisterError, match="after the BUD of lot"):
        capsules(reg, components=[(trituration, 450, "mg")], beyond_use_date="2025-09-06")
    made = capsules(reg, components=[(trituration, 450, "mg"), (MCC, 1.8, "g")])
    direct = capsules(reg)
    traced = reg.trace(NTX)
    assert [(t["lot_number"], t["via"]) for t in traced] == [
        (trituration, None), (direct, None), (made, trituration)]
    assert traced[2]["used"] == {"amount": 450, "unit": "mg"}
    assert [t["lot_number"] for t in reg.trace(trituration)] == [made]
    assert reg.get(made).components[0].source == "lot"
    with pytest.raises(RegisterError, match="unknown lot"):
        reg.trace("NOPE")


# -- the BUD engine's result ---------------------------------------------------------------------

def test_bud_fields_maps_a_bud_result_and_refuses_a_refused_one():
    limit = SimpleNamespace(kind="rule", name="nonaqueous-solid", days=180,
                            source="USP <795> (2023) Table 4")
    bud = SimpleNamespace(refused=False, beyond_use_date=dt.date(2025, 9, 5), limit=limit,
                          stability_window_days=None, stability_window_end=None, storage="room")
    assert bud_fields(bud) == {
        "beyond_use_date": dt.date(2025, 9, 5), "bud_limit": "rule: nonaqueous-solid (180 days)",
        "bud_source": "USP <795> (2023) Table 4", "stability_window_days": None,
        "stability_window_end": None, "storage": "room"}
    with pytest.raises(RegisterError, match="BUD was refused"):
        bud_fields(SimpleNamespace(refused=True, beyond_use_date=None, limit=None))


def test_a_lot_recorded_with_the_bud_engine(reg):
    from compound.planning.stability import assign_bud

    bud = assign_bud("nonaqueous-solid", TODAY, storage="room", study="cote-2018", attest=True,
                     component_expiries=[(NTX, "2026-05"), (MCC, "2027-01-31")])
    number = capsules(reg, **bud_fields(bud))
    lot = reg.get(number)
    # Day 1 counting, capped at 180 days: 2025-03-10 + 179 days = 2025-09-05.
    assert lot.beyond_use_date == dt.date(2025, 9, 5)
    assert lot.stability_window_days == 360
    assert lot.bud_limit.startswith("policy-cap")
