"""Thread pools for a run's stages, and what stands in for one in a file of one block
(:func:`pool`), where a thread would only wait for its own imports."""

from __future__ import annotations

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
