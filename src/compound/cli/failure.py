"""How the command line reports a failure: one clear line (and a hint), never a traceback.

A :class:`~compound.errors.CompoundError` prints its message and exits with its
code. A file or folder the user named that cannot be read or written (missing,
a file where a folder is needed, no permission, disk full) is bad input, exit 2.
A value or path echoed back that is longer than 160 characters is cut to 80 (its
start and end), so a pasted megabyte or a runaway path never floods the terminal,
while a real, merely long path is shown whole.
"""

from __future__ import annotations

import errno
import os
import re
import sys
from typing import Final

import click

from compound.errors import CompoundError, InputError

LONGEST_WORD: Final = 160
"""A run of text without spaces (a value, a path) longer than this is cut ..."""
CUT_TO: Final = 80
"""... to this many characters: its first 60, an ellipsis and its last 19."""

_LONG_WORD: Final = re.compile(rf"\S{{{LONGEST_WORD + 1},}}")


def shorten(text: str) -> str:
    """One line, with every space-free run longer than :data:`LONGEST_WORD` cut in the middle."""
    line = " ".join(text.splitlines())
    head, tail = CUT_TO - 20, 19
    return _LONG_WORD.sub(lambda m: f"{m.group()[:head]}…{m.group()[-tail:]}", line)


def os_error(exc: OSError) -> InputError:
    """A file or folder that cannot be used, as an input error naming it (cut to ~80 chars)."""
    name = exc.filename if exc.filename is not None else "a file"
    reason = exc.strerror or str(exc)
    hint = {
        errno.ENOSPC: "Free some space on that disk, or write somewhere else.",
        errno.EACCES: "Check the permissions, or write somewhere else.",
        errno.EPERM: "Check the permissions, or write somewhere else.",
        errno.ENOTDIR: "A part of the path is a file, not a folder: give another path.",
        errno.ENAMETOOLONG: "Give a shorter path.",
    }.get(exc.errno or 0, "Check the path and its permissions.")
    return InputError(f"cannot use {name}: {reason}.", hint=hint)


def report(exc: CompoundError | OSError) -> int:
    """Print the error (and its hint) on stderr; returns the exit status."""
    if isinstance(exc, BrokenPipeError):  # the reader (e.g. `| head`) went away: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    error = os_error(exc) if isinstance(exc, OSError) else exc
    click.echo(f"error: {shorten(error.message)}", err=True)
    if error.hint:
        click.echo(f"  {shorten(error.hint)}", err=True)
    return error.exit_code
