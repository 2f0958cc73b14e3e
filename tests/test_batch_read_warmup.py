"""compound.batch.read_warmup: what a run of a large CSV file needs after the read is made ready on a
thread while pyarrow reads it; for a small file, nothing is begun. Each in a fresh interpreter
(what is imported is the point)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from compound.batch import read_warmup

HEADER = "form,strength,count,overage,source,tablet_weight\n"
ROW = "capsules,4.5mg,30,1,tablet,200mg\n"


def large_file(path: Path) -> Path:
    """A capsule file just over the size at which a run makes ready ahead."""
    path.write_text(HEADER + ROW * (read_warmup.WARMUP_BYTES // len(ROW) + 1), encoding="utf-8")
    return path


def in_fresh_interpreter(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def started(path: Path) -> dict:
    """``read_warmup.start(path)`` in a CSV run's guarded process: the threads it left running or
    finished, and the modules and catalog tables there once it is waited for."""
    return in_fresh_interpreter(
        "import sys, threading\n"
        "from compound.batch.arrow import keep_pandas_out\nkeep_pandas_out()\n"
        "from compound.batch import read_warmup\nbefore = set(sys.modules)\n"
        "switch = sys.getswitchinterval()\n"
        "made = []\nstart = threading.Thread.start\n"
        "def counted(self):\n    made.append(self.name)\n    start(self)\n"
        "threading.Thread.start = counted\n"
        f"ready = read_warmup.start({str(path)!r})\nmeanwhile = sys.getswitchinterval()\nready()\n"
        "new = sorted(set(sys.modules) - before)\n"
        "from compound.catalog import loader\ntables, rules = loader.snapshot()\n"
        "print(__import__('json').dumps({'threads': made, 'new': new,\n"
        "                  'switch': [switch, meanwhile, sys.getswitchinterval()],\n"
        "                  'tables': sorted(name for name, _ in tables), 'rules': sorted(rules)}))\n")


def test_a_large_file_has_its_next_modules_and_catalog_tables_ready_once_waited_for(tmp_path):
    seen = started(large_file(tmp_path / "rx.csv"))
    assert seen["threads"] == ["compound-read-warmup"]
    default = seen["switch"][0]  # the thread gives the GIL back sooner while the file is read
    assert seen["switch"] == [default, pytest.approx(read_warmup.SWITCH_SECONDS), default]
    assert default > read_warmup.SWITCH_SECONDS
    assert set(read_warmup.AFTER_READ) <= set(seen["new"])
    assert "pandas" not in seen["new"]  # pyarrow's own try at it, on the thread, refused
    assert seen["tables"] == sorted(read_warmup.TABLES)
    assert seen["rules"] == sorted(read_warmup.RULES)


def test_a_small_file_begins_nothing(tmp_path):
    small = tmp_path / "rx.csv"
    small.write_text(HEADER + ROW, encoding="utf-8")
    seen = started(small)
    assert seen["threads"] == []
    assert len(set(seen["switch"])) == 1
    assert not {m for m in seen["new"] if m.startswith(("compound", "pyarrow"))}, seen["new"]
    assert seen["tables"] == [] and seen["rules"] == []


def test_an_xlsx_or_a_missing_file_begins_nothing(tmp_path):
    big = large_file(tmp_path / "rx.xlsx")  # not a workbook: only its name is looked at
    assert started(big)["threads"] == []
    assert started(tmp_path / "missing.csv")["threads"] == []


def test_a_broken_catalog_still_stops_a_large_file_run(tmp_path):
    """What fails on the thread is left alone: the run meets the error where it reads the
    table, with the same message and exit status (5) as a small file's run."""
    overlay = tmp_path / "catalog"
    overlay.mkdir()
    (overlay / "capsule_sizes.csv").write_text("key,capacity_ml\n3,0.3\n", encoding="utf-8")
    small = tmp_path / "small.csv"
    small.write_text(HEADER + ROW, encoding="utf-8")
    runs = {}
    for given in (small, large_file(tmp_path / "large.csv")):
        done = subprocess.run(
            [sys.executable, "-m", "compound", "batch", str(given), "-o", str(tmp_path / given.stem),
             "--no-progress"],
            capture_output=True, text=True,
            env={**__import__("os").environ, "COMPOUND_CATALOG": str(overlay)})
        runs[given.stem] = (done.returncode, done.stderr)
    assert runs["large"] == runs["small"]
    assert runs["large"][0] == 5 and "capsule_sizes.csv: missing column(s) source" in runs["large"][1]
    assert not (tmp_path / "large").exists()


def test_runs_reading_at_once_put_the_switch_interval_back_when_the_last_is_done(tmp_path):
    big = large_file(tmp_path / "rx.csv")
    seen = in_fresh_interpreter(
        "import sys\nfrom compound.batch import read_warmup\nseen = [sys.getswitchinterval()]\n"
        f"a = read_warmup.start({str(big)!r})\nb = read_warmup.start({str(big)!r})\n"
        "a()\nseen.append(sys.getswitchinterval())\na()\nseen.append(sys.getswitchinterval())\n"
        "b()\nseen.append(sys.getswitchinterval())\n"
        f"c = read_warmup.start({str(big)!r})\nd = read_warmup.start({str(big)!r})\n"
        "d()\nseen.append(sys.getswitchinterval())\nc()\nseen.append(sys.getswitchinterval())\n"
        "print(__import__('json').dumps(seen))\n")
    default, fast = seen[0], pytest.approx(read_warmup.SWITCH_SECONDS)
    # a done (twice: once counts) while b reads; b done; then d done before c
    assert seen == [default, fast, fast, default, fast, default]
