"""The output folder of a run, replaced as a whole: the old complete set or the new one, never a mix.

A run writes into a fresh folder beside the target (``.OUT.compound-new-…``, made
with ``mkdir``, which fails rather than reuse a name, so no file of the run can be
a symlink someone planted). summary.json is written last, as the manifest: the
row count and the SHA-256 of every file. The folder then takes the target's
place in one step: ``renameat2(RENAME_EXCHANGE)`` swaps the two folders where
Linux offers it, a plain ``rename`` when there is no target yet. Only then is
the old set removed. A kill at any moment leaves the old set or the new set
(and at worst a hidden folder beside it, removed by the next run). Files are
moved, never copied: a million-row worksheet is written once.

Where the exchange is not available (another OS or file system), the old set
is first moved aside, then the new set moved in: a kill between the two leaves
no set at all, never a mix.

Two runs into one folder: the second is refused. The lock is ``flock`` on a
file beside the target (``.OUT.compound-lock``, opened without following a
symlink); the system drops it when a run dies, so a killed run never leaves the
folder locked. The lock file itself stays (removing it would let a third run
lock a new file while the second holds the old one).

A target that holds an earlier run (only the files a run writes) is replaced
only with ``overwrite``; one that holds anything else, or holds the
prescription file, is refused.
"""

from __future__ import annotations

import ctypes
import errno
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import IO, Any, Final

from compound.errors import InputError

STAGING: Final = "compound-new-"
OLD: Final = "compound-old-"
LOCK: Final = "compound-lock"
#: Longest path shown in a message (the rest is cut with …).
_SHOWN: Final = 80


def shown(path: Path | str) -> str:
    text = str(path)
    return text if len(text) <= _SHOWN else "…" + text[-(_SHOWN - 1):]


def _hidden(target: Path, kind: str) -> str:
    return f".{target.name}.{kind}"


class RunFolder:
    """Where a run writes (:attr:`staging`) and how it replaces the target (:meth:`publish`).

    Use as a context manager: entering takes the lock, checks the target and
    makes the staging folder; leaving without :meth:`publish` removes it.
    """

    def __init__(self, target: str | Path, *, run_files: Iterable[str], overwrite: bool = False,
                 inputs: Iterable[str | Path] = ()) -> None:
        given = Path(target)
        if given.exists() and not given.is_dir():
            raise InputError(f"{shown(given)} exists and is not a directory.",
                             hint="Give -o a directory for the output files.")
        self.target = Path(os.path.realpath(given))
        self.given = given
        self.shown = shown(given)
        self.run_files = frozenset(run_files)
        self.overwrite = overwrite
        self.inputs = [Path(os.path.realpath(p)) for p in inputs]
        self.staging = Path()
        self._lock_fd: int | None = None
        self._published = False

    def __enter__(self) -> RunFolder:
        parent = self.target.parent
        for path in self.inputs:
            if path == self.target or self.target in path.parents:
                raise InputError(f"the prescription file {shown(path)} is inside the output folder "
                                 f"{self.shown}; a run replaces that folder as a whole.",
                                 hint="Give -o a folder of its own, e.g. -o out/.")
        blocking = next((a for a in (parent, *parent.parents) if a.exists()), None)
        if blocking is not None and not blocking.is_dir():
            raise InputError(f"cannot create {self.shown}: {shown(blocking)} is a file, not a folder.",
                             hint="Give -o a folder path.")
        _os_step(lambda: parent.mkdir(parents=True, exist_ok=True), parent, "create")
        self._lock(parent)
        try:
            self._check_target()
            _remove_leftovers(self.target)
            self.staging = _os_step(lambda: _fresh_dir(parent, _hidden(self.target, STAGING)), parent,
                                    "write in")
        except BaseException:
            self._unlock()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        import shutil  # shutil, hashlib and json: once the file is read (compound.batch.read_warmup)

        try:
            if not self._published and self.staging != Path():
                shutil.rmtree(self.staging, ignore_errors=True)
        finally:
            self._unlock()

    def _lock(self, parent: Path) -> None:
        path = parent / _hidden(self.target, LOCK)
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        fd = _os_step(lambda: os.open(path, flags, 0o644), path, "create the lock file")
        try:
            import fcntl
        except ImportError:  # not POSIX: no lock, say nothing worse than before
            self._lock_fd = fd
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise InputError(f"another compound batch is writing to {self.shown} right now.",
                             hint="Wait for it to finish, or give -o another folder.") from None
        self._lock_fd = fd

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing drops the flock
            self._lock_fd = None

    def _check_target(self) -> None:
        if not self.target.exists():
            return
        if not self.target.is_dir():
            raise InputError(f"{self.shown} exists and is not a directory.",
                             hint="Give -o a directory for the output files.")
        entries = sorted(_os_step(lambda: os.listdir(self.target), self.target, "read"))
        if not entries:
            return
        foreign = [e for e in entries if e not in self.run_files]
        if foreign:
            listed = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
            raise InputError(f"{self.shown} holds files that are not from a batch run ({listed}); a run "
                             "replaces its output folder as a whole.",
                             hint="Give -o a new or empty folder.")
        if not self.overwrite:
            raise InputError(f"{self.shown} holds an earlier run ({', '.join(entries)}).",
                             hint="Add --overwrite to replace it, or give -o a new folder.")

    def publish(self, manifest_name: str, manifest: Callable[[dict[str, Any]], dict[str, Any]],
                known: Mapping[str, str] | None = None) -> None:
        """Write the manifest last, then put the staging folder in the target's place.

        ``manifest(files)`` gets the name → {bytes, sha256} of every file
        written and returns the JSON object to write as ``manifest_name``;
        ``known`` holds hashes already taken while writing (not read again).
        """
        import json

        document = manifest(describe(self.staging, known))
        with (self.staging / manifest_name).open("x", encoding="utf-8") as fh:
            fh.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        _os_step(lambda: self._swap(), self.target, "replace")

    def _swap(self) -> None:
        import shutil

        staging, target = self.staging, self.target
        if not target.exists():
            os.rename(staging, target)
            self._published = True
            return
        os.chmod(staging, target.stat().st_mode & 0o7777)
        if _exchange(staging, target):
            self._published = True
            shutil.rmtree(staging, ignore_errors=True)  # the old set, now under the staging name
            return
        old = _fresh_name(target.parent, _hidden(target, OLD))
        os.rename(target, old)
        os.rename(staging, target)
        self._published = True
        shutil.rmtree(old, ignore_errors=True)


def describe(folder: Path, known: Mapping[str, str] | None = None) -> dict[str, Any]:
    """name → ``{"bytes", "sha256"}`` of each file in ``folder``; a sub-folder as one entry.

    A sub-folder (``worksheets/``) is described by its file count and the
    SHA-256 of its listing as ``sha256sum`` prints it (``<hash>  <name>``,
    one line per file, sorted by name).
    """
    import hashlib

    out: dict[str, Any] = {}
    for entry in sorted(os.listdir(folder)):
        path = folder / entry
        if path.is_dir():
            names = sorted(os.listdir(path))
            listing = "".join(f"{file_sha256(path / n)}  {n}\n" for n in names)
            out[entry + "/"] = {"files": len(names),
                                "sha256": hashlib.sha256(listing.encode("utf-8")).hexdigest()}
        else:
            digest = (known or {}).get(entry) or file_sha256(path)
            out[entry] = {"bytes": path.stat().st_size, "sha256": digest}
    return out


def file_sha256(path: Path) -> str:
    import hashlib

    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def verify(folder: str | Path, manifest_name: str) -> list[str]:
    """What does not match the folder's manifest (empty: the set is whole)."""
    import json

    folder = Path(folder)
    try:
        files = json.loads((folder / manifest_name).read_text(encoding="utf-8"))["manifest"]["files"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return [f"{manifest_name} cannot be read as a manifest ({exc})"]
    actual = {k: v for k, v in describe(folder).items() if k != manifest_name}
    problems = [f"{name}: missing" for name in files if name not in actual]
    problems += [f"{name}: not in the manifest" for name in actual if name not in files]
    problems += [f"{name}: differs from the manifest" for name in files
                 if name in actual and actual[name] != files[name]]
    return problems


#: Writes hashed in the writing thread (a small file's whole worksheet): a thread costs more.
INLINE_HASH: Final = 1 << 20
#: Blocks written but not yet hashed, at most, before a write waits for the oldest. Each is a
#: block of lines (~5 MB) the hash holds: 4 were ~14 MB more at a typical million rows' peak
#: (fresh pages), and the hash (~1.7 GB/s) outruns the lines' assembly (~1 GB/s) anyway.
HASH_QUEUE: Final = 1


class HashingFile:
    """A binary file opened exclusively (never through a planted symlink), hashed as it is written.

    The hash runs on a thread of its own (hashlib releases the GIL), in the
    order the blocks were written, while the next blocks are assembled; up to
    the first write of :data:`INLINE_HASH` bytes or more, in the writing thread.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: IO[bytes] = path.open("xb")
        import hashlib

        self._sha = hashlib.sha256()
        self._pool: Any = None
        self._pending: list[Any] = []

    def write(self, data: Any) -> None:
        self._fh.write(data)
        if not self._pending and len(data) < INLINE_HASH:
            self._sha.update(data)  # nothing queued before it: in order; no thread for a small file
            return
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(max_workers=1)
        self._pending.append(self._pool.submit(self._sha.update, data))
        if len(self._pending) > HASH_QUEUE:
            self._pending.pop(0).result()

    def close(self) -> str:
        """Close the file; its SHA-256."""
        self._fh.close()
        for job in self._pending:
            job.result()
        if self._pool is not None:
            self._pool.shutdown()
        return self._sha.hexdigest()

    def abort(self) -> None:
        self._fh.close()
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)


def _token() -> str:
    """12 random hex digits: ``secrets.token_hex(6)`` without importing secrets (and random, hmac)."""
    return os.urandom(6).hex()


def _fresh_name(parent: Path, prefix: str) -> Path:
    return parent / (prefix + _token())


def _fresh_dir(parent: Path, prefix: str) -> Path:
    for _ in range(100):
        path = _fresh_name(parent, prefix)
        try:
            path.mkdir()  # fails if the name exists (a file, a folder or a symlink): never reused
        except FileExistsError:
            continue
        return path
    raise FileExistsError(errno.EEXIST, "no free name", str(parent / prefix))


def _remove_leftovers(target: Path) -> None:
    """Remove what runs killed mid-way left beside the target (only ever called holding the lock)."""
    parent = target.parent
    for kind in (STAGING, OLD):
        prefix = _hidden(target, kind)
        for entry in os.listdir(parent):
            path = parent / entry
            if entry.startswith(prefix) and path.is_dir() and not path.is_symlink():
                import shutil

                shutil.rmtree(path, ignore_errors=True)


_RENAME_EXCHANGE: Final = 2
_AT_FDCWD: Final = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux ``renameat2``); False where that is not available."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _os_step(step: Callable[[], Any], path: Path, verb: str) -> Any:
    """Run a file-system step; an OSError becomes one clear line naming the path."""
    try:
        return step()
    except InputError:
        raise
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise InputError(f"cannot {verb} {shown(path)}: {reason}.",
                         hint="Check the path and its permissions, or give -o another folder.") from None

