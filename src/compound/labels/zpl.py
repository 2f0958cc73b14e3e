"""Labels as ZPL II for Zebra printers, at 203 or 300 dpi.

Text from users (patient and prescriber names, directions, Rx numbers) must
never become printer commands: in ZPL a ``^`` or ``~`` anywhere in field data
ends the field and starts a command (``^XZ^XA…`` prints something else,
``~JR`` resets the printer). So every field goes through one function,
:func:`field`, which writes ``^FH^FD…^FS`` with the text UTF-8 encoded and
every byte outside ``A–Z a–z 0–9 space . , : / ( ) + -`` written as ``_XX``
(``^FH``'s hex escape; ``^CI28`` makes the bytes UTF-8). ``^``, ``~``, ``_``,
``\\``, quotes, control characters and all non-ASCII text are therefore
hex, and nothing a user types can end a field. (Engineering notes B.3; Zebra
ZPL II programming guide, ^FH and ^CI.)

Each label is one ``^XA … ^XZ`` block; copies are separate blocks so each
prints its own "k of N". Positions come from the same layout as the PDF
(points converted to dots); the printer's font 0 is narrower than Helvetica,
so a line that fits the PDF fits the ZPL label.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from compound.catalog import loader
from compound.errors import CatalogError, InputError, LabelRefused
from compound.labels.layout import POINTS_PER_INCH, Layout

DPIS: Final = (203, 300)
MAX_FIELD_BYTES: Final = 3072
"""The longest ^FD data a Zebra printer accepts."""


_UNSAFE: Final = re.compile(rb"[^A-Za-z0-9 .,:/()+\-]")
_SAFE_TEXT: Final = re.compile(r"[A-Za-z0-9 .,:/()+\-]*")
"""Text made only of the safe bytes is its own field data (the same set as ``_UNSAFE``'s complement)."""


def escape(text: str) -> str:
    """``text`` as ^FH field data: safe ASCII kept, every other UTF-8 byte as ``_XX``."""
    if _SAFE_TEXT.fullmatch(text):
        return text
    data = _UNSAFE.sub(lambda m: b"_%02X" % m[0][0], text.encode("utf-8"))
    return data.decode("ascii")


def field(text: str) -> str:
    """The one way text enters a label: ``^FH^FD<escaped>^FS``."""
    data = escape(text)
    if len(data) > MAX_FIELD_BYTES:
        raise LabelRefused(f"a label field is {len(data)} bytes as ZPL; a printer takes at most "
                           f"{MAX_FIELD_BYTES}.", hint="Shorten the text.")
    return f"^FH^FD{data}^FS"


def unescape(data: str) -> str:
    """The text of ^FH field data (for tests and previews)."""
    out = bytearray()
    i = 0
    while i < len(data):
        if data[i] == "_":
            out.append(int(data[i + 1:i + 3], 16))
            i += 3
        else:
            out += data[i].encode("ascii")
            i += 1
    return out.decode("utf-8")


def module_dots(dpi: int) -> int:
    if dpi not in DPIS:
        raise InputError(f"dpi {dpi}: use 203 or 300.", field="dpi")
    table = loader.rules("label_layout").get("zpl", {}).get("module_dots", {})
    try:
        return int(table[str(dpi)])
    except (KeyError, TypeError, ValueError):
        raise CatalogError(f"label_layout.toml [zpl] module_dots has no whole number for {dpi} dpi.") \
            from None


def label(layout: Layout, dpi: int) -> str:
    """One label as a ``^XA … ^XZ`` block."""
    scale = dpi / POINTS_PER_INCH

    def dots(points: float) -> int:
        return round(points * scale)

    lines = ["^XA", "^CI28", f"^PW{dots(layout.width)}", f"^LL{dots(layout.height)}", "^LH0,0"]
    for text in layout.texts:
        height = dots(text.size)
        lines.append(f"^FO{dots(text.x)},{max(0, dots(text.y - text.size))}"
                     f"^A0N,{height},{height}{field(text.text)}")
    bar = layout.barcode
    lines.append(f"^FO{dots(bar.x)},{dots(bar.y)}^BY{module_dots(dpi)},3,{dots(bar.height)}"
                 f"^BCN,{dots(bar.height)},N,N,N,A{field(bar.value)}")
    lines.append("^PQ1")
    lines.append("^XZ")
    return "\n".join(lines) + "\n"


def render(layouts: Sequence[Layout], *, dpi: int = 203) -> bytes:
    module_dots(dpi)
    return "".join(label(item, dpi) for item in layouts).encode("ascii")
