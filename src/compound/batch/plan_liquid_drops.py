"""Liquid and drops rows: each distinct prescription planned once, the core once per block.

A batch groups the rows by every input cell. For each distinct prescription it
calls the first half of ``plan_liquid`` / ``plan_drops`` (``liquid_context`` /
``drops_context``: parse, resolve, the findings known before the core), with a
run-wide :class:`~compound.planning.liquid.Resolver` so each cell text is parsed
and each set of source options resolved once; then the core runs once on the
column of every context (``compute_all``), and ``complete`` turns each row of
it into findings, amounts and JSON objects, without the working steps (the
worksheet does not print them; ``--worksheets`` calls the plan functions). These
are the functions the plan functions are made of, so the numbers are the same by
construction. The plan is spread over the group's rows.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from compound.batch.coded import Coded
from compound.batch.columns import read_boolean, read_choice
from compound.batch.plan_chunk import Chunk
from compound.batch.plan_explain import Members, group_rows
from compound.batch.plan_forms import AMOUNT, COUNT, TEXT, FormOutput, StockLine, empty_output
from compound.core.findings import Finding
from compound.errors import InputError
from compound.planning import resolve

CHOICES: Final = {"source": ("tablet", "api"), "basis": ("hcl", "base"),
                  "api_form": ("anhydrous", "dihydrate", "base")}

_LIQUID_EXTRA: Final = {
    "trituration_stages": COUNT, "trituration_factor_per_stage": COUNT, "trituration_powder_mg": AMOUNT,
    "trituration_diluent_per_stage_mg": AMOUNT, "trituration_triturate_per_stage_mg": AMOUNT,
    "trituration_aliquot_mg": AMOUNT, "aliquot_overall_factor": AMOUNT, "aliquot_steps": TEXT,
    "device": TEXT, "device_capacity_ml": AMOUNT, "device_graduation_ml": AMOUNT,
    "vehicle": TEXT, "vehicle_components": TEXT, "product": TEXT,
}



def plan_arguments(values: dict[str, Any], *, always: tuple[str, ...] = ()) -> dict[str, Any]:
    """``plan_*`` keyword arguments from a row's cells: empty cells take the command's defaults.

    ``always`` names arguments passed even when empty (a required one, so the plan function
    reports it missing in its own words). Choice words are lower-cased; ``opioid_use`` is
    read as yes/no.
    """
    out = {k: v for k, v in values.items() if (v is not None or k in always) and k != "opioid_use"}
    for key in ("source", "basis", "api_form"):
        if out.get(key) is not None:
            out[key] = out[key].lower()
    out["opioid_use"] = values["opioid_use"] is not None and read_boolean(values["opioid_use"],
                                                                          "opioid_use")
    return out


def liquid_extra_kinds() -> dict[str, str]:
    return dict(_LIQUID_EXTRA)


def _flatten(extra: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
    """A liquid/drops plan's nested JSON objects as flat worksheet columns."""
    from compound.core.rounding import format_concentration, format_number, format_volume

    out: dict[str, Any] = {"product": inputs.get("product")}
    trit = extra.get("trituration")
    if trit:
        for key in ("stages", "factor_per_stage", "powder_mg", "diluent_per_stage_mg",
                    "triturate_per_stage_mg", "aliquot_mg"):
            out[f"trituration_{key}"] = trit.get(key)
    aliquot = extra.get("aliquot")
    if aliquot:
        out["aliquot_overall_factor"] = aliquot.get("overall_factor")
        stock = aliquot.get("stock", {})
        parts = [f"dissolve {format_number(stock.get('weigh_mg'))} mg API and make up to "
                 f"{format_volume(stock.get('make_up_to_ml'))} with {stock.get('diluent')} "
                 f"({format_concentration(stock.get('concentration_mg_per_ml'))})"]
        parts += [f"stage {s['stage']}: take {format_volume(s['take_ml'])} of {s['from']}, make up to "
                  f"{format_volume(s['make_up_to_ml'])} with {s['diluent']} "
                  f"({format_concentration(s['concentration_mg_per_ml'])})"
                  for s in aliquot.get("stages", [])]
        out["aliquot_steps"] = "; ".join(parts)
    device = extra.get("device")
    if device:
        out["device"] = device.get("name")
        out["device_capacity_ml"] = device.get("capacity_ml")
        out["device_graduation_ml"] = device.get("graduation_ml")
    vehicle = extra.get("vehicle")
    if vehicle:
        out["vehicle"] = vehicle.get("key")
        out["vehicle_components"] = _components_text(
            tuple(tuple(c.items()) for c in vehicle.get("components", [])))
    return out


@functools.lru_cache(maxsize=4096)
def _components_text(components: tuple[tuple[tuple[str, Any], ...], ...]) -> str:
    """The vehicle's components as one cell (a few volumes recur over many prescriptions)."""
    return "; ".join(_component_text(dict(c)) for c in components)


def _component_text(c: dict[str, Any]) -> str:
    from compound.core.rounding import format_mass, format_volume

    if "qs_to_ml" in c:
        return f"{c['name']} to {format_volume(c['qs_to_ml'])}"
    if "amount_mg" in c:
        return f"{c['name']} {format_mass(c['amount_mg'])}"
    return f"{c['name']} {format_volume(c.get('amount_ml'))}"


@dataclass(frozen=True)
class Planner:
    """How one form is planned: ``context(**kwargs(cells), resolver=…)`` for each distinct
    prescription (parse, resolve, the findings known before the core), then ``compute_all``
    once on the contexts, then ``complete(plan, computed, i, ctx, with_steps=False)``.

    These are the functions ``plan_liquid`` / ``plan_drops`` are made of, so a batch row's
    numbers and findings are the one-at-a-time plan's by construction.
    """

    context: Callable[..., tuple[Any, Any]]
    compute_all: Callable[[list[Any]], Any]
    complete: Callable[..., Any]
    kwargs: Callable[[dict[str, Any]], dict[str, Any]]


def _resolver(plans: dict[Any, Any]) -> Any:
    """The run's resolver (kept with its plans): each cell text parsed, each option set resolved once."""
    from compound.planning.liquid import Resolver

    key = ("resolver",)
    if key not in plans:
        plans[key] = Resolver(remember=True)
    return plans[key]


def _plan_new(values_of: dict[Any, dict[str, Any]], plans: dict[Any, Any], planner: Planner) -> None:
    """Plan every prescription of ``values_of`` (key -> cells): the core once for all of them."""
    resolver = _resolver(plans)
    pending: list[tuple[Any, Any, Any]] = []
    for key, values in values_of.items():
        try:
            plan, ctx = planner.context(**planner.kwargs(values), resolver=resolver)
        except InputError as exc:
            plans[key] = exc
            continue
        if ctx is None:  # refused before the core: complete as it is
            plans[key] = plan
        else:
            pending.append((key, plan, ctx))
    if not pending:
        return
    computed = planner.compute_all([ctx for _, _, ctx in pending])
    for i, (key, plan, ctx) in enumerate(pending):
        plans[key] = planner.complete(plan, computed, i, ctx, with_steps=False)


def plan_grouped(chunk: Chunk, rows: np.ndarray, cache: Any, *, form: str, reads: tuple[str, ...],
                 kinds: dict[str, str], planner: Planner) -> FormOutput:
    """Plan ``rows`` of one form: each distinct prescription once, the core once per block."""
    if rows.size == 0:
        return empty_output(form, kinds)
    log = chunk.log
    plans: dict[Any, Any] = cache.contexts if cache is not None else {}
    cells = {name: chunk.cells(name, rows) for name in reads}

    # Cells every form reads the same way: choices and yes/no, checked per distinct value.
    for name, allowed in CHOICES.items():
        if name in cells:
            cells[name].read(log, rows, lambda v, n=name, a=allowed: read_choice(v, n, a),
                             missing=None, dtype=object)
    if "opioid_use" in cells:
        cells["opioid_use"].read(log, rows, lambda v: read_boolean(v, "opioid_use"), missing=False,
                                 dtype=bool)
    inverse, first = group_rows([cells[n].codes for n in reads], rows.size)
    bad = log.mask()[rows]
    members_of = Members(inverse)
    keys: list[Any] = []
    new: dict[Any, dict[str, Any]] = {}
    for i in first:
        if bad[i]:
            keys.append(None)
            continue
        values = {n: (None if cells[n].codes[i] < 0 else str(cells[n].uniques[cells[n].codes[i]]).strip())
                  for n in reads}
        key = (form, tuple(values.items()))
        keys.append(key)
        if key not in plans:
            new[key] = values
    _plan_new(new, plans, planner)
    results: list[Any] = []
    for g, key in enumerate(keys):
        result = None if key is None else plans[key]
        if isinstance(result, InputError):
            members = members_of(g)
            column = result.field if result.field in cells else "row"
            values_text = cells[column].text(members) if column in cells else None
            log.add(rows[members], column, str(result), values_text)
            result = None
        results.append(result)
    ok_idx = np.flatnonzero(~log.mask()[rows])
    if ok_idx.size == 0:
        return empty_output(form, kinds)
    f_inverse, f_first = group_rows([inverse[ok_idx]], ok_idx.size)
    plans_ok = [results[inverse[ok_idx[j]]] for j in f_first]
    flat = [{**p.amounts, **_flatten(p.extra, p.inputs)} if not p.refused else {} for p in plans_ok]
    columns: dict[str, Any] = {}
    for key, kind in kinds.items():
        values = [f.get(key) for f in flat]
        if kind == TEXT:
            missing = np.array([v is None for v in values], dtype=bool)
            columns[key] = Coded(np.where(missing[f_inverse], -1, f_inverse), np.array(values, dtype=object))
        else:
            arr = np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
            columns[key] = arr[f_inverse]
    findings: list[tuple[Finding, ...]] = [tuple(sorted(p.findings, key=lambda f: -f.severity))
                                           for p in plans_ok]
    from compound.planning.stability import category_for_plan

    categories = []
    category_of: dict[str, Any] = {}  # the BUD rules are read once per vehicle, not per plan
    for p, f in zip(plans_ok, flat, strict=True):
        vehicle = p.inputs.get("vehicle") or f.get("vehicle")
        if vehicle and vehicle not in category_of:
            category_of[vehicle] = category_for_plan(form, vehicle=vehicle)
        categories.append(category_of[vehicle] if vehicle else None)
    category = Coded(np.where(np.array([c is None for c in categories])[f_inverse], -1, f_inverse),
                     np.array(categories, dtype=object))
    stock = _stock(plans_ok, flat, f_inverse, columns)
    from compound.planning.dating import preparation_of

    preps = [preparation_of(p) for p in plans_ok]
    match = {}
    for key in ("vehicle", "concentration"):
        # The concentration as its number (mg/mL): the run groups by it (compound.batch.plan._plan_bud)
        values = [p.get(key) if key != "concentration" or key not in p else p[key].value for p in preps]
        missing = np.array([v is None for v in values], dtype=bool)
        match[key] = Coded(np.where(missing[f_inverse], -1, f_inverse), np.array(values, dtype=object))
    return FormOutput(form, rows[ok_idx], columns, dict(kinds), f_inverse, findings, category, stock,
                      bud_match=match)


def _stock(plans: list[Any], flat: list[dict[str, Any]], inverse: np.ndarray,
           columns: dict[str, Any]) -> list[StockLine]:
    """What each row takes from stock: tablets, API as weighed, diluent, vehicle and its parts."""
    is_tablet = np.array([p.inputs.get("source") == "tablet" for p in plans])[inverse]
    api_form = Coded.of([p.inputs.get("api_form") or "" for p in plans], inverse)
    lines = [
        StockLine("tablets", columns["product"], columns["tablets_to_crush"], "tablets",
                  applies=is_tablet),
        StockLine("api", columns["product"], columns["api_to_weigh_mg"], "mg", detail=api_form,
                  applies=~is_tablet),
        StockLine("vehicle", columns["vehicle"], columns["volume_ml"], "mL"),
    ]
    stages = np.nan_to_num(columns["trituration_stages"])
    diluent = stages * np.nan_to_num(columns["trituration_diluent_per_stage_mg"])
    key = str(resolve.rule("trituration")["diluent"])
    lines.append(StockLine("excipient", Coded.of((key,), np.zeros(inverse.size, dtype=np.int64)),
                           diluent, "mg", applies=stages > 0))
    parts: dict[tuple[str, str], np.ndarray] = {}
    for g, p in enumerate(plans):
        for c in (p.extra.get("vehicle") or {}).get("components", []):
            for unit, field in (("mg", "amount_mg"), ("mL", "amount_ml")):
                if field in c:
                    arr = parts.setdefault((c["name"], unit), np.full(len(plans), np.nan))
                    arr[g] = float(c[field])
    for (name, unit), per_group in parts.items():
        amounts = per_group[inverse]
        lines.append(StockLine("excipient", Coded.of((name,), np.zeros(inverse.size, dtype=np.int64)),
                               amounts, unit, applies=np.isfinite(amounts)))
    return lines
