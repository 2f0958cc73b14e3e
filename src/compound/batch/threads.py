"""Thread pools for a run's stages, and what stands in for one in a file of one block
(:func:`pool`), where a thread would only wait for its own imports; and :class:`Held`, a
process-wide setting a run changes while it lasts."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


def pool(workers: int, blocks: bool) -> Any:
    """A pool of ``workers`` threads for a file of several blocks; for one block, no thread.

    Threads overlap the stages of a large file; in a file of a few rows they only wait for
    each other's imports (a 2-row run's start-up, issue 13).
    """
    if not blocks:
        return Inline()
    from concurrent.futures import ThreadPoolExecutor  # with logging: not for a file of one block

    return ThreadPoolExecutor(max_workers=workers)


class Inline:
    """``ThreadPoolExecutor``'s ``submit`` run at once, in the calling thread."""

    def __enter__(self) -> Inline:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    @staticmethod
    def submit(fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return Done(fn(*args), None)
        except Exception as exc:  # raised where the result is asked for, as from a thread
            return Done(None, exc)


class Done:
    """A finished job: a ``Future``'s methods without importing concurrent.futures."""

    def __init__(self, value: Any, error: Exception | None = None) -> None:
        self._value, self._error = value, error

    def result(self) -> Any:
        if self._error is not None:
            raise self._error
        return self._value

    def exception(self) -> Exception | None:
        return self._error

    @staticmethod
    def done() -> bool:
        return True

    @staticmethod
    def cancel() -> bool:
        return False

    cancelled = cancel


class Held:
    """A process-wide setting held at a run's value while any run needs it: the first run to
    take it sets it, the last to release it puts back the value found before. Runs overlap on
    threads of one process (a pipeline's, the TUI's batch worker), so each restoring its own
    value could leave another's behind."""

    def __init__(self, get: Callable[[], Any], put: Callable[[Any], None]) -> None:
        self._get, self._put = get, put
        self._before: Any = None
        self._holders = 0
        self._lock = threading.Lock()

    def take(self, value: Any) -> None:
        with self._lock:
            if not self._holders:
                self._before = self._get()
                self._put(value)
            self._holders += 1

    def release(self) -> None:
        with self._lock:
            self._holders -= 1
            if not self._holders:
                self._put(self._before)
                self._before = None
