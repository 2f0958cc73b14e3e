"""Rows that share a prescription are planned once: a row's output never depends on its neighbours."""

from __future__ import annotations

import pandas as pd

from compound.batch import plan_frame


def frame(*rows: dict[str, str]) -> pd.DataFrame:
    columns = list(dict.fromkeys(k for r in rows for k in r))
    return pd.DataFrame({c: [r.get(c) for r in rows] for c in columns}, dtype="str")


CAPSULES = {"form": "capsules", "strength": "4.5mg", "count": "30", "overage": "1", "source": "tablet",
            "tablet_weight": "200mg", "fill_weight": "100mg"}


def test_an_unreadable_tablet_weight_does_not_stop_the_next_row_of_the_same_kind():
    out = plan_frame(frame({**CAPSULES, "tablet_weight": "0mg"}, CAPSULES))
    assert out["status"].tolist() == ["error", "ok"]
    assert out.loc[0, "errors"].startswith("tablet_weight: tablet weight must be greater than zero")
    # The second row as worked by hand: 30 + 1 = 31 capsules; 4.5 mg × 31 = 139.5 mg HCl;
    # 139.5 / 50 × 200 mg = 558 mg powder from ⌈139.5 / 50⌉ = 3 tablets.
    assert out.loc[1, "tablet_powder_mg"] == 558
    assert out.loc[1, "tablets_to_crush"] == 3


def test_a_rows_errors_are_the_same_alone_and_beside_a_readable_row():
    bad = {**CAPSULES, "assay": "99.2"}  # no % sign, and an assay describes API, not tablets
    alone = plan_frame(frame(bad)).loc[0, "errors"]
    after = plan_frame(frame({**CAPSULES, "assay": "99.2%"}, bad)).loc[1, "errors"]
    before = plan_frame(frame(bad, {**CAPSULES, "assay": "99.2%"})).loc[0, "errors"]
    assert alone == after == before
    assert "a percentage needs the % sign" in alone
    assert "--assay and --water describe API powder, not tablets" in alone
