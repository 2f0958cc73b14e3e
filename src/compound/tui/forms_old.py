"""What each calculator form asks for, and which plan function answers it.

The forms are data: a :class:`FormSpec` lists its fields and names the plan
function (the same one the CLI calls) by ``"module:attribute"``, so the TUI
never does arithmetic of its own. Field names are the plan function's keyword
arguments, and a field's ``kind`` picks the parser the CLI uses for that
option, so the TUI accepts and refuses exactly what the command line does.

Nothing here imports Textual: the specs can be tested, and the catalog read,
before the app starts.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from compound.catalog import loader
from compound.planning import resolve

if TYPE_CHECKING:
    from compound.planning.base import Plan

FieldKind = Literal[
    "mass", "volume", "concentration", "mass_per_drop", "fraction", "duration", "calibration",
    "count", "overage", "choice", "flag", "text",
]
Choices = tuple[tuple[str, str], ...]
"""(label, value) pairs; the value "" means "let the plan decide" (the keyword is left out)."""


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    """The plan function's keyword argument."""
    label: str
    kind: FieldKind
    default: str | Callable[[], str] = ""
    placeholder: str = ""
    required: bool = False
    choices: Choices | Callable[[], Choices] = ()
    """For a choice: the options. For text: the suggestions offered while typing."""
    show_when: tuple[str, str] | None = None
    """Shown (and passed to the plan) only while field ``[0]`` has the value ``[1]``."""
    help: str = ""
    """One line under the field while its text is valid: what to type, or what blank means."""

    def initial(self) -> str:
        return self.default() if callable(self.default) else self.default

    def options(self) -> Choices:
        return self.choices() if callable(self.choices) else self.choices


@dataclass(frozen=True, slots=True)
class FormSpec:
    key: str
    title: str
    function: str
    """``"module:attribute"`` of the plan function."""
    fields: tuple[FieldSpec, ...]

    def field(self, name: str) -> FieldSpec:
        return next(f for f in self.fields if f.name == name)

    def visible(self, values: Mapping[str, str | bool]) -> list[FieldSpec]:
        """The fields that apply to these values (API fields only for the API route, ...)."""
        return [f for f in self.fields
                if f.show_when is None or values.get(f.show_when[0]) == f.show_when[1]]

    def arguments(self, values: Mapping[str, str | bool]) -> dict[str, str | bool]:
        """Keyword arguments for the plan: visible fields only; blank means "not given"."""
        out: dict[str, str | bool] = {}
        for spec in self.visible(values):
            value = values.get(spec.name, "")
            if isinstance(value, str):
                value = value.strip()
                if value == "":
                    continue
            elif value is False:
                continue
            out[spec.name] = value
        return out

    def calculate(self, values: Mapping[str, str | bool]) -> Plan:
        """Run the plan function on the form's values (it raises CompoundError on bad input)."""
        module_name, attr = self.function.split(":")
        function = getattr(importlib.import_module(module_name), attr)
        return function(**self.arguments(values))  # type: ignore[no-any-return]


# ---- catalog-driven choices (read once at start-up by preflight) ----------------------------

def _capsule_sizes() -> Choices:
    return tuple((f"#{r['key']} ({r['volume_ml']} mL)", r["key"])
                 for r in loader.table("capsule_sizes"))


def _balances() -> Choices:
    return tuple((r.get("name") or r["key"], r["key"]) for r in loader.table("balances"))


def _fillers() -> Choices:
    """Filler keys and aliases: the suggestions for the filler field."""
    names: list[str] = []
    for row in loader.table("excipients"):
        names += [row["key"], *(a.strip() for a in row.get("aliases", "").split(";") if a.strip())]
    return tuple((n, n) for n in names)


def _products() -> Choices:
    rows = loader.table("products")
    return (("Default for the source", ""),
            *((r["key"], r["key"]) for r in rows))  # the key, as --product takes it


def _default_size() -> str:
    return str(resolve.rule("capsule")["default_size"])


def _default_filler() -> str:
    return str(resolve.rule("capsule")["default_filler"])


def _default_balance() -> str:
    return str(resolve.rule("balance")["default"])


# ---- the fields every form shares (cli/plan.py source_options and common_options) -----------

SOURCE = FieldSpec("source", "Source", "choice", default="tablet",
                   choices=(("50 mg tablets", "tablet"), ("API powder", "api")))
PRODUCT = FieldSpec("product", "Product", "choice", default="", choices=_products)
API_FIELDS = (
    FieldSpec("api_form", "API form", "choice", default="anhydrous",
              choices=(("HCl anhydrous", "anhydrous"), ("HCl dihydrate", "dihydrate"),
                       ("Naltrexone base", "base")),
              show_when=("source", "api")),
    FieldSpec("assay", "Assay (CoA)", "fraction", placeholder="e.g. 99.2%", show_when=("source", "api"),
              help="Anhydrous basis; blank = 100 %."),
    FieldSpec("water", "Water (CoA)", "fraction", placeholder="e.g. 8.71%", show_when=("source", "api"),
              help="Blank = none (dihydrate: theoretical)."),
)
TABLET_WEIGHT = FieldSpec(
    "tablet_weight", "Tablet weight", "mass", placeholder="e.g. 200mg", show_when=("source", "tablet"),
    help="Weigh 20 tablets, divide by 20.",
)
COMMON = (
    FieldSpec("basis", "Strength is", "choice", default="hcl",
              choices=(("Naltrexone HCl", "hcl"), ("Naltrexone base", "base"))),
    FieldSpec("balance", "Balance", "choice", default=_default_balance, choices=_balances),
    FieldSpec("balance_sensitivity", "Balance SR", "mass", placeholder="e.g. 6mg",
              help="Blank: the balance profile's."),
    FieldSpec("opioid_use", "Opioids", "flag", placeholder="patient takes opioids"),
    FieldSpec("override_opioid", "Override reason", "text", placeholder="e.g. prescriber confirmed",
              help="Only to override the opioid refusal."),
)

CAPSULES = FormSpec(
    key="capsules",
    title="Capsules",
    function="compound.planning.capsules:plan_capsules",
    fields=(
        FieldSpec("strength", "Strength / capsule", "mass", placeholder="e.g. 4.5mg", required=True),
        FieldSpec("count", "Capsules", "count", placeholder="e.g. 30", required=True),
        FieldSpec("overage", "Overage", "overage", default="0", placeholder="e.g. 1 or 5%",
                  help="Extra capsules (1) or percent (5%)."),
        FieldSpec("capsule_size", "Capsule size", "choice", default=_default_size,
                  choices=_capsule_sizes),
        FieldSpec("filler", "Filler", "text", default=_default_filler, placeholder="e.g. mcc",
                  choices=_fillers, help="Key or alias: mcc, lactose, ..."),
        FieldSpec("fill_weight", "Fill weight", "mass", placeholder="e.g. 100mg",
                  help="Blank: pack stat or volume×density."),
        SOURCE,
        PRODUCT,
        TABLET_WEIGHT,
        FieldSpec("route", "Tablet route", "choice", default="",
                  choices=(("Automatic", ""), ("Weigh powder", "weighed"),
                           ("Whole tablets", "whole-tablets")),
                  show_when=("source", "tablet")),
        *API_FIELDS,
        *COMMON,
    ),
)

FORMS: tuple[FormSpec, ...] = (CAPSULES,)


def by_key(key: str) -> FormSpec:
    return next(f for f in FORMS if f.key == key)


def preflight() -> None:
    """Read every catalog value the forms need, so a broken catalog fails before the app starts.

    Raises :class:`~compound.errors.CatalogError` (exit 5 from the CLI) rather
    than a traceback inside the running app.
    """
    for form in FORMS:
        for spec in form.fields:
            spec.initial()
            spec.options()
