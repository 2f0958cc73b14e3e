"""Sublingual-drop rows of a batch: ``compound plan drops``, the core once per block.

See :mod:`.plan_liquid_drops`.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np

from compound.batch.plan_chunk import Chunk
from compound.batch.plan_forms import AMOUNT, COUNT, FormOutput
from compound.batch.plan_liquid_drops import Planner, liquid_extra_kinds, plan_arguments, plan_grouped

FORM: Final = "drops"
READS: Final = ("per_drop", "strength", "calibration", "drops_per_ml", "volume", "dose", "source",
                "vehicle", "tablet_weight", "api_form", "assay", "water", "basis", "product", "balance",
                "balance_sensitivity", "opioid_use", "override_opioid")
KINDS: Final[dict[str, str]] = {
    "drops_per_ml": AMOUNT, "concentration_mg_per_ml": AMOUNT, "drug_mg_per_drop": AMOUNT,
    "volume_ml": AMOUNT, "api_mg": AMOUNT, "tablets_to_crush": COUNT, "tablet_powder_mg": AMOUNT,
    "api_to_weigh_mg": AMOUNT, "stock_concentration_mg_per_ml": AMOUNT, "stock_volume_ml": AMOUNT,
    "drops_per_dose": COUNT, "dose_delivered_mg": AMOUNT, "dose_error_pct": AMOUNT,
    "dose_delivered_low_mg": AMOUNT, "dose_delivered_high_mg": AMOUNT, **liquid_extra_kinds(),
}


def kwargs(values: dict[str, Any]) -> dict[str, Any]:
    """``plan_drops`` arguments from a row's cells (empty cells take the command's defaults).

    ``source`` defaults to API for drops, as on the command line.
    """
    return plan_arguments(values)


def plan(chunk: Chunk, rows: np.ndarray, cache: Any = None) -> FormOutput:
    from compound.planning import drops as planning

    planner = Planner(planning.drops_context, planning.compute_all, planning.complete, kwargs)
    return plan_grouped(chunk, rows, cache, form=FORM, reads=READS, kinds=KINDS, planner=planner)
