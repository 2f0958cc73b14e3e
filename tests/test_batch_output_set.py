"""A run's output folder is the old complete set or the new one, never a mix (issue 10, section 4)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from compound.batch import write_set
from compound.batch.run import RUN_FILES, SUMMARY, Options, run_batch
from compound.errors import InputError

OLD = "form,strength,count,tablet_weight,rx\n" + "".join(
    f"capsules,4.5mg,30,200mg,OLD{i}\n" for i in range(1, 4))
NEW = "form,strength,count,tablet_weight,rx\ncapsules,3mg,60,200mg,NEW1\ncapsules,3mg,60,200mg,NEW2\n"


def first_run(tmp_path: Path) -> tuple[Path, Path]:
    """An earlier complete run (3 rows, with worksheets/) in tmp_path/out, and the new file."""
    old, new = tmp_path / "old.csv", tmp_path / "new.csv"
    old.write_text(OLD, encoding="utf-8")
    new.write_text(NEW, encoding="utf-8")
    out = tmp_path / "out"
    run_batch(old, out, options=Options(worksheets=True, progress=False))
    assert write_set.verify(out, SUMMARY) == []
    return new, out


def which_set(out: Path) -> str:
    """'old' or 'new' when the folder holds one whole set (its manifest checks), else fails."""
    assert write_set.verify(out, SUMMARY) == []
    summary = json.loads((out / SUMMARY).read_text(encoding="utf-8"))
    worksheets = sorted(p.name for p in (out / "worksheets").iterdir())
    if summary["rows"] == 3:
        assert worksheets == ["0001-OLD1.txt", "0002-OLD2.txt", "0003-OLD3.txt"]
        assert summary["manifest"]["rows"] == 3
        return "old"
    assert summary["rows"] == 2 and worksheets == ["0001-NEW1.txt", "0002-NEW2.txt"]
    return "new"


def test_the_manifest_lists_every_file_with_its_hash_and_catches_a_change(tmp_path):
    _, out = first_run(tmp_path)
    summary = json.loads((out / SUMMARY).read_text(encoding="utf-8"))
    files = summary["manifest"]["files"]
    assert sorted(files) == ["errors.csv", "worksheet.csv", "worksheets/"]
    assert files["worksheets/"]["files"] == 3
    assert files["worksheet.csv"]["bytes"] == (out / "worksheet.csv").stat().st_size
    assert files["worksheet.csv"]["sha256"] == write_set.file_sha256(out / "worksheet.csv")
    with (out / "worksheets" / "0002-OLD2.txt").open("a", encoding="utf-8") as fh:
        fh.write("tampered\n")
    (out / "errors.csv").unlink()
    assert write_set.verify(out, SUMMARY) == ["errors.csv: missing", "worksheets/: differs from the manifest"]


# Where a run can die: while writing worksheet.csv, while writing worksheets/, after every data file
# but before summary.json, just before the folders are swapped, and after the swap but before the
# old set is removed.
POINTS = {
    "worksheet": "compound.batch.write_worksheet:LineSink.write",
    "texts": "compound.batch.write_texts:write_rows",
    "manifest": "compound.batch.write_set:describe",
    "swap": "compound.batch.write_set:_exchange",
    "old-removed": "shutil:rmtree",  # (write_set imports shutil where it removes a folder)
}
EXPECTED = {"worksheet": "old", "texts": "old", "manifest": "old", "swap": "old", "old-removed": "new"}

CHILD = r"""
import importlib, os, signal, sys
from compound.batch.run import Options, run_batch
module, attr = sys.argv[3].split(":")
owner = importlib.import_module(module)
*path, name = attr.split(".")
for part in path:
    owner = getattr(owner, part)
real = getattr(owner, name)
def die(*args, **kwargs):
    if sys.argv[4] == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    raise RuntimeError("injected failure")
setattr(owner, name, die)
run_batch(sys.argv[1], sys.argv[2], options=Options(worksheets=True, overwrite=True, progress=False))
"""


@pytest.mark.parametrize("how", ["kill", "raise"])
@pytest.mark.parametrize("point", list(POINTS))
def test_a_run_killed_or_failing_at_any_step_leaves_the_old_set_or_the_new_one(tmp_path, point, how):
    new, out = first_run(tmp_path)
    done = subprocess.run([sys.executable, "-c", CHILD, str(new), str(out), POINTS[point], how],
                          capture_output=True, text=True, check=False,
                          env={**os.environ, "COMPOUND_CATALOG": os.pathsep})
    assert done.returncode == (-9 if how == "kill" else 1), done.stderr
    assert which_set(out) == EXPECTED[point]
    if how == "raise" and point != "old-removed":
        assert not [p for p in tmp_path.iterdir() if ".compound-new-" in p.name]  # cleaned on the way out
    # The next run removes whatever a killed run left beside the folder, and writes the new set.
    run_batch(new, out, options=Options(worksheets=True, overwrite=True, progress=False))
    assert which_set(out) == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.compound-lock", "new.csv", "old.csv", "out"]


def test_a_second_run_into_the_same_folder_is_refused_while_the_first_holds_it(tmp_path):
    new, out = first_run(tmp_path)
    with write_set.RunFolder(out, run_files=RUN_FILES, overwrite=True), \
            pytest.raises(InputError, match=r"another compound batch is writing to .*out right now"):
        run_batch(new, out, options=Options(overwrite=True, progress=False))
    assert which_set(out) == "old"
    run_batch(new, out, options=Options(worksheets=True, overwrite=True, progress=False))  # lock released
    assert which_set(out) == "new"


def test_an_earlier_run_needs_overwrite_and_other_files_are_never_replaced(tmp_path):
    new, out = first_run(tmp_path)
    with pytest.raises(InputError, match=r"holds an earlier run \(errors.csv, summary.json, "
                                         r"worksheet.csv, worksheets\)") as exc:
        run_batch(new, out)
    assert "--overwrite" in (exc.value.hint or "")
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(InputError, match=r"holds files that are not from a batch run \(notes.txt\)"):
        run_batch(new, out, options=Options(overwrite=True))
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert write_set.verify(out, SUMMARY) == ["notes.txt: not in the manifest"]


@pytest.mark.parametrize("inside", ["rx.csv", "worksheet.csv"])
def test_the_prescription_file_can_never_be_overwritten(tmp_path, inside):
    out = tmp_path / "out"
    out.mkdir()
    path = out / inside
    path.write_text(NEW, encoding="utf-8")
    with pytest.raises(InputError, match="is inside the output folder"):
        run_batch(path, out, options=Options(overwrite=True))
    with pytest.raises(InputError, match="is inside the output folder"):
        run_batch(path, tmp_path, options=Options(overwrite=True))
    assert path.read_text(encoding="utf-8") == NEW


def test_planted_symlinks_are_never_written_through(tmp_path, monkeypatch):
    new = tmp_path / "new.csv"
    new.write_text(NEW, encoding="utf-8")
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("keep", encoding="utf-8")
    # The staging folder's first name is taken by a symlink to the victim: the run takes another name.
    names = iter(["planted", "fresh"])
    monkeypatch.setattr(write_set, "_token", lambda: next(names))
    (tmp_path / ".out.compound-new-planted").symlink_to(victim, target_is_directory=True)
    run_batch(new, tmp_path / "out", options=Options(progress=False))
    assert sorted(p.name for p in victim.iterdir()) == ["keep.txt"]
    assert write_set.verify(tmp_path / "out", SUMMARY) == []
    # A symlink planted as the lock file is refused, not followed.
    target = tmp_path / "target.txt"
    target.write_text("untouched", encoding="utf-8")
    (tmp_path / ".out2.compound-lock").symlink_to(target)
    with pytest.raises(InputError, match="cannot create the lock file"):
        run_batch(new, tmp_path / "out2")
    assert target.read_text(encoding="utf-8") == "untouched"


def test_an_output_path_under_a_file_is_one_clear_error(tmp_path):
    new, _ = first_run(tmp_path)
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match=r"cannot create .*afile/sub: .*afile is a file, not a folder\."):
        run_batch(new, tmp_path / "afile" / "sub")


def test_hashing_file_hashes_small_and_large_writes_in_order(tmp_path, monkeypatch):
    """Writes below INLINE_HASH are hashed in the caller's thread until a larger one goes to the
    hashing thread; from then on every write queues behind it, so the order holds."""
    import hashlib

    monkeypatch.setattr(write_set, "INLINE_HASH", 8)
    parts = [b"head\n", b"a" * 20, b"b\n", b"c" * 9, b"d"]
    sink = write_set.HashingFile(tmp_path / "f.csv")
    for part in parts:
        sink.write(memoryview(part))
    assert sink.close() == hashlib.sha256(b"".join(parts)).hexdigest()
    assert (tmp_path / "f.csv").read_bytes() == b"".join(parts)


def test_hashing_file_holds_at_most_hash_queue_blocks_waiting_for_the_hash(tmp_path, monkeypatch):
    """Each waiting block is a block of lines (~5 MB) held: a write waits for the oldest first.
    (An executor that runs a job only when its result is asked for: the queue as it would be
    if the hash fell behind, without timing.)"""
    import concurrent.futures
    import hashlib

    class Lazy:
        def __init__(self, fn, *args):
            self.job, self.ran = (fn, args), False

        def result(self):
            if not self.ran:
                self.ran = True
                self.job[0](*self.job[1])

    made: list[Lazy] = []

    class LazyPool:
        def __init__(self, max_workers):
            pass

        def submit(self, fn, *args):
            made.append(Lazy(fn, *args))
            return made[-1]

        def shutdown(self, cancel_futures=False):
            pass

    monkeypatch.setattr(concurrent.futures, "ThreadPoolExecutor", LazyPool)
    monkeypatch.setattr(write_set, "INLINE_HASH", 8)
    sink = write_set.HashingFile(tmp_path / "f.csv")
    parts = [bytes([65 + i]) * 100 for i in range(8)]
    waiting = []
    for part in parts:
        sink.write(memoryview(part))
        waiting.append(sum(not job.ran for job in made))
    assert max(waiting) <= 1
    assert sink.close() == hashlib.sha256(b"".join(parts)).hexdigest()
