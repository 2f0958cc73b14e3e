"""The batch summary: rows per form and status, and what to pull from stock.

Stock is what the ``ok`` and ``warning`` rows weigh or count out of stock
containers: whole tablets to crush (by product), API powder as weighed (by
product and salt/hydrate form; the trituration's first weighing where one is
planned), excipients (capsule filler to add and trituration diluent, by
excipient) and vehicles (by vehicle). Refused and error rows take nothing.
Totals are summed unrounded and rounded once, by the output rule.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from compound.batch.columns import FORMS
from compound.batch.plan import STATUSES, Planned
from compound.core.rounding import format_mass, format_volume, json_number

_KIND_TITLES = {"tablets": "tablets", "api": "api", "excipient": "excipients", "vehicle": "vehicles"}


@dataclass
class Summary:
    """Counts and stock totals, added to block by block."""

    source: str = ""
    rows: int = 0
    by_status: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    by_form: dict[str, dict[str, int]] = field(default_factory=dict)
    _stock: dict[tuple[str, str, str, str], list[float]] = field(default_factory=dict)
    _qs: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    files: dict[str, str] = field(default_factory=dict)
    bud_limits: dict[str, str] = field(default_factory=dict)

    def add(self, planned: Planned, weights: np.ndarray | None = None) -> None:
        """Add a planned block; ``weights``: how many rows of the file each planned row stands for."""
        w = np.ones(len(planned), dtype=np.int64) if weights is None else np.asarray(weights, np.int64)
        self.rows += int(w.sum())
        status = planned.status.codes
        form = planned.form
        form_names = np.append(np.where(np.isin(form.values, FORMS), form.values, "(no form)"),
                               "(no form)").astype(object)
        form_index = np.where(form.codes >= 0, form.codes, form.values.size)
        pair_counts = np.bincount(form_index * len(STATUSES) + status, weights=w).astype(np.int64)
        for p in np.flatnonzero(pair_counts):
            f, s = divmod(int(p), len(STATUSES))
            count = int(pair_counts[p])
            self.by_form.setdefault(str(form_names[f]), dict.fromkeys(STATUSES, 0))[STATUSES[s]] += count
            self.by_status[STATUSES[s]] += count
        usable = status <= 1  # ok, warning
        taken: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        for rows, line in planned.stock:
            # A form's lines share its rows: what they read of the block is taken once (and not
            # at all when the form has every row, as a file of one form does).
            hit = taken.get(id(rows))
            if hit is None or hit[0] is not rows:
                hit = taken[id(rows)] = ((rows, usable, w) if rows.size == status.size
                                         else (rows, usable[rows], w[rows]))
            _, usable_here, rows_of = hit
            keep = usable_here & line.applies if line.applies is not None else usable_here
            amounts = np.asarray(line.amount, dtype=np.float64)
            item = line.item.codes
            width = 1 if line.detail is None else line.detail.values.size + 1
            # Each row's (item, detail) pair; rows without an item count nowhere.
            pair = item if line.detail is None else item * width + (line.detail.codes + 1)
            valid = keep & (item >= 0)
            finite = np.isfinite(amounts)
            size = int(line.item.values.size * width)
            # A planned row stands for rows_of identical rows: its amount counts that many times.
            known = np.flatnonzero(valid & finite)
            at, rows_known = pair[known], rows_of[known]
            totals = np.bincount(at, weights=amounts[known] * rows_known, minlength=size)
            counts = np.bincount(at, weights=rows_known, minlength=size).astype(np.int64)
            unknown = np.flatnonzero(valid & ~finite)
            missing = (np.bincount(pair[unknown], weights=rows_of[unknown], minlength=size).astype(np.int64)
                       if unknown.size else np.zeros(size, dtype=np.int64))
            for p in np.flatnonzero((counts > 0) | (missing > 0)):
                name = str(line.item.values[p // width])
                d = p % width
                detail_text = "" if d == 0 or line.detail is None else str(line.detail.values[d - 1])
                if counts[p]:
                    entry = self._stock.setdefault((line.kind, name, detail_text, line.unit), [0.0, 0])
                    entry[0] += float(totals[p])
                    entry[1] += int(counts[p])
                if missing[p] and line.kind == "excipient":
                    self._qs[(line.kind, name)] += int(missing[p])
        self.bud_limits.update(planned.bud_sources)

    def stock(self) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {t: [] for t in _KIND_TITLES.values()}
        for (kind, item, detail, unit), (total, count) in sorted(self._stock.items()):
            entry: dict[str, Any]
            if kind == "tablets":
                entry = {"product": item, "tablets": round(total), "rows": int(count)}
            elif kind == "api":
                entry = {"product": item, "api_form": detail or None, "mg": json_number(total),
                         "amount": format_mass(total), "rows": int(count)}
            elif kind == "vehicle":
                entry = {"vehicle": item, "ml": json_number(total), "amount": format_volume(total),
                         "rows": int(count)}
            elif unit == "mL":
                entry = {"excipient": item, "ml": json_number(total), "amount": format_volume(total),
                         "rows": int(count)}
            else:
                entry = {"excipient": item, "mg": json_number(total), "amount": format_mass(total),
                         "rows": int(count)}
            out[_KIND_TITLES[kind]].append(entry)
        for (kind, item), count in sorted(self._qs.items()):
            for entry in out[_KIND_TITLES[kind]]:
                if entry.get("excipient") == item:
                    entry["qs_rows"] = count
                    break
            else:
                out[_KIND_TITLES[kind]].append({"excipient": item, "mg": None, "amount": "q.s.",
                                                "rows": 0, "qs_rows": count})
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "input": self.source,
            "rows": self.rows,
            "status": dict(self.by_status),
            "forms": {k: dict(v) for k, v in sorted(self.by_form.items())},
            "stock": self.stock(),
            "bud_limits": [{"limit": k, "source": v} for k, v in sorted(self.bud_limits.items())],
            "files": dict(self.files),
            "notes": [
                "Stock counts ok and warning rows only: refused and error rows take nothing.",
                "API is the powder as weighed (salt, hydrate and potency corrected; a trituration's "
                "first weighing where one is planned). qs_rows: rows whose filler is added q.s. "
                "(whole-tablet route without a tablet weight), not in the total.",
                "Amounts are summed unrounded and rounded to 4 significant figures; tablets are "
                "whole tablets.",
            ],
        }

    def text(self) -> str:
        s = self.by_status
        lines = [f"compound batch: {self.rows} row{'s' if self.rows != 1 else ''} "
                 f"({s.get('ok', 0)} ok, {s.get('warning', 0)} warning, {s.get('refused', 0)} refused, "
                 f"{s.get('error', 0)} error)"]
        for form, counts in sorted(self.by_form.items()):
            total = sum(counts.values())
            parts = ", ".join(f"{v} {k}" for k, v in counts.items() if v)
            lines.append(f"  {form:<12} {total:>7}: {parts}")
        stock = self.stock()
        stock_lines = [("tablets", e["product"], f"{e['tablets']} tablets") for e in stock["tablets"]]
        stock_lines += [("API", f"{e['product']} ({e['api_form']})" if e["api_form"] else e["product"],
                    e["amount"]) for e in stock["api"]]
        for e in stock["excipients"]:
            qs = e.get("qs_rows")
            note = f"  (+ q.s. in {qs} row{'s' if qs != 1 else ''})" if qs else ""
            stock_lines.append(("excipient", e["excipient"], f"{e['amount']}{note}"))
        stock_lines += [("vehicle", e["vehicle"], e["amount"]) for e in stock["vehicles"]]
        if stock_lines:
            width = max(len(name) for _, name, _ in stock_lines)
            lines.append("Pull from stock (ok and warning rows):")
            lines += [f"  {kind:<9} {name:<{width}}  {amount}" for kind, name, amount in stock_lines]
        if self.files:
            lines.append("Files: " + ", ".join(self.files.values()))
        return "\n".join(lines) + "\n"
