"""The interactive calculator (Textual). ``compound`` with no subcommand calls :func:`run`.

Only this package imports Textual, so the CLI and the Python API stay light.
"""

from __future__ import annotations

SCREENS: tuple[str, ...] = ("formulate", "lots", "stability", "titrate", "batch", "labels")
"""The screens the TUI can open on (``compound --screen``): its modes, named here without
importing Textual, for the CLI's ``--help``."""


def run(screen: str = "formulate") -> None:
    """Open the TUI on ``screen``. The catalog is read right after the first paint (not before
    it): a broken one closes the app and is raised here, once the terminal is restored, as a
    CatalogError (exit 5 with its message via compound.cli.main), not a traceback."""
    from compound.tui.app import CompoundApp

    app = CompoundApp(screen)
    app.run()
    if app.catalog_error is not None:
        raise app.catalog_error
