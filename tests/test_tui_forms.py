"""Form specs: which keyword arguments reach the plan, and catalog-driven choices."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from compound.errors import CatalogError
from compound.tui import forms
from compound.tui.forms import CAPSULES


def test_defaults_come_from_the_catalog_rules():
    # data/rules.toml [capsule]: default_size = "3", default_filler = "mcc"; [balance] class-iii
    assert CAPSULES.field("capsule_size").initial() == "3"
    assert CAPSULES.field("filler").initial() == "mcc"
    assert CAPSULES.field("balance").initial() == "class-iii"
    assert CAPSULES.field("source").initial() == "tablet"
    sizes = [value for _, value in CAPSULES.field("capsule_size").options()]
    assert sizes == ["000", "00", "0", "1", "2", "3", "4", "5"]  # data/capsule_sizes.csv
    assert "avicel" in [v for _, v in CAPSULES.field("filler").options()]  # an alias of mcc


def test_only_visible_filled_fields_reach_the_plan():
    values = {f.name: f.initial() for f in CAPSULES.fields}
    values.update(strength="4.5mg", count="30", tablet_weight=" 200mg ", assay="99%",
                  opioid_use=False, override_opioid="")
    args = CAPSULES.arguments(values)
    assert args["strength"] == "4.5mg" and args["count"] == "30"
    assert args["tablet_weight"] == "200mg"  # stripped, as the CLI's shell would
    assert "assay" not in args and "api_form" not in args  # API fields hidden for tablets
    assert "opioid_use" not in args and "override_opioid" not in args  # unchecked / blank
    assert "route" not in args  # "Automatic" is the plan's own choice
    assert "fill_weight" not in args  # blank: the plan picks pack stat or volume × density

    values.update(source="api", opioid_use=True, override_opioid="prescriber confirmed")
    args = CAPSULES.arguments(values)
    assert args["api_form"] == "anhydrous" and args["assay"] == "99%"
    assert "tablet_weight" not in args
    assert args["opioid_use"] is True and args["override_opioid"] == "prescriber confirmed"


def test_preflight_reads_every_catalog_value():
    forms.preflight()


def test_a_broken_catalog_fails_before_the_app_starts(overlay):
    (overlay / "excipients.csv").write_text("key,name,source\nchalk,Chalk,\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="no source"):
        forms.preflight()


def test_compound_with_a_broken_catalog_exits_5_without_a_traceback(tmp_path):
    overlay = tmp_path / "broken"
    overlay.mkdir()
    (overlay / "capsule_sizes.csv").write_text("key,volume_ml\n3,0.30\n", encoding="utf-8")
    env = {**os.environ, "COMPOUND_CATALOG": str(overlay)}
    done = subprocess.run([sys.executable, "-c", "from compound.cli import main; main([])"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 5, done.stderr
    assert done.stderr.startswith("error: ")
    assert "source" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("form", forms.FORMS, ids=lambda f: f.key)
def test_every_field_is_a_keyword_of_the_plan_function(form):
    import importlib
    import inspect

    module, attr = form.function.split(":")
    parameters = inspect.signature(getattr(importlib.import_module(module), attr)).parameters
    assert {f.name for f in form.fields} <= set(parameters)
    # The tab's key is the CLI subcommand: `compound plan <key>` runs the same function.
    assert module == f"compound.planning.{form.key}"


def test_forms_are_the_four_preparation_types_in_order():
    assert [f.key for f in forms.FORMS] == ["capsules", "liquid", "drops", "dilution"]
    assert forms.by_key("drops").field("source").initial() == "api"  # as `compound plan drops`
    assert forms.by_key("liquid").field("vehicle").initial() == "fawcett-1997"  # rules [liquid]
