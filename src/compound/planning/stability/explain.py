"""The one-paragraph explanation of a BUD: which limit won, counted how, and any tie."""

from __future__ import annotations

from collections.abc import Mapping

from compound.planning.stability.result import BudResult, Limit


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

