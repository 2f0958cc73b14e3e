"""A progress bar for long runs: rich, on stderr, and only when stderr is a terminal.

stdout carries data (the summary, or ``--jsonl`` records), so the bar never
touches it; in a pipe or a log file there is no bar at all.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Final

#: Files smaller than this finish before a bar would be seen.
MIN_ROWS: Final = 50_000


def wanted(rows: int, enabled: bool | None) -> bool:
    """Whether to show a bar: ``enabled`` if given, else a large file on a terminal."""
    if enabled is not None:
        return enabled
    return rows >= MIN_ROWS and sys.stderr.isatty()


Report = Callable[[str, int, int], None]
"""``report(stage, rows done, rows in all)``: progress for a caller's own display (the TUI)."""


@contextmanager
def bar(rows: int, enabled: bool | None = None, description: str = "Planning",
        report: Report | None = None) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(n_rows)``; a no-op when no bar is wanted and no ``report`` given."""
    if report is not None:
        done = 0

        def advance(n: int) -> None:
            nonlocal done
            done += n
            report(description, done, rows)

        report(description, 0, rows)
        yield advance
        return
    if not wanted(rows, enabled):
        yield lambda n: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(description, total=rows)
        yield lambda n: progress.advance(task, n)
