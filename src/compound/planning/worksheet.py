"""A plan as a readable text worksheet (the default output of ``compound plan``)."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from compound.core.findings import Severity

if TYPE_CHECKING:
    from compound.planning.base import Plan

_TITLES = {
    "capsules": "LDN capsules",
    "liquid": "LDN oral liquid",
    "drops": "LDN sublingual drops",
    "dilution": "LDN serial dilution",
}
_MARK = {Severity.REFUSAL: "REFUSED", Severity.WARNING: "WARNING", Severity.INFO: "info"}


def render(plan: Plan, width: int = 88) -> str:
    lines = [f"{_TITLES.get(plan.kind, plan.kind)} — worksheet", "=" * min(width, 60)]
    for key, value in plan.inputs.items():
        if value not in (None, "", False):
            lines.append(f"  {key.replace('_', ' ')}: {value}")
    rx = plan.extra.get("prescription")
    if rx:
        refills = f"{rx['refills']} refill{'s' if rx['refills'] != 1 else ''}"
        lines += ["", f"Prescription {rx['rx_number']}",
                  f"  patient: {rx['patient_name']} (born {rx['patient_dob']})",
                  f"  prescriber: {rx['prescriber']}", f"  directions: {rx['directions']}",
                  f"  prescribed: {rx['strength']} {rx['form']}, {rx['quantity']} per fill, "
                  f"{refills}"]
    findings = sorted(plan.findings, key=lambda f: -f.severity)
    if findings:
        lines += ["", "Findings"]
        for f in findings:
            head = f"  [{_MARK[f.severity]}] {f.code}: "
            lines += textwrap.wrap(f.message, width, initial_indent=head,
                                   subsequent_indent=" " * 6)
    if plan.refused:
        lines += ["", "REFUSED: no quantities are given for a refused preparation.",
                  "Resolve the refusal above and plan again."]
        return "\n".join(lines) + "\n"
    lines += ["", "Working (every number: formula, inputs, source)"]
    for n, step in enumerate(plan.working, start=1):
        lines.append(f"  {n:>2}. {step.label}: {step.result}")
        inputs = ", ".join(f"{k} = {v}" for k, v in step.inputs.items())
        lines += textwrap.wrap(f"= {step.formula}" + (f"  [{inputs}]" if inputs else ""), width,
                               initial_indent=" " * 6, subsequent_indent=" " * 8)
        if step.source != "arithmetic":
            lines += textwrap.wrap(f"source: {step.source}", width, initial_indent=" " * 6,
                                   subsequent_indent=" " * 8)
        if step.note:
            lines += textwrap.wrap(f"note: {step.note}", width, initial_indent=" " * 6,
                                   subsequent_indent=" " * 8)
    lines += ["", "Amounts are rounded to 4 significant figures at output; counts are whole units."]
    return "\n".join(lines) + "\n"
