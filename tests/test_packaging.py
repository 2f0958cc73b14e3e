"""The wheel carries the data; an editable install finds it in the checkout."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_contains_data_and_unit_definitions(tmp_path, monkeypatch):
    hatchling_build = pytest.importorskip("hatchling.build")
    monkeypatch.chdir(ROOT)
    name = hatchling_build.build_wheel(str(tmp_path))
    with zipfile.ZipFile(tmp_path / name) as wheel:
        names = set(wheel.namelist())
    shipped = {p.name for p in (ROOT / "data").iterdir() if p.suffix in {".csv", ".toml"}}
    for data_file in shipped:
        assert f"compound/data/{data_file}" in names, data_file
    assert "compound/core/pharmacy_units.txt" in names
    assert not any(n.startswith("data/") for n in names)


def test_console_script_is_declared():
    import tomllib

    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert meta["project"]["scripts"]["compound"] == "compound.cli:main"
    assert meta["project"]["requires-python"] == ">=3.11"
    assert os.path.isfile(ROOT / ".ci" / "run")
