"""Events the calculator posts, named for what happened (harlequin's convention).

Widgets pass values down as attributes and report up with these messages;
tests record them with ``run_test(message_hook=...)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from compound.errors import CompoundError
    from compound.planning.base import Plan


@dataclass
class CalculationRequested(Message):
    """A form was submitted with every field valid."""

    form: str
    values: dict[str, str | bool]


@dataclass
class PlanCalculated(Message):
    """A plan was computed and shown (status ok or warning)."""

    form: str
    plan: Plan


@dataclass
class PlanRefused(Message):
    """A plan was computed and refused: its findings are shown, its amounts are not."""

    form: str
    plan: Plan


@dataclass
class CalculationFailed(Message):
    """The plan function raised a CompoundError (bad input, catalog problem)."""

    form: str
    error: CompoundError


@dataclass
class LotSaved(Message):
    """The plan on screen was recorded in the register as a lot."""

    form: str
    lot_number: str
