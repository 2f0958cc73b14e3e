"""``compound plan dilution``: a microgram-strength liquid by serial dilution."""

from __future__ import annotations

from typing import Any

import click

from compound.cli.plan import common_options, finish, source_options


@click.command(name="dilution")
@click.option("--strength", default=None, metavar="CONC", help="Final concentration, e.g. 1mcg/mL.")
@click.option("--volume", default=None, metavar="VOLUME", help="Final volume, e.g. 30mL.")
@click.option("--dose", default=None, metavar="MASS", help="One daily dose, e.g. 5mcg.")
@click.option("--vehicle", default=None,
              help="Vehicle for the last stage: fawcett-1997 (default) or purified-water.")
@common_options
@source_options
def command(strength: str | None, volume: str | None, dose: str | None, vehicle: str | None,
            as_json: bool, basis: str, balance_key: str | None, balance_sensitivity: str | None,
            opioid_use: bool, override_opioid: str | None, **source: Any) -> None:
    """Serial dilution: --strength and --volume.

    Weigh at least the minimum weighable quantity, dissolve to a stock, and
    dilute by measured volumes (at most 1:100 a stage) to the final strength.
    """
    from compound.planning.dilution import plan_dilution

    result = plan_dilution(
        strength, volume, dose=dose, vehicle=vehicle, basis=basis, balance=balance_key,
        balance_sensitivity=balance_sensitivity, opioid_use=opioid_use,
        override_opioid=override_opioid, **source,
    )
    finish(result, as_json)


# A dilution starts from API powder by default; the shared source option defaults to tablets.
for _param in command.params:
    if _param.name == "source":
        _param.default = "api"
