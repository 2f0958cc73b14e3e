"""``compound plan capsules``: LDN capsules from 50 mg tablets or API powder."""

from __future__ import annotations

import click

from compound.cli.plan import common_options, finish, source_options


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--strength", required=True, metavar="MASS",
              help="Strength per capsule, e.g. 4.5mg (naltrexone HCl unless --basis base).")
@click.option("--count", required=True, metavar="N", help="Capsules prescribed, e.g. 30.")
@click.option("--overage", default="0", show_default=True, metavar="N|PCT",
              help="Extra capsules (1) or a percentage (5%, rounded up to whole capsules).")
@click.option("--fill-weight", default=None, metavar="MASS",
              help="Powder one capsule holds (your pack statistic), e.g. 100mg. Default: your "
                   "catalog's pack statistic, else capsule volume × filler bulk density.")
@click.option("--capsule-size", default=None, metavar="SIZE", help="Capsule size, e.g. 3 (default 3).")
@click.option("--filler", default=None, help="Filler key or alias from the catalog (default mcc).")
@click.option("--route", type=click.Choice(["weighed", "whole-tablets"]), default=None,
              help="Tablets: weigh the powder (needs --tablet-weight) or crush whole tablets into the "
                   "closest capsule count. Default: weighed when --tablet-weight is given.")
@source_options
@common_options
def command(strength: str, count: str, overage: str, fill_weight: str | None, capsule_size: str | None,
            filler: str | None, route: str | None, source: str, product: str | None,
            tablet_weight: str | None, api_form: str, assay: str | None, water: str | None,
            as_json: bool, basis: str, balance_key: str | None, balance_sensitivity: str | None,
            opioid_use: bool, override_opioid: str | None) -> None:
    """Plan LDN capsules: powder to weigh, filler, blend, weight window, trituration."""
    from compound.planning.capsules import plan_capsules

    plan = plan_capsules(
        strength, count, overage=overage, source=source, tablet_weight=tablet_weight,
        fill_weight=fill_weight, capsule_size=capsule_size, filler=filler, api_form=api_form,
        assay=assay, water=water, basis=basis, product=product, route=route, balance=balance_key,
        balance_sensitivity=balance_sensitivity, opioid_use=opioid_use, override_opioid=override_opioid,
    )
    finish(plan, as_json)
