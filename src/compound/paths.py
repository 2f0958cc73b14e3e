"""Where things live: shipped data, the pharmacy's overlay, the register, today.

This is the one seam for locations and the clock. Tests point it at temporary
directories through the environment, so a developer's own files never change a
test's result:

* ``COMPOUND_CATALOG``: overlay catalog directories (``os.pathsep``-separated);
  default ``<user config dir>/catalog`` when it exists.
* ``COMPOUND_DB``: the register database path or URL; default
  ``<user data dir>/register.sqlite3``.
* ``COMPOUND_TODAY``: ``YYYY-MM-DD`` used as today for reading and planning
  (audits of the past). It never dates a register write: see :func:`real_today`.
* ``COMPOUND_PHARMACY``: the pharmacy profile printed on labels (a TOML file);
  default ``<user config dir>/pharmacy.toml``.
* ``COMPOUND_CACHE``: files compound can always rebuild (the checked catalog's snapshot);
  default the user cache directory.

The real clock (:func:`system_now`) has no environment seam on purpose: nothing
a user can type or set turns a refused write into a recorded one. Tests replace
``system_now`` in-process (``monkeypatch.setattr(paths, "system_now", ...)``).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

from compound.errors import CatalogError, DateInputError

APP_NAME = "compound"


def data_dir() -> Path:
    """The shipped data: ``compound/data`` in a wheel, ``data/`` in a checkout."""
    # This module's folder is the package's (what importlib.resources.files("compound") gives
    # for an installed package, without importing it and zipfile and tempfile: ~5 ms of start-up).
    packaged = Path(__file__).resolve().parent / "data"
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


_STRICT_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def system_now() -> dt.datetime:
    """The computer's clock, in UTC: the time every register write records."""
    return dt.datetime.now(dt.UTC)


def real_today() -> dt.date:
    """The real local date, from :func:`system_now` (never from ``COMPOUND_TODAY``)."""
    return system_now().astimezone().date()


def pharmacy_profile() -> Path:
    """The pharmacy profile (name, address, phone for labels): ``COMPOUND_PHARMACY`` or the config dir."""
    env = os.environ.get("COMPOUND_PHARMACY")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_config_path

    return user_config_path(APP_NAME, appauthor=False) / "pharmacy.toml"


def cache_dir() -> Path:
    """Where compound keeps what it can rebuild: ``COMPOUND_CACHE`` or the user cache directory."""
    env = os.environ.get("COMPOUND_CACHE")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_path

    return user_cache_path(APP_NAME, appauthor=False)


def station_data_dir() -> Path:
    """This station's own files (PostgreSQL registers' anchors): the folder of ``COMPOUND_DB``
    when that is a file path, else the user data directory."""
    db = default_db()
    if "://" not in db:
        return Path(db).expanduser().parent
    from platformdirs import user_data_path

    return user_data_path(APP_NAME, appauthor=False)


def today() -> dt.date:
    """Today for reading and planning: ``COMPOUND_TODAY`` when set, else :func:`real_today`.

    ``COMPOUND_TODAY`` is read strictly as ``YYYY-MM-DD`` (not ``20250310``, not
    ``2025-W11-1``) within the years a typed date may have.
    """
    env = os.environ.get("COMPOUND_TODAY")
    if not env:
        return real_today()
    from compound.core.dates import EXAMPLE, parse_date

    if not _STRICT_DAY.fullmatch(env):
        raise DateInputError(f"COMPOUND_TODAY={env[:40]!r} is not a date.",
                             hint=f"Use YYYY-MM-DD, e.g. {EXAMPLE}, or unset it.")
    return parse_date(env, "COMPOUND_TODAY")
