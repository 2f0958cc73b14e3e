"""Write tests/data/register_v5.json: a register as compound wrote it at schema version 5.

Run once with the compound of commit 9d86615 (the last one at schema v5, each plan held in
its lot row and again, inline, in its ``lot.record`` event):
``python tests/data/make_register_v5.py``. The migration tests load the rows into a v5
schema on SQLite or PostgreSQL and bring the register to the current version.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from pathlib import Path

NOW = dt.datetime(2025, 3, 10, 12, 0, tzinfo=dt.UTC)
KEY = "v5-fixture-audit-key-" + "k" * 20
OUT = Path(__file__).with_name("register_v5.json")


def main() -> None:
    os.environ["COMPOUND_TODAY"] = "2025-03-10"
    os.environ["COMPOUND_CATALOG"] = os.pathsep
    import sqlalchemy as sa

    import compound
    from compound import paths
    from compound.register import Register, migrations, schema

    assert migrations.LATEST == 5, "run with the compound of schema version 5"
    paths.system_now = lambda: NOW
    ticks = iter(range(10_000))

    def clock() -> dt.datetime:
        return NOW + dt.timedelta(seconds=next(ticks))

    plans = [compound.plan_capsules(strength, count, overage="1", tablet_weight="200mg").to_dict()
             for strength, count in (("4.5mg", 30), ("4.5mg", 30), ("3mg", 60))]
    with tempfile.TemporaryDirectory() as tmp, \
            Register.open(Path(tmp) / "v5.sqlite3", clock=clock, audit_key=KEY.encode()) as reg:
        reg.receive_ingredient(item="naltrexone-hcl-50mg-tablet", lot_number="NTX2403",
                               expiry="2026-05", received="2025-03-01", received_by="AB",
                               tablet_weight="200mg")
        reg.receive_ingredient(item="mcc", lot_number="MCC-7781", expiry="2027-01-31",
                               received="2025-03-01", received_by="AB")
        reg.record_prescription(rx="RX1", patient_name="Jane Doe", patient_dob="1970-01-02",
                                prescriber="Dr A Smith", directions="1 capsule at bedtime",
                                strength="4.5mg", form="capsules", quantity=30, refills=1,
                                recorded_by="AB")
        lots = []
        for n, plan in enumerate(plans):
            lots.append(reg.record_lot(
                kind="capsules", description=f"Naltrexone HCl capsules #{n}", quantity=31,
                quantity_unit="capsules", plan=plan, compounded="2025-03-10",
                beyond_use_date="2025-09-05", bud_limit="rule: nonaqueous-solid (180 days)",
                bud_source="USP <795> (2023) Table 4", stability_window_days=None,
                storage="room", compounded_by="AB", checked_by="CD",
                components=[("NTX2403", 3, "tablets"), ("MCC-7781", 2.1, "g")]))
        reg.release(lots[0], "CD")
        reg.dispense(lots[0], "AB", quantity=30, rx="RX1")
        reg.note(lots[1], "AB", "label reprinted")
        reg.recall(lots[2], "CD", "wrong strength on the label")
        assert reg.verify().ok
        head = reg.head()
        assert head is not None
        tables = {}
        with reg.engine.connect() as conn:
            for table in schema.metadata.sorted_tables:
                rows = conn.execute(sa.select(table).order_by(*table.primary_key)).all()
                tables[table.name] = {
                    "columns": [c.name for c in table.columns],
                    "rows": [[v.isoformat() if isinstance(v, dt.date) else v for v in r]
                             for r in rows]}
    OUT.write_text(json.dumps({
        "made_by": "tests/data/make_register_v5.py with compound at schema version 5",
        "audit_key": KEY, "head": {"seq": head.seq, "hash": head.hash}, "lots": lots,
        "ddl": {name: ddl(name) for name in ("sqlite", "postgresql")}, "tables": tables},
        indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def ddl(dialect_name: str) -> list[str]:
    """The v5 schema's statements, in order, as compound created them on ``dialect_name``."""
    import sqlalchemy as sa
    from sqlalchemy.dialects import postgresql, sqlite

    from compound.register import schema

    dialect = {"sqlite": sqlite.dialect(), "postgresql": postgresql.dialect()}[dialect_name]
    out = [str(sa.schema.CreateTable(t).compile(dialect=dialect)).strip()
           for t in schema.metadata.sorted_tables]
    out += [str(sa.schema.CreateIndex(i).compile(dialect=dialect)).strip()
            for t in schema.metadata.sorted_tables for i in sorted(t.indexes, key=lambda i: i.name)]
    out += [f"CREATE UNIQUE INDEX {t}_lot_number_nocase ON {t} (lower(lot_number))"
            for t in ("ingredient_lots", "lots")]
    return out + schema.guard_ddl(dialect_name)


if __name__ == "__main__":
    main()
