"""``compound plan drops``: LDN sublingual drops with a calibrated dropper."""

from __future__ import annotations

from typing import Any

import click

from compound.cli.plan import common_options, finish, source_options


@click.command(name="drops")
@click.option("--per-drop", default=None, metavar="MASS", help="Naltrexone per drop, e.g. 0.5mg.")
@click.option("--strength", default=None, metavar="CONC", help="Or a concentration, e.g. 10mg/mL.")
@click.option("--calibration", default=None, metavar="COUNT",
              help="Drops counted into a measured volume, e.g. '46 drops/2mL'.")
@click.option("--drops-per-ml", default=None, metavar="N", help="Or the dropper's drops per mL, e.g. 23.")
@click.option("--volume", default=None, metavar="VOLUME", help="Volume to make, e.g. 30mL.")
@click.option("--dose", default=None, metavar="MASS",
              help="One daily dose, e.g. 4.5mg (or '9 drops' with a calibration).")
@click.option("--vehicle", default=None,
              help="Vehicle from the catalog: fawcett-1997 (default, preserved) or purified-water.")
@common_options
@source_options
def command(per_drop: str | None, strength: str | None, calibration: str | None,
            drops_per_ml: str | None, volume: str | None, dose: str | None, vehicle: str | None,
            as_json: bool, basis: str, balance_key: str | None, balance_sensitivity: str | None,
            opioid_use: bool, override_opioid: str | None, **source: Any) -> None:
    """Sublingual drops: --per-drop or --strength, and --volume.

    Calibrate the dropper with the preparation (--calibration or --drops-per-ml);
    without one the USP dropper (20 drops/mL ± 10 %) is assumed and the plan
    warns with the range of dose delivered.
    """
    from compound.planning.drops import plan_drops

    result = plan_drops(
        per_drop=per_drop, strength=strength, calibration=calibration, drops_per_ml=drops_per_ml,
        volume=volume, dose=dose, vehicle=vehicle, basis=basis, balance=balance_key,
        balance_sensitivity=balance_sensitivity, opioid_use=opioid_use,
        override_opioid=override_opioid, **source,
    )
    finish(result, as_json)


# Drops are made from API by default (dropper dosing of a tablet suspension is unreliable);
# the shared source option defaults to tablets, so the default is changed for this command only.
for _param in command.params:
    if _param.name == "source":
        _param.default = "api"
