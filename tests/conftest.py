"""Test isolation: every test runs with its own today, catalog overlay, cache and register.

A developer's own overlay catalog or register must never change a result, so
the environment seams in compound.paths are pointed at temporary locations.

The real clock has no environment seam (nothing a user sets may date a register
entry), so it is injected in-process: ``paths.system_now`` reads 2025-03-10
12:00 UTC in every test, the same day as ``COMPOUND_TODAY``. A test that needs
another day moves both with the ``clock`` fixture. A subprocess that writes to
the register runs :data:`FIXED_CLOCK_CODE` first, or uses ``--as-of/--reason``.
"""

from __future__ import annotations

import datetime as dt
import os

import pytest
from hypothesis import settings

from compound import paths
from compound.catalog import loader
from registers import BACKENDS, new_database

TEST_NOW = dt.datetime(2025, 3, 10, 12, 0, tzinfo=dt.UTC)
"""The real clock in tests: noon UTC, so the local date is 2025-03-10 in any time zone within 11 h."""

FIXED_CLOCK_CODE = (
    "import datetime as _dt; from compound import paths as _paths; "
    "_paths.system_now = lambda: _dt.datetime(2025, 3, 10, 12, 0, tzinfo=_dt.UTC)\n")
"""Python for a test's own subprocess: the same injected real clock as in-process tests."""

# No per-example deadline anywhere: a loaded machine (two cores, CI) makes timings
# vary, and a property test must fail on its property, never on the clock. On CI,
# hypothesis's own "ci" profile (derandomised, no deadline) applies.
settings.register_profile("compound-dev", deadline=None)
if not os.environ.get("CI"):
    settings.load_profile("compound-dev")


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPOUND_CATALOG", str(tmp_path / "no-overlay"))
    monkeypatch.setenv("COMPOUND_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("COMPOUND_DB", str(tmp_path / "register.sqlite3"))
    monkeypatch.setenv("COMPOUND_TODAY", "2025-03-10")
    monkeypatch.setattr(paths, "system_now", lambda: TEST_NOW)
    loader.clear_cache()
    yield
    loader.clear_cache()


@pytest.fixture(autouse=True)
def steady_cursor(request, monkeypatch):
    """TUI tests: the input cursor does not blink (its timer would make each run draw differently)."""
    if request.module.__name__.startswith("test_tui"):
        from textual.widgets import Input

        monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)


class Clock:
    """Moves the injected real clock and ``COMPOUND_TODAY`` together to another day."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._monkeypatch = monkeypatch

    def set(self, day: dt.date | str) -> dt.date:
        day = dt.date.fromisoformat(day) if isinstance(day, str) else day
        now = dt.datetime.combine(day, dt.time(12, 0), tzinfo=dt.UTC)
        self._monkeypatch.setattr(paths, "system_now", lambda: now)
        self._monkeypatch.setenv("COMPOUND_TODAY", day.isoformat())
        return day


@pytest.fixture
def clock(monkeypatch):
    """Set the real date of a test: ``clock.set("2025-03-21")``."""
    return Clock(monkeypatch)


@pytest.fixture
def overlay(tmp_path, monkeypatch):
    """A pharmacy overlay catalog directory, active for the test."""
    directory = tmp_path / "overlay"
    directory.mkdir()
    monkeypatch.setenv("COMPOUND_CATALOG", str(directory))
    loader.clear_cache()
    return directory


@pytest.fixture(params=BACKENDS)
def register_url(request, tmp_path):
    """An empty register database on each backend (tests/registers.py)."""
    with new_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def cli(capsys):
    """``compound ARGS`` in-process (the real error-to-exit-code mapping): (exit code, out, err)."""
    from compound.cli import main

    def invoke(*args):
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as exc:
            code = exc.code
        out, err = capsys.readouterr()
        return code, out, err
    return invoke


PHARMACY = ('name = "Example Compounding Pharmacy"\naddress = "1 Main Street, Springfield, IL 62701"\n'
            'phone = "(555) 010-0100"\n')
"""The pharmacy profile the label tests print (name, address, phone)."""


@pytest.fixture
def pharmacy(tmp_path, monkeypatch):
    """COMPOUND_PHARMACY set to a profile holding :data:`PHARMACY`."""
    path = tmp_path / "pharmacy.toml"
    path.write_text(PHARMACY, encoding="utf-8")
    monkeypatch.setenv("COMPOUND_PHARMACY", str(path))
    return path
