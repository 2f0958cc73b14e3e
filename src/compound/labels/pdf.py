"""Labels as PDF (reportlab): one 4 × 2 in page per label, or letter sheets of them.

The PDF asks viewers not to scale it when printing (``/ViewerPreferences
<< /PrintScaling /None >>``): a label scaled to "fit the page" prints its
text below the legible minimum and its barcode too narrow to scan. Text is
drawn in the standard Helvetica fonts, which cover Western European text
(Windows-1252); text outside it is refused for PDF rather than printed as
empty boxes (ZPL and CSV carry it).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from compound.catalog import loader
from compound.errors import CatalogError, LabelRefused
from compound.labels.layout import POINTS_PER_INCH, Layout, settings

LAYOUTS = ("roll", "sheet")


def check_drawable(layouts: Sequence[Layout]) -> None:
    for layout in layouts:
        for text in layout.texts:
            try:
                text.text.encode("cp1252")
            except UnicodeEncodeError as exc:
                bad = text.text[exc.start:exc.end]
                raise LabelRefused(
                    f"the PDF label's fonts cannot draw {bad!r} (in {text.role}: {text.text!r}); "
                    "it would print as an empty box.",
                    hint="Use --format zpl or csv for this label, or retype the text.") from None


def _sheet_geometry() -> dict[str, float]:
    sheet = loader.rules("label_layout").get("sheet", {})
    keys = ("page_width_in", "page_height_in", "columns", "rows", "top_margin_in", "left_margin_in",
            "column_gap_in", "row_gap_in")
    try:
        return {k: float(sheet[k]) for k in keys}
    except (KeyError, TypeError, ValueError):
        raise CatalogError("label_layout.toml [sheet] needs " + ", ".join(keys) + ".") from None


def _draw(canvas: Any, layout: Layout, left: float, bottom: float) -> None:
    from reportlab.graphics.barcode.code128 import Code128

    s = settings()
    top = bottom + layout.height
    for text in layout.texts:
        canvas.setFont(s.bold if text.bold else s.regular, text.size)
        canvas.drawString(left + text.x, top - text.y, text.text)
    bar = layout.barcode
    symbol = Code128(bar.value, barWidth=bar.module, barHeight=bar.height, quiet=0)
    symbol.drawOn(canvas, left + bar.x, top - bar.y - bar.height)


def render(layouts: Sequence[Layout], *, layout: str = "roll", title: str = "Labels") -> bytes:
    """The labels as one PDF: ``roll`` (a 4 × 2 in page each) or ``sheet`` (letter, 2 × 5)."""
    from reportlab.pdfgen.canvas import Canvas

    if layout not in LAYOUTS:
        raise LabelRefused(f"layout {layout!r}: use roll or sheet.")
    check_drawable(layouts)
    out = io.BytesIO()
    s = settings()
    if layout == "roll":
        canvas = Canvas(out, pagesize=(s.width, s.height), pageCompression=1, invariant=1)
    else:
        g = _sheet_geometry()
        canvas = Canvas(out, pagesize=(g["page_width_in"] * POINTS_PER_INCH,
                                       g["page_height_in"] * POINTS_PER_INCH),
                        pageCompression=1, invariant=1)
    canvas.setTitle(title)
    canvas.setCreator("compound")
    canvas.setViewerPreference("PrintScaling", "None")
    if layout == "roll":
        for item in layouts:
            _draw(canvas, item, 0, 0)
            canvas.showPage()
    else:
        per_page = int(g["columns"] * g["rows"])
        for n, item in enumerate(layouts):
            if n and n % per_page == 0:
                canvas.showPage()
            row, col = divmod(n % per_page, int(g["columns"]))
            left = (g["left_margin_in"] + col * (s.width / POINTS_PER_INCH + g["column_gap_in"])) \
                * POINTS_PER_INCH
            top = (g["page_height_in"] - g["top_margin_in"]
                   - row * (s.height / POINTS_PER_INCH + g["row_gap_in"])) * POINTS_PER_INCH
            _draw(canvas, item, left, top - item.height)
        canvas.showPage()
    canvas.save()
    return out.getvalue()
