"""``compound plan capsules|liquid|drops|dilution``: one group, one module per form.

Each form's command lives in ``plan_<form>.py`` and uses the shared options and
:func:`finish` here, so every form prints the same way and exits the same way:
0 for a plan (warnings allowed), 3 for a refusal, 2 for bad input.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from compound.planning.base import Plan

F = TypeVar("F", bound=Callable[..., Any])


@click.group()
def plan() -> None:
    """Plan a preparation and show the working.

    Amounts are typed with their unit: 4.5mg, 500mcg, 1mg/mL, 30mL, 5%.
    Strengths are naltrexone HCl unless --basis base.
    """


def common_options(func: F) -> F:
    """Options every form shares: output, salt basis, balance, safety."""
    options = [
        click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON."),
        click.option("--basis", type=click.Choice(["hcl", "base"]), default="hcl", show_default=True,
                     help="Whether strengths are naltrexone HCl or naltrexone base."),
        click.option("--balance", "balance_key", default=None,
                     help="Balance profile from the catalog (default: class-iii)."),
        click.option("--balance-sensitivity", default=None, metavar="MASS",
                     help="Your balance's sensitivity requirement, e.g. 6mg or 1mg."),
        click.option("--opioid-use", is_flag=True,
                     help="The patient takes opioids (a refusal unless overridden)."),
        click.option("--override-opioid", default=None, metavar="REASON",
                     help="Override the opioid refusal; the reason is recorded."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def source_options(func: F) -> F:
    """Options for where the drug comes from: tablets or API powder."""
    options = [
        click.option("--source", type=click.Choice(["tablet", "api"]), default="tablet",
                     show_default=True, help="Crushed 50 mg tablets or API powder."),
        click.option("--product", default=None,
                     help="Product key from the catalog (default: the 50 mg tablet or the API "
                          "matching --api-form)."),
        click.option("--tablet-weight", default=None, metavar="MASS",
                     help="Measured average tablet weight (weigh 20 tablets, divide by 20)."),
        click.option("--api-form", type=click.Choice(["anhydrous", "dihydrate", "base"]),
                     default="anhydrous", show_default=True, help="Salt/hydrate form of the API."),
        click.option("--assay", default=None, metavar="PCT",
                     help="CoA assay on the anhydrous basis, e.g. 99.2%."),
        click.option("--water", default=None, metavar="PCT",
                     help="CoA water content, e.g. 8.71%."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def finish(result: Plan, as_json: bool) -> None:
    """Print a plan as a worksheet or JSON; exit 3 when it is refused."""
    if as_json:
        from compound.cli.output import emit_json

        emit_json(result.to_dict())
    else:
        click.echo(result.worksheet(), nl=False)
    if result.refused:
        sys.exit(3)


def _register_forms() -> None:
    import importlib

    for form in ("capsules", "liquid", "drops", "dilution"):
        try:
            module = importlib.import_module(f"compound.cli.plan_{form}")
        except ModuleNotFoundError as exc:
            if exc.name != f"compound.cli.plan_{form}":
                raise
            continue
        plan.add_command(module.command, name=form)


_register_forms()
