"""``compound plan liquid``: an LDN oral liquid from whole tablets or API powder."""

from __future__ import annotations

from typing import Any

import click

from compound.cli.plan import common_options, finish, source_options


@click.command(name="liquid")
@click.option("--strength", default=None, metavar="CONC", help="Concentration, e.g. 1mg/mL.")
@click.option("--volume", default=None, metavar="VOLUME", help="Volume to make, e.g. 100mL.")
@click.option("--dose", default=None, metavar="MASS", help="One daily dose, e.g. 4.5mg.")
@click.option("--days", default=None, metavar="DAYS",
              help="Days to supply (with --dose, instead of --volume), e.g. 14d.")
@click.option("--vehicle", default=None,
              help="Vehicle from the catalog: fawcett-1997 (default, preserved) or purified-water.")
@click.option("--overage", default=None, metavar="PCT",
              help="Extra volume to prepare for losses, e.g. 5%.")
@common_options
@source_options
def command(strength: str | None, volume: str | None, dose: str | None, days: str | None,
            vehicle: str | None, overage: str | None, as_json: bool, basis: str,
            balance_key: str | None, balance_sensitivity: str | None, opioid_use: bool,
            override_opioid: str | None, **source: Any) -> None:
    """Oral liquid: --strength with --volume, or with --dose and --days.

    From tablets (a suspension) the drug is whole tablets: give --tablet-weight
    to weigh a fraction of the powder, otherwise the volume is raised to whole
    tablets. From API (a solution) below the balance's minimum weighable
    quantity a stock is made and an aliquot taken.
    """
    from compound.planning.liquid import plan_liquid

    result = plan_liquid(
        strength, volume=volume, dose=dose, days=days, vehicle=vehicle, overage=overage,
        basis=basis, balance=balance_key, balance_sensitivity=balance_sensitivity,
        opioid_use=opioid_use, override_opioid=override_opioid, **source,
    )
    finish(result, as_json)
