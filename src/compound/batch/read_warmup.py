"""What a run needs once its file is read, made ready on a thread while pyarrow reads it.

pyarrow's CSV reader runs in C++ without the GIL, so the modules a run imports after the read
(the planners, the writers, ``pyarrow.compute``: ~60 ms of a command's start) and the catalog
tables a capsule plan reads can be taken in the meantime by another thread instead of after it,
one after the other. :func:`start` begins; the function it returns waits until that is done,
and the run goes on as before: a module imported there is simply found imported.

Nothing here changes what a run does. An import or a catalog table that fails on the thread is
left alone: the run reads it again where it needs it and meets the error there, as before.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Final

from compound.batch.threads import Held

#: What a CSV run imports once its file is read, in this order. The capsule planner only:
#: an LDN file is mostly capsules (a liquid's or drops' planner is imported when one is met).
AFTER_READ: Final = (
    "hashlib", "shutil", "json", "concurrent.futures.thread", "pyarrow.compute",
    "compound.batch.spread", "compound.batch.plan_capsules", "compound.planning.stability",
)
#: The catalog tables (key column "key") and rules files a capsule row reads.
TABLES: Final = ("products", "excipients", "capsule_sizes", "balances", "molecules", "dose_bands",
                 "pack_stats", "bud_rules")
RULES: Final = ("rules", "studies")
#: A file smaller than this is read in a few ms (and is one block: no thread pool): a thread
#: would only wait for its own imports.
WARMUP_BYTES: Final = 2 << 20
#: How long the thread may hold the GIL while the run's thread waits for it (sys.setswitchinterval).
SWITCH_SECONDS: Final = 0.0002


def _nothing() -> None:
    return None


#: The interpreter's switch interval, SWITCH_SECONDS while any run is reading.
_switch = Held(sys.getswitchinterval, sys.setswitchinterval)


def start(path: str | Path) -> Callable[[], None]:
    """Begin making ready what a run of the CSV file at ``path`` needs after it is read;
    returns what waits for that (at once for a small file or another format: nothing begun)."""
    try:
        if os.stat(path).st_size < WARMUP_BYTES or Path(path).suffix.lower() != ".csv":
            return _nothing
    except (OSError, ValueError):
        return _nothing

    # The read's own modules first, in this thread: the other one then imports only what the
    # read does not, and never waits for a module the read is in the middle of importing.
    import pyarrow.csv  # noqa: F401

    # Until the read is under way, this thread (importing) must give the GIL back to the one
    # about to read as soon as it asks: it waited up to the default 5 ms each time it did, ~10 ms
    # before pyarrow began. Once both are done, as it was.
    # (Runs on several threads at once share it: the last to finish puts the interval back.)
    _switch.take(SWITCH_SECONDS)
    thread = threading.Thread(target=_ready, name="compound-read-warmup", daemon=True)
    thread.start()
    waited: list[bool] = []

    def wait() -> None:
        thread.join()
        if not waited:  # waiting twice counts once
            waited.append(True)
            _switch.release()

    return wait


def _ready() -> None:
    import importlib

    try:
        for name in AFTER_READ:
            importlib.import_module(name)
        import pyarrow as pa

        # pyarrow's first conversion of a Python value looks for pandas (which a CSV run
        # refuses: compound.batch.arrow) and imports dateutil (~3 ms), once per process.
        pa.scalar(True)
        from compound.catalog import loader

        for rules in RULES:
            loader.rules(rules)
        for table in TABLES:
            loader.table(table)
    except Exception:  # what failed here fails again where the run needs it, as before
        return
