"""Test isolation: every test runs with its own today, catalog overlay and register.

A developer's own overlay catalog or register must never change a result, so
the environment seams in compound.paths are pointed at temporary locations.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from compound.catalog import loader

# No per-example deadline anywhere: a loaded machine (two cores, CI) makes timings
# vary, and a property test must fail on its property, never on the clock. On CI,
# hypothesis's own "ci" profile (derandomised, no deadline) applies.
settings.register_profile("compound-dev", deadline=None)
if not os.environ.get("CI"):
    settings.load_profile("compound-dev")


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPOUND_CATALOG", str(tmp_path / "no-overlay"))
    monkeypatch.setenv("COMPOUND_DB", str(tmp_path / "register.sqlite3"))
    monkeypatch.setenv("COMPOUND_TODAY", "2025-03-10")
    loader.clear_cache()
    yield
    loader.clear_cache()


@pytest.fixture(autouse=True)
def steady_cursor(request, monkeypatch):
    """TUI tests: the input cursor does not blink (its timer would make each run draw differently)."""
    if request.module.__name__.startswith("test_tui"):
        from textual.widgets import Input

        monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)


@pytest.fixture
def overlay(tmp_path, monkeypatch):
    """A pharmacy overlay catalog directory, active for the test."""
    directory = tmp_path / "overlay"
    directory.mkdir()
    monkeypatch.setenv("COMPOUND_CATALOG", str(directory))
    loader.clear_cache()
    return directory
