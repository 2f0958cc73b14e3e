"""Where things live: shipped data, the pharmacy's overlay, the register, today.

This is the one seam for locations and the clock. Tests point it at temporary
directories through the environment, so a developer's own files never change a
test's result:

* ``COMPOUND_CATALOG``: overlay catalog directories (``os.pathsep``-separated);
  default ``<user config dir>/catalog`` when it exists.
* ``COMPOUND_DB``: the register database path or URL; default
  ``<user data dir>/register.sqlite3``.
* ``COMPOUND_TODAY``: ``YYYY-MM-DD`` used as today (tests, audits of the past).
"""

from __future__ import annotations

import datetime as dt
import os
from importlib import resources
from pathlib import Path

from compound.errors import CatalogError, DateInputError

APP_NAME = "compound"


def data_dir() -> Path:
    """The shipped data: ``compound/data`` in a wheel, ``data/`` in a checkout."""
    packaged = Path(str(resources.files("compound"))) / "data"
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / "data"
    if checkout.is_dir():
        return checkout
    raise CatalogError(
        "compound's data directory is missing from this installation.",
        hint="Reinstall compound (pip install --force-reinstall compound).",
    )


def overlay_dirs() -> list[Path]:
    """The pharmacy's own catalog directories, highest priority last."""
    env = os.environ.get("COMPOUND_CATALOG")
    if env is not None:
        return [Path(p).expanduser() for p in env.split(os.pathsep) if p]
    from platformdirs import user_config_path

    default = user_config_path(APP_NAME, appauthor=False) / "catalog"
    return [default] if default.is_dir() else []


def default_db() -> str:
    """The register's location: ``COMPOUND_DB`` or the user data directory."""
    env = os.environ.get("COMPOUND_DB")
    if env:
        return env
    from platformdirs import user_data_path

    return str(user_data_path(APP_NAME, appauthor=False) / "register.sqlite3")


def today() -> dt.date:
    """Today's date, or ``COMPOUND_TODAY`` when set."""
    env = os.environ.get("COMPOUND_TODAY")
    if not env:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(env)
    except ValueError:
        raise DateInputError(
            f"COMPOUND_TODAY={env!r} is not a date.", hint="Use YYYY-MM-DD, e.g. 2025-03-10."
        ) from None
