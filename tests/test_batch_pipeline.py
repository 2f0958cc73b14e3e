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
