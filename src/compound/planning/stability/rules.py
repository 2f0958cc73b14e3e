"""The catalog behind every BUD: USP <795> categories, studies, policies, storage, day counting.

Reads ``data/bud_rules.csv`` (:class:`BudRule`) and ``data/studies.toml``
(:class:`Study`, :class:`Policy`, storages, day counting, component limits),
checking each entry as it is read: a broken catalog is a CatalogError, a name
that is not in it an InputError.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from compound.catalog import loader
from compound.catalog.loader import number
from compound.errors import CatalogError, InputError

DEFAULT_POLICY: Final = "usp795-2023"
# The policy whose cap a study-policy BUD is compared with (a warning when it exceeds it).
REFERENCE_POLICY: Final = "usp795-2023"
# Preparation details a study can be matched on, and the studies.toml [*.match] key of each.
MATCH_KEYS: Final = {"filler": "filler", "vehicle": "vehicle", "container": "container",
                     "concentration": "concentration_mg_per_ml"}
_STUDIES: Final = "studies"
# No day count in the catalog may exceed 100 years: beyond any BUD, and far inside the dates
# datetime can hold from any compounding date (1900-2999) a plan accepts.
_MAX_DAYS: Final = 36525


@dataclass(frozen=True, slots=True)
class BudRule:
    """One row of ``bud_rules.csv``: a USP <795> category and its default."""

    key: str
    name: str
    days: int
    storage: tuple[str, ...]
    default_storage: str
    dosage_forms: tuple[str, ...]
    extension_requirement: str
    source: str


@dataclass(frozen=True, slots=True)
class Study:
    key: str
    name: str
    citation: str
    preparation: str
    category: str
    window_days: Mapping[str, int]
    match: Mapping[str, Any]
    result: str
    caveat: str
    source: str


@dataclass(frozen=True, slots=True)
class Policy:
    key: str
    name: str
    max_extended_days: int | None
    source: str


def _split(text: str) -> tuple[str, ...]:
    """``room; Refrigerated`` → ("room", "refrigerated"): storage and category keys ignore case."""
    return tuple(p.strip().lower() for p in text.split(";") if p.strip())


def _section(name: str) -> dict[str, Any]:
    value = loader.rules(_STUDIES).get(name)
    if not isinstance(value, dict):
        raise CatalogError(f"studies.toml has no [{name}] section.")
    return value


def storages() -> dict[str, str]:
    """The storage vocabulary: key (``room``, ``refrigerated``) → "stored ..." phrase."""
    section = _section("storage")
    _distinct_keys(section, "storage")
    out = {}
    for key, row in section.items():
        if not isinstance(row, dict) or not row.get("name") or not row.get("source"):
            raise CatalogError(f"studies.toml [storage.{key}] needs a name and a source.")
        out[key.strip().lower()] = str(row["name"])  # matched as typed, ignoring case
    return out


def container_name(text: str) -> str:
    """A container as the studies name it: ``amber`` → ``light-resistant`` (studies.toml [container])."""
    wanted = " ".join(text.strip().lower().replace("_", " ").split())
    section = loader.rules(_STUDIES).get("container") or {}
    for key, row in section.items():
        synonyms = row.get("synonyms") if isinstance(row, dict) else None
        if not isinstance(synonyms, list) or not row.get("source"):
            raise CatalogError(f"studies.toml [container.{key}] needs a list of synonyms and a source.")
        names = {key.lower(), key.lower().replace("-", " "),
                 *(" ".join(str(x).lower().split()) for x in synonyms)}
        if wanted in names or wanted.replace("-", " ") in names:
            return key.lower()
    return wanted


def _whole_days(value: Any, where: str) -> int:
    """A day count from the catalog: a finite whole number, 1 to :data:`_MAX_DAYS`."""
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or (isinstance(value, float) and not math.isfinite(value)) \
            or value != int(value) or value < 1:
        raise CatalogError(f"{where}: {value!r} is not a whole number of days (1 or more).")
    if value > _MAX_DAYS:
        raise CatalogError(f"{where}: {value!r} days is more than 100 years ({_MAX_DAYS} days).",
                           hint="A typing slip? Give the number of days the BUD may run.")
    return int(value)


def _find(entries: Mapping[str, Any], wanted: str) -> str | None:
    """The catalog's spelling of key ``wanted``, matched ignoring case (None if absent)."""
    folded = wanted.strip().lower()
    return next((key for key in entries if key.lower() == folded), None)


def _distinct_keys(entries: Mapping[str, Any], section: str) -> None:
    """A CatalogError if two keys of a studies.toml section differ only in case.

    Keys are matched ignoring case (the user's ``--study`` and ``--policy`` are),
    so two such keys would be one name; an overlay that means to replace a shipped
    entry must spell its key the same way.
    """
    seen: dict[str, str] = {}
    for key in entries:
        other = seen.setdefault(key.lower(), key)
        if other != key:
            raise CatalogError(f"studies.toml [{section}]: keys {other!r} and {key!r} differ only "
                               "in case, and keys are matched ignoring case.",
                               hint="Spell them the same way to replace one with the other, or "
                                    "rename one.")


def bud_rules() -> list[BudRule]:
    known = storages()
    out = []
    seen: dict[str, str] = {}
    for row in loader.table("bud_rules"):
        where = f"bud_rules.csv, row {row['key']!r}"
        key = row["key"].strip().lower()  # matched as typed, ignoring case
        other = seen.setdefault(key, row["key"])
        if other != row["key"]:
            raise CatalogError(f"bud_rules.csv: keys {other!r} and {row['key']!r} differ only in case, "
                               "and keys are matched ignoring case.",
                               hint="Spell them the same way to replace one with the other, or "
                                    "rename one.")
        allowed = _split(row.get("storage", ""))
        default = row.get("default_storage", "").strip().lower()
        if not allowed or any(s not in known for s in allowed) or default not in allowed:
            raise CatalogError(f"{where}: storage {row.get('storage')!r} / default "
                               f"{default!r} must be among {', '.join(known)} (';'-separated), "
                               "and the default one of them.")
        out.append(BudRule(
            key=key, name=row.get("name") or row["key"],
            days=_whole_days(number(row, "days", table_name="bud_rules"),
                             f"{where}, column 'days'"),
            storage=allowed, default_storage=default,
            dosage_forms=_split(row.get("dosage_forms", "")),
            extension_requirement=row.get("extension_requirement", ""), source=row["source"]))
    return out


def bud_rule(category: str) -> BudRule:
    """A category by key, or an InputError listing the categories that exist."""
    rules = bud_rules()
    wanted = str(category).strip().lower()
    for rule in rules:
        if rule.key == wanted:
            return rule
    known = f"Known: {', '.join(r.key for r in rules)}."
    form = next((r for r in rules if wanted in r.dosage_forms), None)
    if form is not None:  # a dosage form, not a category: say which, but do not guess for them
        known = f"{wanted.capitalize()} are {form.key}: type that. " + known
    raise InputError(f"unknown BUD category {category!r}.", hint=known, field="category")


def studies() -> dict[str, Study]:
    """Every study, by its key as the catalog spells it (look one up with :func:`study`)."""
    known = storages()
    categories = {r.key for r in bud_rules()}
    section = _section("study")
    _distinct_keys(section, "study")
    out = {}
    for key, s in section.items():
        where = f"studies.toml [study.{key}]"
        if not isinstance(s, dict):
            raise CatalogError(f"{where} must be a table (name, citation, preparation, category, "
                               f"source, [study.{key}.window_days]), not {s!r}.")
        missing = [c for c in ("name", "citation", "preparation", "category", "source",
                               "window_days") if not s.get(c)]
        if missing:
            raise CatalogError(f"{where}: missing {', '.join(missing)}.")
        category = s["category"].strip().lower() if isinstance(s["category"], str) else None
        if category not in categories:
            raise CatalogError(f"{where}: unknown category {s['category']!r}.")
        if not isinstance(s["window_days"], dict):
            raise CatalogError(f"{where} window_days must be a table of storage = days "
                               f"(e.g. room = 30), not {s['window_days']!r}.")
        windows = {k.strip().lower(): _whole_days(v, f"{where} window_days.{k}")
                   for k, v in s["window_days"].items()}
        if any(k not in known for k in windows):
            raise CatalogError(f"{where}: window_days keys must be among {', '.join(known)}.")
        if not isinstance(s.get("match", {}), dict):
            raise CatalogError(f"{where} match must be a table of what the study tested "
                               f"(e.g. filler = [\"mcc\"]), not {s['match']!r}.")
        match = dict(s.get("match", {}))
        if any(k not in MATCH_KEYS.values() for k in match):
            raise CatalogError(f"{where}: match keys must be among "
                               f"{', '.join(MATCH_KEYS.values())}.")
        if MATCH_KEYS["concentration"] in match:
            _concentrations(match[MATCH_KEYS["concentration"]],
                            f"{where} match.{MATCH_KEYS['concentration']}")
        out[key] = Study(key=key, name=s["name"], citation=s["citation"],
                         preparation=s["preparation"], category=category,
                         window_days=windows, match=match, result=s.get("result", ""),
                         caveat=s.get("caveat", ""), source=s["source"])
    return out


def _concentrations(value: Any, where: str) -> tuple[float, ...]:
    """A study's tested concentration(s) in mg/mL: a number or a list of them (any matches)."""
    values = value if isinstance(value, list) else [value]
    if not values or any(isinstance(v, bool) or not isinstance(v, int | float)
                         or (isinstance(v, float) and not math.isfinite(v)) or v <= 0
                         for v in values):
        raise CatalogError(f"{where}: {value!r} is not a concentration in mg/mL.",
                           hint="Give a number greater than 0 (e.g. 1), or a list of them "
                                "(e.g. [1, 5]) when the study tested several.")
    return tuple(float(v) for v in values)


def study(key: str) -> Study:
    """A study by key, ignoring case, or an InputError listing the studies that exist."""
    found = studies()
    name = _find(found, str(key))
    if name is None:
        raise InputError(f"unknown stability study {key!r}.",
                         hint=f"Known: {', '.join(found)} (or leave out --study for the USP "
                              "<795> default).", field="study")
    return found[name]


def _policies() -> dict[str, Policy]:
    """Every policy, by its key as the catalog spells it (look one up with :func:`policy`)."""
    section = _section("policy")
    _distinct_keys(section, "policy")
    out = {}
    for key, p in section.items():
        if not isinstance(p, dict):
            raise CatalogError(f"studies.toml [policy.{key}] must be a table (name, source and "
                               f"optionally max_extended_days), not {p!r}.")
        cap = p.get("max_extended_days")
        if not p.get("source"):
            raise CatalogError(f"studies.toml [policy.{key}] has no source.")
        out[key] = Policy(key, p.get("name", key),
                          None if cap is None else _whole_days(
                              cap, f"studies.toml [policy.{key}] max_extended_days"),
                          p["source"])
    return out


def policy(key: str) -> Policy:
    """A policy by key, ignoring case, or an InputError listing the policies that exist."""
    found = _policies()
    name = _find(found, str(key))
    if name is None:
        raise InputError(f"unknown BUD policy {key!r}.", hint=f"Known: {', '.join(found)}.",
                         field="policy")
    return found[name]


def _reference_cap() -> int | None:
    """The cap of :data:`REFERENCE_POLICY` (None if the catalog has no such policy or cap)."""
    found = _policies()
    name = _find(found, REFERENCE_POLICY)
    return None if name is None else found[name].max_extended_days


def day_counting(day_zero: bool) -> dict[str, str]:
    """``{"key", "name", "rule", "source"}`` for Day 0 or Day 1 counting."""
    key = "day-0" if day_zero else "day-1"
    entry = _section("day_counting").get(key)
    if not isinstance(entry, dict) or not entry.get("rule") or not entry.get("source"):
        raise CatalogError(f"studies.toml [day_counting.{key}] needs a rule and a source.")
    return {"key": key, "name": entry.get("name", key), "rule": entry["rule"],
            "source": entry["source"]}


def _component_limits(kind: str) -> dict[str, Any]:
    entry = _section("component_limits").get(kind)
    if not isinstance(entry, dict) or not entry.get("source"):
        raise CatalogError(f"studies.toml [component_limits.{kind}] needs a source.")
    return entry


def _month_rule() -> str:
    """How an expiry written ``YYYY-MM`` is read: studies.toml's ``month_rule`` text."""
    return str(_component_limits("component-expiry").get("month_rule")
               or "the last day of the month")


def category_for_plan(kind: str, vehicle_category: str | None = None, *,
                      vehicle: str | None = None) -> str:
    """The BUD category of a plan: by dosage form, or else by its vehicle.

    Capsules are ``nonaqueous-solid`` (bud_rules.csv ``dosage_forms``); a
    liquid, drops or dilution takes its vehicle's category: pass it
    (``vehicle_category``) or the vehicle's key (looked up in vehicles.csv,
    column ``bud_category``).
    """
    for rule in bud_rules():
        if kind in rule.dosage_forms:
            return rule.key
    if vehicle_category is None and vehicle is not None:
        row = loader.lookup("vehicles", vehicle, what="vehicle")
        vehicle_category = row.get("bud_category") or None
        if vehicle_category is None:
            raise CatalogError(f"vehicles.csv, row {vehicle!r}: no bud_category.",
                               hint="Say which USP <795> category the vehicle is in.")
        try:
            return bud_rule(vehicle_category).key
        except InputError:  # the catalog's mistake, not the user's
            raise CatalogError(
                f"vehicles.csv, row {vehicle!r}: bud_category {vehicle_category!r} is not a "
                "USP <795> category.",
                hint=f"Use one of: {', '.join(r.key for r in bud_rules())}.") from None
    if vehicle_category is None:
        raise InputError(f"the BUD category of a {kind} preparation depends on its vehicle.",
                         hint="Give the vehicle (or its category: "
                              f"{', '.join(r.key for r in bud_rules())}).", field="category")
    return bud_rule(vehicle_category).key

