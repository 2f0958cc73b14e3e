"""Where the register is: its SQLAlchemy URL from a path, a URL or the default location.

No SQLAlchemy here: the read-only commands on SQLite (``lots list``, ``lots show``,
``audit verify``) resolve the register's file through this module and read it with the
standard library (:mod:`compound.register.lite`), so they start without importing it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final
from urllib.parse import quote

from compound import paths
from compound.errors import RegisterError

BUSY_TIMEOUT_MS: Final = 30_000
"""How long a writer waits for another station's write to finish before giving up."""


def database_url(target: str | Path | None = None, *, create: bool = False,
                 read_only: bool = False) -> str:
    """An SQLAlchemy URL from a file path, a URL, or the default location.

    The default location's folder is made on first use. A path someone named
    (``target``, ``COMPOUND_DB``) in a folder that does not exist is refused unless
    ``create``: a typing mistake must not answer with a new, empty register.
    ``read_only``: an existing file only, opened with SQLite's ``mode=ro`` (the
    process may lack write permission; nothing is created).
    """
    named = target is not None or bool(os.environ.get("COMPOUND_DB"))
    text = str(target) if target is not None else paths.default_db()
    if "://" in text:
        if not text.startswith(("sqlite", "postgresql")):
            raise RegisterError(
                f"the register cannot use {text.split('://')[0]!r} databases.",
                hint="Give a file path, sqlite:///PATH or postgresql+psycopg://USER@HOST/DB.",
            )
        return text
    try:
        path = Path(text).expanduser()
        if path.is_dir():
            raise RegisterError(f"{path} is a directory, not a register file.",
                                hint="Give a file path such as ~/compound/register.sqlite3.")
        if named and not create and not path.parent.exists():
            raise RegisterError(
                f"no register at {path}: the folder {path.parent} does not exist.",
                hint=f"Create it with `compound lots init {path}`, or check --db / COMPOUND_DB "
                     "for a typing mistake.")
        if read_only:
            if not path.is_file():
                raise RegisterError(f"there is no register at {str(path)[:80]}.",
                                    hint=f"Create it with `compound lots init {path}` (or the "
                                         "first lots receive), or check --db / COMPOUND_DB.")
            return f"sqlite:///file:{quote(str(path.resolve()))}?{read_only_mode(path)}&uri=true"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RegisterError(f"cannot create the folder for the register {path}: "
                                f"{exc.strerror}.") from None
        return f"sqlite:///{path.resolve()}"
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte (only from the Python API)
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise RegisterError(f"cannot use {text!r} as the register: {reason}.",
                            hint="Give a file path such as ~/compound/register.sqlite3.") from None


def read_only_mode(path: Path) -> str:
    """``mode=ro``; or ``immutable=1`` where SQLite could not make the shared-memory file a
    WAL reader needs (a folder the user may only read) and no writer can be at work there."""
    wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
    if os.access(path.parent, os.W_OK) or shm.exists():
        return "mode=ro"
    if wal.exists() and wal.stat().st_size > 0:
        raise RegisterError(
            f"the register {str(path)[:80]} has changes still in its -wal file, which a reader "
            "without write access to its folder cannot see.",
            hint="Ask the pharmacy for a copy taken after compound was closed on every station.")
    return "immutable=1"


def unusable(reason: str, where: str, *, lost: RegisterError | None = None) -> RegisterError:
    """What a failed database call tells the pharmacist, from the driver's first line
    ``reason``: both readers (SQLAlchemy's and the standard library's) word it alike.

    ``where``: the register file, for SQLite's "not a database"; ``lost``: what to say when
    it is neither that nor a lock, because the server connection dropped (SQLAlchemy's path).
    """
    if "not a database" in reason:  # SQLite on a file that is something else (text, a PDF, ...)
        return RegisterError(f"{where} is not a register: {reason}.",
                             hint="Point --db or COMPOUND_DB at a register file, or at a new "
                                  "file to start one.")
    if "locked" in reason or "busy" in reason:
        return RegisterError(
            f"the register is busy: another station or process kept it locked for more than "
            f"{BUSY_TIMEOUT_MS // 1000} s. Nothing was saved.", hint="Try again in a moment.")
    if lost is not None:
        return lost
    return RegisterError(f"the register database cannot be used: {reason}. Nothing was saved.",
                         hint="Check the path or URL given by --db or COMPOUND_DB, its "
                              "permissions, and that the database server is running.")
