"""worksheet.csv written while later groups are still planned (a file of many distinct prescriptions).

Groups are planned a block at a time (:func:`compound.batch.spread.plan_groups`). Once every
group that rows 0 … r − 1 refer to is planned, those rows' lines can be assembled and written
while the main thread plans the next block: assembling (NumPy, and pyarrow's cast) and writing (the
kernel's copy) run on other threads and release the GIL, so a file of 456k distinct
prescriptions writes most of its lines on the second core instead of after planning.

A file of a few hundred prescriptions is planned in one block: nothing is written ahead, and
its writing is as before. Only worksheet.csv is written ahead: errors.csv's lines of those rows
are made after planning (its lines are indexed over all groups), and a run with ``--jsonl``
writes nothing ahead (its JSON is joined for all groups at once).
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from concurrent.futures import Future

    from compound.batch.spread import Spread

#: Blocks of lines asked for and not yet written (those waiting hold nothing: a block's lines are
#: made by a thread when it takes the job, and written by it). A planned block of 25k distinct
#: prescriptions makes 3-4 blocks of lines ready, and the next chance to ask is after the next
#: block: with 4, the lines fell behind the planning (819k of a million rows written ahead).
IN_FLIGHT: Final = 16


class WriteAhead:
    """Rows whose groups are planned, assembled and written to ``sink`` in order on ``pool``.

    ``step``: rows a block of lines (a whole number of blocks is written ahead; the rest after
    planning). Use as a context manager: on the way out, nothing is left writing to the sink (it
    may be aborted next).
    """

    def __init__(self, sink: Any, step: int, pool: Any) -> None:
        self.sink, self.step, self.pool = sink, step, pool
        self.asked = 0
        """Rows asked for so far (a multiple of ``step``), the first written after planning."""
        self._pending: deque[Future[None]] = deque()

    def __enter__(self) -> WriteAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        for job in self._pending:
            job.cancel()  # a failure: those not started never start
        for job in self._pending:
            if not job.cancelled():
                job.exception()  # waits; a job's own failure is not the one being raised

    def planned(self, spread: Spread, groups: int) -> None:
        """``plan_groups``' call after each block: ``groups`` groups are planned."""
        self._done(wait=False)
        # Groups are numbered in order of their first rows: the rows before the first row of the
        # next group to plan refer to planned groups only.
        ready = int(spread.groups.first[groups])
        while self.asked + self.step <= ready and len(self._pending) < IN_FLIGHT:
            if not self.asked:
                spread.prepare(worksheet=True, errors=False)  # the line builder, which takes later blocks
                self.sink.start(spread.names)
            before = self._pending[-1] if self._pending else None
            self._pending.append(self.pool.submit(self._write, spread, self.asked, before))
            self.asked += self.step

    def finish(self) -> int:
        """Wait until every row asked for is written; their number."""
        self._done(wait=True)
        return self.asked

    def _write(self, spread: Spread, start: int, before: Future[None] | None) -> None:
        """Assemble a block, then write it once the block before it is written (the pool's
        threads take the jobs in the order asked: the one before is running or done)."""
        lines = spread.worksheet_block(start, start + self.step)
        if before is not None:
            before.result()  # raises if it failed: nothing written after a block missing
        self.sink.write(lines)

    def _done(self, wait: bool) -> None:
        while self._pending and (wait or self._pending[0].done()):
            self._pending.popleft().result()  # a failure while assembling or writing stops the run here
