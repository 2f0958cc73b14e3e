"""The plan object every preparation type returns.

A plan holds the unrounded canonical magnitudes of its results (``amounts``,
keyed by the JSON key, whose suffix names the unit), the findings, the working
and any nested objects (a trituration, a shortcut analysis). Rounding happens
only in :meth:`Plan.to_dict` and the worksheet, by the rule in
:mod:`compound.core.rounding`.

A refused plan keeps its findings and inputs but withholds every amount from
JSON and the worksheet: a refusal is never printed as if it were a plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from compound.core import units
from compound.core.findings import Finding, any_refusal, status
from compound.core.rounding import json_number
from compound.core.working import Working

if TYPE_CHECKING:
    import pint

# Unit names, not units: the registry (pint) is made only when a quantity is asked for.
_SUFFIX_UNITS: tuple[tuple[str, str], ...] = (
    ("_mg_per_ml", "MG_PER_ML"),
    ("_mg_per_drop", "MG_PER_DROP"),
    ("_drops_per_ml", "DROPS_PER_ML"),
    ("_mg", "MG"),
    ("_ml", "ML"),
    ("_pct", "PERCENT"),
    ("_days", "DAY"),
)


def unit_for_key(key: str) -> Any:
    """The unit a JSON key names by its suffix (``fill_weight_mg`` -> mg); counts are 1."""
    if key == "drops_per_ml":  # before the suffixes: it also ends in "_ml"
        return units.DROPS_PER_ML
    for suffix, unit in _SUFFIX_UNITS:
        if key.endswith(suffix):
            return getattr(units, unit)
    return units.DIMENSIONLESS


@dataclass
class Plan:
    kind: str
    inputs: dict[str, Any]
    amounts: dict[str, float | None] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    working: Working = field(default_factory=Working)
    extra: dict[str, Any] = field(default_factory=dict)
    """Nested JSON-ready objects (already rounded), e.g. ``trituration``."""

    @property
    def status(self) -> str:
        return status(self.findings)

    @property
    def refused(self) -> bool:
        return any_refusal(self.findings)

    def quantity(self, key: str) -> pint.Quantity | None:
        """A result as a pint quantity in the unit its key names."""
        value = self.amounts.get(key)
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return None
        return units.Q_(value, unit_for_key(key))

    def whole(self, key: str) -> int | None:
        """A count result (tablets, drops, days) as an int, or None."""
        value = self.amounts.get(key)
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return None
        return int(value)

    def finding(self, code: str) -> Finding | None:
        return next((f for f in self.findings if f.code == code), None)

    #: Results that are counts (tablets, capsules, drops, days): exact whole numbers, never
    #: rounded to significant figures (22,222 days' supply is not 22220).
    count_keys: ClassVar[tuple[str, ...]] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "status": self.status, "inputs": self.inputs}
        if not self.refused:
            for key, value in self.amounts.items():
                if value is None or key not in self.count_keys:
                    out[key] = None if value is None else json_number(value)
                else:
                    out[key] = None if np.isnan(value) else int(value)
            out.update(self.extra)
        out["findings"] = [f.to_dict() for f in sorted(self.findings, key=lambda f: -f.severity)]
        if not self.refused:
            out["steps"] = self.working.to_list()
        return out

    def worksheet(self) -> str:
        from compound.planning.worksheet import render

        return render(self)


@dataclass
class LiquidBasePlan(Plan):
    """Typed results every liquid preparation has (oral liquid, drops, dilution)."""

    @property
    def concentration(self) -> pint.Quantity | None:
        return self.quantity("concentration_mg_per_ml")

    @property
    def volume(self) -> pint.Quantity | None:
        return self.quantity("volume_ml")

    @property
    def api(self) -> pint.Quantity | None:
        return self.quantity("api_mg")

    @property
    def api_to_weigh(self) -> pint.Quantity | None:
        return self.quantity("api_to_weigh_mg")

    @property
    def dose_volume(self) -> pint.Quantity | None:
        return self.quantity("dose_volume_ml")
