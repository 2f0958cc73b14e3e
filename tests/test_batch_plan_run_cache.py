"""A run's blocks share the findings they make: each block shows what it shows planned alone.

A batch run plans its distinct prescriptions in blocks; the capsule findings a block makes, and
how a pair of plan and BUD findings shows on the worksheet, are kept for the blocks after it
(``RunCache``). Whatever order the blocks meet the catalog contexts in, every row must show the
findings, codes and texts it has when its block is planned alone.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from compound.batch import plan_capsules
from compound.batch.coded import Coded
from compound.batch.plan import Planned, RunCache, plan_block

# Prescriptions of several contexts (tablet, API, another filler, a base basis, an override, a
# smaller capsule, a more sensitive balance) and findings of every kind: dose bands, a unit slip,
# refusals, triturations, a filler to avoid, a fill weight low for the size; and a row in error.
ROWS: list[dict[str, Any]] = [
    {"strength": "4.5mg", "count": "30", "tablet_weight": "200mg"},
    {"strength": "1.5mg", "count": "60"},
    {"strength": "0.5mg", "count": "30", "source": "api"},
    {"strength": "4.5g", "count": "30", "source": "api"},
    {"strength": "0.05mg", "count": "30", "source": "api", "api_form": "dihydrate", "water": "6%"},
    {"strength": "4.5mg", "count": "0", "source": "api"},
    {"strength": "3mg", "count": "90", "filler": "calcium-carbonate", "tablet_weight": "195.5mg"},
    {"strength": "2mg", "count": "30", "basis": "base", "source": "api", "assay": "97%"},
    {"strength": "4.5mg", "count": "30", "opioid_use": "yes"},
    {"strength": "4.5mg", "count": "30", "opioid_use": "yes", "override_opioid": "prescriber confirmed"},
    {"strength": "4.5mg", "count": "30", "capsule_size": "0", "fill_weight": "20mg", "source": "api"},
    {"strength": "0.1mg", "count": "1", "balance": "analytical-0.1mg", "source": "api"},
    {"strength": "12mg", "count": "30", "tablet_weight": "40mg"},
    {"strength": "4.5mg", "count": "100", "route": "whole-tablets"},
]


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame([{"form": "capsules", **r} for r in rows]).fillna("").astype(str)


def _shown(planned: Planned) -> list[tuple[Any, ...]]:
    """Each row's status, finding codes and findings text, and its findings as JSON objects."""
    codes = Coded(planned.finding_group, np.array(planned.finding_codes, dtype=object)).to_objects()
    texts = Coded(planned.finding_group, np.array(planned.finding_texts, dtype=object)).to_objects()
    status = planned.status_text
    return [(status[i], codes[i], texts[i], planned.findings.dicts(i)) for i in range(len(planned))]


@pytest.mark.parametrize("limit", [plan_capsules.RUN_CONTEXTS, 1])
def test_blocks_of_a_run_show_what_they_show_alone(monkeypatch, limit):
    # limit 1: the run numbers its contexts afresh at every block (a file of many contexts).
    monkeypatch.setattr(plan_capsules, "RUN_CONTEXTS", limit)
    blocks = [ROWS[:6], ROWS[::-1], ROWS[6:] + ROWS[:3], ROWS[3::2]]
    cache = RunCache()
    shown = [_shown(plan_block(_frame(b), forms=["capsules"], cache=cache)) for b in blocks]
    alone = [_shown(plan_block(_frame(b), forms=["capsules"])) for b in blocks]
    assert shown == alone
    assert {row[0] for block in alone for row in block} == {"ok", "warning", "refused", "error"}
    assert len(cache.pairs) > 3  # the pairs were kept (a later block reads them)


def test_a_kept_finding_is_the_one_made_before():
    cache = RunCache()
    first = plan_block(_frame(ROWS), forms=["capsules"], cache=cache)
    again = plan_block(_frame(ROWS[::-1]), forms=["capsules"], cache=cache)
    n = len(ROWS)
    for i in range(n):
        assert [id(f) for f in again.findings(n - 1 - i)] == [id(f) for f in first.findings(i)]


def test_an_amount_accepted_in_one_column_is_refused_in_another_in_every_block():
    # "0mg" reads as a strength (then refused as a plan) but never as a tablet weight, however
    # often a run has read it: amounts read are remembered per column and rule, refusals never.
    rows = [{"strength": "0mg", "count": "30"}, {"strength": "4.5mg", "count": "30", "tablet_weight": "0mg"},
            {"strength": "0mg", "count": "30", "tablet_weight": "0mg"}, {"strength": "4.5mg", "count": "0mg"}]
    cache = RunCache()
    for _ in range(3):
        planned = plan_block(_frame(rows), forms=["capsules"], cache=cache)
        assert planned.status_text.tolist() == ["refused", "error", "error", "error"]
        errors = planned.errors.to_objects()
        assert "tablet weight must be greater than zero" in errors[1] and "tablet_weight" in errors[2]
        assert errors[0] is None and "count" in errors[3]
