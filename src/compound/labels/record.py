"""The compounding record of a lot (USP <795>): what a pharmacy files, as text or PDF.

From the register: the preparation and its quantity, date and time, who
compounded and who checked it; every component with its lot, amount and
expiry; the BUD with the limit that set it, why, and its source; the findings;
the worksheet, every step with its formula, inputs and source; the lot's
history; and signature lines. (domain.md §6.4: the compounding record.)

The record is built once as :class:`Section` data; :func:`text` and :func:`pdf`
only draw it.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from compound.core.rounding import format_mass, format_number, format_volume
from compound.errors import InputError
from compound.labels.pharmacy import Pharmacy

FORMATS: Final = ("pdf", "txt")
SIGNATURES: Final = ("Compounded by", "Checked by (pharmacist)", "Released by")
# Characters the PDF's standard fonts lack, written the way a worksheet would.
_PDF_SPELLING: Final = {"⌈": "ceil(", "⌉": ")", "⌊": "floor(", "⌋": ")", "−": "-", "≤": "<=",
                        "≥": ">=", "≈": "~", "→": "->", "✓": "ok"}


@dataclass(frozen=True)
class Section:
    title: str
    rows: list[tuple[str, str]] = field(default_factory=list)
    """Label, value pairs."""
    table: list[list[str]] = field(default_factory=list)
    """A header row and rows, when the section is a table."""
    lines: list[str] = field(default_factory=list)


def _amount(amount: float, unit: str) -> str:
    if unit == "mg":
        return format_mass(amount)
    if unit == "mL":
        return format_volume(amount)
    return f"{format_number(amount)} {unit}{'s' if unit == 'tablet' and amount != 1 else ''}"


def sections(lot: Any, pharmacy: Pharmacy | None = None) -> list[Section]:
    """The record of a lot read from the register (``compound.register.Lot``)."""
    plan = lot.plan or {}
    bud = plan.get("bud") or {}
    out = [Section("Preparation", rows=[
        ("Lot", lot.lot_number), ("Preparation", lot.description), ("Form", lot.kind),
        ("Quantity made", format_volume(lot.quantity) if lot.quantity_unit == "mL"
         else f"{format_number(lot.quantity)} {lot.quantity_unit}"),
        ("Date compounded", lot.compounded.isoformat()),
        ("Recorded at (UTC)", lot.recorded_at),
        ("Compounded by", lot.compounded_by), ("Checked by", lot.checked_by or "(not recorded)"),
        ("Status", lot.status),
    ] + ([("Pharmacy", pharmacy.line())] if pharmacy else []))]
    out.append(Section("Beyond-use date", rows=[
        ("BUD", lot.beyond_use_date.isoformat()), ("Limit", lot.bud_limit),
        ("Why", str(bud.get("explanation") or "")), ("Source", lot.bud_source),
        ("Storage", str((bud.get("storage_detail") or {}).get("stored") or lot.storage)),
        ("Day counting", str(bud.get("day_counting_rule") or "")),
    ]))
    out.append(Section("Components", table=[["Lot", "Component", "Amount", "Expiry"]] + [
        [c.lot_number, c.name, _amount(c.amount, c.unit), c.expiry.isoformat()]
        for c in lot.components]))
    inputs = plan.get("inputs") or {}
    out.append(Section("Inputs", rows=[(k.replace("_", " "), str(v)) for k, v in inputs.items()
                                       if v not in (None, "", False)]))
    findings = plan.get("findings") or []
    out.append(Section("Findings", lines=[
        f"[{f.get('severity')}] {f.get('code')}: {f.get('message')}" for f in findings]
        or ["(none)"]))
    steps = []
    for n, step in enumerate(plan.get("steps") or [], start=1):
        given = ", ".join(f"{k} = {v}" for k, v in (step.get("inputs") or {}).items())
        steps.append(f"{n}. {step.get('label')}: {step.get('result')}")
        steps.append(f"   = {step.get('formula')}" + (f"  [{given}]" if given else ""))
        steps.append(f"   source: {step.get('source')}")
        if step.get("note"):
            steps.append(f"   note: {step.get('note')}")
    out.append(Section("Worksheet (every number: formula, inputs, source)",
                       lines=steps or ["(the plan recorded no working steps)"]))
    out.append(Section("History", table=[["#", "At (UTC)", "By", "Action"]] + [
        [str(e.seq), e.at_utc, e.actor, e.action + (f": {e.payload.get('reason')}"
                                                    if e.payload.get("reason") else "")]
        for e in lot.history]))
    return out


def text(parts: Sequence[Section], lot_number: str, width: int = 88) -> str:
    def wrap(line: str, indent: str = "  ") -> list[str]:
        return textwrap.wrap(line, width, initial_indent=indent,
                             subsequent_indent=indent + "    ") or [indent]

    lines = [f"Compounding record: lot {lot_number}", "=" * 60]
    for part in parts:
        lines += ["", part.title, "-" * len(part.title)]
        label_width = max((len(k) for k, _ in part.rows), default=0)
        for key, value in part.rows:
            lines += textwrap.wrap(f"{key:<{label_width}}  {value}", width, initial_indent="  ",
                                   subsequent_indent=" " * (label_width + 4))
        if part.table:
            widths = [max(len(r[i]) for r in part.table) for i in range(len(part.table[0]))]
            lines += ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                      for r in part.table]
        for line in part.lines:
            stripped = line.lstrip(" ")
            lines += wrap(stripped, "  " + " " * (len(line) - len(stripped)))
    lines += ["", "Signatures", "----------"]
    for who in SIGNATURES:
        lines += ["", f"  {who}: ______________________   Date: ____________"]
    return "\n".join(lines) + "\n"


def _pdf_text(value: str) -> str:
    from xml.sax.saxutils import escape

    spelled = "".join(_PDF_SPELLING.get(c, c) for c in value)
    safe = "".join(c if c.encode("cp1252", errors="ignore") else f"[U+{ord(c):04X}]" for c in spelled)
    return escape(safe)


def pdf(parts: Sequence[Section], lot_number: str) -> bytes:
    """The record as a letter-size PDF (print scaling off, like the labels)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import letter
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import inch
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    body, small = styles["BodyText"], styles["BodyText"].clone("small", fontSize=8, leading=10)
    out = io.BytesIO()

    def on_page(canvas: Any, doc: Any) -> None:
        canvas.setViewerPreference("PrintScaling", "None")
        canvas.setFont("Helvetica", 8)
        canvas.drawRightString(letter[0] - 0.75 * inch, 0.5 * inch,
                               f"Compounding record {lot_number} · page {doc.page}")

    doc = SimpleDocTemplate(out, pagesize=letter, title=f"Compounding record {lot_number}",
                            creator="compound", leftMargin=0.75 * inch, rightMargin=0.75 * inch,
                            topMargin=0.75 * inch, bottomMargin=0.75 * inch, invariant=1)
    story: list[Any] = [Paragraph(_pdf_text(f"Compounding record: lot {lot_number}"), styles["Title"])]
    grid = TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                       ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold")])
    for part in parts:
        story.append(Paragraph(_pdf_text(part.title), styles["Heading2"]))
        if part.rows:
            story.append(Table([[Paragraph(_pdf_text(k), small), Paragraph(_pdf_text(v), small)]
                                for k, v in part.rows], colWidths=[1.6 * inch, 5.4 * inch],
                               style=TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")])))
        if part.table:
            story.append(Table([[Paragraph(_pdf_text(c), small) for c in row] for row in part.table],
                               style=grid, repeatRows=1))
        for line in part.lines:
            indent = (len(line) - len(line.lstrip(" "))) * 3
            story.append(Paragraph(_pdf_text(line.strip()), small.clone("i", leftIndent=indent)))
    story.append(Paragraph("Signatures", styles["Heading2"]))
    for who in SIGNATURES:
        story += [Spacer(1, 18), Paragraph(_pdf_text(
            f"{who}: ________________________________   Date: ______________"), body)]
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return out.getvalue()


def render(lot: Any, fmt: str, pharmacy: Pharmacy | None = None) -> bytes:
    """A lot's compounding record as ``pdf`` or ``txt`` bytes (any status: the record is history)."""
    if fmt not in FORMATS:
        raise InputError(f"format {fmt!r}: use pdf or txt.", field="format")
    parts = sections(lot, pharmacy)
    if fmt == "txt":
        return text(parts, lot.lot_number).encode("utf-8")
    return pdf(parts, lot.lot_number)
