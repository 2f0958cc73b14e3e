"""Writing an output file whole or not at all."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from compound.errors import InputError


def write_atomic(path: str | Path, data: bytes) -> None:
    """``data`` at ``path``: written to a temporary file beside it, then renamed over it."""
    target = Path(path)
    if target.is_dir():
        raise InputError(f"{target} is a directory.", hint="Give -o a file name, e.g. labels.pdf.")
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise InputError(f"{directory} does not exist.", hint="Create the directory first.")
    fd, temp = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
