"""The date a register write is made on: the real date, or an explicit ``--as-of`` with a reason.

``COMPOUND_TODAY`` moves "today" for reading and planning (audits of the past),
but a write records what happened, so it is dated by the real clock
(:func:`compound.paths.real_today`). A record entered late names the day it
happened with ``as_of`` and says why (``reason``); the event keeps both beside
the real UTC time it was written. Nothing in the environment moves the real
clock, so no setting turns a refused write into a recorded one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from compound import paths
from compound.errors import DateInputError, InputError, RegisterError
from compound.register import validate


@dataclass(frozen=True)
class EntryDate:
    """The day a write is dated (``day``) and the real date it was made on."""

    day: dt.date
    real_day: dt.date
    reason: str | None = None

    @property
    def late(self) -> bool:
        """True when the write is dated by ``as_of`` rather than the real date."""
        return self.reason is not None

    def payload(self) -> dict[str, Any]:
        """What the audit event adds for a late entry (nothing for an on-the-day one)."""
        if not self.late:
            return {}
        return {"as_of": self.day.isoformat(), "as_of_reason": self.reason,
                "real_date": self.real_day.isoformat()}


def entry_date(as_of: Any = None, reason: str | None = None) -> EntryDate:
    """The date of a write: the real date, or ``as_of`` (not after it) with a reason.

    Refused when ``COMPOUND_TODAY`` says another day and no ``as_of`` is given:
    a register entry is never dated by the environment.
    """
    real = paths.real_today()
    if as_of is None:
        claimed = paths.today()
        if claimed != real:
            raise RegisterError(
                f"today is set to {claimed.isoformat()} (COMPOUND_TODAY) but the real date is "
                f"{real.isoformat()}: register entries are dated by the real clock.",
                hint=f"To enter something that happened on {claimed.isoformat()}, add --as-of "
                     f"{claimed.isoformat()} --reason TEXT; otherwise unset COMPOUND_TODAY.")
        return EntryDate(real, real)
    day = validate.date(as_of, "as_of")
    why = validate.text(reason, "reason", required=False, max_len=500)
    if why is None:
        raise InputError(f"as_of {day.isoformat()} needs a reason: why is this entered late?",
                         hint="Add --reason TEXT, e.g. --reason 'paper log, entered next day'.",
                         field="reason")
    if day > real:
        raise DateInputError(
            f"as_of: {day.isoformat()} is after the real date ({real.isoformat()}): the register "
            "records what has happened.", hint="Enter it on the day it happens.", field="as_of")
    return EntryDate(day, real, why)
