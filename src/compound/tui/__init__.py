"""The interactive calculator (Textual). ``compound`` with no subcommand calls :func:`run`.

Only this package imports Textual, so the CLI and the Python API stay light.
"""

from __future__ import annotations


def run() -> None:
    """Open the TUI. A broken catalog fails here, before the screen is taken over."""
    from compound.tui import forms

    forms.preflight()  # raises CatalogError (exit 5 via compound.cli.main), not a traceback

    from compound.tui.app import CompoundApp

    CompoundApp().run()
