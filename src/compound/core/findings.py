"""Findings: what a plan wants the pharmacist to know, with a stable code.

A finding is ``info`` (worth knowing), ``warning`` (check before compounding)
or ``refusal`` (the plan must not be used as it stands). Codes are stable
strings that scripts may match on; messages are for people and may change.

Vectorised rules produce boolean masks; a :class:`ColumnRule` turns a mask
into findings for the rows where it is true, and :class:`FindingColumns`
holds a plan type's rules over a column, so one set of rules serves a single
plan and a column of a million rows alike (each distinct message built once).
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


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


@functools.cache
def code_only(code: str, severity: int) -> Finding:
    """A finding as its code and severity alone (no message): how a worksheet shows a mild one."""
    return Finding(code, Severity(severity), "")


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


@dataclass(frozen=True)
class ColumnRule:
    """One finding over a column of plans: where it applies, how severe, and what its message needs.

    ``make`` builds the finding from the values of ``keys`` at one row (as Python scalars, passed
    by name), and from nothing else: rows whose keys are equal get equal findings, so a column
    of a million plans builds each distinct message once, and only when it is asked for.
    """

    code: str
    """The code of its findings (a name, for a rule whose code varies: see ``code_id``)."""
    present: BoolArray
    severity: IntArray
    """Per row, the severity the finding has there (read where ``present``)."""
    keys: Mapping[str, npt.NDArray[Any]]
    make: Callable[..., Finding]
    code_id: IntArray | None = None
    """Per row, which code the finding has there, for a rule whose code varies (dose bands)."""


class FindingColumns:
    """The findings of a column of plans, a rule at a time (:class:`ColumnRule`, in output order).

    ``row(i)`` lists row ``i``'s findings in rule order, exactly what a one-row plan lists;
    ``worst()`` and ``identity()`` answer for the whole column without building messages.
    """

    def __init__(self, n: int, rules: list[ColumnRule],
                 made: dict[tuple[int, str], dict[tuple[Any, ...], Finding]] | None = None,
                 worst: tuple[int, IntArray] | None = None) -> None:
        """``made``: the findings already made, per (rule position, code), by columns of the same
        rules whose ``make`` builds the same finding from the same keys (a run's blocks of plans
        share it, so each distinct message is built once a run rather than once a block).
        ``worst``: ``(k, worst())`` of the first ``k`` of these rules, if known already."""
        self.n = n
        self.rules = rules
        self._worst: tuple[int, IntArray | None] = (0, None) if worst is None else worst
        store: dict[tuple[int, str], dict[tuple[Any, ...], Finding]] = {} if made is None else made
        self._made = [store.setdefault((r, rule.code), {}) for r, rule in enumerate(rules)]

    def finding(self, r: int, i: int) -> Finding:
        """Rule ``r``'s finding at row ``i`` (which must have it)."""
        rule = self.rules[r]
        values = {name: column[i].item() for name, column in rule.keys.items()}
        key = tuple(values.values())
        made = self._made[r].get(key)
        if made is None:
            made = self._made[r][key] = rule.make(**values)
        return made

    def row(self, i: int) -> list[Finding]:
        """Every finding of row ``i``, in rule order."""
        return [self.finding(r, i) for r, rule in enumerate(self.rules) if rule.present[i]]

    def rows(self, indices: Iterable[int], shown_from: Severity | None = None) -> list[list[Finding]]:
        """``[self.row(i) for i in indices]``, each rule's presence and keys read once for them all
        (a block's worksheet asks for the few hundred rows whose findings show differently).

        ``shown_from``: a finding less severe, of a rule of one code at one severity, is its code
        and severity alone (:func:`code_only`, no message made), as a worksheet shows it.
        """
        at = np.fromiter(indices, dtype=np.int64)
        out: list[list[Finding]] = [[] for _ in range(at.size)]
        for r, rule in enumerate(self.rules):
            where = np.flatnonzero(rule.present[at])
            if where.size == 0:
                continue
            level = _constant(rule.severity) if shown_from is not None and rule.code_id is None else None
            if level is not None and shown_from is not None and level < shown_from:
                code = code_only(rule.code, level)
                for j in where.tolist():
                    out[j].append(code)
                continue
            names = list(rule.keys)
            columns = [rule.keys[name][at[where]].tolist() for name in names]
            made = self._made[r]
            for j, key in zip(where.tolist(), zip(*columns, strict=True) if columns else [()] * where.size,
                              strict=True):
                found = made.get(key)
                if found is None:
                    found = made[key] = rule.make(**dict(zip(names, key, strict=True)))
                out[j].append(found)
        return out

    def severities(self) -> IntArray:
        """(rules × rows) severities, −1 where a row does not have the finding."""
        out = np.full((len(self.rules), self.n), -1, dtype=np.int64)
        for r, rule in enumerate(self.rules):
            out[r] = np.where(rule.present, rule.severity, -1)
        return out

    def worst(self) -> IntArray:
        """Per row, its most severe finding (−1: none); computed once, and from the worst of
        the first rules when a caller already knew it (``FindingColumns(..., worst=)``).

        Without the (rules × rows) matrix: the rules of one severity for every row (most of
        them) are or-ed by that severity, so a block of 25,000 plans takes a few boolean passes.
        """
        done, known = self._worst
        if known is None or done < len(self.rules):
            known = _worst(self.n, self.rules[done:], known)
            self._worst = (len(self.rules), known)
        return known

    def identity(self, messages_from: Severity = Severity.WARNING) -> list[IntArray]:
        """Integer columns on which two rows agree when their findings show alike.

        Rows equal in every column have the same codes with the same severities in the same
        order, and the same messages for every finding at least ``messages_from`` severe (the
        messages of milder findings may differ).
        """
        out: list[IntArray] = []
        bits, width = np.zeros(0, dtype=np.int64), _PRESENCE_BITS
        for rule in self.rules:
            if not rule.present.any():
                continue
            level = _constant(rule.severity)
            if level is not None and rule.code_id is None:
                # One code at one severity (most rules): its presence alone, a bit of a column
                # that holds those of up to 62 such rules (shifted in place, no temporaries).
                if width == _PRESENCE_BITS:
                    bits, width = np.zeros(self.n, dtype=np.int64), 0
                    out.append(bits)
                np.left_shift(bits, 1, out=bits)
                np.bitwise_or(bits, rule.present, out=bits)
                width += 1
                if level >= messages_from and rule.keys:
                    out.append(_key_ids(rule.keys.values(), np.asarray(rule.present, dtype=bool)))
                continue
            severity = np.where(rule.present, rule.severity, -1)
            code = rule.code_id if rule.code_id is not None else np.zeros(self.n, dtype=np.int64)
            out.append(np.where(rule.present, (severity + 1) * (int(code.max()) + 1) + code, -1))
            shown = rule.present & (severity >= messages_from)
            if shown.any() and rule.keys:
                out.append(_key_ids(rule.keys.values(), shown))
        return out


def _worst(n: int, rules: list[ColumnRule], start: IntArray | None) -> IntArray:
    """:meth:`FindingColumns.worst` of ``rules``, from the worst ``start`` of rules before them."""
    out = np.full(n, -1, dtype=np.int64) if start is None else start.copy()
    fixed: dict[int, BoolArray] = {}
    for rule in rules:
        level = _constant(rule.severity)
        if level is None:
            np.maximum(out, np.where(rule.present, rule.severity, -1), out=out)
        elif level in fixed:
            fixed[level] |= rule.present
        else:
            fixed[level] = np.array(rule.present, dtype=bool)  # a copy: or-ed into below
    for level, present in fixed.items():
        np.maximum(out, np.where(present, level, -1), out=out)
    return out


#: Rules whose presence one identity column holds, a bit each (an int64 column, kept positive).
_PRESENCE_BITS = 62


def _constant(severity: IntArray) -> int | None:
    """The severity of every row when a rule has one for all (a broadcast scalar), else None."""
    if severity.ndim == 1 and severity.size and severity.strides[0] == 0:
        return int(severity[0])
    return None


def _key_ids(keys: Iterable[npt.NDArray[Any]], rows: BoolArray) -> IntArray:
    """Per row in ``rows``, an id shared by exactly the rows with equal keys (−1 elsewhere).

    Each key is numbered (a whole-number or bool key by its value less its least, others by their
    sorted distinct values) and the numbers joined in mixed radix; the joined ids are numbered
    once more only when their span is much larger than the rows.
    """
    at = np.flatnonzero(rows)  # once: each key's values taken at these positions, not masked
    ids = np.zeros(at.size, dtype=np.int64)
    span = 1  # Python int: the product of the widths, checked before it could overflow
    for column in keys:
        inverse, width = _numbered(np.asarray(column)[at])
        if span * width >= 1 << 62:
            ids, span = _numbered_sorted(ids)
        ids = ids * width + inverse
        span *= width
    if span > max(4 * ids.size, 1 << 16):
        ids = _numbered_sorted(ids)[0]
    out = np.full(rows.size, -1, dtype=np.int64)
    out[at] = ids
    return out


def _numbered(values: npt.NDArray[Any]) -> tuple[IntArray, int]:
    """Ids ``0 … width − 1`` equal exactly where ``values`` are, and ``width``."""
    if values.dtype.kind in "biu" and values.size:
        low, high = int(values.min()), int(values.max())
        if high - low < 1 << 31:  # a handful of flags, bands or context numbers: no sort
            return values.astype(np.int64) - low, high - low + 1
    return _numbered_sorted(values)


def _numbered_sorted(values: npt.NDArray[Any]) -> tuple[IntArray, int]:
    """Ids by the sorted distinct values (NaNs alike, −0.0 as 0.0), and their number."""
    _, inverse = np.unique(values, return_inverse=True)
    inverse = inverse.ravel().astype(np.int64)
    return inverse, int(inverse.max()) + 1 if inverse.size else 1
