"""A checked catalog is reused across starts only while none of its files has changed
(compound.catalog.checked, issue 12): any edit, new or removed file, other overlay folder or
new shipped data is read and checked again, and a broken catalog fails every time."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from compound import paths
from compound.catalog import checked, loader
from compound.errors import CatalogError
from compound.tui import forms

GOOD = "key,name,sensitivity_mg,source\nlab,Lab balance,6,measured 2025-03-01 AB\n"
BROKEN = GOOD.replace("measured 2025-03-01 AB", " " * 22)  # no source, the same size
assert len(GOOD) == len(BROKEN) and BROKEN != GOOD


@pytest.fixture
def settled(monkeypatch):
    """Files written by the test count as old enough to trust their times (10 s from now)."""
    monkeypatch.setattr(checked, "_now_ns", lambda: time.time_ns() + 10 * checked.RACY_NS)


@pytest.fixture
def reads(monkeypatch):
    """How many tables and rules files each start reads: a list, one count per start."""
    counts: list[int] = []
    read_table, read_rules = loader._read_table, loader._read_rules

    def counted(read):  # type: ignore[no-untyped-def]
        def wrapper(*args):  # type: ignore[no-untyped-def]
            counts[-1] += 1
            return read(*args)
        return wrapper

    monkeypatch.setattr(loader, "_read_table", counted(read_table))
    monkeypatch.setattr(loader, "_read_rules", counted(read_rules))
    return counts


def start(reads: list[int]) -> None:
    """What ``compound`` does first, as in a new process: nothing read yet, then the check."""
    loader.clear_cache()
    reads.append(0)
    forms.preflight()


def rewrite(path: Path, text: str) -> None:
    """Write ``text`` and give the file a modification time of its own (a second on)."""
    before = path.stat().st_mtime_ns if path.exists() else time.time_ns()
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before + 10**9, before + 10**9))


def saved() -> list[Path]:
    return sorted(paths.cache_dir().glob("catalog-*"))


def test_a_second_start_takes_the_checked_values_and_reads_no_file(overlay, settled, reads):
    rewrite(overlay / "balances.csv", GOOD)
    start(reads)
    first = (loader.table("balances"), loader.rules(), forms.CAPSULES.field("balance").options())
    start(reads)
    again = (loader.table("balances"), loader.rules(), forms.CAPSULES.field("balance").options())
    assert reads[0] >= 5 and reads[1] == 0
    assert again == first
    assert ("Lab balance", "lab") in again[2]  # the overlay's row, as read the first time
    assert len(saved()) == 1


def test_an_overlay_broken_by_an_edit_of_the_same_size_fails_again(overlay, settled, reads):
    rewrite(overlay / "balances.csv", GOOD)
    start(reads)
    rewrite(overlay / "balances.csv", BROKEN)
    with pytest.raises(CatalogError, match="row 'lab': no source"):
        start(reads)


def test_an_overlay_file_added_or_removed_is_read_again(overlay, settled, reads):
    start(reads)
    rewrite(overlay / "vehicles.csv", "key,name,source\nsyrup,Syrup,\n")
    with pytest.raises(CatalogError, match="no source"):
        start(reads)
    rewrite(overlay / "vehicles.csv", "key,name,source\nsyrup,Syrup,house recipe\n")
    rewrite(overlay / "balances.csv", GOOD)
    start(reads)
    assert reads[-1] >= 5 and ("Lab balance", "lab") in forms.CAPSULES.field("balance").options()
    (overlay / "balances.csv").unlink()
    start(reads)
    assert reads[-1] >= 5 and ("Lab balance", "lab") not in forms.CAPSULES.field("balance").options()


def test_another_overlay_folder_is_read_again(overlay, settled, reads, tmp_path, monkeypatch):
    start(reads)
    other = tmp_path / "other"
    other.mkdir()
    rewrite(other / "balances.csv", BROKEN)
    monkeypatch.setenv("COMPOUND_CATALOG", str(other))
    with pytest.raises(CatalogError, match="no source"):
        start(reads)
    monkeypatch.setenv("COMPOUND_CATALOG", f"{overlay}{os.pathsep}{other}")
    with pytest.raises(CatalogError, match="no source"):
        start(reads)


def test_new_shipped_data_is_read_again(settled, reads, tmp_path, monkeypatch):
    data = tmp_path / "data"
    shutil.copytree(paths.data_dir(), data)
    monkeypatch.setattr(paths, "data_dir", lambda: data)
    start(reads)
    sizes = data / "capsule_sizes.csv"
    rewrite(sizes, sizes.read_text(encoding="utf-8").replace(",source", ",origin", 1))
    with pytest.raises(CatalogError, match="missing column"):
        start(reads)


def test_the_code_that_checks_is_part_of_the_stamp(tmp_path):
    code = tmp_path / "forms"
    code.mkdir()
    (code / "spec.py").write_text("A = 1\n", encoding="utf-8")
    before = checked.stamp(code)
    rewrite(code / "spec.py", "A = 2\n")
    assert checked.stamp(code) != before
    assert checked.stamp(Path(forms.__file__).parent) != checked.stamp()


def test_a_broken_catalog_is_never_kept(overlay, settled, reads):
    rewrite(overlay / "balances.csv", BROKEN)
    for _ in range(2):
        with pytest.raises(CatalogError, match="no source"):
            start(reads)
    assert not saved()
    rewrite(overlay / "balances.csv", GOOD)
    start(reads)
    assert reads[-1] >= 5


def test_files_changed_just_now_are_not_trusted(overlay, reads):
    (overlay / "balances.csv").write_text(GOOD, encoding="utf-8")  # now: it could change again
    start(reads)                                                     # within its times' tick
    start(reads)
    assert reads[0] == reads[1] >= 5
    assert not saved()


def test_a_damaged_or_unwritable_cache_means_reading_the_files(overlay, settled, reads,
                                                               tmp_path, monkeypatch):
    start(reads)
    [kept] = saved()
    kept.write_bytes(kept.read_bytes()[:40])  # cut short
    start(reads)
    assert reads[-1] >= 5
    start(reads)
    assert reads[-1] == 0  # kept again, whole
    kept.write_bytes(b"not marshal data")
    start(reads)
    assert reads[-1] >= 5
    blocked = tmp_path / "a-file"
    blocked.write_text("", encoding="utf-8")
    monkeypatch.setenv("COMPOUND_CACHE", str(blocked / "cache"))  # cannot be made
    start(reads)
    start(reads)
    assert reads[-2] == reads[-1] >= 5


def test_values_marshal_cannot_keep_are_read_each_time(overlay, settled, reads):
    rewrite(overlay / "rules.toml", "[capsule]\nreviewed = 2025-01-01\n")  # a TOML date
    start(reads)
    start(reads)
    assert reads[0] == reads[1] >= 5
    assert loader.rule("capsule")["default_size"] == "3"
    assert not saved()


def test_compound_fails_with_the_catalog_error_after_a_kept_check(overlay, settled, reads):
    """A start whose check was kept reads no catalog file (nor imports csv or tomllib); the
    same start after the overlay is broken exits 5 with the catalog's message."""
    rewrite(overlay / "balances.csv", GOOD)
    start(reads)
    code = ("from compound.tui import forms; forms.preflight(); import sys; "
            "print(sorted({'csv', 'tomllib'} & set(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.strip() == "[]"
    rewrite(overlay / "balances.csv", BROKEN)
    done = subprocess.run([sys.executable, "-c", "from compound.cli import main; main([])"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 5, done.stderr
    assert done.stderr.startswith("error: ")
    assert "row 'lab': no source" in done.stderr
    assert "Traceback" not in done.stderr
