"""The command table: every listed command loads and helps; unknown ones are usage errors."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from compound.cli import SUBCOMMANDS, cli


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_every_listed_command_loads_and_shows_help(name):
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


@pytest.mark.parametrize("form", ["capsules", "liquid", "drops", "dilution"])
def test_every_form_has_the_dating_and_saving_options(form):
    out = CliRunner().invoke(cli, ["plan", form, "--help"]).output
    for option in ("--compounded", "--study", "--day-zero", "--save", "--ingredient-lot", "--json"):
        assert option in out, option


def test_unknown_command_is_a_usage_error():
    result = CliRunner().invoke(cli, ["nope"])
    assert result.exit_code == 2
    assert "No such command" in result.output


def test_the_command_keeps_openblas_to_one_thread_unless_told_otherwise(monkeypatch):
    """compound makes no BLAS call: the command's process does not start OpenBLAS's spinning threads."""
    from compound.cli import main

    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "")  # so that the test's end restores what was there
    monkeypatch.delenv("OPENBLAS_NUM_THREADS")
    with pytest.raises(SystemExit):
        main(["--help"])
    assert os.environ["OPENBLAS_NUM_THREADS"] == "1"
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "4")
    with pytest.raises(SystemExit):
        main(["--help"])
    assert os.environ["OPENBLAS_NUM_THREADS"] == "4"
