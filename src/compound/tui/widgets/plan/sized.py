"""Widgets that take the size a layout gives them without asking for another layout.

Textual (8.2.8) lays the whole screen out again (Formulate: ~150 widgets, the form's mostly)
whenever a layout changes a widget's size, because the widget's scrollable size is a reactive
that asks for a layout, although the layout that changed it has placed everything already.
For a widget that does not scroll (a field, its hint, a part of the results) that size tells
nothing more; for one that does (the form, the results pane), its scrollbars still follow,
and a scrollbar that comes or goes still asks for its own layout.
"""

from __future__ import annotations

from textual.geometry import Size


class SizedByLayout:
    """Mix in before the widget class: ``class Hint(SizedByLayout, Static)``.

    Not a Widget itself: Textual finds a widget's default CSS and type name (``Static``,
    ``VerticalScroll``: its overflow) through its first base that is one.
    """

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size,
                      layout: bool = True) -> bool:
        return super()._size_updated(  # type: ignore[misc,no-any-return]
            size, virtual_size, container_size, layout=False)
