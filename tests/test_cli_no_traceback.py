"""No traceback, ever: hostile values on every command give one clear line and an exit code.

Two corpora. The commands of issue 10 run as real processes (real argv, real
stderr). Then every option of every command is fed absurd values in-process
(click's CliRunner with real argv; an exception escaping the command is what
would print a traceback). NUL bytes are left out: no shell can pass one in argv.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from compound.cli import cli
from compound.cli.failure import shorten
from compound.register import Register

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "ldn-prescriptions.csv"
HUGE = "999999999999999999999999999999mg"


@pytest.fixture
def place(tmp_path):
    """A folder with a text file posing as a register, a file posing as a folder, a CSV."""
    (tmp_path / "text.db").write_text("hello, not a database\n")
    (tmp_path / "afile").write_text("x")
    (tmp_path / "rx.csv").write_bytes(EXAMPLES.read_bytes())
    (tmp_path / "one.csv").write_text("\n".join(EXAMPLES.read_text().splitlines()[:2]) + "\n")
    for name in ("reg.sqlite3", "register.sqlite3"):  # subprocesses' and in-process COMPOUND_DB
        Register.open(tmp_path / name).close()
    return tmp_path


def compound(place, *argv, env=None):
    full = {**os.environ, "COMPOUND_DB": str(place / "reg.sqlite3"),
            "COMPOUND_CATALOG": str(place / "no-overlay"), **(env or {})}
    return subprocess.run([sys.executable, "-m", "compound", *argv], capture_output=True,
                          text=True, env=full, cwd=place, timeout=120)


def assert_one_clear_line(done, codes):
    assert done.returncode in codes, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout
    lines = done.stderr.splitlines()
    assert lines and lines[0].startswith("error: "), done.stderr
    assert len(lines) <= 2 and all(len(line) <= 240 for line in lines), done.stderr
    return lines[0]


# -- the commands from issue 10, as real processes -----------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize(("argv", "env", "codes", "says"), [
    (["bud", "--category", "nonaqueous-solid"], {"COMPOUND_TODAY": "9999-12-31"}, {2},
     "year 9999 is outside 1900–2999"),
    (["bud", "--category", "nonaqueous-solid"], {"COMPOUND_TODAY": "20250310"}, {2},
     "COMPOUND_TODAY='20250310' is not a date"),
    (["titrate", "--ladder", "1.5mg x 99999999999999999999d", "--start", "2025-06-02",
      "--form", "capsules"], None, {2}, "cannot read '99999999999999999999d'"),
    (["titrate", "--ladder", "1.5mg x 500000d", "--start", "2025-06-02", "--form", "capsules"],
     None, {2}, "longer than 401766 days"),
    (["titrate", "--ladder", "1.5mg x7d", "--start", "2025-06-02", "--form", "liquid",
      "--made-ahead", "1000000d"], None, {2}, "made_ahead: cannot read '1000000d'"),
    (["lots", "list", "--expiring", "1000000000d"], None, {2}, "expiring: cannot read"),
    (["plan", "capsules", "--strength", HUGE, "--count", "30", "--tablet-weight", "200mg",
      "--fill-weight", "100mg"], None, {2}, "more than 15 digits"),
    (["lots", "export", "-o", "missing/x.csv"], None, {2},
     "missing/x.csv: No such file or directory"),
    (["batch", "rx.csv", "-o", "afile/sub"], None, {2}, "afile"),
])
def test_the_reported_commands_exit_with_one_clear_line(place, argv, env, codes, says):
    first = assert_one_clear_line(compound(place, *argv, env=env), codes)
    assert says in first


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system")
def test_a_full_disk_is_one_line_naming_the_file(place):
    first = assert_one_clear_line(compound(place, "lots", "export", "-o", "/dev/full"), {2})
    assert first == "error: cannot write /dev/full: No space left on device."


REGISTER_COMMANDS = [
    ["lots", "list"], ["lots", "list", "--ingredients"], ["lots", "show", "X1"],
    ["lots", "trace", "X1"], ["lots", "export"], ["lots", "receive", "mcc", "M1", "--expiry",
                                                   "2099-01", "--by", "AB"],
    ["lots", "release", "X1", "--by", "AB"], ["lots", "dispense", "X1", "--by", "AB"],
    ["lots", "destroy", "X1", "--by", "AB"], ["lots", "recall", "X1", "--by", "AB", "--reason",
                                               "r"],
    ["lots", "note", "X1", "--by", "AB", "--text", "t"], ["audit", "verify"], ["audit", "log"],
    ["rx", "show", "R1"], ["record", "X1", "--format", "txt", "-o", "r.txt"],
    ["labels", "X1", "--stock", "--format", "csv", "-o", "l.csv"],
    ["plan", "capsules", "--strength", "4.5mg", "--count", "30", "--tablet-weight", "200mg",
     "--fill-weight", "100mg", "--ingredient-lot", "X1", "--compounded", "2025-03-10"],
]


@pytest.mark.slow
def test_a_text_file_as_the_register_is_one_line_for_every_command(place):
    # One process for all the commands (each in-process, the way the console script runs).
    code = ("import sys, json; from compound.cli import main\n"
            "for argv in json.loads(sys.argv[1]):\n"
            "    try:\n"
            "        main(argv)\n"
            "    except SystemExit as exc:\n"
            "        print('exit', exc.code, file=sys.stderr)\n")
    import json

    argvs = [[*argv, "--db", str(place / "text.db")] for argv in REGISTER_COMMANDS]
    done = subprocess.run([sys.executable, "-c", code, json.dumps(argvs)], capture_output=True,
                          text=True, cwd=place, timeout=300,
                          env={**os.environ, "COMPOUND_CATALOG": str(place / "none")})
    assert "Traceback" not in done.stderr
    exits = [line for line in done.stderr.splitlines() if line.startswith("exit")]
    assert exits == ["exit 6"] * len(REGISTER_COMMANDS), done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: {place / 'text.db'} is not a register: file is not a "
                      "database."] * len(REGISTER_COMMANDS)


# -- unreadable and unwritable places (we may run as root, who can read anything) ------------------

def invoke(*argv):
    result = CliRunner().invoke(cli, list(argv))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # what would have been a traceback
    return result.exit_code, result.output


def test_a_register_that_cannot_be_opened_is_one_line(place, monkeypatch):
    """As the OS reports an unreadable file (EACCES): simulated, since root reads anything."""
    real = sqlite3.connect

    def refuse(path, *args, **kwargs):
        if "locked.sqlite3" in str(path):
            raise sqlite3.OperationalError("unable to open database file")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", refuse)
    monkeypatch.setattr(sqlite3.dbapi2, "connect", refuse)
    (place / "locked.sqlite3").write_bytes(b"")
    code, out = invoke("lots", "list", "--db", str(place / "locked.sqlite3"))
    assert code == 6
    assert out.splitlines()[0] == ("error: the register database cannot be used: unable to "
                                   "open database file. Nothing was saved.")


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True,
                    reason="root reads a file whatever its mode")
def test_a_register_without_read_permission_is_one_line(place):
    db = place / "private.sqlite3"
    db.write_bytes(b"")
    db.chmod(0)
    first = assert_one_clear_line(compound(place, "lots", "list", "--db", str(db)), {6})
    assert "cannot be used: unable to open database file" in first


@pytest.mark.parametrize("err", [errno.EACCES, errno.EROFS, errno.ENOSPC])
def test_a_batch_folder_that_cannot_be_written_is_one_line(place, monkeypatch, err):
    """As the OS refuses a folder without permission (or a read-only or full disk)."""
    def refuse(self, *args, **kwargs):
        raise OSError(err, os.strerror(err), str(self))

    monkeypatch.setattr(Path, "mkdir", refuse)
    code, out = invoke("batch", str(place / "rx.csv"), "-o", str(place / "ro" / "out"))
    assert code == 2
    assert out.splitlines()[0].startswith("error: cannot create ")
    assert os.strerror(err) in out.splitlines()[0]


def test_an_export_that_cannot_be_written_names_the_file(place, monkeypatch):
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    code, out = invoke("lots", "export", "-o", str(place / "x.csv"))
    assert code == 2
    assert out.splitlines()[0] == f"error: cannot write {place / 'x.csv'}: Permission denied."


def test_an_unusable_file_anywhere_is_one_line_naming_it(place, monkeypatch):
    """The CLI's last net: an OSError no command caught is exit 2 with the path, not a
    traceback (here: the register export's file cannot even be checked)."""
    def refuse(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "/some/where.csv")

    monkeypatch.setattr("compound.cli.lots.reading", refuse)  # how lots list opens it
    code, out = invoke("lots", "list")
    assert code == 2
    assert out.splitlines() == ["error: cannot use /some/where.csv: No space left on device.",
                                "  Free some space on that disk, or write somewhere else."]


def test_a_long_value_is_cut_to_about_80_characters(place):
    code, out = invoke("bud", "--category", "x" * 5000)
    assert code == 2
    first = out.splitlines()[0]
    assert len(first) < 120 and "…" in first and first.count("x") < 80
    assert shorten("a " + "p" * 160 + " b") == "a " + "p" * 160 + " b"  # a long real path stays
    assert shorten("a " + "p" * 161) == "a " + "p" * 60 + "…" + "p" * 19
    code, out = invoke("lots", "list", "--status", "y" * 5000)  # click's own usage error
    assert code == 2 and max(len(line) for line in out.splitlines()) < 300


# -- every option of every command, fed absurd values ----------------------------------------------

ABSURD = [HUGE, "-1", "0", "1e308", "nan", "inf", "99999999999999999999d", "1000000000d",
          "9999-12-31", "0001-01-01", "2025-02-30", "x" * 3000, "", " ", "1,5mg", "ｍｇ", "１２",
          "1mg/0mL", "1.5mg x 99999999999999999999d", "3=999999999999999999999mg",
          "missing/dir/x", "afile/sub", "/dev/full", "/proc/version"]

BASES = {
    "plan capsules": ["plan", "capsules", "--strength", "4.5mg", "--count", "30",
                      "--tablet-weight", "200mg", "--fill-weight", "100mg"],
    "plan liquid": ["plan", "liquid", "--strength", "1mg/mL", "--volume", "100mL"],
    "plan drops": ["plan", "drops", "--per-drop", "0.5mg", "--calibration", "20 drops/1mL",
                   "--volume", "30mL"],
    "plan dilution": ["plan", "dilution", "--strength", "5mcg/mL", "--volume", "30mL"],
    "bud": ["bud", "--category", "nonaqueous-solid"],
    "batch": ["batch", "one.csv", "-o", "out"],
    "titrate": ["titrate", "--ladder", "1.5mg x7d, 3mg x7d", "--start", "2025-03-10",
                "--form", "all"],
    "lots receive": ["lots", "receive", "naltrexone-hcl-50mg-tablet", "NTX1", "--expiry",
                     "2099-01", "--by", "AB"],
    "lots list": ["lots", "list"],
    "lots export": ["lots", "export"],
    "lots release": ["lots", "release", "NTX1", "--by", "AB"],
    "lots note": ["lots", "note", "NTX1", "--by", "AB", "--text", "t"],
    "audit log": ["audit", "log"],
    "rx add": ["rx", "add", "R1", "--patient", "A B", "--dob", "1970-01-01", "--prescriber",
               "Dr C", "--directions", "one at night", "--form", "capsules", "--strength",
               "4.5mg", "--quantity", "30", "--by", "AB"],
    "record": ["record", "NTX1", "--format", "txt", "-o", "r.txt"],
    "labels": ["labels", "NTX1", "--stock", "--format", "csv", "-o", "l.csv"],
}


def _command(argv):
    command: click.Command = cli
    for word in argv:
        if not isinstance(command, click.Group):
            break
        found = command.get_command(click.Context(command), word)
        if found is None:
            break
        command = found
    return command


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(BASES))
def test_every_option_with_absurd_values_never_escapes(place, monkeypatch, name):
    monkeypatch.chdir(place)
    base = BASES[name]
    options = [max(p.opts, key=len) for p in _command(base).params
               if isinstance(p, click.Option) and not p.is_flag and p.name != "help"]
    assert options, name
    for option in options:
        for value in ABSURD:
            argv = [*base, option, value]
            result = CliRunner().invoke(cli, argv)
            escaped = result.exception is not None and not isinstance(result.exception,
                                                                      SystemExit)
            assert not escaped, (argv[-2:], repr(result.exception))
            assert result.exit_code != 1, (argv[-2:], result.output)
            if result.exit_code:
                lines = result.output.splitlines()
                assert lines, argv[-2:]
                assert max(len(line) for line in lines) < 400, (argv[-2:], len(result.output))
