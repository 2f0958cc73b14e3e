"""The chain head outside the database (anchor file, `audit head`, `verify --anchor`),
the audit key, and a register that may only be read."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from compound.cli import main
from compound.errors import RegisterError
from compound.register import Register, anchor
from registers import Outsider

NTX = "NTX2403"


def run(capsys, *args):
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def receive(reg, number):
    return reg.receive_ingredient(item="mcc", lot_number=number, expiry="2027-01-31",
                                  received="2025-03-01", received_by="AB")


@pytest.fixture
def path(tmp_path):
    db = tmp_path / "register.sqlite3"
    with Register.open(db) as reg:
        receive(reg, "M1")
    return db


def anchor_of(path):
    return json.loads(Path(f"{path}.anchor").read_text())


def test_each_commit_moves_the_anchor_file_beside_the_register(path):
    with Register.open(path) as reg:
        first = anchor_of(path)
        assert first["seq"] == 2 and first["hash"] == reg.head().hash  # migration, receipt
        assert first["register"] == f"sqlite:///{path}"
        receive(reg, "M2")
        assert anchor_of(path)["seq"] == 3 == reg.head().seq


def test_a_refused_write_leaves_the_anchor_as_it_was(path):
    before = anchor_of(path)
    with Register.open(path) as reg, pytest.raises(RegisterError, match="already received"):
        receive(reg, "M1")
    assert anchor_of(path) == before


def test_the_anchor_does_not_move_past_a_chain_that_lost_its_event(path):
    """The evidence stays: after the tail was cut, later writes keep the old anchor."""
    outsider = Outsider(f"sqlite:///{path}")
    outsider.run("DELETE FROM events WHERE seq = 2", "DELETE FROM ingredient_lots")
    outsider.close()
    with Register.open(path) as reg:
        receive(reg, "M3")  # event #2 again, another hash
        receive(reg, "M4")  # event #3: ahead of the anchor, but the anchor's #2 is gone
        assert anchor_of(path)["seq"] == 2
        assert [str(p) for p in reg.verify().problems][-1].endswith(
            "the events up to it were rewritten (re-chained).")


def test_audit_head_prints_the_head_for_the_log_and_verify_takes_it(path, capsys):
    code, out, _ = run(capsys, "audit", "head", "--db", str(path))
    assert code == 0
    seq_hash = out.split("  ")[0]
    assert seq_hash == f"#2 {anchor_of(path)['hash']}"
    assert out.split("  ")[1] == f"sqlite:///{path}"  # the file, not its read-only URI
    code, out, _ = run(capsys, "audit", "head", "--db", str(path), "--json")
    assert json.loads(out)["seq"] == 2
    for given in (seq_hash, out, anchor_of(path)["hash"], f"{path}.anchor"):
        code, verified, _ = run(capsys, "audit", "verify", "--db", str(path), "--anchor", given)
        assert code == 0, verified
        assert "The chain holds the anchor " in verified


def test_a_head_from_the_log_catches_a_cut_tail_even_with_the_anchor_file_reset(path, capsys):
    _, logged, _ = run(capsys, "audit", "head", "--db", str(path))
    with Register.open(path) as reg:
        receive(reg, "M2")
    outsider = Outsider(f"sqlite:///{path}")
    outsider.run("DELETE FROM events WHERE seq >= 2",
                 "DELETE FROM ingredient_lots")
    outsider.close()
    Path(f"{path}.anchor").unlink()  # the outsider removes the anchor file too …
    code, out, _ = run(capsys, "audit", "verify", "--db", str(path))
    assert code == 4
    assert "  - anchor: there is no anchor file " in out
    code, out, _ = run(capsys, "audit", "verify", "--db", str(path), "--anchor", logged)
    assert code == 4  # … but the pharmacy's log still has the head
    assert "the audit trail ends at event #1: the events after it, up to #2, were deleted" in out


@pytest.mark.parametrize("given", ["nonsense", "#3 abc", "12"])
def test_a_bad_anchor_is_bad_input(path, capsys, given):
    code, _, err = run(capsys, "audit", "verify", "--db", str(path), "--anchor", given)
    assert code == 2
    assert "is neither a file nor a chain head" in err


def test_a_postgres_anchor_lives_in_the_station_data_folder(tmp_path):
    import sqlalchemy as sa

    # No server needed: only where the file would go.
    where = anchor.default_path(sa.make_url("postgresql+psycopg://ab:secret@db.local:5433/ldn"))
    assert where == tmp_path / "anchors" / "db.local-5433-ldn.anchor"  # COMPOUND_DB's folder


# -- the audit key ------------------------------------------------------------------------------

def test_a_short_key_is_refused(path, capsys, monkeypatch):
    monkeypatch.setenv("COMPOUND_AUDIT_KEY", "short")
    code, _, err = run(capsys, "lots", "receive", "mcc", "M9", "--expiry", "2027-01",
                       "--by", "AB", "--db", str(path))
    assert code == 2
    assert "the audit key from COMPOUND_AUDIT_KEY is 5 bytes; it must be at least 32." in err


def test_new_key_writes_a_private_file_used_by_every_write(path, tmp_path, capsys, monkeypatch):
    key_file = tmp_path / "audit.key"
    assert run(capsys, "audit", "new-key", "-o", str(key_file))[0] == 0
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key_file.read_text().strip()) == 64
    assert run(capsys, "audit", "new-key", "-o", str(key_file))[0] == 2  # never overwritten
    monkeypatch.setenv("COMPOUND_AUDIT_KEY_FILE", str(key_file))
    assert run(capsys, "lots", "receive", "mcc", "M9", "--expiry", "2027-01", "--by", "AB",
               "--db", str(path))[0] == 0
    code, out, _ = run(capsys, "audit", "verify", "--db", str(path))
    assert code == 0
    assert "1 events carry a valid signature of the audit key." in out
    assert "Note: Events #1–#2 are not signed (written before the audit key was set)." in out
    monkeypatch.delenv("COMPOUND_AUDIT_KEY_FILE")
    other = tmp_path / "other.key"
    run(capsys, "audit", "new-key", "-o", str(other))
    code, out, _ = run(capsys, "audit", "verify", "--db", str(path), "--key-file", str(other))
    assert code == 4
    assert "event #3: its signature does not match the audit key" in out


# -- read only ----------------------------------------------------------------------------------

def test_a_read_only_file_opens_for_reading_and_refuses_writes(path, capsys):
    path.chmod(0o444)
    immutable = f"sqlite:///file:{path}?immutable=1&uri=true"
    for db in (str(path), immutable):
        assert run(capsys, "lots", "list", "--ingredients", "--db", db)[1].startswith("LOT")
        assert run(capsys, "lots", "show", "M1", "--db", db)[0] == 0
        code, out, _ = run(capsys, "audit", "verify", "--db", db)
        assert code == 0 and "Audit trail verified: 2 events" in out
        assert run(capsys, "lots", "export", "--ingredients", "--db", db)[1].count("\n") == 2
    with Register.open(path, read_only=True) as reg, pytest.raises(
            RegisterError, match=r"readonly database\. Nothing was saved"):
        receive(reg, "M2")


def test_a_read_only_open_creates_nothing_and_needs_the_latest_schema(tmp_path, capsys):
    missing = tmp_path / "nothing-here.sqlite3"
    code, _, err = run(capsys, "lots", "list", "--db", str(missing))
    assert code == 6 and "error: there is no register at " in err
    assert not missing.exists()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("setpriv"),
                    reason="needs root to run a command as an unprivileged user")
def test_an_auditor_who_may_only_read_the_folder_can_list_verify_and_export(path):
    """Run as `nobody`: the register, its folder and its anchor are readable, not writable."""
    folder = Path(tempfile.mkdtemp(prefix="compound-auditor-"))
    try:
        copy = folder / "register.sqlite3"
        shutil.copy(path, copy)
        shutil.copy(f"{path}.anchor", f"{copy}.anchor")
        for item in (copy, Path(f"{copy}.anchor")):
            item.chmod(0o444)
        folder.chmod(0o555)
        env = {k: v for k, v in os.environ.items() if k != "COMPOUND_DB"}
        env["HOME"] = str(folder)

        def as_nobody(*args):
            return subprocess.run(
                ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                 sys.executable, "-m", "compound", *args, "--db", str(copy)],
                capture_output=True, text=True, env=env, timeout=60)

        importable = subprocess.run(
            ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
             sys.executable, "-c", "import compound.cli"],
            capture_output=True, text=True, env=env, timeout=60)
        if importable.returncode != 0:  # e.g. a checkout under a mktemp -d folder (mode 700)
            pytest.skip("nobody cannot import this checkout: "
                        + importable.stderr.strip().splitlines()[-1][:120])
        listed = as_nobody("lots", "list", "--ingredients")
        assert listed.returncode == 0, listed.stderr
        assert "M1" in listed.stdout
        verified = as_nobody("audit", "verify")
        assert verified.returncode == 0, verified.stderr
        assert "Audit trail verified: 2 events" in verified.stdout
        exported = as_nobody("lots", "export", "--ingredients")
        assert exported.returncode == 0 and "M1" in exported.stdout
        refused = as_nobody("lots", "receive", "mcc", "M2", "--expiry", "2027-01", "--by", "AB")
        assert refused.returncode == 6 and "Traceback" not in refused.stderr
        assert "Nothing was saved" in refused.stderr
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder)
