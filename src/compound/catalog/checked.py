"""A catalog already checked, read and checked again only when a file it depends on changes.

``compound`` checks every catalog value its forms need before the TUI takes over the
terminal (:func:`compound.tui.forms.preflight`), so a broken catalog fails there with its
message. Reading the CSV and TOML files for it (and importing csv and tomllib) was ~5 ms of
CPU in every start (issue 12). Once a check has passed, what it read
(:func:`compound.catalog.loader.snapshot`) is kept in the cache directory
(:func:`compound.paths.cache_dir`) under a :func:`stamp` of every file it depends on; a start
with the same stamp takes those values (:func:`restore`) instead of the files.

The stamp lists, for the shipped data directory, the overlay directories (which ones, in
order) and the code that reads and checks (this package, ``compound``'s own modules and the
caller's), each regular file's name, inode, size, and modification and change times (ns); and
Python's and compound's versions. A file edited, added, removed, renamed, replaced or
chmod-ed, another ``COMPOUND_CATALOG``: another stamp, so the files are read and checked
again. Nothing is saved when the check failed (a broken catalog is read, and fails, every
time), nor while a file's times are within :data:`RACY_NS` of now: a file written again in
the same tick of the file system's clock (FAT's is 2 s) could keep its times and size.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import stat
import sys
import time
import zlib
from pathlib import Path
from typing import Any

from compound import __version__, paths
from compound.catalog import loader

FORMAT = 1
"""Bumped when what is saved changes shape."""
RACY_NS = 2_000_000_000
"""A file changed less than this long ago (ns) may change again with the same times."""

Stamp = tuple[Any, ...]


def _now_ns() -> int:
    # The file system's clock, not compound.paths.system_now (which dates register writes and
    # is fixed in tests): file times are compared with it.
    return time.time_ns()


def _files(directory: Path) -> tuple[str, tuple[tuple[Any, ...], ...] | None]:
    """``directory`` and each regular file in it: name, inode, size, mtime and ctime (ns);
    an entry that cannot be read by its name alone; ``None`` for a directory that cannot be."""
    found: list[tuple[Any, ...]] = []
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                try:
                    info = entry.stat()  # a symbolic link's target
                except OSError:
                    found.append((entry.name,))
                    continue
                if stat.S_ISREG(info.st_mode):
                    found.append((entry.name, info.st_ino, info.st_size, info.st_mtime_ns,
                                  info.st_ctime_ns))
    except OSError:  # missing (an overlay not made yet) or unreadable
        return str(directory), None
    return str(directory), tuple(sorted(found))


def stamp(*code: Path) -> Stamp:
    """What a check's outcome depends on; ``code``: the caller's own folders of modules."""
    package = Path(__file__).parent
    return (FORMAT, sys.version, marshal.version, __version__,
            _files(paths.data_dir()), tuple(_files(d) for d in paths.overlay_dirs()),
            tuple(_files(d) for d in (package, package.parent, *code)))


def _file(stamped: Stamp) -> Path:
    """One file per data directory, overlays and code (two checkouts do not share one)."""
    where = repr((stamped[4][0], [d for d, _ in stamped[5]], [d for d, _ in stamped[6]]))
    return paths.cache_dir() / f"catalog-{zlib.crc32(where.encode()):08x}.marshal"


def restore(stamped: Stamp) -> bool:
    """Take the values saved under this very stamp as read (:func:`loader.prime`); False when
    there are none (first start, a file changed, a cache that cannot be read)."""
    try:
        saved = marshal.loads(_file(stamped).read_bytes())  # (marshal.load reads a file in bits)
    except (OSError, EOFError, ValueError, TypeError):
        return False
    if not (isinstance(saved, tuple) and len(saved) == 3 and saved[0] == stamped
            and isinstance(saved[1], dict) and isinstance(saved[2], dict)):
        return False
    loader.prime(saved[1], saved[2])
    return True


def _times(stamped: Stamp) -> list[int]:
    groups = [stamped[4], *stamped[5], *stamped[6]]
    return [t for _, files in groups for f in files or () if len(f) == 5 for t in f[3:]]


def save(stamped: Stamp) -> None:
    """Keep what this process has read (a check that passed) under ``stamped``, taken before
    it read. Quietly nothing when a file is too new to trust its times (:data:`RACY_NS`), a
    value cannot be kept (a TOML date) or the cache directory cannot be written."""
    if any(t > _now_ns() - RACY_NS for t in _times(stamped)):
        return
    try:
        data = marshal.dumps((stamped, *loader.snapshot()))
    except ValueError:
        return
    target = _file(stamped)
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial.write_bytes(data)
        os.replace(partial, target)  # whole or absent: another start never reads half of it
    except OSError:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
