"""The fields every form shares for dating and saving: ``plan … --compounded DATE --save``.

A compounding date gives the plan its beyond-use date (the BUD engine the CLI
uses, :func:`compound.planning.dating.date_plan`); the ingredient lots cap it
by their expiry and are what a saved lot records it was made from. Nothing here
imports Textual or opens the register: the screen reads lots in a worker and
hands them in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from compound.tui.forms.spec import Choices, FieldSpec

if TYPE_CHECKING:
    from compound.planning.base import Plan
    from compound.planning.stability import BudResult


def storages() -> Choices:
    from compound.planning.stability.rules import storages as known

    return (("As the BUD requires", ""), *((name, key) for key, name in known().items()))


def studies() -> Choices:
    from compound.planning.stability.rules import studies as known

    return (("None", ""), *((f"{key}: {s.name}", key) for key, s in known().items()))


DATING: tuple[FieldSpec, ...] = (
    FieldSpec("compounded", "Compounded on", "date", placeholder="e.g. 2025-03-10",
              help="Gives the BUD; needed to save a lot."),
    FieldSpec("ingredient_lots", "Ingredient lots", "text", placeholder="e.g. NTX2403, MCC-7781",
              help="Register lots used: their expiry caps the BUD."),
    FieldSpec("storage", "Storage", "choice", default="", choices=storages),
    FieldSpec("policy", "BUD policy", "choice", default="usp795-2023",
              choices=(("USP <795> (2023)", "usp795-2023"), ("Study-backed", "study"))),
    FieldSpec("study", "Study", "choice", default="", choices=studies),
    FieldSpec("attest", "Matches study", "flag", placeholder="formula, container, storage"),
)
"""Shown under every form's own fields; not arguments of the plan function."""

NAMES = frozenset(f.name for f in DATING)


def lot_numbers(values: Mapping[str, Any]) -> list[str]:
    """The ingredient lots typed, separated by commas or spaces, each once, in order."""
    text = str(values.get("ingredient_lots") or "")
    return list(dict.fromkeys(n for n in re.split(r"[,;\s]+", text) if n))


def compounded(values: Mapping[str, Any]) -> str:
    return str(values.get("compounded") or "").strip()


def date(plan: Plan, values: Mapping[str, Any],
         lot_expiries: Sequence[tuple[str, Any]] = ()) -> BudResult | None:
    """Attach the BUD to ``plan`` (in place) when a compounding date is given; else None.

    ``lot_expiries`` are ``(label, expiry)`` of the ingredient lots named, read
    from the register by the caller.
    """
    day = compounded(values)
    if not day:
        return None
    from compound.planning.dating import date_plan

    return date_plan(plan, day, storage=str(values.get("storage") or "") or None,
                     study=str(values.get("study") or "") or None,
                     attest=bool(values.get("attest")),
                     policy=str(values.get("policy") or "usp795-2023"),
                     component_expiries=list(lot_expiries))
