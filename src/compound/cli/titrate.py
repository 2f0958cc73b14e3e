"""``compound titrate``: a titration ladder or protocol → calendar, dispensing options, directions.

Exit codes as for ``compound plan``: 0 for a schedule (warnings allowed), 3 when a
step dose is refused (e.g. 50 mg) or opioid use is not overridden, 2 for bad input.
"""

from __future__ import annotations

import sys
from typing import Any

import click


def _list(as_json: bool) -> None:
    from compound.planning.titration import protocols

    found = protocols()
    if as_json:
        from compound.cli.output import emit_json

        emit_json([p.to_dict() for p in found.values()])
        return
    for p in found.values():
        click.echo(f"{p.key}: {p.name}")
        click.echo(f"    {p.describe()}")
        if p.note:
            click.echo(f"    note: {p.note}")
        click.echo(f"    source: {p.source}")


@click.command()
@click.option("--ladder", default=None, metavar="STEPS",
              help='Doses and lengths, e.g. "1.5mg x7d, 3mg x7d, 4.5mg x7d".')
@click.option("--protocol", default=None, metavar="NAME", help="A protocol from --list.")
@click.option("--list", "list_protocols", is_flag=True, help="Show the protocols and their sources.")
@click.option("--start", default=None, metavar="DATE", help="Day 1 of the course, YYYY-MM-DD.")
@click.option("--form", type=click.Choice(["capsules", "liquid", "all"]), default=None,
              help="Which dispensing options to compare.")
@click.option("--concentration", default=None, metavar="STRENGTH",
              help="Liquid strength, e.g. 1mg/mL (default 1mg/mL).")
@click.option("--vehicle", default=None, help="Liquid vehicle key (vehicles.csv): sets the BUD.")
@click.option("--bud-category", default=None, help="Liquid BUD category, instead of --vehicle.")
@click.option("--storage", type=click.Choice(["room", "refrigerated"]), default=None,
              help="How the liquid is stored.")
@click.option("--study", default=None, help="Stability study for the liquid's BUD (needs --attest).")
@click.option("--attest", is_flag=True, help="Attest the liquid matches the study.")
@click.option("--day-zero", is_flag=True, help="Count the compounding day as Day 0 for BUDs.")
@click.option("--made-ahead", default=None, metavar="DAYS",
              help="Compound each liquid preparation this long before its first day of use.")
@click.option("--capsule-strength", default=None, metavar="MASS",
              help="Strength for the single-strength option (default: the largest that fits).")
@click.option("--kit", default=None, metavar="MASS,MASS", help='Two kit strengths, e.g. "0.5mg,1.5mg".')
@click.option("--maintenance", default=None, metavar="DAYS",
              help="Days at the last dose after the ladder, e.g. 28d.")
@click.option("--ceiling", default=None, metavar="MASS", help="Replace a protocol's top dose.")
@click.option("--gi-sensitive", is_flag=True,
              help="GI side effects: increases of at most 0.5 mg a week (lengthens the ladder).")
@click.option("--reduce-at", multiple=True, metavar="DATE",
              help="Side effects: from DATE take half the dose for 7 days, then resume (repeatable).")
@click.option("--overage", default=None,
              help="Extra beyond the doses: capsules 1 or 5%; liquid 5% or 2mL per preparation.")
@click.option("--timing", default=None, help="When to take each dose: bedtime (default) or morning.")
@click.option("--opioid-use", is_flag=True, help="The patient takes opioids (a refusal unless overridden).")
@click.option("--override-opioid", default=None, metavar="REASON",
              help="Override the opioid refusal; the reason is recorded.")
@click.option("--json", "as_json", is_flag=True, help="Print the schedule as JSON.")
def titrate(list_protocols: bool, as_json: bool, **options: Any) -> None:
    """Titration schedule: dated calendar, what to dispense, label directions.

    Give --ladder or --protocol, --start and --form. Doses are naltrexone HCl.
    """
    if list_protocols:
        _list(as_json)
        return
    missing = [f"--{name}" for name in ("start", "form") if options[name] is None]
    if missing:
        raise click.UsageError(f"missing {' and '.join(missing)} (e.g. --start 2025-06-02 "
                               "--form capsules).")
    from compound.planning.titration import titrate as make

    ladder, protocol = options.pop("ladder"), options.pop("protocol")
    options["reduce_at"] = list(options["reduce_at"])
    plan = make(ladder, protocol=protocol, **options)
    if as_json:
        from compound.cli.output import emit_json

        emit_json(plan.to_dict())
    else:
        click.echo(plan.worksheet(), nl=False)
    if plan.refused:
        sys.exit(3)
