"""What a form planner returns, and the helpers every planner shares."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np

from compound.batch.coded import Coded
from compound.batch.columns import read_boolean, read_choice
from compound.batch.plan_chunk import Cells, Chunk
from compound.core import units
from compound.core.findings import Finding, FindingColumns, Severity
from compound.errors import InputError

AMOUNT, COUNT, TEXT = "amount", "count", "text"


@dataclass
class StockLine:
    """What one row takes from stock: ``amount`` of ``item`` (per row), in ``unit``."""

    kind: str
    """``tablets``, ``api``, ``excipient`` or ``vehicle``."""
    item: Coded
    amount: np.ndarray
    unit: str
    detail: Coded | None = None
    """A second key (the API form), or None."""
    applies: np.ndarray | None = None
    """Rows the line is about (None: all); NaN amounts there are q.s., not known."""


@dataclass
class FormOutput:
    """The planned rows of one form in a block."""

    form: str
    rows: np.ndarray
    """Block positions of the rows planned (rows with input errors are not)."""
    columns: dict[str, Any]
    """Computed columns aligned with ``rows``: float64 (amounts, counts) or :class:`Coded` (text)."""
    kinds: dict[str, str]
    group: np.ndarray
    """For each planned row, its index into ``group_findings``."""
    group_findings: Sequence[tuple[Finding, ...]]
    """Per group, its findings, most severe first (may be built when first asked for)."""
    bud_category: Coded
    """The USP <795> category of each planned row."""
    stock: list[StockLine] = field(default_factory=list)
    bud_match: dict[str, Coded] = field(default_factory=dict)
    """What a stability study is matched against (filler; vehicle and concentration)."""
    group_worst: np.ndarray | None = None
    """Per group, its most severe finding (−1: none); None: read from ``group_findings``."""
    group_shown: np.ndarray | None = None
    """Per group, an id shared by the groups whose findings show alike on a worksheet (the same
    codes and severities in order, the same warning and refusal messages); None: each its own."""


class LazyFindings(Sequence[tuple[Finding, ...]]):
    """Rows of :class:`~compound.core.findings.FindingColumns`, most severe first, built when asked."""

    def __init__(self, columns: FindingColumns) -> None:
        self._columns = columns
        self._rows: dict[int, tuple[Finding, ...]] = {}

    def __len__(self) -> int:
        return self._columns.n

    def shown(self, indices: Sequence[int]) -> list[tuple[Finding, ...]]:
        """These rows' findings, most severe first, as a worksheet shows them: built at once
        (:meth:`~compound.core.findings.FindingColumns.rows`), an info finding of a rule of one
        code as its code alone (the worksheet lists those by code; ``self[i]`` has them whole)."""
        distinct = list(dict.fromkeys(indices))
        made = {i: tuple(sorted(found, key=_most_severe))
                for i, found in zip(distinct, self._columns.rows(distinct, Severity.WARNING), strict=True)}
        return [made[i] for i in indices]

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        i = int(i)
        found = self._rows.get(i)
        if found is None:
            found = self._rows[i] = tuple(sorted(self._columns.row(i), key=_most_severe))
        return found


def _most_severe(finding: Finding) -> int:
    return -finding.severity


def empty_output(form: str, kinds: dict[str, str]) -> FormOutput:
    return FormOutput(form, np.zeros(0, dtype=np.int64),
                      {k: Coded.empty(0) if v == TEXT else np.zeros(0) for k, v in kinds.items()},
                      kinds, np.zeros(0, dtype=np.int64), [], Coded.empty(0))


@dataclass(frozen=True)
class Choice:
    """A choice column read: ``table[index]`` per row (the default where empty, None if refused)."""

    table: np.ndarray
    index: np.ndarray

    def at(self, i: int) -> Any:
        return self.table[self.index[i]]

    def equals(self, value: str) -> np.ndarray:
        """Per row: the cell is ``value`` (compared once per distinct cell)."""
        return (self.table == value)[self.index]


def choice(cells: Cells, chunk: Chunk, rows: np.ndarray, choices: Sequence[str],
           default: str | None) -> Choice:
    """A choice column (``tablet``/``api``), each distinct cell checked once."""
    table, index = cells.lookup(chunk.log, rows, lambda v: read_choice(v, cells.name, choices),
                                missing=None, dtype=object)
    table = table.copy()
    table[-1] = default  # the empty cell's slot (refused cells index it too, but their rows are errors)
    return Choice(table, index)


#: Amount cells read so far in this process, per (kind, column): text -> canonical value. A file
#: of distinct prescriptions types the same few hundred strengths and counts in every block, each
#: then a dictionary lookup. At most :data:`_READ_LIMIT` texts in all (then forgotten, all).
_READ: dict[tuple[str, str], dict[str, float]] = {}
_READ_LIMIT: Final = 100_000


def read_amount(value: Any, kind: units.Kind, field: str) -> float:
    """:func:`compound.core.units.coerce` of a cell, each distinct text once (refusals not kept:
    they raise again, each time)."""
    if not isinstance(value, str):
        return units.coerce(value, kind, field=field)
    known = _READ.setdefault((kind, field), {})
    number = known.get(value)
    if number is None:
        number = units.coerce(value, kind, field=field)
        if sum(map(len, _READ.values())) >= _READ_LIMIT:
            for texts in _READ.values():
                texts.clear()  # in place: amount() holds its column's table
        known[value] = number
    return number


def amount(cells: Cells, chunk: Chunk, rows: np.ndarray, kind: units.Kind, *,
           positive: bool = False, example: str = "") -> np.ndarray:
    """An amount column in its canonical unit (NaN where empty or refused)."""
    field = cells.name
    known = _READ.setdefault((kind, field), {})

    def read(value: Any) -> float:
        number = known.get(value)
        if number is None:
            number = read_amount(value, kind, field)
        if positive and not number > 0:
            raise InputError(f"{field.replace('_', ' ')} must be greater than zero (got {value}).",
                             hint=f"Type a positive amount, e.g. {example}.", field=field)
        return number

    return cells.read(chunk.log, rows, read)


def boolean(cells: Cells, chunk: Chunk, rows: np.ndarray) -> np.ndarray:
    values = cells.read(chunk.log, rows, lambda v: read_boolean(v, cells.name), missing=False,
                        dtype=bool)
    return values


def text(cells: Cells) -> np.ndarray:
    """Free text (None where empty), stripped."""
    table = np.array([*[str(u).strip() or None for u in cells.uniques], None], dtype=object)
    return table[np.where(cells.codes >= 0, cells.codes, len(cells.uniques))]


def item_table(values: Sequence[Any], codes: np.ndarray) -> Coded:
    """A text column whose rows pick from a small table of values."""
    return Coded.of(values, codes)


def require(cells: Cells, chunk: Chunk, rows: np.ndarray, what: str, example: str) -> None:
    """Log an error for every row where a required cell is empty."""
    missing = ~cells.given
    if missing.any():
        chunk.log.add(rows[missing], cells.name,
                      f"{cells.name}: no value given: type {what}, e.g. {example}.")


def resolve_each(groups_first: np.ndarray, resolve: Callable[[int], Any],
                 on_error: Callable[[int, InputError], None]) -> list[Any]:
    """Call ``resolve(first_row_of_group)`` once per group; errors go to ``on_error``."""
    out: list[Any] = []
    for g, first in enumerate(groups_first):
        try:
            out.append(resolve(int(first)))
        except InputError as exc:  # a broken catalog (CatalogError) stops the run
            on_error(g, exc)
            out.append(None)
    return out

