"""``compound plan capsules|liquid|drops|dilution``: one group, one module per form.

Each form's command lives in ``plan_<form>.py`` and uses the shared options and
:func:`finish` here, so every form prints the same way and exits the same way:
0 for a plan (warnings allowed), 3 for a refusal, 2 for bad input.
"""

from __future__ import annotations

import functools
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


def dating_params() -> list[click.Option]:
    """Options every form gets: the BUD (--compounded …) and saving the lot (--save …)."""
    return [
        click.Option(["--compounded"], default=None, metavar="YYYY-MM-DD",
                     help="Compounding date: adds the beyond-use date to the plan."),
        click.Option(["--storage"], default=None, metavar="room|refrigerated",
                     help="Storage (default: what the BUD category or study requires)."),
        click.Option(["--study"], default=None, metavar="STUDY",
                     help="Stability study backing the BUD (cote-2018, fawcett-1997)."),
        click.Option(["--attest"], is_flag=True,
                     help="Attest the preparation matches the study (formula, container, storage)."),
        click.Option(["--policy"], default="usp795-2023", show_default=True,
                     metavar="usp795-2023|study", help="BUD policy."),
        click.Option(["--day-zero"], is_flag=True,
                     help="Count the compounding day as Day 0 (default Day 1: one day shorter)."),
        click.Option(["--container"], default=None, help="Container (checked against a study)."),
        click.Option(["--component-expiry"], multiple=True, metavar="[LABEL=]DATE",
                     help="A component's expiry (repeatable); YYYY-MM means month end."),
        click.Option(["--ingredient-lot"], multiple=True, metavar="LOT[=AMOUNT]",
                     help="Register lot used (repeatable): its expiry caps the BUD; recorded with "
                          "--save. Two lots of one ingredient: LOT=AMOUNT each (MCC77=1271mg)."),
        click.Option(["--save"], is_flag=True,
                     help="Record the lot in the register (needs --compounded, --by)."),
        click.Option(["--by"], default=None, metavar="INITIALS", help="Compounder's initials."),
        click.Option(["--checked-by"], default=None, metavar="INITIALS", help="Checker's initials."),
        click.Option(["--as-of"], default=None, metavar="YYYY-MM-DD",
                     help="With --save: the day the lot is entered for, when entered late "
                          "(needs --reason); default today by the real clock."),
        click.Option(["--reason"], default=None, help="With --as-of: why the lot is entered late."),
        click.Option(["--db"], default=None, metavar="PATH|URL", help="Register database."),
    ]


def _all_params() -> list[click.Option]:
    from compound.cli.plan_rx import rx_params

    return [*dating_params(), *rx_params()]


_DATING_KEYS = tuple(p.name for p in _all_params())


def _check_dating(params: dict[str, Any]) -> None:
    """Options that need each other, checked before anything is read or planned."""
    from compound.errors import InputError

    if not params.get("compounded") and (params.get("save") or params.get("ingredient_lot")):
        raise InputError("--save and --ingredient-lot need the compounding date.",
                         hint="Add --compounded YYYY-MM-DD.", field="compounded")
    if params.get("save") and not params.get("by"):
        raise InputError("--save needs the compounder's initials.", hint="Add --by AB.",
                         field="by")
    from compound.cli import plan_rx

    plan_rx.check(params)
    if params.get("ingredient_lot") or params.get("checked_by"):
        from compound.register import validate
        from compound.register.from_plan import lot_options

        lot_options(params.get("ingredient_lot") or ())
        if params.get("by"):
            validate.checker(params.get("checked_by"), params["by"])
    if (params.get("as_of") or params.get("reason")) and not params.get("save"):
        raise InputError("--as-of and --reason date a saved lot entered late.",
                         hint="Add --save (or leave them out).", field="as_of")
    if params.get("save"):  # refused before planning: the real clock dates every entry
        from compound.register.entry import entry_date

        entry_date(params.get("as_of"), params.get("reason"))


def _date_and_save(result: Plan, params: dict[str, Any]) -> None:
    from compound.cli import plan_rx

    if not params.get("compounded"):
        plan_rx.carry(result, params, None)
        return
    lots_named: tuple[str, ...] = ()
    lot_amounts: dict[str, str] = {}
    if params.get("ingredient_lot"):  # the register's modules (and a database library) only then
        from compound.register.from_plan import lot_options

        lots_named, lot_amounts = lot_options(params["ingredient_lot"])
    from compound.cli.bud import labelled_dates
    from compound.planning.dating import date_plan

    expiries = labelled_dates(tuple(params.get("component_expiry") or ()), "component")
    register = None
    ingredient_lots = []
    if lots_named or params.get("save"):
        from compound.register.lots import Register

        register = Register.open(params.get("db"))
    try:
        if register is not None:
            ingredient_lots = [register.get_ingredient(lot) for lot in lots_named]
            expiries += [(f"{lot.item_name} lot {lot.lot_number}", lot.expiry)
                         for lot in ingredient_lots]
        bud = date_plan(result, params["compounded"], storage=params.get("storage"),
                        study=params.get("study"), attest=bool(params.get("attest")),
                        policy=params.get("policy") or "usp795-2023",
                        day_zero=bool(params.get("day_zero")), container=params.get("container"),
                        component_expiries=expiries)
        saving = params.get("save") and register is not None and not result.refused
        if saving and not lots_named:  # a refused plan says why it is refused instead
            from compound.errors import InputError

            raise InputError("--save records the lot with the ingredient lots it used: name "
                             "each with --ingredient-lot LOT.",
                             hint="e.g. --ingredient-lot NTX2403 --ingredient-lot MCC77 (lots "
                                  "received with compound lots receive …).",
                             field="ingredient_lot")
        plan_rx.carry(result, params, register if saving else None)
        if saving:
            from compound.register.from_plan import record_plan

            assert register is not None
            result.extra["lot_number"] = record_plan(
                register, result, bud, compounded_by=params["by"],
                checked_by=params.get("checked_by"), ingredient_lots=ingredient_lots,
                as_of=params.get("as_of"), reason=params.get("reason"), amounts=lot_amounts)
            click.get_current_context().meta["compound.saved_lot"] = register.get(
                result.extra["lot_number"])
    finally:
        if register is not None:
            register.close()


def finish(result: Plan, as_json: bool) -> None:
    """Date and save the plan when asked, print it as a worksheet or JSON; exit 3 when refused."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        result.findings.extend(ctx.meta.get("compound.measured_from_lots", []))
        _date_and_save(result, ctx.params)
    if as_json:
        from compound.cli.output import emit_json

        emit_json(result.to_dict())
    else:
        click.echo(result.worksheet(), nl=False)
        saved = ctx.meta.get("compound.saved_lot") if ctx is not None else None
        if saved is not None:
            from compound.cli.lots import saved_summary

            click.echo(saved_summary(saved))
    if result.refused:
        sys.exit(3)


def _exact(value: float) -> str:
    """A stored float as the shortest decimal that reads back to it (no rounding)."""
    import numpy as np

    return str(np.format_float_positional(value, trim="-"))


def _measurements_from_lots(kwargs: dict[str, Any], lots_named: tuple[str, ...],
                            db: str | None) -> None:
    """Fill the plan's blanks from what was measured at receipt; a typed value wins.

    A tablet lot gives its measured average tablet weight, an API lot its CoA assay and
    water, a filler lot its pack statistic for the capsule size. Each one used is shown
    as a finding, so the worksheet says where the number came from.
    """
    from decimal import Decimal

    from compound.core.findings import Finding, Severity
    from compound.register.lots import Register

    with Register.open(db) as register:
        lots = [register.get_ingredient(lot) for lot in lots_named]
    used: list[Finding] = []

    def take(option: str, text: str, what: str, lot: Any) -> None:
        if option in kwargs and kwargs[option] is None:
            kwargs[option] = text
            used.append(Finding(
                "MEASURED_FROM_LOT", Severity.INFO,
                f"{what} {text} from ingredient lot {lot.lot_number} ({lot.item_name}), recorded "
                f"on receipt {lot.received.isoformat()} by {lot.received_by}.",
                {"option": option, "value": text, "lot": lot.lot_number}))

    source = kwargs.get("source")
    for lot in lots:
        if lot.item_kind == "tablet" and source == "tablet" and lot.tablet_weight_mg:
            take("tablet_weight", _exact(lot.tablet_weight_mg) + "mg", "Average tablet weight", lot)
        elif lot.item_kind == "api" and source == "api":
            for option, value, what in (("assay", lot.assay, "Assay"), ("water", lot.water, "Water")):
                if value is not None:
                    percent = (Decimal(_exact(value)) * 100).normalize()
                    take(option, f"{percent:f}%", what, lot)
        elif lot.item_kind == "excipient" and "fill_weight" in kwargs:
            size = str(kwargs.get("capsule_size") or _default_capsule_size()).lstrip("#")
            if size in lot.pack_stats:
                take("fill_weight", _exact(lot.pack_stats[size]) + "mg",
                     f"Fill weight (size {size} pack statistic)", lot)
    click.get_current_context().meta["compound.measured_from_lots"] = used


def _default_capsule_size() -> str:
    from compound.planning import resolve

    return str(resolve.rule("capsule")["default_size"])


def _with_dating(command: click.Command) -> click.Command:
    """Give a form's command the dating options; its own callback never sees them."""
    command.params.extend(_all_params())
    inner = command.callback
    assert inner is not None

    @functools.wraps(inner)
    def callback(**kwargs: Any) -> Any:
        dating = {key: kwargs.pop(key, None) for key in _DATING_KEYS}
        _check_dating(dating)
        if dating["ingredient_lot"]:
            from compound.register.from_plan import lot_options

            _measurements_from_lots(kwargs, lot_options(dating["ingredient_lot"])[0], dating["db"])
        return inner(**kwargs)

    command.callback = callback
    return command


def _register_forms() -> None:
    import importlib

    for form in ("capsules", "liquid", "drops", "dilution"):
        module = importlib.import_module(f"compound.cli.plan_{form}")
        plan.add_command(_with_dating(module.command), name=form)


_register_forms()
