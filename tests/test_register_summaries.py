"""The Lots table's rows (Register.lot_summaries) are the register's lots as ``lots list``
reads them, on SQLite and PostgreSQL: same order, status, dates, days left and window used."""

from __future__ import annotations

import datetime as dt

from compound.register import Register

NTX = "NTX2403"
LATER = dt.date(2025, 6, 1)
"""The day the rows are read for: some lots are expired by then, one not yet begun."""


def record(reg: Register, compounded: str, bud: str, window: int | None, n: int) -> str:
    return reg.record_lot(
        kind="capsules" if n % 2 else "oral-liquid", description=f"Naltrexone lot {n}",
        quantity=30 + n, quantity_unit="capsules" if n % 2 else "mL", plan={"n": n},
        compounded=compounded, beyond_use_date=bud, bud_limit="rule: test", bud_source="test",
        stability_window_days=window, storage="room", compounded_by="AB", checked_by=None,
        components=[(NTX, 3, "tablets")])


def test_lot_summaries_are_the_lots_as_listed(register_url):
    with Register.open(register_url) as reg:
        reg.receive_ingredient(item="naltrexone-hcl-50mg-tablet", lot_number=NTX,
                               expiry="2026-05", received="2025-03-01", received_by="AB")
        numbers = [record(reg, "2025-03-01", "2025-04-14", None, 1),
                   record(reg, "2025-03-05", "2026-02-28", 360, 2),
                   record(reg, "2025-03-10", "2025-06-01", None, 3),
                   record(reg, "2025-03-02", "2025-05-31", 90, 4),
                   record(reg, "2025-03-10", "2025-09-05", None, 5),
                   record(reg, "2025-03-03", "2025-04-14", None, 6)]
        reg.release(numbers[1], by="CD")
        reg.release(numbers[5], by="CD")
        reg.destroy(numbers[0], by="CD", reason="spilled")
        rows, total = reg.lot_summaries(today=LATER)
        lots = reg.list_lots(today=LATER)
        assert total == len(lots) == 6
        assert [tuple(r) for r in rows] == [
            (lot.lot_number, lot.kind, lot.description, lot.status, lot.quantity,
             lot.quantity_unit, lot.compounded, lot.beyond_use_date, lot.stability_window_days,
             lot.days_left, lot.window_used) for lot in lots]
        # By BUD, then lot number; on hand past its BUD is expired; the BUD day is 0 days left.
        assert [r.status for r in rows] == ["destroyed", "expired", "expired", "quarantine",
                                            "quarantine", "released"]
        assert [r.days_left for r in rows] == [-48, -48, -1, 0, 96, 272]
        assert all(type(r.compounded) is dt.date and type(r.beyond_use_date) is dt.date
                   for r in rows)
        page, total = reg.lot_summaries(today=LATER, limit=2, offset=3)
        assert page == rows[3:5] and total == 6
