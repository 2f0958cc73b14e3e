"""The ``compound`` command. With no subcommand it opens the TUI.

Subcommands live in their own modules and are imported only when invoked, so
``compound --help`` loads neither pandas, Textual, pint nor SQLAlchemy.
"""

from __future__ import annotations

import atexit
import gc
import importlib
import os
from typing import Any

import click

from compound.tui import SCREENS

# name -> "module:attribute"; listed here so --help can show them without importing.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "plan": ("compound.cli.plan:plan", "Plan a preparation: capsules, liquid, drops, dilution."),
    "bud": ("compound.cli.bud:bud", "Beyond-use date for a preparation, with the limit that won."),
    "lots": ("compound.cli.lots:lots", "The register of compounded and ingredient lots."),
    "audit": ("compound.cli.lots:audit", "Verify the register's hash-chained audit trail."),
    "rx": ("compound.cli.rx:rx", "Prescriptions: record one, see every lot dispensed for it."),
    "batch": ("compound.cli.batch:batch", "Plan a CSV of prescriptions: worksheets and a summary."),
    "titrate": ("compound.cli.titrate:titrate", "Titration schedule: calendar, what to dispense."),
    "labels": ("compound.cli.labels:labels", "Print a lot's patient or stock labels: PDF, ZPL or CSV."),
    "record": ("compound.cli.labels:record", "A lot's compounding record to file and sign: PDF or text."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *SUBCOMMANDS])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in SUBCOMMANDS:
            module_name, attr = SUBCOMMANDS[cmd_name][0].split(":")
            return getattr(importlib.import_module(module_name), attr)  # type: ignore[no-any-return]
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        """Map a CompoundError (or an unusable file) to one line and its exit code: never a
        traceback for a user mistake (compound.cli.failure)."""
        from compound.cli import failure
        from compound.errors import CompoundError

        try:
            return super().invoke(ctx)
        except click.ClickException as exc:  # a usage error: click prints it, values cut short
            exc.message = failure.shorten(exc.message)
            raise
        except (CompoundError, OSError) as exc:
            ctx.exit(failure.report(exc))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # From the table above, so --help imports no command module (and so no pint or pandas).
        with formatter.section("Commands"):
            formatter.write_dl([(name, SUBCOMMANDS[name][1]) for name in sorted(SUBCOMMANDS)])


@click.group(cls=LazyGroup, invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="compound")
@click.option("--screen", type=click.Choice(SCREENS), default=None,
              help="Open the interactive calculator on this screen (e.g. lots); default formulate.")
@click.pass_context
def cli(ctx: click.Context, screen: str | None) -> None:
    """compound: formulation and stability calculator for compounding pharmacists.

    Run with no command to open the interactive calculator (TUI).
    """
    if ctx.invoked_subcommand is None:
        from compound.tui import run

        run(screen or "formulate")
    elif screen is not None:
        raise click.UsageError("--screen opens the interactive calculator: give it without a "
                               f"command (compound --screen {screen}).")


def main(argv: list[str] | None = None) -> Any:
    """Console-script entry point."""
    # compound makes no BLAS call (its arithmetic is element by element), so OpenBLAS's threads,
    # which numpy starts as it is imported, would only spin: ~45 ms of CPU a command (numpy's
    # import 0.125 -> 0.08 s CPU, measured). Set only for the command's own process, before
    # numpy loads; the user's own setting stands.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    # As the process ends, after every other exit handler, what it made is left to the OS: the
    # interpreter's last collections no longer walk every object of the modules it imported
    # (~20 ms of a command's exit with pyarrow and numpy loaded; a few ms with neither). Every
    # file compound writes is closed before the command returns; only objects caught in a
    # reference cycle are then not finalised, which Python never promises at exit anyway.
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)
    return cli.main(args=argv, prog_name="compound")
