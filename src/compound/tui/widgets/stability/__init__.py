"""The Stability screen's widgets: the timeline of each lot on hand."""

from compound.tui.widgets.stability.timeline import Timeline, bar

__all__ = ["Timeline", "bar"]
