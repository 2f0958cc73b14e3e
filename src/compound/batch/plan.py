"""``plan_frame``: a DataFrame of prescriptions in, a DataFrame of plans out.

One output row per input row, in the same order. Each row is planned by its
form's planner (capsules, liquid, drops) a column at a time; a row that cannot
be read is an ``error`` row with the reason, and never stops the others.

Output columns, in order:

* ``row`` (1-based data row, header not counted), ``form``, ``status``
  (``ok``, ``warning``, ``refused`` or ``error``);
* the prescription fields ``rx``, ``patient``, ``prescriber``, ``directions``;
* every computed amount under the JSON key of ``compound plan`` (nested
  objects flattened: ``trituration.drug_mg`` → ``trituration_drug_mg``), in
  the unit the key names; empty where it does not apply, and for every
  refused or error row (a refusal never shows amounts);
* with a ``compounded`` column: ``compounded`` (the date, as read),
  ``beyond_use_date``, ``bud_limit`` (the limit that set it), ``bud_days``
  and ``bud_storage``;
* ``finding_codes`` (every finding, most severe first), ``findings`` (the
  messages of the warnings and refusals: ``WARNING CODE: message | …``; info
  findings are listed by code only, their messages are in ``--jsonl``) and
  ``errors`` (``column: reason; …``);
* ``note`` and ``x_…`` columns, unchanged.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from compound.batch.arrow import factorize
from compound.batch.coded import Coded
from compound.batch.columns import COLUMNS, FORMS, LABEL_FIELDS, Distinct, check_header, is_pass_through
from compound.batch.plan_chunk import Chunk
from compound.batch.plan_explain import Members, group_rows
from compound.batch.plan_forms import AMOUNT, COUNT, TEXT, FormOutput, StockLine
from compound.core.findings import Finding, Severity
from compound.core.rounding import round_sig
from compound.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

FORM_MODULES: Final = {"capsules": "compound.batch.plan_capsules", "liquid": "compound.batch.plan_liquid",
                       "drops": "compound.batch.plan_drops"}
STATUSES: Final = ("ok", "warning", "refused", "error")
BUD_KINDS: Final = {"compounded": TEXT, "beyond_use_date": TEXT, "bud_limit": TEXT, "bud_days": COUNT,
                    "bud_storage": TEXT}
_MARK: Final = {Severity.REFUSAL: "REFUSED", Severity.WARNING: "WARNING", Severity.INFO: "info"}
_NOT_INPUTS: Final = {"form", "note", *LABEL_FIELDS}


def _module(form: str) -> Any:
    return importlib.import_module(FORM_MODULES[form])


def form_kinds(forms: Sequence[str]) -> dict[str, str]:
    """The computed columns of these forms, in a stable order, with their kind."""
    out: dict[str, str] = {}
    for form in FORMS:
        if form in forms:
            for key, kind in _module(form).KINDS.items():
                out.setdefault(key, kind)
    return out


def forms_present(values: Any) -> list[str]:
    """The valid forms that occur in a ``form`` column (each distinct cell read once).

    ``values``: the column's cells (a Series, an array or a list; None and NaN are empty).
    """
    if values is None:
        return []
    if hasattr(values, "dropna"):  # a Series: its own idea of missing (NaN, NA, None)
        values = values.dropna()
    seen = values.tolist() if hasattr(values, "tolist") else list(values)
    found = {str(u).strip().lower() for u in set(seen) if u is not None and u == u}
    return [f for f in FORMS if f in found]


def plan_frame(df: pd.DataFrame, *, rounded: bool = True) -> pd.DataFrame:
    """Plan every prescription row of ``df``.

    Rows that share every planning cell (all but the label fields and the
    carried-through columns) are planned once: each row gets its group's plan
    with its own row number and labels (:mod:`compound.batch.group`).

    Parameters
    ----------
    df : DataFrame
        One preparation per row; columns as in a batch CSV (``form``,
        ``strength``, ``count``, …), values as typed on the command line
        (``"4.5mg"``); a ``count`` may also be an integer column.
    rounded : bool
        Round amounts by the output rule (4 significant figures), exactly as
        ``compound plan --json`` prints them (default); False gives the
        unrounded float64 values.

    Returns
    -------
    DataFrame
        One row per input row, in order (see the module documentation).

    Raises
    ------
    InputError
        When the columns themselves cannot be used (an unknown or duplicated
        column, or no ``form`` column). Bad cells never raise: their rows have
        status ``error`` and the reason in ``errors``.
    """
    import pandas as pd

    from compound.batch.group import group_frame

    frame = df.copy(deep=False)
    frame.columns = check_header(list(frame.columns))
    frame = frame.reset_index(drop=True)
    # Each distinct prescription is planned once, then every row takes its group's plan.
    groups = group_frame(frame)
    planned = plan_block(frame.iloc[groups.first].reset_index(drop=True))
    out = planned.frame(rounded=rounded).iloc[groups.gid].reset_index(drop=True)
    out["row"] = np.arange(1, len(frame) + 1, dtype=np.int64)
    chunk = Chunk(frame)
    for name in (*planned.labels, *planned.passthrough):
        out[name] = pd.array(chunk.raw_text(name).to_numpy(zero_copy_only=False), dtype="str")
    return out


@dataclass
class RunCache:
    """What a run computes once and reuses in every block (keys are cell texts)."""

    contexts: dict[Any, Any] = field(default_factory=dict)
    buds: dict[Any, Any] = field(default_factory=dict)
    forms: dict[str, Any] = field(default_factory=dict)
    """Per form, what its planner keeps from block to block (the findings it has made)."""
    pairs: dict[tuple[int | None, ...], tuple[_Pair, tuple[Finding, ...], tuple[Finding, ...]]] = \
        field(default_factory=dict)
    """How (plan findings, BUD findings) show, by the findings' ids (:func:`_pairs`)."""

    def trim(self, limit: int) -> None:
        """Forget what was cached once it holds more than ``limit`` prescriptions.

        A run plans each distinct prescription once, so on a file of many distinct rows these
        caches mostly hold what will not be asked again; everything is recomputed when needed.
        """
        if max(len(self.contexts), len(self.buds), len(self.pairs)) > limit:
            self.contexts.clear()  # liquid and drops plans live here, one per distinct prescription
            self.buds.clear()
            self.forms.clear()
            self.pairs.clear()


@dataclass
class Planned:
    """A block of rows planned; amounts unrounded until written."""

    row: np.ndarray
    form: Coded
    status: Coded
    labels: dict[str, Any]
    """Prescription fields as typed (pyarrow string arrays)."""
    computed: dict[str, Any]
    kinds: dict[str, str]
    bud: dict[str, Any]
    findings: RowFindings
    finding_codes: list[str | None]
    finding_texts: list[str | None]
    finding_group: np.ndarray
    errors: Coded
    passthrough: dict[str, Any]
    chunk: Chunk
    stock: list[tuple[np.ndarray, StockLine]] = field(default_factory=list)
    bud_sources: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.row.size)

    @property
    def status_text(self) -> np.ndarray:
        return self.status.to_objects()

    def output_columns(self) -> tuple[dict[str, Any], dict[str, str]]:
        """Every output column in order (unrounded; text as :class:`Coded`) with its kind."""
        codes = Coded(self.finding_group, np.array(self.finding_codes, dtype=object))
        texts = Coded(self.finding_group, np.array(self.finding_texts, dtype=object))
        cols: dict[str, Any] = {"row": self.row, "form": self.form, "status": self.status}
        kinds = {"row": COUNT, "form": TEXT, "status": TEXT}
        for name, values in self.labels.items():
            cols[name], kinds[name] = values, TEXT
        for key, kind in {**self.kinds, **(BUD_KINDS if self.bud else {})}.items():
            cols[key], kinds[key] = self.computed.get(key, self.bud.get(key)), kind
        for name, values in (("finding_codes", codes), ("findings", texts), ("errors", self.errors),
                             *self.passthrough.items()):
            cols[name], kinds[name] = values, TEXT
        return cols, kinds

    def frame(self, *, rounded: bool = True) -> pd.DataFrame:
        """The block as a DataFrame: amounts rounded (or not), counts Int64, text str."""
        import pandas as pd

        cols, kinds = self.output_columns()
        out: dict[str, Any] = {}
        for key, values in cols.items():
            kind = kinds[key]
            if key == "row":
                out[key] = values
            elif kind == AMOUNT:
                out[key] = round_sig(values) if rounded else values
            elif kind == COUNT:
                out[key] = pd.array(np.where(np.isfinite(values), values, np.nan), dtype="Float64"
                                    ).astype("Int64")
            elif isinstance(values, Coded):
                out[key] = pd.array(values.to_objects(), dtype="str")
            else:
                out[key] = pd.array(values.to_numpy(zero_copy_only=False), dtype="str")
        return pd.DataFrame(out)

    def objects(self) -> dict[str, np.ndarray]:
        """Every column as Python values, None where empty: what ``frame(rounded=True)``
        holds, without pandas (amounts rounded floats, counts and rows ints, text str)."""
        cols, kinds = self.output_columns()
        out: dict[str, np.ndarray] = {}
        for key, values in cols.items():
            kind = kinds[key]
            if key == "row":
                out[key] = np.asarray(values, dtype=np.int64).astype(object)
            elif kind == AMOUNT:
                amounts = round_sig(np.asarray(values, dtype=np.float64))
                out[key] = np.where(np.isnan(amounts), None, amounts.astype(object))
            elif kind == COUNT:
                counts = np.asarray(values, dtype=np.float64)
                whole = np.where(np.isfinite(counts), counts, 0).astype(np.int64).astype(object)
                out[key] = np.where(np.isfinite(counts), whole, None)
            else:
                texts = values.to_objects() if isinstance(values, Coded) else \
                    np.asarray(values.to_numpy(zero_copy_only=False), dtype=object)
                out[key] = np.array([None if v is None or (isinstance(v, float) and v != v)
                                     else v if isinstance(v, str) else str(v) for v in texts.tolist()],
                                    dtype=object)
        return out

    def arrow(self, *, spreadsheet: bool = True) -> Any:
        """The worksheet as a pyarrow table (rounded, counts as integers, text neutralised)."""
        from compound.batch.write_cells import arrow_table

        cols, kinds = self.output_columns()
        return arrow_table(cols, counts=[k for k, v in kinds.items() if v == COUNT],
                           amounts=[k for k, v in kinds.items() if v == AMOUNT], spreadsheet=spreadsheet)

    def column_names(self) -> list[str]:
        return list(self.output_columns()[0])

    def records(self) -> Iterator[dict[str, Any]]:
        """One JSON-ready dict per row (amounts rounded; none for refused or error rows)."""
        data = self.objects()
        computed = [k for k in {**self.kinds, **(BUD_KINDS if self.bud else {})}]
        error_lists = _errors_by_row(self.chunk)
        inputs = {name: self.chunk.coded(name).to_objects() for name in COLUMNS
                  if name not in _NOT_INPUTS and self.chunk.has(name)}
        status = data["status"]
        for i in range(len(self)):
            rec: dict[str, Any] = {"row": int(self.row[i]), "form": data["form"][i], "status": status[i]}
            for name in self.labels:
                if data[name][i] is not None:
                    rec[name] = data[name][i]
            rec["inputs"] = {k: v[i] for k, v in inputs.items() if v[i] is not None}
            if status[i] not in ("refused", "error"):
                for key in computed:
                    value = data[key][i]
                    if value is not None:
                        rec[key] = value
            rec["findings"] = self.findings.dicts(i)
            rec["errors"] = error_lists.get(i, [])
            for name in self.passthrough:
                if data[name][i] is not None:
                    rec[name] = data[name][i]
            yield rec


def _errors_by_row(chunk: Chunk) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    for g in chunk.log.groups:
        values = g.values if g.values is not None else [None] * g.rows.size
        for pos, value in zip(g.rows.tolist(), values, strict=True):
            out.setdefault(pos, []).append({"column": g.column, "value": value, "error": g.message})
    return out


# ---------------------------------------------------------------- planning a block


def plan_block(frame: pd.DataFrame, *, first_row: int = 1, forms: Sequence[str] | None = None,
               read_errors: dict[int, tuple[str, str]] | None = None,
               cache: RunCache | None = None, known: dict[str, Distinct] | None = None) -> Planned:
    """Plan a block of rows whose columns are already checked and normalised.

    ``forms`` fixes the computed columns (a run passes the forms of the whole
    file, so every block has the same columns); ``read_errors`` are malformed
    records (block position -> (message, raw text)); ``cache`` carries what
    earlier blocks of the same run resolved; ``known``: columns of the block already factorised.
    """
    cache = cache or RunCache()
    chunk = Chunk(frame, first_row, known)
    n = chunk.n
    log = chunk.log
    form = _read_form(chunk, read_errors or {})
    bud_cells = _read_bud_cells(chunk)

    if forms is None:
        # bincount, not np.unique: a plain np.unique imports numpy.ma (issue 13)
        codes = form.codes[form.codes >= 0]
        present = set(form.values[np.flatnonzero(np.bincount(codes, minlength=form.values.size))].tolist())
        forms = [f for f in FORMS if f in present]
    kinds = form_kinds(forms)
    computed: dict[str, Any] = {}
    plan_group = np.full(n, -1, dtype=np.int64)
    findings = _GroupFindings()
    category = Coded.empty(n)
    bud_match: dict[str, Coded] = {}
    stock: list[tuple[np.ndarray, StockLine]] = []
    before = log.mask()
    form_index = np.where(form.codes >= 0, form.codes, form.values.size)
    for name in FORMS:
        named = form.values == name
        if not named.any():  # no row of this form (a file of one form: two of three)
            continue
        rows = np.flatnonzero(np.append(named, False)[form_index] & ~before)
        if rows.size == 0:
            continue
        out: FormOutput = _module(name).plan(chunk, rows, cache)
        for key, values in out.columns.items():
            if key not in computed and out.rows.size == n:
                computed[key] = values  # one form planned every row: no copy
            elif isinstance(values, Coded):
                computed.setdefault(key, Coded.empty(n)).put(out.rows, values)
            else:
                computed.setdefault(key, np.full(n, np.nan))[out.rows] = values
        plan_group[out.rows] = out.group + findings.add(out)
        category.put(out.rows, out.bud_category)
        for key, values in out.bud_match.items():
            bud_match.setdefault(key, Coded.empty(n)).put(out.rows, values)
        stock.extend((out.rows, line) for line in out.stock)

    for key, kind in kinds.items():
        if key not in computed:
            computed[key] = Coded.empty(n) if kind == TEXT else np.full(n, np.nan)
    computed = {key: computed[key] for key in kinds}
    worst_of, shown_of = findings.worst(), findings.shown()
    plan_severity = np.append(worst_of, -1)[plan_group]
    bud, bud_group, bud_findings, bud_sources = _plan_bud(chunk, bud_cells, category, bud_match,
                                                          plan_severity, cache)

    # Rows whose plan and BUD findings show alike share their findings text, built once.
    errors = log.mask()
    plan_group[errors] = -1
    bud_group[errors] = -1
    pair_inverse, pair_first = group_rows([np.append(shown_of, -1)[plan_group], bud_group], n)
    shown = findings.as_shown(plan_group[pair_first])  # info findings may be their codes alone
    pairs = _pairs(pair_first, shown, bud_group, bud_findings, cache.pairs)
    worst = np.array([p.worst for p in pairs] + [-1])[pair_inverse]
    status_code = np.where(errors, 3, np.where(worst >= Severity.REFUSAL, 2,
                                               np.where(worst >= Severity.WARNING, 1, 0)))
    withheld = status_code >= 2
    if withheld.any():
        for columns in (computed, bud):
            for key, values in columns.items():
                if isinstance(values, Coded):
                    columns[key] = Coded(np.where(withheld, -1, values.codes), values.values)
                else:
                    columns[key] = np.where(withheld, np.nan, values)
    labels = {name: chunk.raw_text(name) for name in LABEL_FIELDS if chunk.has(name)}
    passthrough = {name: chunk.raw_text(name) for name in chunk.names if is_pass_through(name)}
    return Planned(row=chunk.row_numbers, form=form, status=Coded.of(STATUSES, status_code),
                   labels=labels, computed=computed, kinds=kinds, bud=bud,
                   findings=RowFindings(plan_group, bud_group, findings, bud_findings),
                   finding_codes=[p.codes for p in pairs],
                   finding_texts=[p.text for p in pairs],
                   finding_group=pair_inverse, errors=log.text(), passthrough=passthrough,
                   chunk=chunk, stock=stock, bud_sources=bud_sources)


@dataclass(frozen=True)
class _Pair:
    """How a (plan findings, BUD findings) pair shows on a worksheet: worst severity, codes, text."""

    worst: int
    codes: str | None
    text: str | None


def _merged(plan: tuple[Finding, ...], bud: tuple[Finding, ...]) -> tuple[Finding, ...]:
    return tuple(sorted((*plan, *bud), key=lambda f: -f.severity))  # plan's first on ties, as plan JSON


def _pair(plan: tuple[Finding, ...], bud: tuple[Finding, ...]) -> _Pair:
    both = _merged(plan, bud)
    return _Pair(worst=max((int(f.severity) for f in both), default=-1),
                 codes=";".join(f.code for f in both) or None,
                 text=" | ".join(f"{_MARK[f.severity]} {f.code}: {f.message}" for f in both
                                 if f.severity >= Severity.WARNING) or None)


def _pairs(first: np.ndarray, plan: list[tuple[Finding, ...]], bud_group: np.ndarray,
           bud: list[tuple[Finding, ...]], made: dict[Any, Any]) -> list[_Pair]:
    """:func:`_pair` of each row in ``first`` (``plan``: their plan findings, as shown), each pair
    of findings shown once a run.

    A run's blocks make their findings from the same objects (a form's findings made once a run,
    BUD results cached), so a pair is known by the ids of its findings; ``made`` holds the
    findings themselves, so none of those ids can be reused while it knows them.
    """
    out = []
    for i, mine in zip(first.tolist(), plan, strict=True):
        b = int(bud_group[i])
        theirs = bud[b] if b >= 0 else ()
        key = (*map(id, mine), None, *map(id, theirs))
        hit = made.get(key)
        if hit is None:
            hit = made[key] = (_pair(mine, theirs), mine, theirs)
        out.append(hit[0])
    return out


class _GroupFindings:
    """The findings groups of a block's forms, numbered one after another."""

    def __init__(self) -> None:
        self._parts: list[tuple[int, FormOutput]] = []
        self.size = 0

    def add(self, out: FormOutput) -> int:
        """Take a form's groups; returns the number of its first group."""
        start = self.size
        self._parts.append((start, out))
        self.size += len(out.group_findings)
        return start

    def __getitem__(self, g: int) -> tuple[Finding, ...]:
        for start, out in reversed(self._parts):
            if g >= start:
                return out.group_findings[g - start]  # type: ignore[no-any-return]
        raise IndexError(g)

    def as_shown(self, groups: np.ndarray) -> list[tuple[Finding, ...]]:
        """These groups' findings (none for −1) as a worksheet shows them, most severe first:
        a form's built at once where it builds them when asked for (an info finding may then be
        its code alone: :meth:`~compound.batch.plan_forms.LazyFindings.shown`)."""
        out: list[tuple[Finding, ...]] = [()] * groups.size
        for start, part in self._parts:
            found = part.group_findings
            mine = np.flatnonzero((groups >= start) & (groups < start + len(found)))
            local = (groups[mine] - start).tolist()
            shown = found.shown(local) if hasattr(found, "shown") else [found[g] for g in local]
            for j, row in zip(mine.tolist(), shown, strict=True):
                out[j] = row
        return out

    def worst(self) -> np.ndarray:
        parts = [out.group_worst if out.group_worst is not None else
                 np.array([max((int(f.severity) for f in g), default=-1) for g in out.group_findings],
                          dtype=np.int64) for _, out in self._parts]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    def shown(self) -> np.ndarray:
        """Per group, an id shared only by groups (of the same form) whose findings show alike."""
        parts, offset = [], 0
        for _, out in self._parts:
            own = (out.group_shown if out.group_shown is not None
                   else np.arange(len(out.group_findings), dtype=np.int64))
            parts.append(np.asarray(own, dtype=np.int64) + offset)
            offset += int(own.max()) + 1 if own.size else 0
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


@dataclass
class RowFindings:
    """Each row's findings, plan's and BUD's together, most severe first (built when asked for)."""

    plan_group: np.ndarray
    bud_group: np.ndarray
    plan: _GroupFindings
    bud: list[tuple[Finding, ...]]
    _made: dict[tuple[int, int], list[dict[str, Any]]] = field(default_factory=dict)

    def __call__(self, i: int) -> tuple[Finding, ...]:
        p, b = int(self.plan_group[i]), int(self.bud_group[i])
        return _merged(self.plan[p] if p >= 0 else (), self.bud[b] if b >= 0 else ())

    def dicts(self, i: int) -> list[dict[str, Any]]:
        """Row ``i``'s findings as JSON objects."""
        key = (int(self.plan_group[i]), int(self.bud_group[i]))
        if key not in self._made:
            self._made[key] = [f.to_dict() for f in self(i)]
        return self._made[key]


def _read_form(chunk: Chunk, read_errors: dict[int, tuple[str, str]]) -> Coded:
    """The ``form`` column (capsules, liquid or drops; as typed where it is not one).

    Also logs malformed records and empty rows: only a row without a form can be empty.
    """
    log = chunk.log
    for pos, (message, raw) in read_errors.items():
        log.add(np.array([pos]), "row", message, np.array([raw], dtype=object))
    d = chunk.column("form")
    typed = np.array([str(u).strip() for u in d.uniques], dtype=object)
    normal = np.array([t.lower() for t in typed], dtype=object)
    valid = np.isin(normal, FORMS)
    shown = np.where(valid, normal, typed).astype(object)
    codes = d.codes
    bad = (codes >= 0) & ~np.append(valid, False)[np.where(codes >= 0, codes, valid.size)]
    log.add(np.flatnonzero(bad), "form",
            "form: not one of capsules, liquid, drops. Type capsules, liquid or drops.",
            shown[codes[bad]] if bad.any() else None)
    no_form = codes < 0
    no_form[list(read_errors)] = False
    candidates = np.flatnonzero(no_form)
    if candidates.size:
        empty = np.ones(candidates.size, dtype=bool)
        for name in chunk.names:
            empty &= chunk.column(name).codes[candidates] < 0
        log.add(candidates[empty], "row", "the row is empty: nothing to plan.")
        log.add(candidates[~empty], "form", "form: no value given: type capsules, liquid or drops.")
    return Coded(codes.copy(), shown)


BUD_INPUTS: Final = ("compounded", "storage", "study", "attest", "policy", "day_zero", "container",
                     "component_expiry")


def _expiries(text: str) -> list[tuple[str, str]]:
    """``LABEL=DATE; DATE`` → [(label, date text)], unlabelled ones numbered (as the CLI does)."""
    from compound.core.dates import parse_expiry

    out = []
    for n, item in enumerate((p for p in text.split(";") if p.strip()), start=1):
        label, sep, date = item.rpartition("=")
        date = date.strip()
        parse_expiry(date, "component_expiry")  # refuse a bad date now, as a bad cell
        out.append((label.strip() if sep and label.strip() else f"component {n}", date))
    return out


def _read_date(value: Any) -> Any:
    """A compounding date: ``YYYY-MM-DD`` text, or a date (a midnight timestamp) in a DataFrame."""
    import datetime as dt

    from compound.core.dates import coerce_date, parse_date

    if isinstance(value, dt.datetime) and value.time() == dt.time(0) and value.tzinfo is None:
        value = value.date()
    if isinstance(value, str):
        return parse_date(value, "compounded")
    return coerce_date(value, "compounded")


def _read_bud_cells(chunk: Chunk) -> dict[str, Any] | None:
    """Read the BUD columns before planning: a bad date is a bad row, not a bad BUD."""
    if not chunk.has("compounded"):
        return None
    from compound.batch.columns import read_boolean, read_choice
    from compound.planning import stability

    everyone = np.arange(chunk.n)
    known = tuple(stability.storages())
    readers = {
        "compounded": _read_date,
        "storage": lambda v: read_choice(v, "storage", known),
        "study": lambda v: str(v).strip(),
        "attest": lambda v: read_boolean(v, "attest"),
        "policy": lambda v: str(v).strip(),
        "day_zero": lambda v: read_boolean(v, "day_zero"),
        "container": lambda v: str(v).strip(),
        "component_expiry": lambda v: _expiries(str(v)),
    }
    out: dict[str, Any] = {}
    for name, read in readers.items():
        cells = chunk.cells(name, everyone)
        table, index = cells.lookup(chunk.log, everyone, read, missing=None, dtype=object)
        out[name] = (table, index)
    out["given"] = chunk.cells("compounded", everyone).given
    return out


def _plan_bud(chunk: Chunk, cells: dict[str, Any] | None, category: Coded, match: dict[str, Coded],
              plan_severity: np.ndarray, cache: RunCache,
              ) -> tuple[dict[str, Any], np.ndarray, list[tuple[Finding, ...]], dict[str, str]]:
    """Beyond-use dates for the planned, unrefused rows that give ``compounded``.

    One :func:`~compound.planning.stability.assign_bud` call per distinct
    (category, BUD columns, filler or vehicle and concentration) in the run,
    with the preparation a study is matched against, as ``compound plan
    --compounded`` does (:func:`compound.planning.dating.preparation_of`).
    """
    n = chunk.n
    bud_group = np.full(n, -1, dtype=np.int64)
    if cells is None:
        return {}, bud_group, [], {}
    from compound.planning import stability

    out: dict[str, Any] = {k: Coded.empty(n) if v == TEXT else np.full(n, np.nan)
                           for k, v in BUD_KINDS.items()}
    rows = np.flatnonzero(cells["given"] & (category.codes >= 0) & ~chunk.log.mask()
                          & (plan_severity < Severity.REFUSAL))
    if rows.size == 0:
        return out, bud_group, [], {}
    cat = category.to_objects()
    match_values = {k: v.to_objects()[rows] for k, v in match.items()}
    keys = [factorize(cat[rows])[0], *(cells[name][1][rows] for name in BUD_INPUTS)]
    keys += [factorize(v)[0] for v in match_values.values()]
    inverse, first = group_rows(keys, rows.size)
    members_of = Members(inverse)
    results: list[Any] = []
    for g, i in enumerate(first):
        r = rows[i]
        value = {name: cells[name][0][cells[name][1][r]] for name in BUD_INPUTS}
        prep = {k: v[i] for k, v in match_values.items() if v[i] is not None}
        key = (str(cat[r]), *(repr(value[name]) for name in BUD_INPUTS), tuple(sorted(prep.items())))
        if key not in cache.buds:
            if "concentration" in prep:  # mg/mL, grouped as a number (plan_liquid_drops)
                from compound.planning.dating import concentration_of

                prep["concentration"] = concentration_of(prep["concentration"])
            try:
                cache.buds[key] = stability.assign_bud(
                    str(cat[r]), value["compounded"], storage=value["storage"], study=value["study"],
                    attest=bool(value["attest"]), policy=value["policy"] or stability.DEFAULT_POLICY,
                    day_zero=bool(value["day_zero"]), component_expiries=value["component_expiry"] or (),
                    preparation={**prep, "container": value["container"]} if value["container"]
                    else (prep or None))
            except InputError as exc:
                cache.buds[key] = exc
        result = cache.buds[key]
        if isinstance(result, InputError):
            members = rows[members_of(g)]
            column = result.field if result.field in BUD_INPUTS else "compounded"
            chunk.log.add(members, column, str(result), chunk.cells(column, members).text())
        results.append(result)
    ok = [not isinstance(r, InputError) for r in results]
    inverse = np.where(np.array(ok)[inverse], inverse, -1)
    good = [r if k else None for r, k in zip(results, ok, strict=True)]

    def col(get: Any) -> list[Any]:
        return [get(r) if r is not None else None for r in good]

    out["compounded"].put(rows, Coded.of(col(lambda r: r.compounded.isoformat()), inverse))
    out["beyond_use_date"].put(rows, Coded.of(col(lambda r: r.beyond_use_date.isoformat()
                                                   if r.beyond_use_date else None), inverse))
    out["bud_limit"].put(rows, Coded.of(col(lambda r: r.limit.name if r.limit else None), inverse))
    out["bud_storage"].put(rows, Coded.of(col(lambda r: r.storage), inverse))
    days = np.array([np.nan if r is None or r.limit is None or r.limit.days is None
                     else float(r.limit.days) for r in good] + [np.nan])
    out["bud_days"][rows] = days[inverse]
    bud_group[rows] = inverse
    sources = {r.limit.name: r.limit.source for r in good if r is not None and r.limit}
    return out, bud_group, [tuple(r.findings) if r is not None else () for r in good], sources
