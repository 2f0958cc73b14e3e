"""A BUD and its reasons: :class:`BudResult` and every :class:`Limit` it weighed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Final

from compound.core.findings import Finding, Severity, any_refusal, status
from compound.errors import FormulationRefused

# The kinds of limit a BudResult names (Limit.kind), in the order they are listed.
KINDS: Final = ("rule", "study", "policy-cap", "component-expiry", "sub-lot")


@dataclass(frozen=True, slots=True)
class Limit:
    """One limit on the BUD: its kind, what it is, the date it gives and why."""

    kind: str
    name: str
    date: dt.date
    source: str
    days: int | None = None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "name": self.name,
                               "date": self.date.isoformat(), "days": self.days,
                               "source": self.source}
        if self.note:
            out["note"] = self.note
        return out


@dataclass
class BudResult:
    category: str
    compounded: dt.date
    beyond_use_date: dt.date | None
    """None when refused."""
    limit: Limit | None
    """The limit that won (the first listed of tied ones); None when refused."""
    limits: list[Limit]
    """Every limit considered, in priority order; empty when refused."""
    stability_window_days: int | None
    """The attested study's window at this storage (None without a study)."""
    stability_window_end: dt.date | None
    storage: str
    day_counting: str
    policy: str
    findings: list[Finding] = field(default_factory=list)
    ties: list[Limit] = field(default_factory=list)
    """Other limits that fall on the same date as the winner."""
    study: str | None = None
    explanation: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    """JSON-ready context: category, study, day-counting and policy details."""

    @property
    def status(self) -> str:
        return status(self.findings)

    @property
    def refused(self) -> bool:
        return any_refusal(self.findings)

    def raise_if_refused(self) -> BudResult:
        """Self, or :class:`FormulationRefused` carrying the refusal messages."""
        if self.refused:
            messages = [f.message for f in self.findings if f.severity is Severity.REFUSAL]
            raise FormulationRefused("no BUD can be assigned: " + " ".join(messages))
        return self

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status, "category": self.category,
                               "compounded": self.compounded.isoformat()}
        if not self.refused and self.beyond_use_date and self.limit:
            out["beyond_use_date"] = self.beyond_use_date.isoformat()
            out["limit"] = self.limit.to_dict()
            out["ties"] = [t.to_dict() for t in self.ties]
            out["limits"] = [lim.to_dict() for lim in self.limits]
            out["stability_window_days"] = self.stability_window_days
            out["stability_window_end"] = (self.stability_window_end.isoformat()
                                           if self.stability_window_end else None)
            out["explanation"] = self.explanation
        out.update({"storage": self.storage, "day_counting": self.day_counting,
                    "policy": self.policy, "study": self.study})
        out.update(self.extra)
        out["findings"] = [f.to_dict() for f in sorted(self.findings, key=lambda f: -f.severity)]
        return out

