"""Capsule rows of a batch: the same plan as ``compound plan capsules``, a column at a time.

The rows' cells are read once per distinct text; the catalog (product, filler,
capsule size, pack statistic, balance) is resolved once per distinct
combination of those options, with the helpers ``plan_capsules`` uses; the
core (:func:`compound.core.capsules.compute_capsules`) runs once on the whole
column of rows given (in a batch run, the first row of each distinct
prescription: :mod:`compound.batch.group`); findings are built by
:func:`compound.planning.capsules.findings_for` once per distinct combination
of inputs. The checks that make ``plan_capsules`` raise an
InputError are made here per row, so a row that the one-at-a-time plan refuses
to read is an error row here, and every other row gets the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np

from compound.batch.coded import Coded
from compound.batch.plan_chunk import Chunk
from compound.batch.plan_explain import Members, group_rows
from compound.batch.plan_forms import (
    AMOUNT,
    COUNT,
    TEXT,
    FormOutput,
    LazyFindings,
    StockLine,
    amount,
    boolean,
    choice,
    empty_output,
    require,
    resolve_each,
    text,
)
from compound.catalog.loader import number
from compound.core import capsules as core
from compound.core import units
from compound.errors import InputError, UnitInputError
from compound.planning import capsules as planning
from compound.planning import resolve
from compound.planning._source import check_tablet_weight

FORM: Final = "capsules"

# JSON key -> CapsuleResult attribute (the keys of planning.capsules.amounts_for).
AMOUNTS: Final = {
    "strength_hcl_mg": "strength_hcl_mg",
    "capsules_prescribed": "count",  # what is dispensed and labelled (not in the plan's JSON)
    "capsules_needed": "capsules_needed",
    "capsules_to_prepare": "capsules_to_prepare",
    "api_required_mg": "api_required_mg",
    "actual_strength_mg": "actual_strength_mg",
    "tablets_to_crush": "tablets_to_crush",
    "tablet_powder_mg": "tablet_powder_mg",
    "powder_left_over_mg": "powder_left_over_mg",
    "api_factor": "api_factor",
    "api_to_weigh_mg": "api_to_weigh_mg",
    "minimum_weighable_quantity_mg": "mwq_mg",
    "fill_weight_mg": "fill_weight_mg",
    "fill_weight_low_mg": "fill_weight_low_mg",
    "fill_weight_high_mg": "fill_weight_high_mg",
    "active_powder_per_capsule_mg": "active_per_capsule_mg",
    "filler_per_capsule_mg": "filler_per_capsule_mg",
    "filler_total_mg": "filler_total_mg",
    "filler_to_add_mg": "filler_to_add_mg",
    "blend_total_mg": "blend_total_mg",
}
# The nested JSON objects, flattened: trituration.drug_mg -> trituration_drug_mg.
TRITURATION: Final = {
    "trituration_stages": "stages",
    "trituration_factor": "factor_per_stage",
    "trituration_overall_factor": "overall_factor",
    "trituration_drug_mg": "drug_mg",
    "trituration_diluent_mg": "diluent_per_stage_mg",
    "trituration_triturate_mg": "triturate_per_stage_mg",
    "trituration_aliquot_mg": "aliquot_mg",
    "trituration_diluent_carried_mg": "diluent_carried_mg",
}
SHORTCUT: Final = {
    "shortcut_tablets": "shortcut_tablets",
    "shortcut_capsules": "shortcut_capsules",
    "shortcut_strength_mg": "shortcut_strength_mg",
    "shortcut_error_pct": "shortcut_error",
    "shortcut_closest_capsules": "closest_capsules",
    "shortcut_closest_strength_mg": "closest_strength_mg",
    "shortcut_closest_error_pct": "closest_error",
}
_COUNTS: Final = {"capsules_prescribed", "capsules_needed", "capsules_to_prepare", "tablets_to_crush",
                  "trituration_stages",
                  "trituration_factor", "trituration_overall_factor", "shortcut_tablets",
                  "shortcut_capsules", "shortcut_closest_capsules"}

KINDS: Final[dict[str, str]] = {
    **{k: COUNT if k in _COUNTS else AMOUNT for k in AMOUNTS},
    "route": TEXT, "fill_weight_method": TEXT, "filler": TEXT, "product": TEXT,
    **{k: COUNT if k in _COUNTS else AMOUNT for k in TRITURATION},
    **{k: COUNT if k in _COUNTS else AMOUNT for k in SHORTCUT},
}

# Columns whose values, together, decide the catalog context of a row.
_CONTEXT: Final = ("source", "basis", "api_form", "route", "product", "filler", "capsule_size",
                   "balance", "balance_sensitivity", "opioid_use", "override_opioid")
_GIVEN: Final = ("tablet_weight", "fill_weight", "assay", "water")
# Columns whose values, with the context, decide every number of a row.
_NUMBERS: Final = ("strength", "count", "overage", "tablet_weight", "fill_weight", "assay", "water")


@dataclass(frozen=True)
class _Resolved:
    ctx: planning.CapsuleContext
    route: str
    fill_mg: float  # NaN when the row gives its own fill weight
    tablet_strength_mg: float
    reason: str | None


def _read_overage(value: Any) -> tuple[int, float]:
    try:
        return units.parse_overage(str(value).strip())
    except UnitInputError as exc:  # the hint plan_capsules gives
        raise UnitInputError(exc.message, hint="Type extra capsules as a whole number (1) or a "
                             "percentage (5%).", field="overage") from None


def plan(chunk: Chunk, rows: np.ndarray, cache: Any = None) -> FormOutput:
    """Plan the capsule rows ``rows`` (block positions) of ``chunk``."""
    if rows.size == 0:
        return empty_output(FORM, KINDS)
    log = chunk.log
    contexts: dict[Any, Any] = cache.contexts if cache is not None else {}
    cells = {name: chunk.cells(name, rows) for name in (*_CONTEXT, *_NUMBERS)}

    source = choice(cells["source"], chunk, rows, ("tablet", "api"), "tablet")
    basis = choice(cells["basis"], chunk, rows, ("hcl", "base"), "hcl")
    api_form = choice(cells["api_form"], chunk, rows, tuple(planning.API_FORMS), "anhydrous")
    route = choice(cells["route"], chunk, rows, planning.ROUTES, None)
    require(cells["strength"], chunk, rows, "the strength per capsule", "4.5mg")
    require(cells["count"], chunk, rows, "the number of capsules", "30")
    strength = amount(cells["strength"], chunk, rows, "mass")
    count = amount(cells["count"], chunk, rows, "count")
    pairs, over_index = cells["overage"].lookup(log, rows, _read_overage, missing=None, dtype=object)
    over_units = np.array([0.0 if p is None else float(p[0]) for p in pairs])[over_index]
    over_fraction = np.array([0.0 if p is None else float(p[1]) for p in pairs])[over_index]
    tablet_weight = amount(cells["tablet_weight"], chunk, rows, "mass", positive=True, example="200mg")
    fill_weight = amount(cells["fill_weight"], chunk, rows, "mass", positive=True, example="100mg")
    sensitivity = amount(cells["balance_sensitivity"], chunk, rows, "mass", positive=True, example="6mg")
    assay = amount(cells["assay"], chunk, rows, "fraction")
    water = amount(cells["water"], chunk, rows, "fraction")
    _range_check(chunk, rows, cells, assay, water)
    opioid = boolean(cells["opioid_use"], chunk, rows)
    reason_text = text(cells["override_opioid"])

    # The catalog, once per distinct combination of the options that pick it.
    # (A column with no text in these rows, as most optional ones, is the same in every row: left
    # out, the groups and their numbering are unchanged.)
    typed = [n for n in _CONTEXT + _GIVEN if len(cells[n].uniques)]
    ctx_inverse, ctx_first = group_rows(
        [cells[n].codes for n in _CONTEXT if n in typed]
        + [cells[n].given.astype(np.int64) for n in _GIVEN if n in typed], rows.size)
    # Only the _CONTEXT cells decide whether a group can be resolved: they are the same in every
    # member, whereas the _GIVEN columns are grouped by presence alone (an unreadable tablet
    # weight in one row must not leave its group unresolved, nor depend on which row is first).
    context_bad = _failed(chunk, _CONTEXT)[rows]

    def resolve_group(i: int) -> _Resolved | None:
        if context_bad[i]:
            return None
        key = (*(_cell(cells[n], i) for n in _CONTEXT), *(bool(cells[n].given[i]) for n in _GIVEN))
        if key not in contexts:
            contexts[key] = _resolve(
                source=source.at(i), basis=basis.at(i), api_form=api_form.at(i), route=route.at(i),
                product=_opt(cells["product"], i), filler=_opt(cells["filler"], i),
                capsule_size=_opt(cells["capsule_size"], i), balance=_opt(cells["balance"], i),
                sensitivity_mg=None if np.isnan(sensitivity[i]) else float(sensitivity[i]),
                tablet_weight_given=bool(cells["tablet_weight"].given[i]),
                fill_weight_given=bool(cells["fill_weight"].given[i]),
                assay_given=bool(cells["assay"].given[i]), water_given=bool(cells["water"].given[i]),
                reason=reason_text[i])
        return contexts[key]  # type: ignore[no-any-return]

    ctx_members = Members(ctx_inverse)

    def on_error(g: int, exc: InputError) -> None:
        members = ctx_members(g)
        column = _column_for(getattr(exc, "field", None) or "row")
        values = cells[column].text(members) if column in cells else None
        log.add(rows[members], column, str(exc), values)

    resolved = resolve_each(ctx_first, resolve_group, on_error)
    _check_tablet_weights(chunk, rows, cells["tablet_weight"], tablet_weight, source.equals("tablet"),
                          _context_table(resolved)["tablet_strength_mg"][ctx_inverse])
    ok_idx = np.flatnonzero(~log.mask()[rows])
    if ok_idx.size == 0:
        return empty_output(FORM, KINDS)
    # Index the planned rows; a view when every row is planned (the usual case).
    ok: Any = slice(None) if ok_idx.size == rows.size else ok_idx

    g = ctx_inverse[ok]
    table = _context_table(resolved)
    rules = planning.capsule_rules()
    fill = np.where(cells["fill_weight"].given[ok], fill_weight[ok], table["fill_mg"][g])
    reason_known = table["has_reason"][g]
    is_tablet = source.equals("tablet")[ok]
    inputs = core.CapsuleInputs(
        strength_mg=strength[ok], count=count[ok], fill_weight_mg=fill,
        mwq_mg=table["mwq_mg"][g], rules=rules,
        overage_units=over_units[ok], overage_fraction=over_fraction[ok],
        basis_is_base=basis.equals("base")[ok], source_is_tablet=is_tablet,
        whole_tablet_route=table["whole"][g], tablet_strength_mg=table["tablet_strength_mg"][g],
        tablet_weight_mg=tablet_weight[ok],
        form_is_base=~is_tablet & api_form.equals("base")[ok],
        form_is_dihydrate=~is_tablet & api_form.equals("dihydrate")[ok],
        assay=assay[ok], water=water[ok],
        opioid_use=opioid[ok] | reason_known, opioid_override=reason_known,
        filler_avoid=table["filler_avoid"][g],
    )
    result = core.compute_capsules(inputs)

    columns: dict[str, Any] = {k: np.asarray(getattr(result, a), dtype=np.float64)
                               for k, a in AMOUNTS.items()}
    for k, a in TRITURATION.items():
        columns[k] = np.asarray(result.trituration[a], dtype=np.float64)
    for k, a in SHORTCUT.items():
        values = np.asarray(getattr(result, a), dtype=np.float64)
        columns[k] = values * 100.0 if k.endswith("_pct") else values
    whole = np.asarray(result.whole_tablet_route, dtype=bool)
    columns["route"] = Coded.of(("weighed", "whole-tablets", "api"),
                                np.where(is_tablet, np.where(whole, 1, 0), 2))
    given_fill = cells["fill_weight"].given[ok]
    columns["fill_weight_method"] = Coded.of((*table["method"], "given"),
                                             np.where(given_fill, len(resolved), g))
    columns["filler"] = Coded.of(table["filler"], g)
    columns["product"] = Coded.of(table["product"], g)

    # Findings a column at a time: each distinct message is built once, and only when shown.
    # The contexts the planned rows use (all resolved), numbered in order: np.unique's answer,
    # from a count of the few contexts rather than a sort of every row (1 ms of a 25k block).
    present = np.bincount(g) > 0
    used = np.flatnonzero(present)
    planned = [resolved[int(u)].ctx for u in used]  # type: ignore[union-attr]
    if cache is None:
        context_of, run_contexts, made = (np.cumsum(present) - 1)[g], planned, None
    else:  # numbered as every block of the run numbers them: the findings made serve them all
        shared = cache.forms.setdefault(FORM, _RunContexts())
        numbered = np.zeros(present.size, dtype=np.int64)
        numbered[used] = shared.numbers(planned)
        context_of, run_contexts, made = numbered[g], shared.contexts, shared.made
    found = planning.finding_columns(result, run_contexts, context_of.ravel(), made)
    group_shown = group_rows(found.identity(), ok_idx.size)[0]

    triturated = np.asarray(result.triturated, dtype=bool)
    stages = np.nan_to_num(result.trituration["stages"])
    diluent_weighed = stages * np.nan_to_num(result.trituration["diluent_per_stage_mg"])
    diluent_key = str(resolve.rule("trituration")["diluent"])
    stock = [
        StockLine("tablets", columns["product"], np.asarray(result.tablets_to_crush), "tablets",
                  applies=is_tablet),
        StockLine("api", columns["product"],
                  np.where(triturated, result.trituration["drug_mg"], result.api_to_weigh_mg), "mg",
                  detail=Coded(api_form.index[ok], api_form.table),
                  applies=~is_tablet),
        StockLine("excipient", columns["filler"], np.asarray(result.filler_to_add_mg), "mg"),
        StockLine("excipient", Coded.of((diluent_key,), np.zeros(ok_idx.size, dtype=np.int64)),
                  diluent_weighed, "mg", applies=triturated),
    ]
    from compound.planning.stability import category_for_plan

    category = Coded.of((category_for_plan(FORM),), np.zeros(ok_idx.size, dtype=np.int64))
    return FormOutput(FORM, rows[ok_idx], columns, dict(KINDS), np.arange(ok_idx.size), LazyFindings(found),
                      category, stock, bud_match={"filler": columns["filler"]}, group_worst=found.worst(),
                      group_shown=group_shown)


#: Contexts a run numbers before it starts again (a file types a handful; each block's findings
#: compute a value per context numbered, planned in the block or not).
RUN_CONTEXTS: Final = 64
#: Findings a run keeps made (a block makes those of the few hundred plans that show differently).
RUN_FINDINGS: Final = 100_000


@dataclass
class _RunContexts:
    """A run's capsule contexts numbered once, in the order first planned, and the findings made
    against them: a finding is made from its rule's keys and the context they number, so once
    every block numbers the contexts alike, what one block made serves the next
    (:func:`compound.planning.capsules.finding_columns`'s ``made``)."""

    contexts: list[planning.CapsuleContext] = field(default_factory=list)
    made: dict[Any, Any] = field(default_factory=dict)
    _number: dict[int, int] = field(default_factory=dict)
    """id(context) -> its number (``contexts`` holds each, so no other object takes its id)."""

    def numbers(self, planned: list[planning.CapsuleContext]) -> np.ndarray:
        """The numbers of a block's contexts (appended as first met; the blocks before keep
        theirs). Past a run's limits it starts again with new lists, so that a block planned
        earlier still reads its own."""
        if (len(self.contexts) + len(planned) > RUN_CONTEXTS
                or sum(len(m) for m in self.made.values()) > RUN_FINDINGS):
            self.contexts, self.made, self._number = [], {}, {}
        out = np.empty(len(planned), dtype=np.int64)
        for j, ctx in enumerate(planned):
            k = self._number.get(id(ctx))
            if k is None:
                k = self._number[id(ctx)] = len(self.contexts)
                self.contexts.append(ctx)
            out[j] = k
        return out


# ---------------------------------------------------------------- helpers


def _cell(cells: Any, i: int) -> str | None:
    code = int(cells.codes[i])
    return None if code < 0 else str(cells.uniques[code])


def _opt(cells: Any, i: int) -> str | None:
    code = int(cells.codes[i])
    return None if code < 0 else str(cells.uniques[code]).strip() or None


def _range_check(chunk: Chunk, rows: np.ndarray, cells: dict[str, Any], assay: np.ndarray,
                 water: np.ndarray) -> None:
    bad_assay = np.isfinite(assay) & ~(assay > 0)
    if bad_assay.any():
        chunk.log.add(rows[bad_assay], "assay", "the assay must be greater than 0 %. Type the CoA "
                      "assay, e.g. 99.2%.", cells["assay"].text(bad_assay))
    bad_water = np.isfinite(water) & ~((water >= 0) & (water < 1))
    if bad_water.any():
        chunk.log.add(rows[bad_water], "water", "the water content must be from 0 % to below 100 %. "
                      "Type the CoA water, e.g. 8.71%.", cells["water"].text(bad_water))


def _check_tablet_weights(chunk: Chunk, rows: np.ndarray, cells: Any, weight: np.ndarray,
                          is_tablet: np.ndarray, strength: np.ndarray) -> None:
    """A tablet cannot weigh less than the drug it contains (``plan_capsules`` raises for it)."""
    bad = is_tablet & np.isfinite(weight) & np.isfinite(strength) & ~(weight > strength)
    if not bad.any():
        return
    pairs = {(float(w), float(t)) for w, t in zip(weight[bad], strength[bad], strict=True)}
    for w, t in pairs:
        try:
            check_tablet_weight(w, t)
        except InputError as exc:
            hit = bad & (weight == w) & (strength == t)
            chunk.log.add(rows[hit], "tablet_weight", str(exc), cells.text(hit))


def _failed(chunk: Chunk, columns: tuple[str, ...]) -> np.ndarray:
    """Block mask: rows where one of ``columns`` could not be read."""
    out = np.zeros(chunk.n, dtype=bool)
    for group in chunk.log.groups:
        if group.column in columns:
            out[group.rows] = True
    return out


def _column_for(field: str) -> str:
    return {"capsule size": "capsule_size", "balance_error": "balance"}.get(field, field)


def _resolve(*, source: str, basis: str, api_form: str, route: str | None, product: str | None,
             filler: str | None, capsule_size: str | None, balance: str | None,
             sensitivity_mg: float | None, tablet_weight_given: bool, fill_weight_given: bool,
             assay_given: bool, water_given: bool, reason: str | None) -> _Resolved:
    """The catalog context of one combination of options (as plan_capsules resolves it)."""
    rules_capsule = resolve.rule("capsule")
    route_given = route is not None
    if source == "tablet":
        if assay_given or water_given:
            raise InputError("--assay and --water describe API powder, not tablets.",
                             hint="Use them with --source api, or leave them out.", field="assay")
        if route is None:
            route = "weighed" if tablet_weight_given else "whole-tablets"
        if route == "weighed" and not tablet_weight_given:
            raise InputError("weighing tablet powder needs the measured average tablet weight.",
                             hint=str(resolve.rule("tablet_weight")["how_to_measure"]),
                             field="tablet_weight")
        product_row = resolve.product(product or str(rules_capsule["default_product"]))
        planning.check_kind(product_row, "tablet")
        tablet_strength = number(product_row, "strength_mg", table_name="products")
    else:
        if route is not None:
            raise InputError(f"--route {route} applies to tablets, not API powder.",
                             hint="Leave --route out with --source api.", field="route")
        if tablet_weight_given:
            raise InputError("--tablet-weight applies to tablets, not API powder.",
                             hint="Leave it out with --source api.", field="tablet_weight")
        product_row = resolve.product(product or planning.DEFAULT_API_PRODUCT[api_form])
        planning.check_kind(product_row, "api")
        if product_row.get("api_form") != planning.API_FORMS[api_form]:
            names = {v: k for k, v in planning.API_FORMS.items()}
            form_name = names.get(product_row.get("api_form", ""), "?")
            raise InputError(f"product {product_row['key']!r} is the {form_name} form, not {api_form}.",
                             hint=f"Add --api-form {form_name}, or choose another --product.",
                             field="api_form")
        tablet_strength = np.nan
        route = "api"
    filler_row = resolve.excipient(filler or str(rules_capsule["default_filler"]))
    size_row = resolve.capsule_size(capsule_size or str(rules_capsule["default_size"]))
    fill_mg, method, fill_source = planning.resolve_fill_weight(
        1.0 if fill_weight_given else None, filler_row, size_row)
    bal = resolve.balance(balance, sensitivity_mg)
    rules = planning.capsule_rules()
    ctx = planning.CapsuleContext(
        salts=resolve.salts(), balance=bal, bands=rules.dose_bands, product=product_row,
        filler=filler_row, capsule_size=size_row, fill_weight_method=method,
        fill_weight_source=fill_source, route_given=route_given, basis=basis, api_form=api_form,
        opioid_reason=reason,
    )
    return _Resolved(ctx, route, np.nan if fill_weight_given else fill_mg, tablet_strength, reason)


def _context_table(resolved: list[_Resolved | None]) -> dict[str, np.ndarray]:
    """Per context group, the values the core and the stock summary need."""
    def col(get: Any, dtype: Any, missing: Any) -> np.ndarray:
        return np.array([missing if r is None else get(r) for r in resolved], dtype=dtype)

    return {
        "fill_mg": col(lambda r: r.fill_mg, np.float64, np.nan),
        "method": col(lambda r: r.ctx.fill_weight_method, object, None),
        "product": col(lambda r: r.ctx.product["key"], object, None),
        "mwq_mg": col(lambda r: r.ctx.balance.mwq_mg, np.float64, np.nan),
        "whole": col(lambda r: r.route == "whole-tablets", bool, False),
        "tablet_strength_mg": col(lambda r: r.tablet_strength_mg, np.float64, np.nan),
        "filler_avoid": col(lambda r: r.ctx.filler.get("status") == "avoid", bool, False),
        "has_reason": col(lambda r: r.reason is not None, bool, False),
        "filler": col(lambda r: r.ctx.filler["key"], object, None),
    }


