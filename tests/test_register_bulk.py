"""Register.record_lots: many lots in few transactions, exactly as recorded one at a time.

Today is 2025-03-10 (the injected real clock, conftest); every clock reading is noon UTC, so
two registers given the same lots in the same order hold the same rows and the same chain.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from compound.errors import DateInputError, InputError, RegisterError
from compound.register import Register, db, schema
from registers import new_database
from test_register_api import MCC, NTX, lot_args

lot = lot_args  # record_lot's arguments for a lot of capsules (overrides change any)


def seeded(url):
    """A register with two ingredient lots and a released stock dilution (a sub-lot)."""
    reg = Register.open(url)
    reg.receive_ingredient(item="naltrexone-hcl-50mg-tablet", lot_number=NTX, expiry="2026-05",
                           received="2025-03-01", received_by="AB", tablet_weight="200mg")
    reg.receive_ingredient(item="avicel", lot_number=MCC, expiry="2027-01-31",
                           received="2025-03-01", received_by="AB")
    stock = reg.record_lot(**lot(kind="liquid", description="Naltrexone 1 mg/mL stock",
                                 quantity=100, quantity_unit="mL", beyond_use_date="2025-04-09",
                                 stability_window_days=None, storage="refrigerated"))
    reg.release(stock, "CD")
    return reg, stock


def entries(stock):
    """Lots of every shape: several compounding days, a late entry, a sub-lot, a study window."""
    return [
        lot(),
        lot(compounded="2025-03-08", plan={"kind": "capsules", "n": 2}),
        lot(description="Naltrexone 0.5 mg/mL drops", kind="drops", quantity=30,
            quantity_unit="mL", beyond_use_date="2025-04-09", stability_window_days=None,
            components=[(stock, 15, "mL")]),
        lot(compounded="2025-03-09", as_of="2025-03-09", reason="paper log, entered next day",
            compounded_by="EF"),
        lot(stability_window_days=90, stability_window_end="2025-06-08", checked_by=None,
            quantity=60),
        lot(),
        lot(compounded="2025-03-08"),
    ]


def contents(reg):
    """Every row of every table, in order (ids included), and the anchor the register wrote."""
    with db.read(reg.engine) as conn:
        tables = {t.name: conn.execute(sa.select(t).order_by(*t.primary_key.columns)).all()
                  for t in schema.metadata.sorted_tables}
    return tables, reg.head()


def test_bulk_record_equals_one_at_a_time(register_url, tmp_path):
    """The same lots, recorded one at a time and by record_lots in batches of 3 (three
    transactions), leave the same rows and the same audit chain, hash for hash."""
    with new_database("sqlite" if register_url.startswith("sqlite") else "postgresql",
                      tmp_path / "other") as other_url:
        (tmp_path / "other").mkdir(exist_ok=True)
        one, stock = seeded(register_url)
        bulk, stock_ = seeded(other_url)
        try:
            assert stock == stock_
            singly = [one.record_lot(**e) for e in entries(stock)]
            batched = bulk.record_lots(iter(entries(stock)), batch_size=3)
            assert batched == singly == [
                "LDN-20250310-0002", "LDN-20250308-0001", "LDN-20250310-0003",
                "LDN-20250309-0001", "LDN-20250310-0004", "LDN-20250310-0005",
                "LDN-20250308-0002"]
            one_rows, one_head = contents(one)
            bulk_rows, bulk_head = contents(bulk)
            assert len(one_rows["events"]) == len(bulk_rows["events"]) == 12
            for table in one_rows:
                assert bulk_rows[table] == one_rows[table], table
            assert bulk_head == one_head and bulk_head.seq == 12
            late = bulk.events(batched[3])[0].payload
            assert late["as_of_reason"] == "paper log, entered next day"
            assert [(c.lot_number, c.source) for c in bulk.get(batched[2]).components] == [
                (stock, "lot")]
            assert bulk.verify().ok and one.verify().ok
        finally:
            one.close()
            bulk.close()


def snapshot(reg):
    with db.read(reg.engine) as conn:
        return {t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar()
                for t in schema.metadata.sorted_tables}


@pytest.mark.parametrize(("bad", "error"), [
    ({"compounded_by": "A"}, InputError),  # checked before any database work
    ({"beyond_use_date": "2025-03-01"}, DateInputError),
    ({"components": [("NTX9999", 3, "tablets")]}, RegisterError),  # checked in the transaction
    ({"components": [(MCC, 3, "tablets")]}, InputError),
    ({"beyond_use_date": "2026-07-01"}, RegisterError),  # past the tablets' expiry
])
def test_a_refused_entry_is_refused_as_record_lot_refuses_it(tmp_path, bad, error):
    """Entries 0–4 in batches of 2, entry 3 refused: batch 0–1 stays recorded, nothing of
    batch 2–3 (not even entry 2) nor after it is; the error is record_lot's, naming entry 3."""
    with new_database("sqlite", tmp_path) as url:
        reg, _ = seeded(url)
        with reg:
            before = snapshot(reg)
            with pytest.raises(error) as single:
                reg.record_lot(**lot(**bad))
            assert snapshot(reg) == before
            with pytest.raises(error) as bulk:
                reg.record_lots([lot(), lot(), lot(), lot(**bad), lot()], batch_size=2)
            assert bulk.value.message == f"entries[3]: {single.value.message}"
            assert bulk.value.hint.endswith(
                "The 2 lots of the batches before it are recorded (LDN-20250310-0002 … "
                "LDN-20250310-0003); nothing of its batch is.")
            assert [s.lot_number for s in reg.lot_summaries()[0]] == [
                "LDN-20250310-0001", "LDN-20250310-0002", "LDN-20250310-0003"]
            # The rolled-back batch took no lot number: the next lot is 0004.
            assert reg.record_lot(**lot()) == "LDN-20250310-0004"
            assert reg.verify().ok


@pytest.mark.parametrize(("entry", "match"), [
    ({**lot(), "colour": "blue"}, r"entries\[1\]: unknown field 'colour'"),
    ({k: v for k, v in lot().items() if k != "storage"}, r"entries\[1\]: missing field 'storage'"),
    (["capsules"], r"entries\[1\]: \['capsules'\] is not a mapping"),
])
def test_malformed_entries_are_refused_before_their_batch_is_written(tmp_path, entry, match):
    with new_database("sqlite", tmp_path) as url:
        reg, _ = seeded(url)
        with reg:
            before = snapshot(reg)
            with pytest.raises(InputError, match=match) as refused:
                reg.record_lots([lot(), entry])
            assert refused.value.hint.endswith("Nothing was recorded.")
            assert snapshot(reg) == before


@pytest.mark.parametrize("size", [0, -1, 2.5, True, "10"])
def test_batch_size_must_be_a_whole_number_above_zero(tmp_path, size):
    with (Register.open(tmp_path / "r.sqlite3") as reg,
          pytest.raises(InputError, match="batch_size")):
        reg.record_lots([lot()], batch_size=size)


def test_no_entries_record_nothing(tmp_path):
    with Register.open(tmp_path / "r.sqlite3") as reg:
        assert reg.record_lots([]) == []
        assert len(reg.events()) == 1
