"""What each calculator form asks for, and which plan function answers it.

The forms are data (:mod:`.spec`); the TUI renders them and calls the plan
function the CLI calls, so it never does arithmetic of its own and accepts and
refuses exactly what the command line does. Nothing here imports Textual: the
specs can be tested, and the catalog read, before the app starts.
"""

from __future__ import annotations

from pathlib import Path

from compound.tui.forms.capsules import CAPSULES
from compound.tui.forms.liquids import DILUTION, DROPS, LIQUID
from compound.tui.forms.spec import Choices, FieldKind, FieldSpec, FormSpec

FORMS: tuple[FormSpec, ...] = (CAPSULES, LIQUID, DROPS, DILUTION)
"""The calculator's tabs, in order; each key is the ``compound plan`` subcommand's name."""

__all__ = ["CAPSULES", "DILUTION", "DROPS", "FORMS", "LIQUID", "Choices", "FieldKind", "FieldSpec",
           "FormSpec", "by_key", "preflight"]


def by_key(key: str) -> FormSpec:
    return next(f for f in FORMS if f.key == key)


def preflight() -> None:
    """Read every catalog value the forms need, so a broken catalog fails before the app starts.

    Raises :class:`~compound.errors.CatalogError` (exit 5 from the CLI) rather
    than a traceback inside the running app. A check that passed is not redone while the
    catalog's files (and this code) are unchanged: its values are taken from the cache
    (:mod:`compound.catalog.checked`).
    """
    from compound.catalog import checked

    stamp = checked.stamp(Path(__file__).parent)
    if checked.restore(stamp):
        return
    for form in FORMS:
        for spec in form.fields:
            spec.initial()
            spec.options()
    checked.save(stamp)
