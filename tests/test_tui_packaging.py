"""The wheel carries the TUI's stylesheet and help text (read from beside the modules)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_contains_the_stylesheet_and_help(tmp_path, monkeypatch):
    hatchling_build = pytest.importorskip("hatchling.build")
    monkeypatch.chdir(ROOT)
    name = hatchling_build.build_wheel(str(tmp_path))
    with zipfile.ZipFile(tmp_path / name) as wheel:
        names = set(wheel.namelist())
    assert "compound/tui/compound.tcss" in names
    assert "compound/tui/screens/help.md" in names


def test_the_app_points_at_files_that_exist():
    from compound.tui.app import STYLESHEET
    from compound.tui.screens.help import HELP

    assert STYLESHEET.resolve() == ROOT / "src" / "compound" / "tui" / "compound.tcss"
    assert STYLESHEET.is_file()
    assert HELP.is_file()
