"""The titration worksheet as text: schedule, calendar, options, working."""

from __future__ import annotations

import datetime as dt
import textwrap
from typing import TYPE_CHECKING

from compound.core import titration as core
from compound.core.rounding import format_mass, format_volume
from compound.planning.worksheet import _MARK

if TYPE_CHECKING:
    from compound.planning.titration import TitrationPlan


def render(plan: TitrationPlan, width: int = 88) -> str:
    """The titration worksheet: schedule, calendar, options side by side, working."""
    def wrap(text: str, indent: int) -> list[str]:
        return textwrap.wrap(text, width, initial_indent=" " * indent,
                             subsequent_indent=" " * (indent + 4))

    lines = ["LDN titration schedule — worksheet", "=" * 60]
    lines += [f"  {k.replace('_', ' ')}: {v}" for k, v in plan.inputs.items() if v not in (None, "")]
    if plan.findings:
        lines += ["", "Findings"]
        for f in sorted(plan.findings, key=lambda f: -f.severity):
            lines += wrap(f"[{_MARK[f.severity]}] {f.code}: {f.message}", 2)
    if plan.refused:
        lines += ["", "REFUSED: no schedule or quantities are given for a refused titration.",
                  "Resolve the refusal above and plan again."]
        return "\n".join(lines) + "\n"
    e, total = plan.extra, plan.amounts["total_mg"]
    if e.get("protocol_detail"):
        p = e["protocol_detail"]
        lines += ["", f"Protocol: {p['name']} ({p['schedule']})", *wrap(f"source: {p['source']}", 2)]
        if p.get("note"):
            lines += wrap(f"note: {p['note']}", 2)
    lines += ["", "Schedule (naltrexone HCl, once a day)"] + [f"  {d}" for d in e["directions"]]
    lines.append(f"  Total: {format_mass(total or 0)} over {len(e['calendar'])} days "
                 f"(last day {core.format_day(dt.date.fromisoformat(e['end']))})")
    lines += ["", "Calendar"]
    for entry in e["calendar"]:
        day = dt.date.fromisoformat(entry["date"])
        lines.append(f"  Day {entry['day']:>3}  {core.format_weekday(day)} {core.format_day(day):<12}  "
                     f"{format_mass(entry['dose_mg'])}")
    for o in e["options"]:
        lines += ["", f"Option {o['name']}: {o['title']} [{o['status']}]"]
        for u in o.get("units", []):
            more = (f" + {u['overage_count']} overage = {u['count_to_prepare']}"
                    if "overage_count" in u else "")
            lines.append(f"  {u['count']} capsules of {format_mass(u['strength_mg'])}{more}")
            lines += wrap(f"next: {u['plan_command']}{_checked(u)}", 4)
        if "total_volume_ml" in o:
            lines += wrap(f"{format_volume(o['total_volume_ml'])} in all; dose volumes: "
                          + "; ".join(f"{format_mass(r['dose_mg'])} = {format_volume(r['volume_ml'])}"
                                      + (f" ({r['device']})" if r["device"] else "")
                                      for r in o["dose_volumes"]), 2)
        for p in o.get("preparations", []):
            over = (f" + {format_volume(p['overage_ml'])} overage" if "overage_ml" in p else "")
            lines += wrap(f"Part {p['part']}: compound {_day(p['compounded'])}, "
                          f"{format_volume(p['volume_ml'])}{over} ({format_mass(p['drug_mg'])}) for "
                          f"{p['days']} days, {_range(p['use_from'], p['use_until'])}; BUD "
                          f"{_day(p['beyond_use_date'])} ({p['storage']})", 2)
            lines += wrap(f"next: {p['plan_command']}{_checked(p)}", 4)
        if o.get("beyond_use_date"):
            lines.append(f"  BUD if compounded on day 1: {_day(o['beyond_use_date'])}")
        if o.get("directions"):
            lines.append("  Directions:")
            lines += [f"    {d}" for d in o["directions"]]
        for f in o["findings"]:
            lines += wrap(f"[{f['severity']}] {f['code']}: {f['message']}", 2)
    lines += ["", "Working (every number: formula, inputs, source)"]
    for n, step in enumerate(plan.working, start=1):
        lines.append(f"  {n:>2}. {step.label}: {step.result}")
        inputs = ", ".join(f"{k} = {v}" for k, v in step.inputs.items())
        lines += wrap(f"= {step.formula}" + (f"  [{inputs}]" if inputs else ""), 6)
        if step.source != "arithmetic":
            lines += wrap(f"source: {step.source}", 6)
        if step.note:
            lines += wrap(f"note: {step.note}", 6)
    lines += ["", "Amounts are rounded to 4 significant figures at output; counts are whole units."]
    return "\n".join(lines) + "\n"


def _range(first: str, last: str) -> str:
    return core.format_date_range(dt.date.fromisoformat(first), dt.date.fromisoformat(last))


def _day(iso: str) -> str:
    return core.format_day(dt.date.fromisoformat(iso))


def _checked(part: dict[str, object]) -> str:
    """`` (its plan with defaults: warning: TABLET_WEIGHT_MISSING)``."""
    warnings = part.get("plan_warnings") or []
    what = part.get("plan_status")
    if warnings:
        what = f"{what}: {', '.join(map(str, warnings))}"
    return f"  (its plan with defaults: {what})"
