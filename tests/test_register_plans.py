"""Each plan stored once (schema version 7), and a version 5 register brought to it.

A v5 register (tests/data/register_v5.json, written by compound at schema version 5:
each plan in its lot row and again inline in its lot.record event, signed with an
audit key) is loaded into SQLite or PostgreSQL as it was, then opened: the migration
moves the plans into ``plans`` and the events keep their hashes and signatures, so
the old head (and anchor) still verifies. Tampering with a stored plan is named.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zlib
from pathlib import Path

import pytest
import sqlalchemy as sa

from compound.errors import IntegrityError
from compound.register import Register, anchor, migrations
from compound.register.audit import GENESIS, canonical_json
from registers import Outsider
from test_register_api import lot_args

FIXTURE = json.loads((Path(__file__).parent / "data" / "register_v5.json").read_text("utf-8"))
V5_HEAD = anchor.Head(FIXTURE["head"]["seq"], FIXTURE["head"]["hash"])
V5_KEY = FIXTURE["audit_key"].encode()
NTX, MCC = "NTX2403", "MCC-7781"

# Reflecting the v5 tables to insert their rows skips the lower(lot_number) indexes: harmless.
pytestmark = pytest.mark.filterwarnings("ignore:Skipped unsupported reflection")


def load_v5(url: str) -> None:
    """Create the v5 schema exactly as compound did and insert the fixture's rows."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            for statement in FIXTURE["ddl"][engine.dialect.name]:
                conn.exec_driver_sql(statement)
            metadata = sa.MetaData()
            for name, table in FIXTURE["tables"].items():
                if not table["rows"]:
                    continue
                target = sa.Table(name, metadata, autoload_with=conn)
                rows = [{c: (dt.date.fromisoformat(v) if isinstance(target.c[c].type, sa.Date)
                             and isinstance(v, str) else v)
                         for c, v in zip(table["columns"], row, strict=True)}
                        for row in table["rows"]]
                conn.execute(target.insert(), rows)
                if engine.dialect.name == "postgresql" and "id" in table["columns"]:
                    conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                         f"(SELECT max(id) FROM {name}))")
    finally:
        engine.dispose()


def chain_by_hand(rows):
    """Each event's hash, recomputed as sha256(prev ‖ canonical JSON of the event)."""
    prev = GENESIS
    for row in rows:
        body = {"seq": row["seq"], "at_utc": row["at_utc"], "actor": row["actor"],
                "station": row["station"], "action": row["action"], "subject": row["subject"],
                "payload": row["payload"]}
        assert row["prev_hash"] == prev
        prev = hashlib.sha256((prev + canonical_json(body)).encode()).hexdigest()
        assert row["hash"] == prev, row["seq"]
    return prev


def events_with_plans_inline(outsider):
    """The events as hashed: each stored plan put back where its lot.record event names it."""
    stored = {key: json.loads(text) for key, text in outsider.plan_texts().items()}
    out = []
    for r in outsider.rows("SELECT * FROM events ORDER BY seq"):
        row = dict(r._mapping)
        row["payload"] = json.loads(row["payload"])
        if row["plan_sha256"] is not None:
            assert row["payload"]["lot"]["plan"] == row["plan_sha256"]
            row["payload"]["lot"]["plan"] = stored[row["plan_sha256"]]
        out.append(row)
    return out


@pytest.fixture
def v5_url(register_url, tmp_path):
    load_v5(register_url)
    path = anchor.default_path(sa.make_url(register_url))
    if register_url.startswith("sqlite"):
        assert path is not None
        anchor.write(path, V5_HEAD, register_url, "2025-03-10T12:00:00.000000Z")
    return register_url


def test_the_v5_fixture_is_a_whole_chain_with_each_plan_twice(v5_url):
    outsider = Outsider(v5_url)
    try:
        rows = [dict(r._mapping) | {"payload": json.loads(r.payload)}
                for r in outsider.rows("SELECT * FROM events ORDER BY seq")]
        assert chain_by_hand(rows) == V5_HEAD.hash and rows[-1]["seq"] == V5_HEAD.seq
        plans_inline = [r["payload"]["lot"]["plan"] for r in rows if r["action"] == "lot.record"]
        assert len(plans_inline) == 3 and all(isinstance(p, dict) for p in plans_inline)
        lot_plans = [json.loads(r.plan) for r in outsider.rows("SELECT plan FROM lots ORDER BY id")]
        assert lot_plans == plans_inline
    finally:
        outsider.close()


def test_a_v5_register_migrates_in_one_step_and_verifies_with_its_old_head(v5_url):
    with Register.open(v5_url, audit_key=V5_KEY) as reg:
        report = reg.verify(against=V5_HEAD, origin="the v5 head")
        assert report.ok, report.problems
        assert report.events == V5_HEAD.seq + 2  # the migrations' own events (v6, v7)
        assert report.signed == report.events  # old signatures still match: hashes unchanged
        events = reg.events()
        assert [e.payload["version"] for e in events if e.action == "register.migrate"] == [5, 6, 7]
        assert reg.verify().ok  # against this station's anchor (moved on by the migration)
        head = reg.head()
        # The plans are read back as they were recorded.
        by_lot = {r[0]: r for r in FIXTURE["tables"]["lots"]["rows"]}
        plan_at = FIXTURE["tables"]["lots"]["columns"].index("plan")
        number_at = FIXTURE["tables"]["lots"]["columns"].index("lot_number")
        for row in by_lot.values():
            assert reg.get(row[number_at]).plan == json.loads(row[plan_at])
    outsider = Outsider(v5_url)
    try:
        old = {r[0]: r for r in FIXTURE["tables"]["events"]["rows"]}
        now = outsider.rows("SELECT seq, hash, prev_hash, mac, payload FROM events ORDER BY seq")
        assert [(r.seq, r.hash, r.prev_hash, r.mac) for r in now[:V5_HEAD.seq]] == [
            (seq, row[8], row[7], row[9]) for seq, row in sorted(old.items())]
        assert now[-1].hash == head.hash
        # Two lots share one plan: two rows in plans, each stored once, compressed; the
        # 3 mg plan against the 4.5 mg one (its base), in a fraction of the space.
        keys = [r.plan_sha256 for r in outsider.rows("SELECT plan_sha256 FROM lots ORDER BY id")]
        assert len(set(keys)) == 2 and keys[0] == keys[1]
        stored = {r.sha256: r for r in outsider.rows(
            "SELECT sha256, base_sha256, length(body) AS size FROM plans")}
        assert stored.keys() == {keys[0], keys[2]}
        assert stored[keys[0]].base_sha256 is None and stored[keys[2]].base_sha256 == keys[0]
        assert stored[keys[2]].size * 3 < stored[keys[0]].size
        assert all(len(r.payload) < 1500 for r in now)  # no event holds a plan any more
        assert chain_by_hand(events_with_plans_inline(outsider)) == head.hash
        with outsider.engine.connect() as conn:
            assert migrations.current_version(conn) == migrations.LATEST == 7
    finally:
        outsider.close()


def test_the_migration_shrinks_the_file(tmp_path):
    """SQLite: the plans leave the rows and events, and the file is compacted after."""
    path = tmp_path / "v5.sqlite3"
    url = f"sqlite:///{path}"
    load_v5(url)
    before = path.stat().st_size
    with Register.open(url, audit_key=V5_KEY) as reg:
        assert reg.verify(against=V5_HEAD).ok
    after = path.stat().st_size + sum(p.stat().st_size for p in tmp_path.glob("v5.sqlite3-*"))
    # Three ~9.5 KB plans twice each (57 KB of JSON) become two compressed rows (~6 KB).
    assert after < before - 40_000, (before, after)


def test_a_v5_register_left_at_v5_by_a_failed_step_is_unchanged(v5_url, monkeypatch):
    """The step runs in one transaction: a failure part-way leaves every row as it was."""
    from compound.register import plans

    calls = []

    def failing(conn, text, near=None):
        calls.append(text)
        if len(calls) == 4:
            raise RuntimeError("power cut")
        return real(conn, text, near)

    real = plans.store
    monkeypatch.setattr(plans, "store", failing)
    with pytest.raises(RuntimeError, match="power cut"):
        Register.open(v5_url, audit_key=V5_KEY)
    monkeypatch.setattr(plans, "store", real)
    outsider = Outsider(v5_url)
    try:
        assert outsider.scalar("SELECT max(version) FROM schema_version") == 5
        rows = [dict(r._mapping) | {"payload": json.loads(r.payload)}
                for r in outsider.rows("SELECT * FROM events ORDER BY seq")]
        assert chain_by_hand(rows) == V5_HEAD.hash
    finally:
        outsider.close()
    with Register.open(v5_url, audit_key=V5_KEY) as reg:  # and a later open migrates it
        assert reg.verify(against=V5_HEAD).ok


# -- a new register -------------------------------------------------------------------------


def receive(reg):
    reg.receive_ingredient(item="naltrexone-hcl-50mg-tablet", lot_number=NTX, expiry="2026-05",
                           received="2025-03-01", received_by="AB", tablet_weight="200mg")
    reg.receive_ingredient(item="mcc", lot_number=MCC, expiry="2027-01-31",
                           received="2025-03-01", received_by="AB")


def record(reg, plan):
    return reg.record_lot(**lot_args(description="Naltrexone HCl capsules", plan=plan,
                                     stability_window_days=None))


NOISE = "".join(f"{i * 7919 % 10007:05d}" for i in range(600))  # 3,000 digits zlib keeps ~half of
PLAN_A = {"kind": "capsules", "status": "ok", "notes": "Ä µg " + NOISE, "n": [1, 2.5, None]}
PLAN_B = {"kind": "capsules", "status": "ok", "notes": "other"}
PLAN_C = {**PLAN_A, "n": [2, 2.5, None]}  # another strength, say: most of the text is A's


@pytest.fixture
def reg(register_url):
    with Register.open(register_url) as register:
        receive(register)
        yield register


@pytest.fixture
def outsider(reg):
    who = Outsider(str(reg.engine.url.render_as_string(hide_password=False)))
    yield who
    who.close()


def test_each_plan_is_stored_once_and_read_back_whole(reg, outsider):
    lots = [record(reg, PLAN_A), record(reg, PLAN_B), record(reg, PLAN_A)]
    assert [reg.get(n).plan for n in lots] == [PLAN_A, PLAN_B, PLAN_A]
    texts = {canonical_json(PLAN_A), canonical_json(PLAN_B)}
    stored = outsider.plan_texts()
    assert set(stored.values()) == texts
    assert stored.keys() == {hashlib.sha256(t.encode()).hexdigest() for t in texts}
    events = outsider.rows("SELECT payload, plan_sha256 FROM events WHERE action = 'lot.record'")
    assert all("xxxx" not in r.payload and json.loads(r.payload)["lot"]["plan"] == r.plan_sha256
               for r in events)
    assert reg.verify().ok
    assert chain_by_hand(events_with_plans_inline(outsider)) == reg.head().hash


def test_stored_plans_are_append_only(reg, outsider):
    record(reg, PLAN_A)
    for statement in ("UPDATE plans SET body = body", "DELETE FROM plans"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), \
                outsider.engine.begin() as conn:
            conn.exec_driver_sql(statement)
    assert outsider.scalar("SELECT count(*) FROM plans") == 1


def test_a_changed_stored_plan_exits_4_naming_it(reg, outsider, cli):
    record(reg, PLAN_A)
    lot = record(reg, PLAN_B)
    key = key_of(PLAN_B)
    forged = zlib.compress(canonical_json({**PLAN_B, "status": "refused"}).encode())
    outsider.run(("UPDATE plans SET body = :body, base_sha256 = NULL WHERE sha256 = :key",
                  {"body": forged, "key": key}))
    code, out, _ = cli("audit", "verify", "--db", reg.engine.url.render_as_string(
        hide_password=False))
    assert code == 4
    assert (f"plan {key[:16]}: the stored plan is not the one event #5 (lot.record {lot}) "
            "records: it does not match its SHA-256 (changed outside the tool).") in out
    assert f"event #5: its content does not match its hash (lot.record {lot}" in out
    assert "event #4" not in out  # the other plan is untouched


@pytest.mark.parametrize(("statement", "what"), [
    ("DELETE FROM plans", "it is missing from the plans table, but event #4 (lot.record "
                          "LDN-20250310-0001) records it (deleted outside the tool)."),
    ("UPDATE plans SET body = :garbage", "the stored plan is not the one event #4 (lot.record "
                                         "LDN-20250310-0001) records"),
])
def test_a_deleted_or_unreadable_plan_is_named(reg, outsider, statement, what):
    record(reg, PLAN_A)
    key = hashlib.sha256(canonical_json(PLAN_A).encode()).hexdigest()
    params = {"garbage": b"not zlib"} if ":garbage" in statement else {}
    outsider.run((statement, params))
    found = [str(p) for p in reg.verify().problems]
    assert any(p.startswith(f"plan {key[:16]}: {what}") for p in found), found


def test_an_event_naming_a_plan_beside_its_payload_only_is_forged(reg, outsider):
    record(reg, PLAN_A)
    outsider.run("UPDATE events SET plan_sha256 = (SELECT plan_sha256 FROM lots) "
                 "WHERE action = 'lot.release' OR seq = 3")
    found = [str(p) for p in reg.verify().problems]
    assert any(p.startswith("event #3: it names plan ") and "but not in it" in p
               for p in found), found


def key_of(plan):
    return hashlib.sha256(canonical_json(plan).encode()).hexdigest()


def test_a_plan_like_the_last_lots_is_stored_against_it(reg, outsider):
    lots = [record(reg, PLAN_A), record(reg, PLAN_C), record(reg, PLAN_B), record(reg, PLAN_C)]
    rows = {r.sha256: r for r in outsider.rows(
        "SELECT sha256, base_sha256, length(body) AS size FROM plans")}
    a, c = rows[key_of(PLAN_A)], rows[key_of(PLAN_C)]
    assert a.base_sha256 is None and c.base_sha256 == a.sha256
    assert c.size * 10 < a.size  # the difference only
    assert [reg.get(n).plan for n in lots] == [PLAN_A, PLAN_C, PLAN_B, PLAN_C]
    assert reg.verify().ok
    assert chain_by_hand(events_with_plans_inline(outsider)) == reg.head().hash


@pytest.mark.parametrize("statement", ["UPDATE plans SET body = :forged WHERE sha256 = :key",
                                       "DELETE FROM plans WHERE sha256 = :key"])
def test_a_changed_or_deleted_base_plan_names_the_plans_stored_against_it(reg, outsider,
                                                                          statement):
    first, second = record(reg, PLAN_A), record(reg, PLAN_C)
    forged = zlib.compress(canonical_json({**PLAN_A, "status": "refused"}).encode())
    outsider.run((statement, {"forged": forged, "key": key_of(PLAN_A)}))
    found = [str(p) for p in reg.verify().problems]
    for plan, seq, lot in ((PLAN_A, 4, first), (PLAN_C, 5, second)):
        assert any(p.startswith(f"plan {key_of(plan)[:16]}: ") and f"event #{seq} (lot.record "
                   f"{lot})" in p for p in found), found
    with pytest.raises(IntegrityError, match=f"the stored plan {key_of(PLAN_C)[:16]} cannot be "
                                             "read"):
        reg.get(second)
