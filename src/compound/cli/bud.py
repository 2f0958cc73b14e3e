"""``compound bud``: the beyond-use date of a preparation, with the limit that won.

Exit codes: 0 a BUD (warnings allowed), 3 refused (storage not allowed, study
mismatch or not attested, expired component or sub-lot), 2 bad input.
"""

from __future__ import annotations

import sys
import textwrap
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from compound.planning.stability import BudResult, Limit

_MARK = {"refusal": "REFUSED", "warning": "WARNING", "info": "info"}


def labelled_dates(values: tuple[str, ...], what: str) -> list[tuple[str, str]]:
    """``LABEL=DATE`` or ``DATE`` → (label, date text); unlabelled ones are numbered."""
    out = []
    for n, value in enumerate(values, start=1):
        label, sep, date = value.rpartition("=")
        out.append((label.strip() if sep and label.strip() else f"{what} {n}", date.strip()))
    return out


@click.command()
@click.option("--category", required=True, metavar="CATEGORY",
              help="USP <795> category: aqueous-unpreserved, aqueous-preserved, "
                   "nonaqueous-liquid or nonaqueous-solid (capsules).")
@click.option("--compounded", default=None, metavar="YYYY-MM-DD",
              help="Date compounding starts (default: today).")
@click.option("--storage", default=None, metavar="room|refrigerated",
              help="How the preparation will be stored (default: the study's or the category's).")
@click.option("--component-expiry", "component_expiry", multiple=True, metavar="[LABEL=]DATE",
              help="Expiry of a component lot (YYYY-MM-DD, or YYYY-MM = last day of the month). "
                   "Repeat for each component.")
@click.option("--sub-lot-bud", "sub_lot_bud", multiple=True, metavar="[LABEL=]DATE",
              help="BUD of a sub-lot used (trituration, stock dilution). Repeat for each.")
@click.option("--study", default=None, metavar="STUDY",
              help="Stability study that backs the BUD: cote-2018 or fawcett-1997.")
@click.option("--attest", is_flag=True,
              help="You attest the preparation matches the study (formula, container, storage).")
@click.option("--policy", "policy_key", default="usp795-2023", show_default=True,
              metavar="usp795-2023|study",
              help="usp795-2023 caps a study-based BUD at 180 days; study uses the study window.")
@click.option("--day-zero", is_flag=True,
              help="Count the day of compounding as Day 0 (BUD = date + N) instead of Day 1.")
@click.option("--filler", default=None, help="Capsule filler (checked against the study).")
@click.option("--vehicle", default=None, help="Liquid vehicle key (checked against the study).")
@click.option("--container", default=None,
              help="Container, e.g. light-resistant (checked against the study).")
@click.option("--strength", default=None, metavar="CONC",
              help="Concentration of a liquid, e.g. 1mg/mL (checked against the study).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def bud(category: str, compounded: str | None, storage: str | None,
        component_expiry: tuple[str, ...], sub_lot_bud: tuple[str, ...], study: str | None,
        attest: bool, policy_key: str, day_zero: bool, filler: str | None, vehicle: str | None,
        container: str | None, strength: str | None, as_json: bool) -> None:
    """Beyond-use date: the earliest of the USP <795> limit (or an attested study),
    every component's expiry and every sub-lot's BUD, with the limit that won.

    \b
    Example:
      compound bud --category nonaqueous-solid --compounded 2025-03-10 \\
        --component-expiry "naltrexone 50 mg tablets=2025-06"
    """
    from compound import paths
    from compound.planning.stability import assign_bud

    result = assign_bud(
        category, compounded if compounded is not None else paths.today(), storage=storage,
        component_expiries=labelled_dates(component_expiry, "component"),
        sub_lot_buds=labelled_dates(sub_lot_bud, "sub-lot"), study=study, attest=attest,
        policy=policy_key, day_zero=day_zero,
        preparation={"filler": filler, "vehicle": vehicle, "container": container,
                     "concentration": strength})
    if as_json:
        from compound.cli.output import emit_json

        emit_json(result.to_dict())
    else:
        click.echo(render(result), nl=False)
    if result.refused:
        sys.exit(3)


def _wrap(text: str, indent: int, width: int = 88) -> list[str]:
    return textwrap.wrap(text, width, initial_indent=" " * indent,
                         subsequent_indent=" " * (indent + 2))


def _limit_line(lim: Limit, winner: Limit | None, ties: list[Limit]) -> str:
    days = f"{lim.days} days → " if lim.days is not None else ""
    mark = "  ← BUD" if lim is winner else ("  ← BUD (tie)" if lim in ties else "")
    return f"  * {lim.kind}: {lim.name}: {days}{lim.date.isoformat()}{mark}"


def render(result: BudResult, width: int = 88) -> str:
    """The BUD as text: the date, why, every limit with its source, the findings."""
    extra = result.extra
    head = result.beyond_use_date.isoformat() if result.beyond_use_date else "REFUSED"
    category = extra["category_detail"]
    lines = [f"Beyond-use date: {head}", "=" * 60,
             f"  category: {result.category} ({category['name']}; default "
             f"{category['days']} days)",
             f"  compounded: {result.compounded.isoformat()}",
             f"  day counting: {extra['day_counting_rule']}",
             f"  storage: {result.storage} (stored {extra['storage_detail']['stored']})",
             f"  policy: {result.policy} ({extra['policy_detail']['name']})"]
    study = extra.get("study_detail")
    if study:
        lines += _wrap(f"study: {study['key']}: {study['citation']}", 2, width)
    if result.stability_window_days is not None and result.stability_window_end:
        lines.append(f"  stability window: {result.stability_window_days} days, to "
                     f"{result.stability_window_end.isoformat()}")
    if result.explanation:
        lines += ["", *_wrap(f"Why: {result.explanation}", 0, width)]
    if result.limits:
        lines += ["", "Limits considered (the earliest wins)"]
        for lim in result.limits:
            lines.append(_limit_line(lim, result.limit, result.ties))
            if lim.note:
                lines += _wrap(f"note: {lim.note}", 6, width)
            lines += _wrap(f"source: {lim.source}", 6, width)
    findings = sorted(result.findings, key=lambda f: -f.severity)
    if findings:
        lines += ["", "Findings"]
        for f in findings:
            lines += textwrap.wrap(f.message, width,
                                   initial_indent=f"  [{_MARK[str(f.severity)]}] {f.code}: ",
                                   subsequent_indent=" " * 6)
    if result.refused:
        lines += ["", "REFUSED: no beyond-use date is given. Resolve the refusal above and run "
                  "again."]
    return "\n".join(lines) + "\n"
