"""A supply (or a course) that lasts longer than its beyond-use date: one rule for every form.

A liquid's days supplied, drops' days supplied and a titration course are each compared
with the days from compounding to the BUD (both days counted: compounded 10 Mar, BUD
23 Mar = 14 days of use). When the supply is longer, the finding says how many
preparations (fills) it takes and how much one may hold.

Notes
-----
``usable days = BUD − compounded + 1``; ``preparations = ⌈days needed ÷ usable days⌉``;
the most one preparation may hold = ``usable days × amount used a day``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from compound.core.findings import Finding, Severity
from compound.core.rounding import ceil_count, format_count, format_volume
from compound.planning.stability.rules import bud_rule


@dataclass(frozen=True)
class BudWindow:
    """The days a preparation may be used, and where that comes from."""

    usable_days: int
    beyond_use_date: dt.date | None
    """None for a category's default (no compounding date given)."""
    described: str
    source: str


def window_from_bud(compounded: dt.date, beyond_use_date: dt.date, described: str,
                    source: str) -> BudWindow:
    """The window of an assigned BUD: from the compounding day to the BUD, both counted."""
    return BudWindow((beyond_use_date - compounded).days + 1, beyond_use_date, described, source)


def default_window(category: str) -> BudWindow:
    """A category's default BUD (bud_rules.csv), when no compounding date is given."""
    rule = bud_rule(category)
    return BudWindow(rule.days, None, f"the {rule.days}-day USP <795> default BUD for {rule.key} "
                                      "(no --compounded given)", rule.source)


def longer_than_bud(code: str, days_needed: float, window: BudWindow, *, lead: str,
                    noun: str = "preparations", daily_ml: float | None = None) -> Finding | None:
    """A warning when ``days_needed`` is longer than ``window``; None when it fits.

    ``lead`` opens the message (what lasts how long); ``daily_ml``, when given, is the
    volume used a day, from which the most one preparation may hold follows.
    """
    if not days_needed > window.usable_days:
        return None
    n = int(ceil_count(days_needed / window.usable_days))
    data: dict[str, object] = {"days_needed": int(days_needed) if float(days_needed).is_integer()
                               else days_needed, "usable_days": window.usable_days,
                               noun: n}
    if window.beyond_use_date is not None:
        data["beyond_use_date"] = window.beyond_use_date.isoformat()
    most = ""
    if daily_ml is not None:
        allowed = window.usable_days * daily_ml
        data["volume_allowed_ml"] = allowed
        most = f" of at most {format_volume(allowed)} each"
    data["source"] = window.source
    return Finding(code, Severity.WARNING,
                   f"{lead}, longer than {window.described}: dispense it in {n} {noun}{most}, "
                   f"each compounded no more than {format_count(window.usable_days, 'day')} before "
                   "its last day of use.", data)
