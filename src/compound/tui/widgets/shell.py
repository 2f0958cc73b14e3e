"""The first frame's header line (issue 12): Textual's Header, drawn by one widget.

Textual's :class:`~textual.widgets.Header` is four widgets (itself, an icon, a title and the
clock's space), each styled, laid out and watched: about 13 ms of CPU in a first frame that has
little else. The shell needs only its look; Formulate swaps in the real Header (its command
palette icon, its tall mode on click, its title watches) with the form, right after the first
frame.
"""

from __future__ import annotations

from typing import ClassVar

from textual.content import Content
from textual.widget import Widget

ICON = "⭘"
"""Header's default icon."""
ICON_WIDTH = 8
"""HeaderIcon: ``width: 8; padding: 0 1``, content aligned left."""
CLOCK_WIDTH = 10
"""HeaderClockSpace: ``width: 10`` (no clock)."""


class ShellHeader(Widget):
    """One line that looks like a clockless Header: the icon, then the screen's title and
    sub-title centred (cut with an ellipsis when narrow), in the header's colours."""

    DEFAULT_CSS: ClassVar[str] = """
    ShellHeader {
        dock: top;
        width: 100%;
        height: 1;
        background: $panel;
        color: $foreground;
    }
    """

    def render(self) -> Content:
        screen, app = self.screen, self.app
        title = app.format_title(app.title if screen.title is None else screen.title,
                                 app.sub_title if screen.sub_title is None else screen.sub_title)
        width = self.size.width
        middle = max(width - ICON_WIDTH - CLOCK_WIDTH, 0)
        title = title.truncate(middle, ellipsis=True)
        left = (middle - title.cell_length) // 2
        return Content.assemble(
            f" {ICON}".ljust(ICON_WIDTH)[:width],
            title.pad(left, middle - title.cell_length - left),
            " " * min(CLOCK_WIDTH, max(width - ICON_WIDTH, 0)),
        )
