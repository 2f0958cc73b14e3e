"""Findings: what a plan wants the pharmacist to know, with a stable code.

A finding is ``info`` (worth knowing), ``warning`` (check before compounding)
or ``refusal`` (the plan must not be used as it stands). Codes are stable
strings that scripts may match on; messages are for people and may change.

Vectorised rules produce boolean masks; :class:`FindingRule` turns a mask into
findings for the rows where it is true, so one rule serves a single plan and a
column of a million rows alike.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


class Severity(enum.IntEnum):
    INFO = 0
    WARNING = 1
    REFUSAL = 2

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    severity: Severity
    message: str
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code,
            "severity": str(self.severity),
            "message": self.message,
        }
        if self.data:
            out["data"] = dict(self.data)
        return out


def worst(findings: list[Finding]) -> Severity | None:
    return max((f.severity for f in findings), default=None)


def any_refusal(findings: Iterable[Finding]) -> bool:
    """True when any finding refuses the preparation."""
    return any(f.severity is Severity.REFUSAL for f in findings)


def status(findings: list[Finding]) -> str:
    """``ok``, ``warning`` or ``refused``: the batch and JSON status word."""
    level = worst(findings)
    if level is Severity.REFUSAL:
        return "refused"
    if level is Severity.WARNING:
        return "warning"
    return "ok"


@dataclass(frozen=True, slots=True)
class FindingRule:
    """A finding code with its severity and a message built from row values."""

    code: str
    severity: Severity
    message: Callable[[Mapping[str, Any]], str]

    def make(self, values: Mapping[str, Any]) -> Finding:
        return Finding(self.code, self.severity, self.message(values), dict(values))
