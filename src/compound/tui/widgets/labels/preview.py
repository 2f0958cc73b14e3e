"""A label's layout (:mod:`compound.labels.layout`) drawn in characters, as it will print.

Each text of the layout is placed on a character grid at its position on the
4 × 2 in label (one column for 4 pt, one line for 8 pt); the barcode is drawn as
bars where it prints. Small print that is longer than the grid's line is cut with "…"
(the label itself holds it whole; the PDF and ZPL are the label).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

if TYPE_CHECKING:
    from compound.labels import Layout

POINTS_PER_COLUMN = 4.0
POINTS_PER_LINE = 8.0


def preview(layout: Layout) -> Text:
    """The label drawn in characters inside a frame, bold where it prints bold."""
    columns = int(layout.width / POINTS_PER_COLUMN)
    lines = int(layout.height / POINTS_PER_LINE)
    grid = [[" "] * columns for _ in range(lines)]
    bold = [[False] * columns for _ in range(lines)]
    bar = layout.barcode
    row = min(int(bar.y / POINTS_PER_LINE), lines - 1)
    for x in range(int(bar.x / POINTS_PER_COLUMN), min(int((bar.x + bar.width) / POINTS_PER_COLUMN),
                                                        columns)):
        grid[row][x] = "▌"
    for item in layout.texts:
        row = min(int(item.y / POINTS_PER_LINE), lines - 1)
        start = int(item.x / POINTS_PER_COLUMN)
        room = columns - start
        # Small print holds more characters than the grid has columns: cut it with "…" so the
        # preview never passes an abbreviation off as the label's text.
        shown = item.text if len(item.text) <= room else item.text[: room - 1] + "…"
        for n, char in enumerate(shown):
            grid[row][start + n] = char
            bold[row][start + n] = item.bold
    out = Text("┌" + "─" * columns + "┐\n")
    for chars, strong in zip(grid, bold, strict=True):
        out.append("│")
        for char, is_bold in zip(chars, strong, strict=True):
            out.append(char, style="bold" if is_bold else "")
        out.append("│\n")
    out.append("└" + "─" * columns + "┘")
    return out
