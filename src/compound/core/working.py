"""The working shown: every number on a worksheet explains itself.

A :class:`Step` records one computed quantity: what it is, the formula in
words a pharmacist uses, the inputs with their values, the result, and the
source (a data row, a reference, or "arithmetic"). Steps are plain data: the
worksheet renderer, the JSON output and the TUI all read the same list.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Step:
    key: str
    """JSON key of the result, e.g. ``api_required_mg``."""
    label: str
    """What a pharmacist calls it, e.g. "Naltrexone HCl required"."""
    formula: str
    """The formula in words, e.g. "strength × capsules to prepare"."""
    inputs: dict[str, str]
    """Each input by name, formatted with its unit."""
    result: str
    """The result, rounded by the stated rule and formatted with its unit."""
    value: float | int | None = None
    """The result as a plain number in the unit the key names (for JSON)."""
    source: str = "arithmetic"
    """Where the rule or the data came from."""
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "key": self.key,
            "label": self.label,
            "formula": self.formula,
            "inputs": dict(self.inputs),
            "result": self.result,
            "value": self.value,
            "source": self.source,
        }
        if self.note:
            out["note"] = self.note
        return out


@dataclass
class Working:
    """An ordered list of steps, appended to while a plan is built."""

    steps: list[Step] = field(default_factory=list)

    def add(self, step: Step) -> Step:
        self.steps.append(step)
        return step

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def to_list(self) -> list[dict[str, Any]]:
        return [s.to_dict() for s in self.steps]
