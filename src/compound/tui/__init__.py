"""The interactive calculator (Textual). ``compound`` with no subcommand calls :func:`run`.

Only this package imports Textual, so the CLI and the Python API stay light.
"""

from __future__ import annotations

SCREENS: tuple[str, ...] = ("formulate", "lots", "stability", "titrate", "batch", "labels")
"""The screens the TUI can open on (``compound --screen``): its modes, named here without
importing Textual, for the CLI's ``--help``."""


def run(screen: str = "formulate") -> None:
    """Open the TUI on ``screen``. A broken catalog fails here, before the screen is taken over."""
    from compound.tui import forms

    forms.preflight()  # raises CatalogError (exit 5 via compound.cli.main), not a traceback

    from compound.tui.app import CompoundApp

    CompoundApp(screen).run()
