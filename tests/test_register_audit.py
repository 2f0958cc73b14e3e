"""The audit trail: hash chain by hand, append-only guards, and tamper detection.

Tampering is done the way an outsider would: a plain sqlite3 connection, the
triggers dropped first and (in the hardest case) put back afterwards, so the
detection cannot lean on the triggers.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3

import pytest

from compound.cli import main
from compound.register import Register, schema
from compound.register.audit import GENESIS, canonical_json

NTX, MCC = "NTX2403", "MCC-7781"


@pytest.fixture
def path(tmp_path):
    """A register with two ingredient lots and one released lot: events #1–#5."""
    db = tmp_path / "register.sqlite3"  # also COMPOUND_DB (conftest), for the CLI
    with Register.open(db) as reg:
        reg.receive_ingredient(item="naltrexone-hcl-50mg-tablet", lot_number=NTX,
                               expiry="2026-05", received="2025-03-01", received_by="AB",
                               tablet_weight="200mg")
        reg.receive_ingredient(item="mcc", lot_number=MCC, expiry="2027-01-31",
                               received="2025-03-01", received_by="AB")
        lot = reg.record_lot(
            kind="capsules", description="Naltrexone HCl 4.5 mg capsules", quantity=30,
            quantity_unit="capsules", plan={"kind": "capsules", "status": "ok"},
            compounded="2025-03-10", beyond_use_date="2025-09-05",
            bud_limit="rule: nonaqueous-solid (180 days)", bud_source="USP <795> (2023) Table 4",
            stability_window_days=None, storage="room", compounded_by="AB", checked_by="CD",
            components=[(NTX, 3, "tablets"), (MCC, 2.1, "g")])
        assert lot == "LDN-20250310-0001"
        reg.release(lot, by="CD")
    return db


def tamper(path, *statements, restore_triggers=True):
    """Run SQL as an outsider: drop the guards, change things, optionally put the guards back."""
    conn = sqlite3.connect(path, isolation_level=None)
    triggers = conn.execute("SELECT name, sql FROM sqlite_master WHERE type='trigger'").fetchall()
    for name, _ in triggers:
        conn.execute(f"DROP TRIGGER {name}")
    for statement in statements:
        conn.execute(statement)
    if restore_triggers:
        for _, sql in triggers:
            conn.execute(sql)
    conn.close()


def verify_cli(capsys):
    try:
        main(["audit", "verify"])
        code = 0
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def problems(path):
    with Register.open(path) as reg:
        return [str(p) for p in reg.verify().problems]


def test_the_chain_is_sha256_of_the_previous_hash_and_the_canonical_event(path):
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT seq, at_utc, actor, station, action, subject, payload, "
                        "prev_hash, hash FROM events ORDER BY seq").fetchall()
    assert [r[0] for r in rows] == [1, 2, 3, 4, 5]
    prev = GENESIS
    for seq, at, actor, station, action, subject, payload, prev_hash, digest in rows:
        body = {"seq": seq, "at_utc": at, "actor": actor, "station": station, "action": action,
                "subject": subject, "payload": json.loads(payload)}
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert prev_hash == prev
        assert digest == hashlib.sha256((prev + text).encode()).hexdigest()
        prev = digest
    assert [r[4] for r in rows] == ["register.migrate", "ingredient.receive",
                                    "ingredient.receive", "lot.record", "lot.release"]


def test_canonical_json_is_one_text_per_value():
    assert canonical_json({"b": 1, "a": [1.5, "µg"]}) == '{"a":[1.5,"µg"],"b":1}'
    with pytest.raises(ValueError, match="Out of range float"):
        canonical_json({"x": float("nan")})


def test_an_untouched_register_verifies(path, capsys):
    code, out, _ = verify_cli(capsys)
    assert code == 0
    assert "Audit trail verified: 5 events" in out


@pytest.mark.parametrize("statement", [
    "UPDATE events SET actor = 'ZZ' WHERE seq = 2",
    "DELETE FROM events WHERE seq = 5",
    "DELETE FROM lots",
    "UPDATE lots SET beyond_use_date = '2026-03-10'",
    "UPDATE components SET amount = 4",
    "DELETE FROM components",
    "UPDATE ingredient_lots SET expiry = '2030-01-01'",
    "DELETE FROM schema_version",
])
def test_the_guards_refuse_updates_and_deletes(path, statement):
    conn = sqlite3.connect(path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute(statement)
    conn.close()


def test_the_status_column_is_the_one_the_tool_may_update(path):
    conn = sqlite3.connect(path)
    conn.execute("UPDATE lots SET status = 'dispensed'")  # allowed by the guards …
    conn.commit()
    conn.close()
    # … and caught by the replay.
    assert problems(path) == [
        "lot LDN-20250310-0001: status is 'dispensed' in the register but 'released' in the "
        "audit trail (last event #5): changed without its event."]


def test_edited_payload_exits_4_and_names_the_event(path, capsys):
    tamper(path, "UPDATE events SET payload = replace(payload, '\"checked_by\":\"CD\"', "
                 "'\"checked_by\":\"XY\"') WHERE seq = 4")
    code, out, err = verify_cli(capsys)
    assert code == 4
    assert "event #4: its content does not match its hash (lot.record LDN-20250310-0001" in out
    assert "checked_by is 'CD' in the register but 'XY' in the audit trail" in out
    assert "does not verify (2 problems)" in err


def test_deleted_middle_event_exits_4(path, capsys):
    tamper(path, "DELETE FROM events WHERE seq = 3")
    code, out, _ = verify_cli(capsys)
    assert code == 4
    assert "event #4: event #3 is missing (deleted)." in out
    assert "event #4: it does not link to the event before it" in out
    assert "ingredient lot MCC-7781: its row has no event in the audit trail" in out


def test_deleted_last_event_exits_4(path, capsys):
    tamper(path, "DELETE FROM events WHERE seq = 5")
    code, out, _ = verify_cli(capsys)
    assert code == 4
    # The chain #1-#4 is intact; the release it recorded is still in the lot row.
    assert ("lot LDN-20250310-0001: status is 'released' in the register but 'quarantine' in "
            "the audit trail (last event #4): changed without its event.") in out


def test_status_updated_directly_exits_4(path, capsys):
    tamper(path, "UPDATE lots SET status = 'quarantine'")
    code, out, _ = verify_cli(capsys)
    assert code == 4
    assert "status is 'quarantine' in the register but 'released' in the audit trail" in out


def test_event_inserted_outside_the_tool_exits_4(path, capsys):
    tamper(path, "INSERT INTO events VALUES (6, '2025-03-10T10:00:00.000000Z', 'ZZ', 'x', "
                 "'lot.dispense', 'LDN-20250310-0001', "
                 "'{\"from\":\"released\",\"lot_number\":\"LDN-20250310-0001\",\"to\":"
                 "\"dispensed\"}', 'forged-prev', 'forged-hash')")
    code, out, _ = verify_cli(capsys)
    assert code == 4
    assert "event #6: it does not link to the event before it" in out
    assert "event #6: its content does not match its hash (lot.dispense" in out


def test_a_forged_event_with_a_correct_hash_is_still_caught_by_the_replay(path):
    """Whoever recomputes the hash must also change the rows to match; a lone event is seen."""
    conn = sqlite3.connect(path, isolation_level=None)
    seq, prev = conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    payload = {"lot_number": "LDN-20250310-0001", "from": "released", "to": "dispensed",
               "reason": None, "date": "2025-03-10"}
    body = {"seq": seq + 1, "at_utc": "2025-03-10T10:00:00.000000Z", "actor": "ZZ",
            "station": "x", "action": "lot.dispense", "subject": "LDN-20250310-0001",
            "payload": payload}
    digest = hashlib.sha256((prev + canonical_json(body)).encode()).hexdigest()
    conn.execute("INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?)",
                 (seq + 1, body["at_utc"], "ZZ", "x", "lot.dispense", "LDN-20250310-0001",
                  canonical_json(payload), prev, digest))
    conn.close()
    assert problems(path) == [
        "lot LDN-20250310-0001: status is 'released' in the register but 'dispensed' in the "
        "audit trail (last event #6): changed without its event."]


@pytest.mark.parametrize(("statement", "expected"), [
    ("UPDATE components SET amount = 4 WHERE position = 1",
     "component 1 of lot LDN-20250310-0001: amount is 4.0 in the register but 3.0"),
    ("UPDATE ingredient_lots SET expiry = '2030-01-01' WHERE lot_number = 'NTX2403'",
     "ingredient lot NTX2403: expiry is '2030-01-01' in the register but '2026-05-31'"),
    ("UPDATE lots SET beyond_use_date = '2026-03-10'",
     "beyond_use_date is '2026-03-10' in the register but '2025-09-05'"),
    ("DELETE FROM components WHERE position = 2",
     "component 2 of lot LDN-20250310-0001: the audit trail records it (last event #5) but its "
     "row is missing"),
    ("INSERT INTO counters VALUES ('LDN-20250311', 4)",
     "counter LDN-20250311: its row has no event"),
    ("UPDATE counters SET value = 0", "counter LDN-20250310: value is 0 in the register but 1"),
])
def test_rows_changed_without_their_event_are_named(path, statement, expected):
    tamper(path, statement)
    found = problems(path)
    assert any(expected in p for p in found), found


def test_dropped_triggers_alone_fail_verification(path, capsys):
    tamper(path, restore_triggers=False)
    code, out, _ = verify_cli(capsys)
    assert code == 4
    for name in schema.GUARD_NAMES:
        assert f"trigger {name}: the append-only guard is missing" in out


def test_verify_json_lists_the_problems(path, capsys):
    tamper(path, "DELETE FROM events WHERE seq = 5")
    with pytest.raises(SystemExit) as exc:
        main(["audit", "verify", "--json"])
    assert exc.value.code == 4
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and report["events"] == 4 and report["head_seq"] == 4
    assert report["problems"][0]["where"] == "lot LDN-20250310-0001"


def test_a_dropped_table_is_an_integrity_failure(path, capsys):
    tamper(path, "DROP TABLE components", restore_triggers=False)
    code, _, err = verify_cli(capsys)
    assert code == 4
    assert "cannot be read for verification: no such table: components" in err
