"""How a batch run uses the machine: Arrow's memory pool, and (later) writing while planning."""

from __future__ import annotations

from pathlib import Path

import pytest

from compound.batch.run import Options, run_batch

CSV = "form,strength,count,tablet_weight,rx\ncapsules,4.5mg,30,200mg,A\ncapsules,3mg,60,200mg,B\n"


def _has_jemalloc() -> bool:
    import pyarrow as pa

    try:
        pa.jemalloc_memory_pool()
    except NotImplementedError:
        return False
    return True


def _pool_during_read(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The default pool's name each time a run reads its file (the run's largest allocation)."""
    import pyarrow as pa

    from compound.batch import run

    seen: list[str] = []
    read = run.read_prescriptions

    def recording(*args: object, **kwargs: object) -> object:
        seen.append(pa.default_memory_pool().backend_name)
        return read(*args, **kwargs)

    monkeypatch.setattr(run, "read_prescriptions", recording)
    return seen


def test_a_run_allocates_from_jemalloc_unless_arrow_is_told_which_pool(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch):
    import pyarrow as pa

    if not _has_jemalloc():
        pytest.skip("this pyarrow has no jemalloc")
    path = tmp_path / "rx.csv"
    path.write_text(CSV, encoding="utf-8")
    seen = _pool_during_read(monkeypatch)
    before = pa.default_memory_pool()
    try:
        pa.set_memory_pool(pa.system_memory_pool())
        monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "system")
        run_batch(path, tmp_path / "a", options=Options(progress=False))
        assert seen == ["system"]  # the user's choice stands
        monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL")
        run_batch(path, tmp_path / "b", options=Options(progress=False))
        assert seen == ["system", "jemalloc"]
        sheets = [(tmp_path / out / "worksheet.csv").read_bytes() for out in ("a", "b")]
        assert sheets[0] == sheets[1]
    finally:
        pa.set_memory_pool(before)


@pytest.mark.parametrize("previous", ["system", "mimalloc"])
def test_a_run_puts_back_the_default_pool_it_found_whether_it_ends_well_or_not(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, previous: str):
    """A pipeline or the TUI that runs a batch keeps its own pool: the switch lasts the run."""
    import pyarrow as pa

    from compound.errors import InputError

    if not _has_jemalloc():
        pytest.skip("this pyarrow has no jemalloc")
    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    good = tmp_path / "rx.csv"
    good.write_text(CSV, encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("strength,count\n4.5mg,30\n", encoding="utf-8")  # no form column: refused
    big = tmp_path / "big.csv"  # several blocks: the run's threads and the read ahead
    big.write_text(CSV.split("\n", 1)[0] + "\n" + "capsules,4.5mg,30,200mg,A\n" * 120_000, encoding="utf-8")
    seen = _pool_during_read(monkeypatch)
    before = pa.default_memory_pool()
    try:
        pa.set_memory_pool(getattr(pa, f"{previous}_memory_pool")())
        run_batch(good, tmp_path / "a", options=Options(progress=False))
        assert pa.default_memory_pool().backend_name == previous
        with pytest.raises(InputError):
            run_batch(bad, tmp_path / "b", options=Options(progress=False))
        assert pa.default_memory_pool().backend_name == previous
        run_batch(big, tmp_path / "c", options=Options(progress=False, block_rows=20_000))
        assert pa.default_memory_pool().backend_name == previous
        assert seen == ["jemalloc"] * 3
    finally:
        pa.set_memory_pool(before)


def test_arrays_made_in_a_runs_pool_stay_valid_after_it_and_free_into_jemalloc():
    import pyarrow as pa
    import pyarrow.compute as pc

    from compound.batch.run import jemalloc

    if not _has_jemalloc():
        pytest.skip("this pyarrow has no jemalloc")
    pool = pa.jemalloc_memory_pool()
    before = pa.default_memory_pool()
    try:
        pa.set_memory_pool(pa.system_memory_pool())
        held = pool.bytes_allocated()
        with jemalloc():
            with jemalloc():  # runs overlapping: the inner end leaves the outer run's pool
                pass
            assert pa.default_memory_pool().backend_name == "jemalloc"
            made = pc.add(pa.array(range(100_000), pa.int64()), 1)
        assert pa.default_memory_pool().backend_name == "system"
        assert pool.bytes_allocated() >= held + 800_000  # still held by ``made``
        assert pc.sum(pc.add(made, 1)).as_py() == sum(range(2, 100_002))
        del made
        assert pool.bytes_allocated() == held
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
    from compound.batch import threads

    monkeypatch.setattr(threads, "pool", lambda workers, blocks: threads.Inline())


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


def test_the_rows_a_planned_block_makes_ready_are_all_asked_for_though_none_is_written_yet():
    """A block of 25k distinct prescriptions makes ~55k rows ready, 3-4 blocks of lines: when the
    blocks asked before are still being written, the new ones are asked too (up to IN_FLIGHT, a
    job waiting holds no lines), or the lines written ahead fall behind the planning for good
    (with 4: 819k of a million rows written ahead, not 950k)."""
    from concurrent.futures import Future

    import numpy as np

    from compound.batch.write_ahead import IN_FLIGHT, WriteAhead

    class Spread:
        names = ("row",)
        groups = type("Groups", (), {"first": np.array([0, 75, 120])})()

        def prepare(self, **_: object) -> None:
            pass

    class Sink:
        def start(self, names: list[str]) -> None:
            pass

    class Pool:  # jobs asked, none run yet
        def __init__(self) -> None:
            self.jobs: list[Future[None]] = []

        def submit(self, *_: object) -> Future[None]:
            self.jobs.append(Future())
            return self.jobs[-1]

    pool = Pool()
    ahead = WriteAhead(Sink(), 10, pool)
    ahead.planned(Spread(), 1)  # groups 0 planned: rows 0 … 74 ready
    assert ahead.asked == 70 and len(pool.jobs) == 7  # none written yet: all seven asked
    ahead.planned(Spread(), 2)  # rows 0 … 119 ready
    assert ahead.asked == 120 and len(pool.jobs) == 12 <= IN_FLIGHT
    for job in pool.jobs:
        job.cancel()


@pytest.mark.parametrize("dictionaries", [False, True])
@pytest.mark.parametrize("joined", [False, True])
def test_a_line_builder_extended_block_by_block_writes_what_one_built_at_once_writes(joined: bool,
                                                                                     dictionaries: bool):
    """Lines of the rows whose groups are added so far (as a run writes them ahead), and at the end
    every line, equal those of a builder given every block at once, whether a run's text columns
    are kept as dictionaries or not; the runs' views of every group are made once, not again with
    each block."""

    import itertools

    import numpy as np
    import pyarrow as pa

    from compound.batch.coded import Coded
    from compound.batch.plan_texts import run_texts
    from compound.batch.write_worksheet import LineBuilder, cell_text, layout, quote, with_affixes

    rng = np.random.default_rng(3)
    groups, n, size = 900, 2000, 250
    gid = np.minimum(np.sort(rng.integers(0, groups, n)), groups - 1)
    gid[::7] = rng.integers(0, groups, gid[::7].size)  # later rows of earlier groups
    lay = layout(["row", "rx", "amount_mg", "route", "count", "note"], {"row", "rx", "note"})
    note = [None if joined or i % 3 else f"n{i}" for i in range(n)]
    if joined:
        lay = with_affixes(lay, {"rx": (0, n), "note": (n, n)})
    amount, count = np.arange(groups) % 97 + 0.25, (np.arange(groups) % 11).astype(float)
    route = Coded.of(["weighed", "=x", "a long route, more than twelve bytes"], np.arange(groups) % 4 - 1)
    blocks = [run_texts(lay, {"amount_mg": amount[b:e], "count": count[b:e],
                              "route": Coded(route.codes[b:e], route.values)},
                        {"amount_mg": "amount", "count": "count", "route": "text"}, e - b,
                        dictionaries=dictionaries)
              for b, e in itertools.pairwise([*range(0, groups, size), groups])]
    cells = {"row": pa.array([str(i + 1) for i in range(n)]),
             "rx": cell_text(pa.array([f"R{i}" for i in range(n)])),
             "note": cell_text(pa.array(note, pa.string()))}
    whole = LineBuilder(lay, [[b[j] for b in blocks] if blocks[0][j] is not None else None
                              for j in range(len(lay.runs))], cells, gid)
    grown = LineBuilder(lay, list(blocks[0]), cells, gid)
    def per_group(builder: LineBuilder) -> list[np.ndarray]:  # a view (or a text column's pick) a group
        return [r.codes if hasattr(r, "codes") else r.views
                for j in builder._joints if j is not None and j.runs is not None for r in j.runs]

    views = per_group(grown)
    expected = bytes(whole.block(0, n))
    route_text = ["", '"weighed"', "\"'=x\"", '"a long route, more than twelve bytes"']
    assert expected.decode().splitlines()[:50] == [
        f"{i + 1},\"R{i}\",{amount[g]},{route_text[g % 4]},{int(count[g])},{quote(note[i])}"
        for i, g in enumerate(gid[:50].tolist())]
    for k, block in enumerate(blocks[1:], start=1):
        ready = int(np.flatnonzero(gid >= k * size)[0])  # rows before the first of a group not added
        assert bytes(grown.block(0, ready)) == bytes(whole.block(0, ready))
        grown.extend(list(block))
    assert bytes(grown.block(0, n)) == expected
    assert all(a is b for a, b in zip(per_group(grown), views, strict=True))  # made once, filled
    segments = [r for j in grown._joints if j and j.runs for r in j.runs]
    bytes_a_group = [16, 4, 16] if dictionaries else [16]  # a text column's pick: an int32
    made = [(len(v), r.filled, v.dtype.itemsize * v[0].size) for v, r in zip(views, segments, strict=True)]
    assert made == [(groups, groups, size) for size in bytes_a_group]
