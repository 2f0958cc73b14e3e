"""The pharmacist's typed input: the routes and API forms, masses, choices and the product's kind."""

from __future__ import annotations

from typing import Any

from compound.catalog.loader import Row
from compound.core import units
from compound.errors import InputError

ROUTES = ("weighed", "whole-tablets")
API_FORMS = {"anhydrous": "hcl", "dihydrate": "dihydrate", "base": "base"}
DEFAULT_API_PRODUCT = {"anhydrous": "naltrexone-hcl-api", "dihydrate": "naltrexone-hcl-dihydrate-api",
                        "base": "naltrexone-base-api"}


def _text(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int)):
        return value.strip() if isinstance(value, str) else value
    if isinstance(value, units.Parsed):
        return value.text
    if units.is_quantity(value):
        return f"{value:~P}"
    return str(value)


def _mass(value: Any, field: str, *, positive: bool = True) -> float | None:
    if value is None:
        return None
    mg = units.coerce(value, "mass", field=field)
    if positive and not mg > 0:
        raise InputError(f"{field.replace('_', ' ')} must be greater than zero (got {_text(value)}).",
                         hint="Type a positive mass, e.g. 200mg.", field=field)
    return mg


def _choice(value: str, allowed: Any, field: str) -> str:
    if value not in allowed:
        raise InputError(f"unknown {field.replace('_', ' ')} {value!r}.",
                         hint=f"Known: {', '.join(allowed)}.", field=field)
    return value


def check_kind(row: Row, kind: str) -> None:
    if row.get("kind") != kind:
        raise InputError(f"product {row['key']!r} is {row.get('kind') or 'of no kind'}, not {kind}.",
                         hint=f"Choose a product of kind {kind} from products.csv, or leave --product out.",
                         field="product")


