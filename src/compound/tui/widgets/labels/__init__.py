"""The Labels screen's widgets: the label drawn in characters as it will print."""

from compound.tui.widgets.labels.preview import preview

__all__ = ["preview"]
