"""Catalog-driven choices and the fields every form shares (the CLI's source/common options).

Defaults and choices are read from the catalog (rules.toml, capsule_sizes.csv,
balances.csv, ...) when the form is built, never written here as numbers. Only the
catalog loader is imported (not the planning modules, which bring pint and numpy), so
:func:`compound.tui.forms.preflight` reads the catalog before the app starts for a few ms.
"""

from __future__ import annotations

from compound.catalog import loader
from compound.catalog.loader import rule
from compound.tui.forms.spec import Choices, FieldSpec


def capsule_sizes() -> Choices:
    return tuple((f"#{r['key']} ({r['volume_ml']} mL)", r["key"])
                 for r in loader.table("capsule_sizes"))


def balances() -> Choices:
    return tuple((r.get("name") or r["key"], r["key"]) for r in loader.table("balances"))


def fillers() -> Choices:
    """Filler keys and aliases: the suggestions for the filler field."""
    names: list[str] = []
    for row in loader.table("excipients"):
        names += [row["key"], *(a.strip() for a in row.get("aliases", "").split(";") if a.strip())]
    return tuple((n, n) for n in names)


def vehicles() -> Choices:
    return tuple((r.get("name") or r["key"], r["key"]) for r in loader.table("vehicles"))


def products() -> Choices:
    rows = loader.table("products")
    return (("Default for the source", ""),
            *((r["key"], r["key"]) for r in rows))  # the key, as --product takes it


def default_size() -> str:
    return str(rule("capsule")["default_size"])


def default_filler() -> str:
    return str(rule("capsule")["default_filler"])


def default_vehicle() -> str:
    return str(rule("liquid")["default_vehicle"])


def default_balance() -> str:
    return str(rule("balance")["default"])


def source(default: str) -> FieldSpec:
    """Where the drug comes from; capsules and liquids default to tablets, drops to API."""
    return FieldSpec("source", "Source", "choice", default=default,
                     choices=(("50 mg tablets", "tablet"), ("API powder", "api")))


PRODUCT = FieldSpec("product", "Product", "choice", default="", choices=products)
TABLET_WEIGHT = FieldSpec(
    "tablet_weight", "Tablet weight", "mass", placeholder="e.g. 200mg", show_when=("source", "tablet"),
    help="Weigh 20 tablets, divide by 20.",
)
API_FIELDS = (
    FieldSpec("api_form", "API form", "choice", default="anhydrous",
              choices=(("HCl anhydrous", "anhydrous"), ("HCl dihydrate", "dihydrate"),
                       ("Naltrexone base", "base")),
              show_when=("source", "api")),
    FieldSpec("assay", "Assay (CoA)", "fraction", placeholder="e.g. 99.2%", show_when=("source", "api"),
              help="Anhydrous basis; blank = 100 %."),
    FieldSpec("water", "Water (CoA)", "fraction", placeholder="e.g. 8.71%", show_when=("source", "api"),
              help="Blank: none; dihydrate: theoretical."),
)
VEHICLE = FieldSpec("vehicle", "Vehicle", "choice", default=default_vehicle, choices=vehicles)
COMMON = (
    FieldSpec("basis", "Strength is", "choice", default="hcl",
              choices=(("Naltrexone HCl", "hcl"), ("Naltrexone base", "base"))),
    FieldSpec("balance", "Balance", "choice", default=default_balance, choices=balances),
    FieldSpec("balance_sensitivity", "Balance SR", "mass", placeholder="e.g. 6mg",
              help="Blank: the balance profile's."),
    FieldSpec("opioid_use", "Opioids", "flag", placeholder="patient takes opioids"),
    FieldSpec("override_opioid", "Override reason", "text", placeholder="e.g. prescriber confirmed",
              help="Only to override the opioid refusal."),
)


def source_fields(default_source: str) -> tuple[FieldSpec, ...]:
    return (source(default_source), PRODUCT, TABLET_WEIGHT, *API_FIELDS)
