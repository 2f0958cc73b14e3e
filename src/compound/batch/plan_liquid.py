"""Oral-liquid rows of a batch: ``compound plan liquid``, the core once per block.

See :mod:`.plan_liquid_drops`.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np

from compound.batch.plan_chunk import Chunk
from compound.batch.plan_forms import AMOUNT, COUNT, FormOutput
from compound.batch.plan_liquid_drops import Planner, liquid_extra_kinds, plan_arguments, plan_grouped

FORM: Final = "liquid"
READS: Final = ("strength", "volume", "dose", "days", "source", "vehicle", "tablet_weight", "api_form",
                "assay", "water", "basis", "product", "balance", "balance_sensitivity", "overage",
                "opioid_use", "override_opioid")
KINDS: Final[dict[str, str]] = {
    "concentration_mg_per_ml": AMOUNT, "volume_ml": AMOUNT, "api_mg": AMOUNT, "tablets_to_crush": COUNT,
    "tablet_powder_mg": AMOUNT, "api_to_weigh_mg": AMOUNT, "stock_concentration_mg_per_ml": AMOUNT,
    "stock_volume_ml": AMOUNT, "dispensed_volume_ml": AMOUNT, "dose_volume_ml": AMOUNT,
    "days_supply": COUNT, **liquid_extra_kinds(),
}


def kwargs(values: dict[str, Any]) -> dict[str, Any]:
    """``plan_liquid`` arguments from a row's cells (empty cells take the command's defaults)."""
    return plan_arguments(values, always=("strength",))


def plan(chunk: Chunk, rows: np.ndarray, cache: Any = None) -> FormOutput:
    from compound.planning import liquid as planning

    planner = Planner(planning.liquid_context, planning.compute_all, planning.complete, kwargs)
    return plan_grouped(chunk, rows, cache, form=FORM, reads=READS, kinds=KINDS, planner=planner)
