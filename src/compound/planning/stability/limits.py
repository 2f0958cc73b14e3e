"""Every limit on the BUD, the one that wins, and what a study-based BUD must be warned about.

The date arithmetic is :mod:`compound.core.bud`'s; this module turns the
catalog's rule, study and policy into :class:`~.result.Limit` objects around it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping

from compound.core import bud as core
from compound.core.dates import from_datetime64, to_datetime64
from compound.core.findings import Finding, Severity
from compound.planning.stability.explain import _explain
from compound.planning.stability.result import BudResult, Limit
from compound.planning.stability.rules import (
    BudRule,
    Policy,
    Study,
    _component_limits,
    _month_rule,
    _reference_cap,
)


def _bud_date(compounded: dt.date, days: int, day_zero: bool) -> dt.date:
    return from_datetime64(core.beyond_use_date(to_datetime64(compounded), days, day_zero)[()])


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
    month_rule = _month_rule()
    for label, day, month_only in components:
        considered.append(Limit("component-expiry", label, day, comp_source, None,
                                f"expiry {day:%Y-%m} read as {day.isoformat()} ({month_rule})"
                                if month_only else None))
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
    reference = _reference_cap()
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

