"""Beyond-use dates from data: the USP <795> table, attested studies and every limit.

:func:`assign_bud` is the one entry point (the ``bud`` command, the plans and
the lot register call it). It reads the category's default from
``data/bud_rules.csv`` and studies, policies and conventions from
``data/studies.toml``, does the date arithmetic with :mod:`compound.core.bud`
and returns a :class:`BudResult` that names the limit that won, every limit
considered, and each source.

Refusals are findings (severity ``refusal``), as in a plan, so a refused BUD
still explains itself; a refused result carries no date. Callers that need a
date or an exception use :meth:`BudResult.raise_if_refused`. Names that are
not in the catalog (category, study, policy, storage) and malformed dates are
input errors (exit 2).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from compound.catalog import loader
from compound.catalog.loader import number
from compound.core import bud as core
from compound.core import units
from compound.core.dates import coerce_date, from_datetime64, parse_expiry, to_datetime64
from compound.core.findings import Finding, Severity, status
from compound.errors import CatalogError, FormulationRefused, InputError

# The kinds of limit a BudResult names (Limit.kind), in the order they are listed.
KINDS: Final = ("rule", "study", "policy-cap", "component-expiry", "sub-lot")
DEFAULT_POLICY: Final = "usp795-2023"
# The policy whose cap a study-policy BUD is compared with (a warning when it exceeds it).
REFERENCE_POLICY: Final = "usp795-2023"
# Preparation details a study can be matched on, and the studies.toml [*.match] key of each.
MATCH_KEYS: Final = {"filler": "filler", "vehicle": "vehicle", "container": "container",
                     "concentration": "concentration_mg_per_ml"}
_STUDIES: Final = "studies"


# ----------------------------------------------------------------------------- catalog


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
    return tuple(p.strip() for p in text.split(";") if p.strip())


def _section(name: str) -> dict[str, Any]:
    value = loader.rules(_STUDIES).get(name)
    if not isinstance(value, dict):
        raise CatalogError(f"studies.toml has no [{name}] section.")
    return value


def storages() -> dict[str, str]:
    """The storage vocabulary: key (``room``, ``refrigerated``) → "stored ..." phrase."""
    out = {}
    for key, row in _section("storage").items():
        if not isinstance(row, dict) or not row.get("name") or not row.get("source"):
            raise CatalogError(f"studies.toml [storage.{key}] needs a name and a source.")
        out[key] = str(row["name"])
    return out


def _whole_days(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value) \
            or value < 1:
        raise CatalogError(f"{where}: {value!r} is not a whole number of days (1 or more).")
    return int(value)


def bud_rules() -> list[BudRule]:
    known = storages()
    out = []
    for row in loader.table("bud_rules"):
        where = f"bud_rules.csv, row {row['key']!r}"
        allowed = _split(row.get("storage", ""))
        default = row.get("default_storage", "")
        if not allowed or any(s not in known for s in allowed) or default not in allowed:
            raise CatalogError(f"{where}: storage {row.get('storage')!r} / default "
                               f"{default!r} must be among {', '.join(known)} (';'-separated), "
                               "and the default one of them.")
        out.append(BudRule(
            key=row["key"], name=row.get("name") or row["key"],
            days=_whole_days(number(row, "days", table_name="bud_rules"), where),
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
    known = storages()
    categories = {r.key for r in bud_rules()}
    out = {}
    for key, s in _section("study").items():
        where = f"studies.toml [study.{key}]"
        missing = [c for c in ("name", "citation", "preparation", "category", "source",
                               "window_days") if not s.get(c)]
        if missing:
            raise CatalogError(f"{where}: missing {', '.join(missing)}.")
        if s["category"] not in categories:
            raise CatalogError(f"{where}: unknown category {s['category']!r}.")
        windows = {k: _whole_days(v, f"{where} window_days.{k}")
                   for k, v in dict(s["window_days"]).items()}
        if any(k not in known for k in windows):
            raise CatalogError(f"{where}: window_days keys must be among {', '.join(known)}.")
        match = dict(s.get("match", {}))
        if any(k not in MATCH_KEYS.values() for k in match):
            raise CatalogError(f"{where}: match keys must be among "
                               f"{', '.join(MATCH_KEYS.values())}.")
        out[key] = Study(key=key, name=s["name"], citation=s["citation"],
                         preparation=s["preparation"], category=s["category"],
                         window_days=windows, match=match, result=s.get("result", ""),
                         caveat=s.get("caveat", ""), source=s["source"])
    return out


def study(key: str) -> Study:
    found = studies()
    wanted = str(key).strip().lower()
    if wanted not in found:
        raise InputError(f"unknown stability study {key!r}.",
                         hint=f"Known: {', '.join(found)} (or leave out --study for the USP "
                              "<795> default).", field="study")
    return found[wanted]


def policy(key: str) -> Policy:
    section = _section("policy")
    wanted = str(key).strip().lower()
    if wanted not in section:
        raise InputError(f"unknown BUD policy {key!r}.", hint=f"Known: {', '.join(section)}.",
                         field="policy")
    p = section[wanted]
    cap = p.get("max_extended_days")
    if not p.get("source"):
        raise CatalogError(f"studies.toml [policy.{wanted}] has no source.")
    return Policy(wanted, p.get("name", wanted),
                  None if cap is None else _whole_days(cap, f"[policy.{wanted}]"), p["source"])


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
    if vehicle_category is None:
        raise InputError(f"the BUD category of a {kind} preparation depends on its vehicle.",
                         hint="Give the vehicle (or its category: "
                              f"{', '.join(r.key for r in bud_rules())}).", field="category")
    return bud_rule(vehicle_category).key


# ----------------------------------------------------------------------------- result


@dataclass(frozen=True, slots=True)
class Limit:
    """One limit on the BUD: its kind, what it is, the date it gives and why."""

    kind: str
    name: str
    date: dt.date
    source: str
    days: int | None = None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "name": self.name,
                               "date": self.date.isoformat(), "days": self.days,
                               "source": self.source}
        if self.note:
            out["note"] = self.note
        return out


@dataclass
class BudResult:
    category: str
    compounded: dt.date
    beyond_use_date: dt.date | None
    """None when refused."""
    limit: Limit | None
    """The limit that won (the first listed of tied ones); None when refused."""
    limits: list[Limit]
    """Every limit considered, in priority order; empty when refused."""
    stability_window_days: int | None
    """The attested study's window at this storage (None without a study)."""
    stability_window_end: dt.date | None
    storage: str
    day_counting: str
    policy: str
    findings: list[Finding] = field(default_factory=list)
    ties: list[Limit] = field(default_factory=list)
    """Other limits that fall on the same date as the winner."""
    study: str | None = None
    explanation: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    """JSON-ready context: category, study, day-counting and policy details."""

    @property
    def status(self) -> str:
        return status(self.findings)

    @property
    def refused(self) -> bool:
        return any(f.severity is Severity.REFUSAL for f in self.findings)

    def raise_if_refused(self) -> BudResult:
        """Self, or :class:`FormulationRefused` carrying the refusal messages."""
        if self.refused:
            messages = [f.message for f in self.findings if f.severity is Severity.REFUSAL]
            raise FormulationRefused("no BUD can be assigned: " + " ".join(messages))
        return self

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status, "category": self.category,
                               "compounded": self.compounded.isoformat()}
        if not self.refused and self.beyond_use_date and self.limit:
            out["beyond_use_date"] = self.beyond_use_date.isoformat()
            out["limit"] = self.limit.to_dict()
            out["ties"] = [t.to_dict() for t in self.ties]
            out["limits"] = [lim.to_dict() for lim in self.limits]
            out["stability_window_days"] = self.stability_window_days
            out["stability_window_end"] = (self.stability_window_end.isoformat()
                                           if self.stability_window_end else None)
            out["explanation"] = self.explanation
        out.update({"storage": self.storage, "day_counting": self.day_counting,
                    "policy": self.policy, "study": self.study})
        out.update(self.extra)
        out["findings"] = [f.to_dict() for f in sorted(self.findings, key=lambda f: -f.severity)]
        return out


# ----------------------------------------------------------------------------- assign_bud


def _pairs(items: Iterable[tuple[str, Any]], what: str) -> list[tuple[str, Any]]:
    out = []
    for n, item in enumerate(items, start=1):
        if not (isinstance(item, tuple | list) and len(item) == 2):
            raise InputError(f"{what} {n}: expected a (label, date) pair, got {item!r}.",
                             field=what)
        label = str(item[0]).strip() or f"{what} {n}"
        out.append((label, item[1]))
    return out


def _storage_key(storage: str | None) -> str | None:
    if storage is None:
        return None
    known = storages()
    key = str(storage).strip().lower()
    if key not in known:
        raise InputError(f"unknown storage {storage!r}.", hint=f"Use one of: {', '.join(known)}.",
                         field="storage")
    return key


def _normalise_preparation(preparation: Mapping[str, Any] | None) -> dict[str, Any]:
    if not preparation:
        return {}
    unknown = [k for k in preparation if k not in MATCH_KEYS]
    if unknown:
        raise InputError(f"unknown preparation detail(s) {', '.join(unknown)}.",
                         hint=f"Known: {', '.join(MATCH_KEYS)}.", field="preparation")
    out: dict[str, Any] = {}
    for key, value in preparation.items():
        if value is None or value == "":
            continue
        if key == "filler":
            from compound.planning.resolve import excipient

            out[key] = excipient(str(value))["key"]
        elif key == "concentration":
            out[key] = units.coerce(value, "concentration", field="strength")
        else:
            out[key] = str(value).strip().lower()
    return out


def _mismatches(st: Study, rule: BudRule, storage: str, prep: Mapping[str, Any],
                names: Mapping[str, str]) -> list[str]:
    """What about this preparation does not match the study (empty when it matches)."""
    out = []
    if st.category != rule.key:
        out.append(f"it studied {st.category} preparations, this one is {rule.key}")
    if storage not in st.window_days:
        tested = " or ".join(names[s] for s in st.window_days)
        out.append(f"it tested storage {tested}, not {names[storage]}")
    for key, value in prep.items():
        wanted = st.match.get(MATCH_KEYS[key])
        if wanted is None:
            continue
        if key == "concentration":
            if not math.isclose(value, float(wanted), rel_tol=1e-6):
                out.append(f"it tested {wanted:g} mg/mL, this preparation is "
                           f"{value:g} mg/mL")
        else:
            allowed = [str(w).lower() for w in (wanted if isinstance(wanted, list) else [wanted])]
            if value not in allowed:
                out.append(f"its {key} was {' or '.join(allowed)}, this preparation's is {value}")
    return out


def _shorter_study_warning(rule: BudRule, storage: str, prep: Mapping[str, Any],
                           names: Mapping[str, str]) -> Finding | None:
    """A study on this very vehicle or filler that supports less than the default."""
    identifying = {k: v for k, v in prep.items() if k in ("filler", "vehicle")}
    if not identifying:
        return None
    for st in studies().values():
        window = st.window_days.get(storage)
        if window is None or window >= rule.days or st.category != rule.key:
            continue
        studied = any(MATCH_KEYS[k] in st.match for k in identifying)
        if studied and not _mismatches(st, rule, storage, prep, names):
            return Finding(
                "STUDY_SUGGESTS_SHORTER_BUD", Severity.WARNING,
                f"{st.name} tested this {' and '.join(identifying)} and supports only {window} "
                f"days stored {names[storage]}, shorter than the USP <795> default of {rule.days} "
                f"days. Consider --study {st.key} --attest.",
                {"study": st.key, "window_days": window, "default_days": rule.days})
    return None


def _dates(items: list[tuple[str, Any]], what: str, month_allowed: bool,
           ) -> list[tuple[str, dt.date, bool]]:
    out = []
    for label, value in items:
        if month_allowed and isinstance(value, str):
            day, month_only = parse_expiry(value, f"{what} {label!r}")
        else:
            day, month_only = coerce_date(value, f"{what} {label!r}"), False
        out.append((label, day, month_only))
    return out


def _bud_date(compounded: dt.date, days: int, day_zero: bool) -> dt.date:
    return from_datetime64(core.beyond_use_date(to_datetime64(compounded), days, day_zero)[()])


def assign_bud(category: str, compounded: dt.date | str, *, storage: str | None = None,
               component_expiries: Sequence[tuple[str, Any]] = (),
               sub_lot_buds: Sequence[tuple[str, Any]] = (),
               study: str | None = None, attest: bool = False,
               policy: str = DEFAULT_POLICY, day_zero: bool = False,
               preparation: Mapping[str, Any] | None = None) -> BudResult:
    """The beyond-use date of one preparation, with the limit that won and why.

    Parameters
    ----------
    category : str
        USP <795> category key from bud_rules.csv (``aqueous-unpreserved``,
        ``aqueous-preserved``, ``nonaqueous-liquid``, ``nonaqueous-solid``).
    compounded : date or ``YYYY-MM-DD``
        The day compounding starts (the BUD runs from it: prior-art T22).
    storage : ``room`` | ``refrigerated``, optional
        Default: the study's only tested storage, else the category's default.
    component_expiries, sub_lot_buds : sequences of (label, date)
        Expiry of each component lot (``YYYY-MM`` = last day of the month)
        and the BUD of each sub-lot used (trituration, stock dilution).
    study : str, optional
        Study key from studies.toml; applies only with ``attest=True`` and a
        matching preparation.
    policy : ``usp795-2023`` | ``study``
        Under ``usp795-2023`` a study-based BUD is capped (180 days); under
        ``study`` the study's window is the limit. Both report the window.
    day_zero : bool
        Count the day of compounding as Day 0 (BUD = compounded + N) instead
        of Day 1 (BUD = compounded + N − 1, the default).
    preparation : mapping, optional
        What compound can check against the study: ``filler`` (excipient key
        or alias), ``vehicle`` (vehicle key), ``container``, ``concentration``
        (``"1mg/mL"`` or a pint quantity).

    Raises
    ------
    InputError, DateInputError
        Unknown category, study, policy or storage; a malformed date; a study
        with several storage windows and no storage given.
    """
    rule = bud_rule(category)
    pol = _policy(policy)
    compounded_date = coerce_date(compounded, "compounded")
    names = storages()
    store = _storage_key(storage)
    st = _study(study)
    prep = _normalise_preparation(preparation)
    components = _dates(_pairs(component_expiries, "component"), "component", True)
    sub_lots = _dates(_pairs(sub_lot_buds, "sub-lot"), "sub-lot", False)
    counting = day_counting(day_zero)
    findings: list[Finding] = []

    if store is None:
        store = _default_storage(rule, st, names, findings)
    if store not in rule.storage:
        allowed = " or ".join(names[s] for s in rule.storage)
        findings.append(Finding(
            "STORAGE_NOT_ALLOWED", Severity.REFUSAL,
            f"{rule.name} must be stored {allowed} (USP <795> 2023), not {names[store]}. "
            f"Use --storage {' or --storage '.join(rule.storage)}.",
            {"category": rule.key, "storage": store, "allowed": list(rule.storage),
             "source": rule.source}))

    window: int | None = None
    if st is not None:
        wrong = _mismatches(st, rule, store, prep, names)
        if wrong:
            findings.append(Finding(
                "STUDY_MISMATCH", Severity.REFUSAL,
                f"{st.key} does not apply to this preparation: {'; '.join(wrong)}. It covers "
                f"{st.preparation}. Leave out --study for the USP <795> default "
                f"({rule.days} days).", {"study": st.key, "mismatches": wrong}))
        elif not attest:
            findings.append(Finding(
                "STUDY_NOT_ATTESTED", Severity.REFUSAL,
                f"{st.key} applies only to {st.preparation}. Confirm that this preparation "
                f"matches it (--attest, or attest=True), or leave out --study for the USP <795> "
                f"default ({rule.days} days).", {"study": st.key}))
        else:
            window = st.window_days[store]
    else:
        if attest:
            findings.append(Finding("ATTEST_WITHOUT_STUDY", Severity.INFO,
                                    "--attest has no effect without --study."))
        shorter = _shorter_study_warning(rule, store, prep, names)
        if shorter:
            findings.append(shorter)

    comp_source = _component_limits("component-expiry")
    for label, day, month_only in components:
        if month_only:
            findings.append(Finding(
                "EXPIRY_MONTH_END", Severity.INFO,
                f"Component {label}: expiry {day:%Y-%m} read as {day.isoformat()} "
                f"({comp_source.get('month_rule', 'the last day of the month')}).",
                {"component": label, "expiry": day.isoformat()}))
    expired = [(label, day) for label, day, _ in components if day < compounded_date]
    if expired:
        findings.append(Finding(
            "COMPONENT_EXPIRED", Severity.REFUSAL,
            "A component has expired before the compounding date "
            f"{compounded_date.isoformat()}: "
            + "; ".join(f"{label} expired {day.isoformat()}" for label, day in expired)
            + ". Use an in-date lot.",
            {"expired": [{"component": lbl, "expiry": d.isoformat()} for lbl, d in expired]}))
    stale = [(label, day) for label, day, _ in sub_lots if day < compounded_date]
    if stale:
        findings.append(Finding(
            "SUB_LOT_EXPIRED", Severity.REFUSAL,
            f"A sub-lot is past its BUD on the compounding date {compounded_date.isoformat()}: "
            + "; ".join(f"{label} BUD {day.isoformat()}" for label, day in stale)
            + ". Prepare a fresh sub-lot.",
            {"expired": [{"sub_lot": lbl, "bud": d.isoformat()} for lbl, d in stale]}))

    extra = _context(rule, st, pol, counting, attest and window is not None)
    extra["storage_detail"] = {"key": store, "stored": names[store],
                               "source": _section("storage")[store]["source"]}
    result = BudResult(category=rule.key, compounded=compounded_date, beyond_use_date=None,
                       limit=None, limits=[], stability_window_days=None,
                       stability_window_end=None, storage=store, day_counting=counting["key"],
                       policy=pol.key, findings=findings, study=st.key if st else None,
                       extra=extra)
    if result.refused:
        return result
    return _decide(result, rule, st, pol, window, components, sub_lots, day_zero,
                   counting, names)


# assign_bud's keyword arguments `policy` and `study` shadow the functions of those names.
def _policy(key: str) -> Policy:
    return policy(key)


def _study(key: str | None) -> Study | None:
    return None if key is None or str(key).strip() == "" else study(key)


def _default_storage(rule: BudRule, st: Study | None, names: Mapping[str, str],
                     findings: list[Finding]) -> str:
    """The storage assumed when none is given, stated as an info finding."""
    if st is not None and st.category == rule.key:
        tested = [s for s in st.window_days if s in rule.storage]
        if len(tested) > 1:
            options = ", ".join(f"{st.window_days[s]} days {names[s]}" for s in tested)
            raise InputError(
                f"{st.key} gives a different BUD for each storage ({options}).",
                hint="Say how it will be stored: " + " or ".join(f"--storage {s}" for s in tested)
                     + ".", field="storage")
        if tested:
            findings.append(Finding(
                "STORAGE_ASSUMED", Severity.INFO,
                f"Storage not given: {st.key} tested storage {names[tested[0]]} only, so the "
                "label must say so.", {"storage": tested[0]}))
            return tested[0]
    default = rule.default_storage
    if len(rule.storage) == 1:
        why = "this category must be stored so"
    else:
        allowed = " or ".join(names[s] for s in rule.storage)
        why = f"USP <795> allows storage {allowed} for this category; give --storage to choose"
    findings.append(Finding("STORAGE_ASSUMED", Severity.INFO,
                            f"Storage not given: assumed storage {names[default]} ({why}).",
                            {"storage": default}))
    return default


def _context(rule: BudRule, st: Study | None, pol: Policy, counting: Mapping[str, str],
             attested: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "category_detail": {"key": rule.key, "name": rule.name, "days": rule.days,
                            "storage": list(rule.storage), "source": rule.source},
        "day_counting_rule": counting["rule"],
        "day_counting_source": counting["source"],
        "policy_detail": {"key": pol.key, "name": pol.name,
                          "max_extended_days": pol.max_extended_days, "source": pol.source},
    }
    if st is not None:
        out["study_detail"] = {"key": st.key, "name": st.name, "citation": st.citation,
                               "preparation": st.preparation, "result": st.result,
                               "caveat": st.caveat, "window_days": dict(st.window_days),
                               "attested": attested, "source": st.source}
    return out


def _decide(result: BudResult, rule: BudRule, st: Study | None, pol: Policy,
            window: int | None, components: list[tuple[str, dt.date, bool]],
            sub_lots: list[tuple[str, dt.date, bool]], day_zero: bool,
            counting: Mapping[str, str], names: Mapping[str, str]) -> BudResult:
    c = result.compounded
    cap = pol.max_extended_days
    days, kind = core.limit_days(rule.days, math.nan if window is None else window,
                                 math.inf if cap is None else cap)
    governing_days, governing_kind = int(days[()]), int(kind[()])

    considered: list[Limit] = []
    if st is None or window is None:
        governing = Limit("rule", f"USP <795> (2023) {rule.key}", _bud_date(c, rule.days, day_zero),
                          rule.source, rule.days, rule.name)
        considered.append(governing)
    else:
        study_limit = Limit("study", st.key, _bud_date(c, window, day_zero), st.citation, window,
                            f"{st.name}: {window} days stored {names[result.storage]}")
        considered.append(study_limit)
        governing = study_limit
        if cap is not None:
            cap_limit = Limit("policy-cap", f"{pol.key} cap", _bud_date(c, cap, day_zero),
                              pol.source, cap,
                              f"{pol.name} caps a study-based BUD at {cap} days")
            considered.append(cap_limit)
            if governing_kind == core.POLICY_CAP:
                governing = cap_limit
        result.stability_window_days = window
        result.stability_window_end = study_limit.date
    comp_source = _component_limits("component-expiry")["source"]
    for label, day, month_only in components:
        considered.append(Limit("component-expiry", label, day, comp_source, None,
                                f"expiry {day:%Y-%m} read as {day.isoformat()} (last day of the "
                                "month)" if month_only else None))
    sub_source = _component_limits("sub-lot")["source"]
    considered.extend(Limit("sub-lot", label, day, sub_source) for label, day, _ in sub_lots)

    candidates = [governing] + [lim for lim in considered if lim.kind in ("component-expiry",
                                                                            "sub-lot")]
    won = core.earliest(*(to_datetime64(lim.date) for lim in candidates))
    winner = candidates[int(won.winner[()])]
    result.limit = winner
    result.ties = [lim for lim in candidates if lim is not winner and lim.date == winner.date]
    result.limits = considered
    result.beyond_use_date = winner.date
    # No BUD can fall before compounding: limits are >= 1 day (checked when the catalog is
    # read) and an expiry or sub-lot BUD before the compounding date was refused above.
    _study_findings(result, rule, st, pol, window, governing_days, governing_kind, names)
    result.explanation = _explain(result, governing, governing_days, counting)
    return result


def _study_findings(result: BudResult, rule: BudRule, st: Study | None, pol: Policy,
                    window: int | None, governing_days: int, governing_kind: int,
                    names: Mapping[str, str]) -> None:
    if st is None or window is None:
        return
    if governing_kind == core.POLICY_CAP:
        result.findings.append(Finding(
            "STUDY_WINDOW_CAPPED", Severity.INFO,
            f"{st.key} supports {window} days, but {pol.name} caps a study-based BUD at "
            f"{pol.max_extended_days} days (the cap is quoted from a secondary source: verify "
            "against the official chapter). The full window is reported as the stability "
            "window.", {"window_days": window, "cap_days": pol.max_extended_days}))
    reference = _section("policy").get(REFERENCE_POLICY, {}).get("max_extended_days")
    if pol.max_extended_days is None and reference is not None and governing_days > reference:
        result.findings.append(Finding(
            "BUD_BEYOND_USP795_CAP", Severity.WARNING,
            f"A {governing_days}-day BUD exceeds the {reference}-day cap on extended BUDs in USP "
            "<795> (2023): use it only where your regulator accepts published stability data.",
            {"days": governing_days, "cap_days": reference}))
    if governing_days > rule.days and rule.extension_requirement:
        result.findings.append(Finding(
            "EXTENSION_REQUIREMENT", Severity.WARNING,
            f"This BUD ({governing_days} days) is longer than the {rule.key} default "
            f"({rule.days} days). {rule.extension_requirement}",
            {"days": governing_days, "default_days": rule.days}))
    if window < rule.days:
        result.findings.append(Finding(
            "STUDY_SHORTER_THAN_DEFAULT", Severity.INFO,
            f"{st.key} supports {window} days stored {names[result.storage]}, shorter than the "
            f"USP <795> default of {rule.days} days; the study's figure is used.",
            {"window_days": window, "default_days": rule.days}))


def _explain(result: BudResult, governing: Limit, days: int,
             counting: Mapping[str, str]) -> str:
    lim = result.limit
    assert lim is not None and result.beyond_use_date is not None
    minus = "" if counting["key"] == "day-0" else " − 1"
    count = (f"counting the day of compounding as {counting['name']} "
             f"({result.compounded.isoformat()} + {days}{minus} days)")
    if lim.kind == "rule":
        why = (f"the USP <795> (2023) default for {result.category} is {days} days, {count}; "
               "no component or sub-lot expires sooner")
    elif lim.kind == "study":
        why = (f"the attested study {lim.name} supports {days} days at this storage, {count}; "
               "no component or sub-lot expires sooner")
    elif lim.kind == "policy-cap":
        why = (f"the study {result.study} supports {result.stability_window_days} days, but the "
               f"{result.policy} policy caps a study-based BUD at {days} days, {count}")
    elif lim.kind == "component-expiry":
        why = (f"component {lim.name} expires on {lim.date.isoformat()}, before the {days}-day "
               f"{governing.kind} limit ({governing.date.isoformat()}); a BUD may not be later "
               "than any component's expiry")
    else:
        why = (f"sub-lot {lim.name} has a BUD of {lim.date.isoformat()}, before the {days}-day "
               f"{governing.kind} limit ({governing.date.isoformat()}); a preparation may not "
               "outlast a sub-lot it contains")
    text = f"BUD {result.beyond_use_date.isoformat()}: {why}."
    if result.ties:
        others = ", ".join(f"{t.kind} {t.name}" for t in result.ties)
        text += f" Tie: {others} falls on the same date."
    return text
