"""``plan_frame``: a DataFrame of prescriptions in, a DataFrame of plans out.

One output row per input row, in the same order. Each row is planned by its
form's planner (capsules, liquid, drops) a column at a time; a row that cannot
be read is an ``error`` row with the reason, and never stops the others.

Output columns, in order:

* ``row`` (1-based data row, header not counted), ``form``, ``status``
  (``ok``, ``warning``, ``refused`` or ``error``);
* the prescription fields ``rx``, ``patient``, ``prescriber``, ``directions``
  and the input columns as typed;
* every computed amount under the JSON key of ``compound plan`` (nested
  objects flattened: ``trituration.drug_mg`` → ``trituration_drug_mg``), in
  the unit the key names; empty where it does not apply, and for every
  refused or error row (a refusal never shows amounts);
* with ``compounded``: ``beyond_use_date`` and the limit that set it;
* ``finding_codes``, ``findings`` (``WARNING CODE: message | …``) and ``errors``;
* ``note`` and ``x_…`` columns, unchanged.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd

from compound.batch.chunk import Chunk
from compound.batch.columns import COLUMNS, FORMS, LABEL_FIELDS, check_header, is_pass_through
from compound.batch.forms import AMOUNT, COUNT, TEXT, FormOutput, StockLine
from compound.batch.groups import group_rows
from compound.core.findings import Finding, Severity
from compound.core.rounding import round_sig

FORM_MODULES: Final = {"capsules": "compound.batch.capsules", "liquid": "compound.batch.liquid",
                       "drops": "compound.batch.drops"}
STATUSES: Final = ("ok", "warning", "refused", "error")
BUD_KINDS: Final = {"beyond_use_date": TEXT, "bud_limit": TEXT, "bud_limit_kind": TEXT,
                    "bud_days": COUNT, "bud_storage": TEXT, "bud_category": TEXT, "bud_source": TEXT}
_MARK: Final = {Severity.REFUSAL: "REFUSED", Severity.WARNING: "WARNING", Severity.INFO: "info"}
_ECHO_SKIP: Final = {"form", "note", *LABEL_FIELDS}


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


def forms_present(values: pd.Series | None) -> list[str]:
    """The valid forms that occur in a ``form`` column (each distinct cell read once)."""
    if values is None:
        return []
    uniques = pd.unique(values.dropna())
    found = {str(u).strip().lower() for u in uniques}
    return [f for f in FORMS if f in found]


def plan_frame(df: pd.DataFrame, *, rounded: bool = True) -> pd.DataFrame:
    """Plan every prescription row of ``df``.

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
    frame = df.copy(deep=False)
    frame.columns = check_header(list(frame.columns))
    return plan_block(frame).frame(rounded=rounded)


@dataclass
class Planned:
    """A block of rows planned; columns unrounded until written."""

    row: np.ndarray
    form: np.ndarray
    status: np.ndarray
    labels: dict[str, np.ndarray]
    echo: dict[str, np.ndarray]
    computed: dict[str, np.ndarray]
    kinds: dict[str, str]
    bud: dict[str, np.ndarray]
    findings: list[tuple[Finding, ...]]
    finding_group: np.ndarray
    errors: np.ndarray
    passthrough: dict[str, np.ndarray]
    chunk: Chunk
    stock: list[tuple[np.ndarray, StockLine]] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.row.size)

    # ------------------------------------------------------------ tables

    def findings_text(self) -> tuple[np.ndarray, np.ndarray]:
        """Per row: the finding codes and the findings, as text (None when none)."""
        codes = np.array([";".join(f.code for f in group) or None for group in self.findings] + [None],
                         dtype=object)
        texts = np.array([" | ".join(f"{_MARK[f.severity]} {f.code}: {f.message}" for f in group) or None
                          for group in self.findings] + [None], dtype=object)
        index = np.where(self.finding_group >= 0, self.finding_group, len(self.findings))
        return codes[index], texts[index]

    def raw_columns(self) -> tuple[dict[str, np.ndarray], dict[str, str]]:
        """Every output column in order, unrounded (counts as float64), with its kind."""
        codes, texts = self.findings_text()
        cols: dict[str, np.ndarray] = {"row": self.row, "form": self.form, "status": self.status}
        kinds: dict[str, str] = {"row": COUNT, "form": TEXT, "status": TEXT}
        for name, values in (*self.labels.items(),
                             *((k, v) for k, v in self.echo.items()
                               if k not in self.kinds and k not in BUD_KINDS)):
            cols[name], kinds[name] = values, TEXT
        for key, kind in {**self.kinds, **(BUD_KINDS if self.bud else {})}.items():
            cols[key], kinds[key] = self.computed.get(key, self.bud.get(key)), kind
        for name, values in (("finding_codes", codes), ("findings", texts), ("errors", self.errors),
                             *self.passthrough.items()):
            cols[name], kinds[name] = values, TEXT
        return cols, kinds

    def columns(self, *, rounded: bool) -> dict[str, Any]:
        """Every output column in order: amounts rounded (or not), counts as Int64."""
        cols, kinds = self.raw_columns()
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
            else:
                out[key] = values
        return out

    def arrow(self, *, spreadsheet: bool = True) -> Any:
        """The worksheet as a pyarrow table (rounded, counts as integers, text neutralised)."""
        from compound.batch.output import arrow_table

        cols, kinds = self.raw_columns()
        return arrow_table(cols, counts=[k for k, v in kinds.items() if v == COUNT],
                           amounts=[k for k, v in kinds.items() if v == AMOUNT], spreadsheet=spreadsheet)

    def frame(self, *, rounded: bool = True) -> pd.DataFrame:
        cols = self.columns(rounded=rounded)
        frame = pd.DataFrame({k: (pd.array(v, dtype="str") if isinstance(v, np.ndarray) and v.dtype == object
                                  else v) for k, v in cols.items()})
        return frame

    def records(self) -> Iterator[dict[str, Any]]:
        """One JSON-ready dict per row (amounts rounded; none for refused or error rows)."""
        cols = self.columns(rounded=True)
        finding_dicts = [[f.to_dict() for f in group] for group in self.findings] + [[]]
        index = np.where(self.finding_group >= 0, self.finding_group, len(self.findings))
        error_lists = _errors_by_row(self.chunk)
        label_names = list(self.labels)
        echo = {k: v for k, v in self.echo.items()}
        computed = [k for k in {**self.kinds, **(BUD_KINDS if self.bud else {})}]
        data = {k: (np.asarray(v.to_numpy(dtype=object, na_value=None)) if hasattr(v, "to_numpy")
                    else v) for k, v in cols.items()}
        for i in range(len(self)):
            status = self.status[i]
            rec: dict[str, Any] = {"row": int(self.row[i]), "form": self.form[i], "status": status}
            for name in label_names:
                if self.labels[name][i] is not None:
                    rec[name] = self.labels[name][i]
            rec["inputs"] = {k: v[i] for k, v in echo.items() if v[i] is not None}
            if status not in ("refused", "error"):
                for key in computed:
                    value = data[key][i]
                    if value is not None and not (isinstance(value, float) and np.isnan(value)):
                        rec[key] = value
            rec["findings"] = finding_dicts[index[i]]
            rec["errors"] = error_lists.get(i, [])
            for name, values in self.passthrough.items():
                if values[i] is not None:
                    rec[name] = values[i]
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
               read_errors: dict[int, tuple[str, str]] | None = None) -> Planned:
    """Plan a block of rows whose columns are already checked and normalised.

    ``forms`` fixes the computed columns (a run passes the forms of the whole
    file, so every block has the same columns); ``read_errors`` are malformed
    records (block position -> (message, raw text)).
    """
    chunk = Chunk(frame, first_row)
    n = chunk.n
    log = chunk.log
    for pos, (message, raw) in (read_errors or {}).items():
        log.add(np.array([pos]), "row", message, np.array([raw], dtype=object))
    empty = np.ones(n, dtype=bool)
    for name in frame.columns:
        empty &= chunk.column(name).codes < 0
    if read_errors:
        empty[list(read_errors)] = False
    log.add(np.flatnonzero(empty), "row", "the row is empty: nothing to plan.")

    form_cells = chunk.cells("form", np.arange(n))
    form_table = [str(u).strip().lower() for u in form_cells.uniques]
    valid = np.array([f in FORMS for f in form_table] + [False])
    form_index = np.where(form_cells.codes >= 0, form_cells.codes, len(form_table))
    given = form_cells.codes >= 0
    bad_form = given & ~valid[form_index]
    log.add(np.flatnonzero(bad_form), "form",
            "form: not one of capsules, liquid, drops. Type capsules, liquid or drops.",
            form_cells.text(bad_form))
    missing_form = ~given & ~empty
    if read_errors:
        missing_form[list(read_errors)] = False
    log.add(np.flatnonzero(missing_form), "form",
            "form: no value given: type capsules, liquid or drops.")
    form_norm = np.array([*form_table, None], dtype=object)[form_index]
    form_shown = np.where(valid[form_index], form_norm, form_cells.text())

    bud_cells = _read_bud_cells(chunk)

    used_forms = list(forms) if forms is not None else [f for f in FORMS if (form_norm == f).any()]
    kinds = form_kinds(used_forms)
    computed = {k: (np.full(n, None, dtype=object) if v == TEXT else np.full(n, np.nan))
                for k, v in kinds.items()}
    plan_group = np.full(n, -1, dtype=np.int64)
    findings: list[tuple[Finding, ...]] = []
    category = np.full(n, None, dtype=object)
    bud_match: dict[str, np.ndarray] = {}
    stock: list[tuple[np.ndarray, StockLine]] = []
    before = log.mask()
    for form in FORMS:
        rows = np.flatnonzero((form_norm == form) & ~before)
        if rows.size == 0:
            continue
        out: FormOutput = _module(form).plan(chunk, rows)
        for key, values in out.columns.items():
            computed[key][out.rows] = values
        plan_group[out.rows] = out.group + len(findings)
        findings.extend(out.group_findings)
        category[out.rows] = out.bud_category
        for key in ("filler", "vehicle"):
            if key in out.columns and out.kinds.get(key) == TEXT:
                bud_match.setdefault(key, np.full(n, None, dtype=object))[out.rows] = out.columns[key]
        stock.extend((out.rows, line) for line in out.stock)

    severity = np.array([max((f.severity for f in g), default=-1) for g in findings] + [-1])
    plan_severity = severity[np.where(plan_group >= 0, plan_group, len(findings))]
    bud, bud_group, bud_findings = _plan_bud(chunk, bud_cells, category, bud_match, plan_severity)

    # Plan and BUD findings together, once per distinct pair.
    errors = log.mask()
    pair_inverse, pair_first = group_rows([plan_group, bud_group], n)
    combined: list[tuple[Finding, ...]] = []
    for first in pair_first:
        p = findings[plan_group[first]] if plan_group[first] >= 0 else ()
        b = bud_findings[bud_group[first]] if bud_group[first] >= 0 else ()
        combined.append(tuple(sorted((*p, *b), key=lambda f: -f.severity)))
    worst = np.array([max((f.severity for f in g), default=-1) for g in combined] + [-1])[pair_inverse]
    status = np.where(errors, "error", np.where(worst >= Severity.REFUSAL, "refused",
                                                np.where(worst >= Severity.WARNING, "warning", "ok")))
    status = status.astype(object)
    withheld = errors | (worst >= Severity.REFUSAL)
    for values in (*computed.values(), *bud.values()):
        values[withheld] = None if values.dtype == object else np.nan
    finding_group = pair_inverse

    labels = {name: _text_column(chunk, name) for name in LABEL_FIELDS if chunk.has(name)}
    echo = {name: _text_column(chunk, name) for name in COLUMNS
            if name not in _ECHO_SKIP and chunk.has(name)}
    passthrough = {name: _text_column(chunk, name) for name in frame.columns if is_pass_through(name)}
    return Planned(row=chunk.row_numbers, form=form_shown, status=status, labels=labels, echo=echo,
                   computed=computed, kinds=kinds, bud=bud, findings=combined,
                   finding_group=finding_group, errors=log.text(), passthrough=passthrough,
                   chunk=chunk, stock=[(rows, line) for rows, line in stock])


def _text_column(chunk: Chunk, name: str) -> np.ndarray:
    cells = chunk.cells(name, np.arange(chunk.n))
    return cells.text()


def _read_bud_cells(chunk: Chunk) -> dict[str, Any] | None:
    """Read ``compounded`` and ``storage`` before planning: a bad date is a bad row."""
    if not chunk.has("compounded"):
        return None
    from compound.batch.columns import read_choice
    from compound.core.dates import parse_date
    from compound.planning import stability

    everyone = np.arange(chunk.n)
    compounded = chunk.cells("compounded", everyone)
    dates, date_index = compounded.lookup(chunk.log, everyone,
                                          lambda v: parse_date(str(v), "compounded"),
                                          missing=None, dtype=object)
    known = tuple(stability.storages())
    storage = chunk.cells("storage", everyone)
    stores, store_index = storage.lookup(chunk.log, everyone,
                                         lambda v: read_choice(v, "storage", known),
                                         missing=None, dtype=object)
    return {"dates": dates, "date_index": date_index, "stores": stores, "store_index": store_index,
            "given": compounded.given}


def _plan_bud(chunk: Chunk, cells: dict[str, Any] | None, category: np.ndarray,
              match: dict[str, np.ndarray], plan_severity: np.ndarray,
              ) -> tuple[dict[str, np.ndarray], np.ndarray, list[tuple[Finding, ...]]]:
    """Beyond-use dates for the planned, unrefused rows that give ``compounded``.

    One :func:`~compound.planning.stability.assign_bud` call per distinct
    (category, date, storage, filler or vehicle).
    """
    n = chunk.n
    bud_group = np.full(n, -1, dtype=np.int64)
    if cells is None:
        return {}, bud_group, []
    from compound.planning import stability

    out = {k: np.full(n, None, dtype=object) if v == TEXT else np.full(n, np.nan)
           for k, v in BUD_KINDS.items()}
    rows = np.flatnonzero(cells["given"] & (category != None) & ~chunk.log.mask()  # noqa: E711
                          & (plan_severity < Severity.REFUSAL))
    if rows.size == 0:
        return out, bud_group, []
    match_rows = {k: v[rows] for k, v in match.items()}
    keys = [pd.factorize(category[rows])[0], cells["date_index"][rows], cells["store_index"][rows]]
    keys += [pd.factorize(v, use_na_sentinel=True)[0] for v in match_rows.values()]
    inverse, first = group_rows(keys, rows.size)
    results = []
    for i in first:
        r = rows[i]
        prep = {k: v[i] for k, v in match_rows.items() if v[i] is not None}
        results.append(stability.assign_bud(
            str(category[r]), cells["dates"][cells["date_index"][r]],
            storage=cells["stores"][cells["store_index"][r]], preparation=prep or None))
    table = {
        "beyond_use_date": [r.beyond_use_date.isoformat() if r.beyond_use_date else None for r in results],
        "bud_limit": [r.limit.name if r.limit else None for r in results],
        "bud_limit_kind": [r.limit.kind if r.limit else None for r in results],
        "bud_days": [float(r.limit.days) if r.limit and r.limit.days is not None else np.nan
                     for r in results],
        "bud_storage": [r.storage for r in results],
        "bud_category": [r.category for r in results],
        "bud_source": [r.limit.source if r.limit else None for r in results],
    }
    for key, values in table.items():
        arr = np.array(values, dtype=object if BUD_KINDS[key] == TEXT else np.float64)
        out[key][rows] = arr[inverse]
    bud_group[rows] = inverse
    return out, bud_group, [tuple(r.findings) for r in results]
