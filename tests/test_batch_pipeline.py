"""How a batch run uses the machine: Arrow's memory pool, and (later) writing while planning."""

from __future__ import annotations

from pathlib import Path

import pytest

from compound.batch.run import Options, run_batch

CSV = "form,strength,count,tablet_weight,rx\ncapsules,4.5mg,30,200mg,A\ncapsules,3mg,60,200mg,B\n"


def test_a_run_allocates_from_jemalloc_unless_arrow_is_told_which_pool(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch):
    import pyarrow as pa

    try:
        pa.jemalloc_memory_pool()
    except NotImplementedError:
        pytest.skip("this pyarrow has no jemalloc")
    path = tmp_path / "rx.csv"
    path.write_text(CSV, encoding="utf-8")
    before = pa.default_memory_pool()
    try:
        pa.set_memory_pool(pa.system_memory_pool())
        monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "system")
        run_batch(path, tmp_path / "a", options=Options(progress=False))
        assert pa.default_memory_pool().backend_name == "system"  # the user's choice stands
        monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL")
        run_batch(path, tmp_path / "b", options=Options(progress=False))
        assert pa.default_memory_pool().backend_name == "jemalloc"
        sheets = [(tmp_path / out / "worksheet.csv").read_bytes() for out in ("a", "b")]
        assert sheets[0] == sheets[1]
    finally:
        pa.set_memory_pool(before)


def distinct_rows(tmp_path: Path, n: int = 40) -> Path:
    """A file of ``n`` rows, a prescription of its own each but the repeats of the first few."""
    path = tmp_path / "distinct.csv"
    rows = [f"capsules,{1 + i / 100:.2f}mg,{30 + i},200mg,RX{i}\n" for i in range(n)]
    rows[5] = rows[1].replace("RX1", "RX5")  # a later row of an early group
    path.write_text("form,strength,count,tablet_weight,rx\n" + "".join(rows), encoding="utf-8")
    return path


def inline_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every pool of the run runs its jobs at once, in the calling thread: the order of what is
    planned and what is written is then the program's, not the scheduler's."""
    from compound.batch import run

    monkeypatch.setattr(run, "_threads", lambda workers, blocks: run._Inline())


def test_rows_whose_groups_are_planned_are_written_while_later_groups_are_planned(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from compound.batch.write_worksheet import LineSink

    path = distinct_rows(tmp_path)
    whole = tmp_path / "whole"
    run_batch(path, whole, options=Options(progress=False))
    inline_threads(monkeypatch)
    events: list[tuple[str, int]] = []
    write = LineSink.write

    def logged(self: LineSink, data: object) -> None:
        events.append(("written", len(bytes(data).splitlines())))  # type: ignore[call-overload]
        write(self, data)

    monkeypatch.setattr(LineSink, "write", logged)
    out = tmp_path / "out"
    run_batch(path, out, options=Options(block_rows=4, report=lambda stage, done, rows: events.append(
        (stage, done))))
    planning = [i for i, (what, _) in enumerate(events) if what == "Planning"]
    first_write = next(i for i, (what, _) in enumerate(events) if what == "written")
    assert first_write < planning[-1]  # before the last block of groups was planned
    assert events[first_write][1] == 4  # the first block of lines (its groups planned first)
    assert sum(n for what, n in events if what == "written") == 40  # every row, once (the header aside)
    assert (out / "worksheet.csv").read_bytes() == (whole / "worksheet.csv").read_bytes()
    assert (out / "errors.csv").read_bytes() == (whole / "errors.csv").read_bytes()
    writing = [done for what, done in events if what == "Writing"]
    assert writing[0] == 0 and writing[-1] == 40 and writing == sorted(writing)
    assert writing[1] > 0  # the rows written ahead, counted at once


def test_a_failure_while_lines_are_assembled_ahead_stops_the_run_and_leaves_no_output(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from compound.batch.spread import Spread

    inline_threads(monkeypatch)
    planned: list[int] = []
    block = Spread.worksheet_block

    def failing(self: Spread, start: int, stop: int) -> memoryview:
        if start == 4:
            raise RuntimeError("assembly failed")
        return block(self, start, stop)

    monkeypatch.setattr(Spread, "worksheet_block", failing)
    out = tmp_path / "out"
    with pytest.raises(RuntimeError, match="assembly failed"):
        run_batch(distinct_rows(tmp_path), out, options=Options(
            block_rows=4, report=lambda stage, done, _: planned.append(done) if stage == "Planning" else 0))
    assert planned[-1] < 40  # the failure was met ahead, while groups were still being planned
    assert not out.exists() or not any(out.iterdir())
