"""One text worksheet per row (``compound batch --worksheets``): the working, for the record.

worksheet.csv holds every number; a pharmacist compounding row 7 also wants
the working behind it, exactly as ``compound plan`` prints it. Each distinct
prescription is planned once more with the one-at-a-time function
(``plan_capsules``, ``plan_liquid``, ``plan_drops``, then ``date_plan`` when
``compounded`` is given) and its worksheet written for every row that asks for
it, headed by the row number and prescription fields. Rows that could not be
read get a short file saying why, so there is one file per row.

Free text (the label fields, the override reason) is printed on one line, a
line break shown as ``⏎``: a patient name cannot forge a line of the working.

Files are ``worksheets/<row>-<rx>.txt`` with the row number zero-padded, so
they sort in file order. The option is meant for a day's batch, not a
million rows: above :data:`MAX_ROWS` rows it is refused before anything is
planned.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from compound.batch.columns import LABEL_FIELDS, read_boolean
from compound.batch.plan import BUD_INPUTS
from compound.batch.plan_chunk import Chunk
from compound.errors import InputError

if TYPE_CHECKING:
    from compound.batch.spread import Spread

MAX_ROWS: Final = 10_000
_PLAN_INPUTS: Final = {
    "capsules": ("strength", "count", "overage", "source", "tablet_weight", "fill_weight", "capsule_size",
                 "filler", "route", "api_form", "assay", "water", "basis", "product", "balance",
                 "balance_sensitivity", "opioid_use", "override_opioid"),
    "liquid": ("strength", "volume", "dose", "days", "source", "vehicle", "tablet_weight", "api_form",
               "assay", "water", "basis", "product", "balance", "balance_sensitivity", "overage",
               "opioid_use", "override_opioid"),
    "drops": ("per_drop", "strength", "calibration", "drops_per_ml", "volume", "dose", "source", "vehicle",
              "tablet_weight", "api_form", "assay", "water", "basis", "product", "balance",
              "balance_sensitivity", "opioid_use", "override_opioid"),
}


#: Cells of free text that a worksheet prints as typed (the label fields, the override reason).
FREE_TEXT: Final = (*LABEL_FIELDS, "override_opioid")
#: Line breaks, as str.splitlines and text viewers see them.
_LINE_BREAKS: Final = re.compile("[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]+")
#: What a line break in a free-text cell prints as, so the cell cannot start a line of its own.
LINE_BREAK_MARK: Final = " \u23ce "


def one_line(text: str) -> str:
    """A free-text cell on one line: each run of line breaks shown as ⏎."""
    return _LINE_BREAKS.sub(LINE_BREAK_MARK, text)


def check_size(rows: int) -> None:
    if rows > MAX_ROWS:
        raise InputError(f"--worksheets writes one file per row; this file has {rows} rows "
                         f"(at most {MAX_ROWS}).",
                         hint="Split the file, or leave out --worksheets (worksheet.csv has every number).")


def _slug(text: str | None) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text or "").strip("-")[:40]


def _plan(form: str, cells: dict[str, str | None]) -> Any:
    """The one-at-a-time plan of a row (and its BUD), as ``compound plan`` makes it."""
    from compound.planning.capsules import plan_capsules
    from compound.planning.dating import date_plan
    from compound.planning.drops import plan_drops
    from compound.planning.liquid import plan_liquid

    args: dict[str, Any] = {k: v for k, v in cells.items() if v is not None and k in _PLAN_INPUTS[form]}
    for key in ("source", "basis", "api_form", "route"):
        if key in args:
            args[key] = args[key].lower()
    args["opioid_use"] = args.get("opioid_use") is not None and read_boolean(args["opioid_use"],
                                                                            "opioid_use")
    if form == "capsules":
        plan = plan_capsules(args.pop("strength", None), args.pop("count", None), **args)
    elif form == "liquid":
        plan = plan_liquid(args.pop("strength", None), **args)
    else:
        plan = plan_drops(**args)
    if cells.get("compounded"):
        expiries = []
        for n, item in enumerate((p for p in (cells.get("component_expiry") or "").split(";") if p.strip()),
                                 start=1):
            label, sep, date = item.rpartition("=")
            expiries.append((label.strip() if sep and label.strip() else f"component {n}", date.strip()))
        date_plan(plan, str(cells["compounded"]), storage=(cells.get("storage") or "").lower() or None,
                  study=cells.get("study"), attest=_yes(cells.get("attest")),
                  policy=cells.get("policy") or "usp795-2023", day_zero=_yes(cells.get("day_zero")),
                  container=cells.get("container"), component_expiries=expiries)
    return plan


def _yes(value: str | None) -> bool:
    return value is not None and read_boolean(value, "yes/no")


def write_rows(spread: Spread, directory: Path) -> None:
    """Write a worksheet for every row of a run (each distinct prescription planned once more)."""
    directory.mkdir(parents=True, exist_ok=True)
    total = spread.rows.n
    width = max(4, len(str(total)))
    rows = spread.rows
    chunk = Chunk(rows.table if rows.table is not None else rows.frame())
    columns = chunk.names
    texts = {c: chunk.coded(c).to_objects() for c in columns}
    status, forms, errors = spread.sheet_rows(0, total)
    cache: dict[Any, str] = {}
    for i in range(total):
        row = i + 1
        cells = {c: (None if texts[c][i] is None else str(texts[c][i]).strip() or None) for c in columns}
        for c in FREE_TEXT:
            if cells.get(c):
                cells[c] = one_line(cells[c])
        head = [f"Row {row}" + "".join(f" · {cells[f]}" for f in LABEL_FIELDS if cells.get(f))]
        if status[i] == "error":
            body = f"Not planned: the row could not be read.\n  {errors[i]}\n"
        else:
            key = (forms[i], tuple((c, cells.get(c)) for c in (*_PLAN_INPUTS[forms[i]], *BUD_INPUTS)))
            if key not in cache:
                try:
                    cache[key] = _plan(forms[i], cells).worksheet()
                except InputError as exc:  # cannot happen for a row the batch planned; say so if it does
                    cache[key] = f"Not planned: {exc}\n"
            body = cache[key]
        name = f"{row:0{width}d}-{_slug(cells.get('rx'))}".rstrip("-") + ".txt"
        (directory / name).write_text("\n".join(head) + "\n\n" + body, encoding="utf-8")
