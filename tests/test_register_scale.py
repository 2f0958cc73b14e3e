"""The register at a pharmacy's scale: 20,000 lots through the public bulk API, and a verify
that reads the audit trail and the lots in bounded batches (rows counted per query, not timed).
"""

from __future__ import annotations

import sqlite3
from typing import Any

import sqlalchemy as sa

from compound.register import Register, audit, db, replay

NTX = "NTX2403"
LOTS = 20_000


class _CountingCursor(sqlite3.Cursor):
    """Counts the rows each statement hands to Python, however they are fetched."""

    log: list[list[Any]]  # [sql, rows fetched], one entry per statement executed

    def execute(self, sql: str, *args: Any) -> _CountingCursor:  # type: ignore[override]
        self.log.append([sql, 0])
        return super().execute(sql, *args)

    def _count(self, rows: list[Any]) -> list[Any]:
        self.log[-1][1] += len(rows)
        return rows

    def fetchone(self) -> Any:
        row = super().fetchone()
        if row is not None:
            self.log[-1][1] += 1
        return row

    def fetchmany(self, *args: Any) -> list[Any]:  # type: ignore[override]
        return self._count(super().fetchmany(*args))

    def fetchall(self) -> list[Any]:
        return self._count(super().fetchall())

    def __next__(self) -> Any:
        row = super().__next__()
        self.log[-1][1] += 1
        return row


def _counting_connection(log: list[list[Any]]) -> type[sqlite3.Connection]:
    class Cursor(_CountingCursor):
        pass

    Cursor.log = log

    class Connection(sqlite3.Connection):
        def cursor(self, factory: Any = Cursor) -> Any:  # type: ignore[override]
            return super().cursor(factory)

    return Connection


def test_verify_reads_twenty_thousand_lots_in_bounded_batches(tmp_path):
    """20,000 lots through Register.record_lots; then every query verify runs hands Python at
    most one batch of events or of lots, and together they read every event and lot once. A
    whole-table read of either (20,000+ rows in one query) fails this; nothing is timed."""
    path = tmp_path / "register.sqlite3"
    with Register.open(path) as reg:
        reg.receive_ingredient(item="naltrexone-hcl-50mg-tablet", lot_number=NTX,
                               expiry="2026-05", received="2025-03-01", received_by="AB")
        entry = dict(kind="capsules", description="Naltrexone HCl 4.5 mg capsules", quantity=30,
                     quantity_unit="capsules", plan={"kind": "capsules", "status": "ok"},
                     compounded="2025-03-10", beyond_use_date="2025-09-05",
                     bud_limit="rule: nonaqueous-solid (180 days)",
                     bud_source="USP <795> (2023) Table 4", stability_window_days=360,
                     storage="room", compounded_by="AB", checked_by="CD",
                     components=[(NTX, 3, "tablets")])
        numbers = reg.record_lots((entry for _ in range(LOTS)), batch_size=2000)
        for number in numbers[:30]:
            reg.release(number, "CD")
    assert len(numbers) == len(set(numbers)) == LOTS
    assert numbers[0] == "LDN-20250310-0001" and numbers[-1] == f"LDN-20250310-{LOTS:04d}"
    events = 1 + 1 + LOTS + 30  # migrate, receive, lots, releases

    log: list[list[Any]] = []
    engine = db.create_engine(f"sqlite:///{path}")

    @sa.event.listens_for(engine, "do_connect")
    def counting(dialect, record, cargs, cparams):
        cparams["factory"] = _counting_connection(log)

    reg = Register(engine)
    try:
        report = reg.verify()
    finally:
        reg.close()
    assert report.ok, report.problems
    assert report.events == report.head_seq == events
    event_reads = [rows for sql, rows in log if "FROM events" in sql and "events.payload" in sql]
    assert sum(event_reads) == events
    assert max(event_reads) == audit.BATCH
    assert len(event_reads) == events // audit.BATCH + 1
    lot_reads = [rows for sql, rows in log if "FROM lots" in sql and "LIMIT" in sql]
    assert sum(lot_reads) == LOTS
    assert max(lot_reads) == replay.LOT_BATCH
    # Their components come a batch of lots at a time too (one a lot here).
    component_reads = [rows for sql, rows in log if "FROM components" in sql]
    assert sum(component_reads) == LOTS and max(component_reads) == replay.LOT_BATCH
