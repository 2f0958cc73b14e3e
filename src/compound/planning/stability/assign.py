""":func:`assign_bud`: the beyond-use date of one preparation, with the limit that won and why."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from compound.core.dates import coerce_date, parse_expiry
from compound.core.findings import Finding, Severity
from compound.errors import InputError
from compound.planning.stability.limits import _decide
from compound.planning.stability.matching import _mismatches, _normalise_preparation, _shorter_study_warning
from compound.planning.stability.result import BudResult
from compound.planning.stability.rules import (
    DEFAULT_POLICY,
    BudRule,
    Policy,
    Study,
    _month_rule,
    _section,
    bud_rule,
    day_counting,
    policy,
    storages,
    study,
)
from compound.planning.stability.storage import _default_storage, _storage_key


def _pairs(items: Iterable[tuple[str, Any]], what: str) -> list[tuple[str, Any]]:
    out = []
    for n, item in enumerate(items, start=1):
        if not (isinstance(item, tuple | list) and len(item) == 2):
            raise InputError(f"{what} {n}: expected a (label, date) pair, got {item!r}.",
                             field=what)
        label = str(item[0]).strip() or f"{what} {n}"
        out.append((label, item[1]))
    return out


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

    month_rule = _month_rule()
    for label, day, month_only in components:
        if month_only:
            findings.append(Finding(
                "EXPIRY_MONTH_END", Severity.INFO,
                f"Component {label}: expiry {day:%Y-%m} read as {day.isoformat()} "
                f"({month_rule}).",
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

