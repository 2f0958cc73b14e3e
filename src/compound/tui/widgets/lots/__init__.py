"""The Lots screen's widgets: the virtual lot table and how rows are chosen and ordered."""

from compound.tui.widgets.lots.rows import arrange
from compound.tui.widgets.lots.table import COLUMNS, LotTable, window_used_text

__all__ = ["COLUMNS", "LotTable", "arrange", "window_used_text"]
