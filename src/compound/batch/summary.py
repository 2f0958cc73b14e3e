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

from compound.batch.frame import STATUSES, Planned
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

    def add(self, planned: Planned) -> None:
        self.rows += len(planned)
        statuses, counts = np.unique(planned.status.astype(str), return_counts=True)
        for s, c in zip(statuses.tolist(), counts.tolist(), strict=True):
            self.by_status[s] = self.by_status.get(s, 0) + c
        forms = np.where(np.isin(planned.form.astype(str), ["capsules", "liquid", "drops"]),
                         planned.form.astype(str), "(no form)")
        pairs, counts = np.unique(np.char.add(np.char.add(forms, "\x1f"), planned.status.astype(str)),
                                  return_counts=True)
        for pair, c in zip(pairs.tolist(), counts.tolist(), strict=True):
            form, s = pair.split("\x1f")
            self.by_form.setdefault(form, dict.fromkeys(STATUSES, 0))[s] += c
        usable = np.isin(planned.status.astype(str), ["ok", "warning"])
        for rows, line in planned.stock:
            keep = usable[rows] & (line.applies if line.applies is not None else True)
            amounts = np.asarray(line.amount, dtype=np.float64)[keep]
            items = np.asarray(line.item, dtype=object)[keep]
            details = (np.asarray(line.detail, dtype=object)[keep] if line.detail is not None
                       else np.full(items.size, "", dtype=object))
            known = np.isfinite(amounts)
            if line.kind == "excipient":
                for item in np.unique(items[~known & (items != None)].astype(str)):  # noqa: E711
                    self._qs[(line.kind, item)] += int(((items == item) & ~known).sum())
            if not known.any():
                continue
            keys = np.char.add(np.char.add(items[known].astype(str), "\x1f"), details[known].astype(str))
            uniq, inverse = np.unique(keys, return_inverse=True)
            sums = np.bincount(inverse, weights=amounts[known])
            n = np.bincount(inverse)
            for key, total, count in zip(uniq.tolist(), sums.tolist(), n.tolist(), strict=True):
                item, detail = key.split("\x1f")
                entry = self._stock.setdefault((line.kind, item, detail, line.unit), [0.0, 0])
                entry[0] += total
                entry[1] += count

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
        if any(stock.values()):
            lines.append("Pull from stock (ok and warning rows):")
            for entry in stock["tablets"]:
                lines.append(f"  {entry['product']:<36} {entry['tablets']} tablets")
            for entry in stock["api"]:
                name = f"{entry['product']} ({entry['api_form']})" if entry["api_form"] else entry["product"]
                lines.append(f"  {name:<36} {entry['amount']}")
            for entry in stock["excipients"]:
                qs = f"  (+ q.s. in {entry['qs_rows']} rows)" if entry.get("qs_rows") else ""
                lines.append(f"  {entry['excipient']:<36} {entry['amount']}{qs}")
            for entry in stock["vehicles"]:
                lines.append(f"  {entry['vehicle']:<36} {entry['amount']}")
        if self.files:
            lines.append("Files: " + ", ".join(self.files.values()))
        return "\n".join(lines) + "\n"
