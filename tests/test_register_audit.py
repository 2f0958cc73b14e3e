"""The audit trail: hash chain by hand, append-only guards, and tamper detection.

Tampering is done the way an outsider would (tests/registers.py): a plain
connection, the triggers dropped first and (in the hardest cases) put back
afterwards, so the detection cannot lean on the triggers. Every test runs on
SQLite and, when a server is given, on PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
import zlib

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from compound.cli import main
from compound.register import Register, audit, schema
from compound.register.audit import GENESIS, canonical_json
from registers import Outsider
from test_register_api import lot_args

NTX, MCC = "NTX2403", "MCC-7781"
LOT = "LDN-20250310-0001"
KEY = "k" * 40


@pytest.fixture
def url(register_url):
    """A register with two ingredient lots and one released lot: events #1–#5."""
    with Register.open(register_url) as reg:
        reg.receive_ingredient(item="naltrexone-hcl-50mg-tablet", lot_number=NTX,
                               expiry="2026-05", received="2025-03-01", received_by="AB",
                               tablet_weight="200mg")
        reg.receive_ingredient(item="mcc", lot_number=MCC, expiry="2027-01-31",
                               received="2025-03-01", received_by="AB")
        lot = record(reg)
        assert lot == LOT
        reg.release(lot, by="CD")
    return register_url


@pytest.fixture
def outsider(url):
    who = Outsider(url)
    yield who
    who.close()


def record(reg, description="Naltrexone HCl 4.5 mg capsules"):
    return reg.record_lot(
        kind="capsules", description=description, quantity=30,
        quantity_unit="capsules", plan={"kind": "capsules", "status": "ok"},
        compounded="2025-03-10", beyond_use_date="2025-09-05",
        bud_limit="rule: nonaqueous-solid (180 days)", bud_source="USP <795> (2023) Table 4",
        stability_window_days=None, storage="room", compounded_by="AB", checked_by="CD",
        components=[(NTX, 3, "tablets"), (MCC, 2.1, "g")])


def verify_cli(capsys, url, *args):
    try:
        main(["audit", "verify", "--db", url, *args])
        code = 0
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def problems(url, **kwargs):
    with Register.open(url, **kwargs) as reg:
        return [str(p) for p in reg.verify().problems]


def body_of(row, payload=None):
    return {"seq": row.seq, "at_utc": row.at_utc, "actor": row.actor, "station": row.station,
            "action": row.action, "subject": row.subject,
            "payload": json.loads(row.payload) if payload is None else payload}


def hashed_body(outsider, row, payload=None):
    """What an event's hash is of: since schema version 7 a lot.record event stores its plan
    once in ``plans`` (zlib of the canonical JSON, maybe against a base plan) and names it by
    digest; it is hashed inline."""
    payload = json.loads(row.payload) if payload is None else payload
    if row.plan_sha256 is not None:
        stored = outsider.plan_texts()[row.plan_sha256]
        payload = {**payload, "lot": {**payload["lot"], "plan": json.loads(stored)}}
    return body_of(row, payload)


def sha(prev, body):
    return hashlib.sha256((prev + canonical_json(body)).encode()).hexdigest()


def test_the_chain_is_sha256_of_the_previous_hash_and_the_canonical_event(outsider):
    rows = outsider.rows("SELECT * FROM events ORDER BY seq")
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
    prev = GENESIS
    for row in rows:
        text = json.dumps(hashed_body(outsider, row), sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False)
        assert row.prev_hash == prev
        assert row.hash == hashlib.sha256((prev + text).encode()).hexdigest()
        assert row.mac is None  # no audit key set
        prev = row.hash
    assert [r.action for r in rows] == ["register.migrate", "ingredient.receive",
                                        "ingredient.receive", "lot.record", "lot.release"]


def test_canonical_json_is_one_text_per_value():
    assert canonical_json({"b": 1, "a": [1.5, "µg"]}) == '{"a":[1.5,"µg"],"b":1}'
    with pytest.raises(ValueError, match="Out of range float"):
        canonical_json({"x": float("nan")})


_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)
_JSON = st.recursive(st.none() | st.booleans() | st.integers() | _TEXT
                     | st.floats(allow_nan=False, allow_infinity=False),
                     lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(_TEXT, inner, max_size=3), max_leaves=8)


@settings(max_examples=300)
@given(payload=st.dictionaries(_TEXT, _JSON, max_size=4), lot=st.dictionaries(_TEXT, _JSON, max_size=4),
       plan=st.dictionaries(_TEXT, _JSON, max_size=4), has_lot=st.booleans())
def test_an_event_with_its_plan_put_back_is_the_text_of_the_event_with_the_plan_inline(
        payload, lot, plan, has_lot):
    """event_text's fast way (one encoding with a stand-in) gives the very text the chain
    hashed when events held their plan inline, and the piece-by-piece way agrees."""
    plan_text = canonical_json(plan)
    if has_lot:
        body = {"seq": 1, "payload": {**payload, "lot": {**lot, "plan": "ab" * 32}}}
        inline = {"seq": 1, "payload": {**payload, "lot": {**lot, "plan": plan}}}
    else:  # an event with no plan in it: its own text
        body = inline = {"seq": 1, "payload": {k: v for k, v in payload.items() if k != "lot"}}
    assert audit.event_text(body, plan_text) == canonical_json(inline)
    assert audit._inlined(body, plan_text) == canonical_json(inline)


def test_a_payload_holding_the_stand_in_text_is_still_hashed_exactly():
    body = {"payload": {"lot": {"plan": "x"}, "note": audit._SLOT}}
    assert audit.event_text(body, '{"a":1}') == canonical_json(
        {"payload": {"lot": {"plan": {"a": 1}}, "note": audit._SLOT}})


def test_an_untouched_register_verifies_and_says_what_it_could_not_check(url, capsys):
    code, out, _ = verify_cli(capsys, url)
    assert code == 0
    assert "Audit trail verified: 5 events" in out
    assert "The chain holds the anchor #5 " in out
    assert "Note: No audit key was given, so signatures were not checked" in out


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
def test_the_guards_refuse_updates_and_deletes(outsider, statement):
    with outsider.engine.begin() as conn, pytest.raises(sa.exc.DBAPIError, match="append-only"):
        conn.exec_driver_sql(statement)


def test_the_status_column_is_the_one_the_tool_may_update(url, outsider):
    with outsider.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE lots SET status = 'dispensed'")  # allowed by the guards …
    # … and caught by the replay.
    assert problems(url) == [
        f"lot {LOT}: status is 'dispensed' in the register but 'released' in the "
        "audit trail (last event #5): changed without its event."]


def test_edited_payload_exits_4_and_names_the_event(url, outsider, capsys):
    outsider.run("UPDATE events SET payload = replace(payload, '\"checked_by\":\"CD\"', "
                 "'\"checked_by\":\"XY\"') WHERE seq = 4")
    code, out, err = verify_cli(capsys, url)
    assert code == 4
    assert f"event #4: its content does not match its hash (lot.record {LOT}" in out
    assert "checked_by is 'CD' in the register but 'XY' in the audit trail" in out
    assert "does not verify (2 problems)" in err


def test_deleted_middle_event_exits_4(url, outsider, capsys):
    outsider.run("DELETE FROM events WHERE seq = 3")
    code, out, _ = verify_cli(capsys, url)
    assert code == 4
    assert "event #4: event #3 is missing (deleted)." in out
    assert "event #4: it does not link to the event before it" in out
    assert "ingredient lot MCC-7781: its row has no event in the audit trail" in out


def test_deleted_last_event_exits_4(url, outsider, capsys):
    outsider.run("DELETE FROM events WHERE seq = 5")
    code, out, _ = verify_cli(capsys, url)
    assert code == 4
    # The chain #1-#4 is intact; the release it recorded is still in the lot row.
    assert (f"lot {LOT}: status is 'released' in the register but 'quarantine' in "
            "the audit trail (last event #4): changed without its event.") in out


def test_status_updated_directly_exits_4(url, outsider, capsys):
    outsider.run("UPDATE lots SET status = 'quarantine'")
    code, out, _ = verify_cli(capsys, url)
    assert code == 4
    assert "status is 'quarantine' in the register but 'released' in the audit trail" in out


def test_event_inserted_outside_the_tool_exits_4(url, outsider, capsys):
    outsider.run("INSERT INTO events (seq, at_utc, actor, station, action, subject, payload, "
                 "prev_hash, hash) VALUES (6, '2025-03-10T10:00:00.000000Z', 'ZZ', 'x', "
                 f"'lot.dispense', '{LOT}', "
                 f"'{{\"from\":\"released\",\"lot_number\":\"{LOT}\",\"to\":"
                 "\"dispensed\"}', 'forged-prev', 'forged-hash')")
    code, out, _ = verify_cli(capsys, url)
    assert code == 4
    assert "event #6: it does not link to the event before it" in out
    assert "event #6: its content does not match its hash (lot.dispense" in out


def forge_dispense(outsider, *, mac=None, with_row=True):
    """Append a correctly hashed lot.dispense event (and move the lot to match)."""
    last = outsider.rows("SELECT * FROM events ORDER BY seq DESC LIMIT 1")[0]
    payload = {"lot_number": LOT, "from": "released", "to": "dispensed", "reason": None,
               "date": "2025-03-10"}
    body = {"seq": last.seq + 1, "at_utc": "2025-03-10T10:00:00.000000Z", "actor": "ZZ",
            "station": "x", "action": "lot.dispense", "subject": LOT, "payload": payload}
    statements = [("INSERT INTO events (seq, at_utc, actor, station, action, subject, payload, "
                   "prev_hash, hash, mac) VALUES (:seq, :at, 'ZZ', 'x', 'lot.dispense', :lot, "
                   ":payload, :prev, :hash, :mac)",
                   {"seq": last.seq + 1, "at": body["at_utc"], "lot": LOT,
                    "payload": canonical_json(payload), "prev": last.hash,
                    "hash": sha(last.hash, body), "mac": mac})]
    if with_row:
        statements.append("UPDATE lots SET status = 'dispensed'")
    outsider.run(*statements)


def test_a_lone_forged_event_with_a_correct_hash_is_caught_by_the_replay(url, outsider):
    """Whoever recomputes the hash must also change the rows to match; a lone event is seen."""
    forge_dispense(outsider, with_row=False)
    assert problems(url) == [
        f"lot {LOT}: status is 'released' in the register but 'dispensed' in the "
        "audit trail (last event #6): changed without its event."]


def test_without_a_key_a_forged_event_and_its_row_cannot_be_told_and_verify_says_so(
        url, outsider, capsys):
    forge_dispense(outsider)
    code, out, _ = verify_cli(capsys, url)
    assert code == 0  # nothing in the database can tell: that is what the key is for
    assert ("Note: No audit key was given, so signatures were not checked: anyone able to write "
            "to the database could append an event with a correct hash.") in out


@pytest.mark.parametrize(("mac", "expected"), [
    (None, "event #6: it is not signed, though events before it are (written outside the tool "
           "by someone without the audit key)."),
    ("0" * 64, "event #6: its signature does not match the audit key (forged by someone without "
               "the key, or signed with another key)."),
])
def test_with_a_key_a_forged_event_with_a_correct_hash_exits_4(
        register_url, capsys, monkeypatch, mac, expected):
    monkeypatch.setenv("COMPOUND_AUDIT_KEY", KEY)
    with Register.open(register_url) as reg:
        reg.receive_ingredient(item="mcc", lot_number=MCC, expiry="2027-01-31",
                               received="2025-03-01", received_by="AB")
        reg.receive_ingredient(item="naltrexone-hcl-50mg-tablet", lot_number=NTX,
                               expiry="2026-05", received="2025-03-01", received_by="AB")
        reg.release(record(reg), by="CD")
    outsider = Outsider(register_url)
    macs = [r.mac for r in outsider.rows("SELECT mac FROM events ORDER BY seq")]
    assert len(macs) == 5 and all(len(m) == 64 for m in macs)
    code, out, _ = verify_cli(capsys, register_url)
    assert code == 0 and "5 events carry a valid signature of the audit key." in out
    assert "Note:" not in out
    forge_dispense(outsider, mac=mac)
    outsider.close()
    code, out, err = verify_cli(capsys, register_url)
    assert code == 4, out
    assert f"  - {expected}\n" in out
    assert "does not verify (1 problem)" in err


def rechain(outsider, seq, edit_payload, edit_rows=()):
    """Edit event ``seq``'s payload, re-compute every hash from there on, and fix the rows."""
    rows = outsider.rows("SELECT * FROM events ORDER BY seq")
    prev = GENESIS
    updates = []
    for row in rows:
        payload = json.loads(row.payload)
        if row.seq == seq:
            payload = edit_payload(payload)
        if row.seq >= seq:
            digest = sha(prev, hashed_body(outsider, row, payload))
            updates.append(("UPDATE events SET payload = :payload, prev_hash = :prev, "
                            "hash = :hash WHERE seq = :seq",
                            {"payload": canonical_json(payload), "prev": prev, "hash": digest,
                             "seq": row.seq}))
            prev = digest
        else:
            prev = row.hash
    # Two passes, so that no hash is ever held twice on the way (the column is unique).
    outsider.run(*[(sql.replace(":hash", "'x' || :hash"), params) for sql, params in updates],
                 *updates, *edit_rows)


def rechained_expiry(outsider):
    def later(payload):
        payload["ingredient_lot"]["expiry"] = "2030-01-31"
        return payload

    rechain(outsider, 3, later,
            ["UPDATE ingredient_lots SET expiry = '2030-01-31' WHERE lot_number = 'MCC-7781'"])


def test_rechained_edited_events_exit_4_by_the_anchor(url, outsider, capsys):
    rechained_expiry(outsider)
    code, out, _ = verify_cli(capsys, url)
    assert code == 4
    # The chain is whole again and the rows match it: only the anchor, kept outside the
    # database, sees the rewrite.
    lines = [line for line in out.splitlines() if line.startswith("  - ")]
    assert len(lines) == 1 and lines[0].startswith("  - anchor #5 ")
    assert lines[0].endswith("the events up to it were rewritten (re-chained).")


def test_rechained_events_also_fail_their_signatures(register_url, capsys, monkeypatch):
    monkeypatch.setenv("COMPOUND_AUDIT_KEY", KEY)
    with Register.open(register_url) as reg:
        reg.receive_ingredient(item="mcc", lot_number=MCC, expiry="2027-01-31",
                               received="2025-03-01", received_by="AB")
        reg.receive_ingredient(item="naltrexone-hcl-50mg-tablet", lot_number=NTX,
                               expiry="2026-05", received="2025-03-01", received_by="AB")
    outsider = Outsider(register_url)

    def later(payload):
        payload["ingredient_lot"]["expiry"] = "2030-01-31"
        return payload

    rechain(outsider, 2, later,
            ["UPDATE ingredient_lots SET expiry = '2030-01-31' WHERE lot_number = 'MCC-7781'"])
    outsider.close()
    code, out, _ = verify_cli(capsys, register_url)
    assert code == 4
    for seq in (2, 3):
        assert f"event #{seq}: its signature does not match the audit key" in out


def test_deleted_last_note_exits_4_by_the_anchor(url, outsider, capsys):
    with Register.open(url) as reg:
        reg.note(LOT, by="AB", text="label reprinted")
    outsider.run("DELETE FROM events WHERE seq = 6")
    code, out, _ = verify_cli(capsys, url)
    assert code == 4
    assert "  - anchor #6 " in out
    assert ("the audit trail ends at event #5: the events after it, up to #6, were deleted (the "
            "tail was cut).") in out


def test_deleted_last_events_with_their_rows_exit_4_by_the_anchor(url, outsider, capsys):
    with Register.open(url) as reg:
        second = record(reg, "a second lot")
        reg.release(second, by="CD")
        reg.note(second, by="AB", text="checked twice")
    lot_id = outsider.scalar("SELECT id FROM lots WHERE lot_number = :n", n=second)
    outsider.run("DELETE FROM events WHERE seq >= 6", f"DELETE FROM components WHERE lot_id = {lot_id}",
                 f"DELETE FROM lots WHERE id = {lot_id}",
                 "UPDATE counters SET value = 1 WHERE name = 'LDN-20250310'")
    assert problems(url)[0].startswith("anchor #8 ")  # the rows and the events agree …
    code, out, _ = verify_cli(capsys, url)
    assert code == 4
    assert "up to #8, were deleted (the tail was cut)." in out


def test_a_guard_replaced_by_a_no_op_of_the_same_name_exits_4(url, outsider, capsys):
    if outsider.dialect == "sqlite":
        no_op = "CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN SELECT 1; END"
    else:
        no_op = ("CREATE TRIGGER events_no_delete BEFORE DELETE ON events FOR EACH ROW "
                 "EXECUTE FUNCTION suppress_redundant_updates_trigger()")
    with outsider.engine.begin() as conn:
        outsider.drop_trigger(conn, "events_no_delete", "events")
        conn.exec_driver_sql(no_op)
    code, out, _ = verify_cli(capsys, url)
    assert code == 4
    assert "  - trigger events_no_delete: the append-only guard was replaced outside the tool" in out
    assert out.count("  - ") == 1


def test_a_guard_function_emptied_on_postgres_exits_4(url, outsider, capsys):
    if outsider.dialect != "postgresql":
        pytest.skip("PostgreSQL guards run a function; SQLite's carry their body")
    with outsider.engine.begin() as conn:
        conn.exec_driver_sql("CREATE OR REPLACE FUNCTION compound_append_only() RETURNS trigger "
                             "AS $$ BEGIN RETURN OLD; END $$ LANGUAGE plpgsql")
        conn.exec_driver_sql("ALTER TABLE lots DISABLE TRIGGER lots_no_delete")
    code, out, _ = verify_cli(capsys, url)
    assert code == 4
    assert out.count("the append-only guard was replaced outside the tool") == len(schema.GUARDS)
    assert ("trigger lots_no_delete: the append-only guard was replaced outside the tool: it runs "
            "compound_append_only(): 'BEGIN RETURN OLD; END'; it is disabled.") in out


def test_an_extra_trigger_is_named(url, outsider, capsys):
    if outsider.dialect == "sqlite":
        extra = ("CREATE TRIGGER lots_quietly AFTER INSERT ON lots BEGIN "
                 "UPDATE lots SET status = 'released' WHERE id = NEW.id; END")
    else:
        extra = ("CREATE TRIGGER lots_quietly AFTER INSERT ON lots FOR EACH ROW "
                 "EXECUTE FUNCTION compound_append_only()")
    outsider.run(extra)
    code, out, _ = verify_cli(capsys, url)
    assert code == 4
    assert "trigger lots_quietly: a trigger the tool never creates (added outside the tool)." in out


@pytest.mark.parametrize(("statement", "expected"), [
    ("UPDATE components SET amount = 4 WHERE position = 1",
     f"component 1 of lot {LOT}: amount is 4.0 in the register but 3.0"),
    ("UPDATE ingredient_lots SET expiry = '2030-01-01' WHERE lot_number = 'NTX2403'",
     "ingredient lot NTX2403: expiry is '2030-01-01' in the register but '2026-05-31'"),
    ("UPDATE lots SET beyond_use_date = '2026-03-10'",
     "beyond_use_date is '2026-03-10' in the register but '2025-09-05'"),
    ("DELETE FROM components WHERE position = 2",
     f"component 2 of lot {LOT}: the audit trail records it (last event #5) but its "
     "row is missing"),
    ("INSERT INTO counters VALUES ('LDN-20250311', 4)",
     "counter LDN-20250311: its row has no event"),
    ("UPDATE counters SET value = 0", "counter LDN-20250310: value is 0 in the register but 1"),
])
def test_rows_changed_without_their_event_are_named(url, outsider, statement, expected):
    outsider.run(statement)
    found = problems(url)
    assert any(expected in p for p in found), found


def test_dropped_triggers_alone_fail_verification(url, outsider, capsys):
    outsider.run(restore_triggers=False)
    code, out, _ = verify_cli(capsys, url)
    assert code == 4
    for name in schema.GUARD_NAMES:
        assert f"trigger {name}: the append-only guard is missing" in out


def test_verify_json_lists_the_problems(url, outsider, capsys):
    outsider.run("DELETE FROM events WHERE seq = 5")
    with pytest.raises(SystemExit) as exc:
        main(["audit", "verify", "--json", "--db", url])
    assert exc.value.code == 4
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and report["events"] == 4 and report["head_seq"] == 4
    assert report["problems"][0]["where"] == f"lot {LOT}"
    assert report["problems"][-1]["where"].startswith("anchor #5 ")
    assert report["notes"][0].startswith("No audit key was given")


def test_a_dropped_table_is_an_integrity_failure(url, outsider, capsys):
    outsider.run("DROP TABLE components", restore_triggers=False)
    code, _, err = verify_cli(capsys, url)
    assert code == 4
    assert "cannot be read for verification: " in err and "components" in err


def test_verify_streams_events_in_batches(url, monkeypatch):
    """A batch of 2 gives the same report as one query: paging loses and repeats nothing."""
    from compound.register import audit

    with Register.open(url) as reg:
        whole = reg.verify().to_dict()
        monkeypatch.setattr(audit, "BATCH", 2)
        assert reg.verify().to_dict() == whole
    assert whole["events"] == 5


def test_a_plan_changed_in_its_row_is_named_by_its_digest(url, outsider):
    """The lot row names its plan by the SHA-256 of its canonical JSON (stored once in plans);
    another plan's digest in the row is a changed plan."""
    other = canonical_json({"kind": "capsules", "status": "refused"})
    key = hashlib.sha256(other.encode()).hexdigest()
    outsider.run(("INSERT INTO plans (sha256, body) VALUES (:key, :body)",
                  {"key": key, "body": zlib.compress(other.encode())}),
                 ("UPDATE lots SET plan_sha256 = :key", {"key": key}))
    found = problems(url)
    assert found[0].startswith(f"lot {LOT}: plan is <plan sha256 {key[:12]}…> in the register "
                               "but <plan sha256 "), found
    assert "changed without its event" in found[0]
    assert found[1:] == [f"plan {key[:16]}: it is stored, but no event records a lot made with "
                         "it (written outside the tool)."]


def test_verify_reads_events_and_lots_in_bounded_batches(url, monkeypatch):
    """Issue 13: verify holds a batch of events and a batch of lot rows at a time, whatever the
    register's size (rows counted per query, not timed)."""
    from compound.register import audit, replay

    with Register.open(url) as reg:
        for n in range(6):
            record(reg, description=f"Naltrexone HCl capsules, batch {n}")
        monkeypatch.setattr(audit, "BATCH", 4)
        monkeypatch.setattr(replay, "LOT_BATCH", 3)
        per_query: dict[str, list[int]] = {"events": [], "lots": []}

        def before(conn, cursor, statement, *rest):
            # A new entry for each paged read of a table; its rows are counted as they are used.
            for table in per_query:
                if f"FROM {table}" in statement and "LIMIT" in statement:
                    per_query[table].append(0)

        sa.event.listen(reg.engine, "before_cursor_execute", before)
        real_walk, real_rows = audit._walk_chain, replay._lot_rows
        counted = {"events": 0, "lots": 0}

        def events_counted(rows, *args, **kwargs):
            for row in rows:
                per_query["events"][-1] += 1
                counted["events"] += 1
                yield row

        def lots_counted(conn):
            for item in real_rows(conn):
                per_query["lots"][-1] += 1
                counted["lots"] += 1
                yield item

        monkeypatch.setattr(audit, "_walk_chain",
                            lambda rows, *a, **k: real_walk(events_counted(rows), *a, **k))
        monkeypatch.setattr(replay, "_lot_rows", lots_counted)
        report = reg.verify()
    assert report.ok, report.problems
    assert counted == {"events": 11, "lots": 7}  # 5 events + 6 records; 1 + 6 lots
    assert per_query["events"] == [4, 4, 3] and per_query["lots"] == [3, 3, 1], per_query


def test_a_lot_deleted_with_its_components_names_each_missing_row(url, outsider):
    """The replay keeps one digest of a lot's components; what is missing is still named row by
    row, from the lot.record event read again."""
    lot_id = outsider.scalar("SELECT id FROM lots WHERE lot_number = :n", n=LOT)
    outsider.run(f"DELETE FROM components WHERE lot_id = {lot_id}",
                 f"DELETE FROM lots WHERE id = {lot_id}")
    assert problems(url) == [
        f"lot {LOT}: the audit trail records it (last event #5) but its row is missing "
        "(deleted outside the tool).",
        f"component 1 of lot {LOT}: the audit trail records it (last event #5) but its row is "
        "missing (deleted outside the tool).",
        f"component 2 of lot {LOT}: the audit trail records it (last event #5) but its row is "
        "missing (deleted outside the tool)."]


def test_a_lot_and_component_written_outside_the_tool_are_named(url, outsider):
    row = outsider.rows("SELECT * FROM lots WHERE lot_number = :n", n=LOT)[0]._mapping
    columns = [c for c in row if c != "id"]
    outsider.run((f"INSERT INTO lots ({', '.join(columns)}) SELECT "
                  f"{', '.join('lot_number || :x' if c == 'lot_number' else c for c in columns)}"
                  " FROM lots WHERE lot_number = :n", {"x": "B", "n": LOT}),
                 ("INSERT INTO components (lot_id, position, ingredient_lot_id, amount, unit) "
                  "SELECT id, 1, (SELECT id FROM ingredient_lots WHERE lot_number = :i), 5, 'mg' "
                  "FROM lots WHERE lot_number = :n", {"i": MCC, "n": LOT + "B"}))
    assert problems(url) == [
        f"lot {LOT}B: its row has no event in the audit trail (written outside the tool, or "
        "its event was deleted).",
        f"component 1 of lot {LOT}B: its row has no event in the audit trail (written outside "
        "the tool, or its event was deleted)."]


def test_components_changed_on_one_lot_of_many_are_named_with_their_lot(url, outsider):
    with Register.open(url) as reg:
        second = reg.record_lots([lot_args(description=f"Naltrexone HCl capsules {n}",
                                           plan={"n": n}, stability_window_days=None)
                                  for n in range(4)])[2]
    lot_id = outsider.scalar("SELECT id FROM lots WHERE lot_number = :n", n=second)
    outsider.run(f"UPDATE components SET amount = 2 WHERE lot_id = {lot_id} AND position = 2",
                 f"DELETE FROM components WHERE lot_id = {lot_id} AND position = 1")
    assert problems(url) == [
        f"component 1 of lot {second}: the audit trail records it (last event #8) but its row "
        "is missing (deleted outside the tool).",
        f"component 2 of lot {second}: amount is 2.0 in the register but 2100.0 in the audit "
        "trail (last event #8): changed without its event."]
