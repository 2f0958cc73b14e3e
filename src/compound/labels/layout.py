"""Where everything goes on a 4 × 2 in label: a layout is data, drawn by each renderer.

A :class:`Layout` is a list of positioned text lines and one barcode box, in
points from the label's top-left corner; the PDF and ZPL renderers (and the
TUI's preview) draw exactly these lines. Fitting follows USP <17>: patient,
drug and directions first, in the largest size that lets everything fit,
never below the minimum (11 pt); the rest in the largest secondary size that
fits. Lines wrap at spaces (a word wider than the label breaks between
characters); nothing is ever truncated. When even the minimum sizes do not fit,
the label is refused.

Sizes, margins, fonts and the barcode's module come from
``data/label_layout.toml``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from compound.catalog import loader
from compound.errors import CatalogError, LabelRefused
from compound.labels.content import LabelContent

POINTS_PER_INCH: Final = 72.0
SEP: Final = "   "


@dataclass(frozen=True)
class Text:
    """One line of text: its left edge ``x`` and baseline ``y`` in points from the top-left."""

    text: str
    x: float
    y: float
    size: float
    bold: bool
    role: str
    """patient, drug, directions, details, statements, pharmacy, copy, lot, bud."""


@dataclass(frozen=True)
class Barcode:
    """A Code 128 symbol: ``x`` and ``y`` are its top-left corner (quiet zone excluded)."""

    value: str
    x: float
    y: float
    width: float
    height: float
    module: float


@dataclass(frozen=True)
class Layout:
    width: float
    height: float
    texts: tuple[Text, ...]
    barcode: Barcode
    content: LabelContent
    critical_pt: float
    secondary_pt: float


@dataclass(frozen=True)
class Settings:
    regular: str
    bold: str
    critical: tuple[float, float]
    secondary: tuple[float, float]
    step: float
    spacing: float
    width: float
    height: float
    margin: float
    barcode_height: float
    barcode_gap: float
    module: float
    quiet_modules: int


def _num(section: dict[str, Any], key: str, name: str) -> float:
    value = section.get(key)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
        raise CatalogError(f"label_layout.toml [{name}] {key}: {value!r} is not a positive number.")
    return float(value)


_settings: list[tuple[object, Settings]] = []
"""The settings read from the rules object now in the catalog's cache (one per catalog load)."""


def settings() -> Settings:
    rules = loader.rules("label_layout")
    if _settings and _settings[0][0] is rules:
        return _settings[0][1]
    read = _read_settings(rules)
    _settings[:] = [(rules, read)]
    return read


def _read_settings(rules: dict[str, Any]) -> Settings:
    try:
        fonts, sizes, roll, bar = rules["fonts"], rules["sizes"], rules["roll"], rules["barcode"]
    except KeyError as exc:
        raise CatalogError(f"label_layout.toml has no [{exc.args[0]}] section.") from None
    crit = (_num(sizes, "critical_min_pt", "sizes"), _num(sizes, "critical_max_pt", "sizes"))
    sec = (_num(sizes, "secondary_min_pt", "sizes"), _num(sizes, "secondary_max_pt", "sizes"))
    return Settings(str(fonts["regular"]), str(fonts["bold"]), crit, sec, _num(sizes, "step_pt", "sizes"),
                    _num(sizes, "line_spacing", "sizes"),
                    _num(roll, "width_in", "roll") * POINTS_PER_INCH,
                    _num(roll, "height_in", "roll") * POINTS_PER_INCH, _num(roll, "margin_pt", "roll"),
                    _num(bar, "height_pt", "barcode"), _num(bar, "gap_pt", "barcode"),
                    _num(bar, "module_pt", "barcode"),
                    int(_num(bar, "quiet_modules", "barcode")))


@lru_cache(maxsize=65536)
def text_width(text: str, font: str, size: float) -> float:
    """The width [pt] of ``text`` in a standard PDF font (reportlab's metrics), remembered."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    return float(stringWidth(text, font, size))


def _width_of(font: str) -> Callable[[str, float], float]:
    return lambda text, size: text_width(text, font, size)


def wrap(text: str, width: float, size: float, measure: Callable[[str, float], float]) -> list[str]:
    """Greedy word wrap; a word wider than the line is split between characters (never cut off).

    A line's width is the sum of its words' and spaces' widths (the standard PDF fonts have
    no kerning in reportlab's metrics), so each word is measured once.
    """
    lines: list[str] = []
    current, used = "", 0.0
    space = measure(" ", size)
    for word in text.split(" "):
        w = measure(word, size)
        if current and used + space + w <= width:
            current, used = f"{current} {word}", used + space + w
            continue
        if not current and w <= width:
            current, used = word, w
            continue
        if current:
            lines.append(current)
        current, used = "", 0.0
        if w <= width:
            current, used = word, w
            continue
        for ch in word:
            c = measure(ch, size)
            if used + c <= width or not current:
                current, used = current + ch, used + c
            else:
                lines.append(current)
                current, used = ch, c
    if current or not lines:
        lines.append(current)
    return lines


@lru_cache(maxsize=65536)
def wrapped(text: str, width: float, size: float, font: str) -> tuple[str, ...]:
    """:func:`wrap` in a font, remembered (labels of a batch share most of their text)."""
    return tuple(wrap(text, width, size, _width_of(font)))


@lru_cache(maxsize=4096)
def barcode_modules(value: str) -> int:
    """Modules in the Code 128 symbol of ``value`` (quiet zones excluded), as reportlab draws it."""
    from reportlab.graphics.barcode.code128 import Code128

    symbol = Code128(value, barWidth=1, quiet=0)
    return int(symbol.width + 0.5)


@dataclass(frozen=True)
class _Block:
    text: str
    role: str
    critical: bool
    bold: bool


def blocks(c: LabelContent) -> list[_Block]:
    """What the label says above the barcode, top to bottom (each block may wrap)."""
    what = f"{c.drug} {c.dosage_form}"
    aux = "  ".join(t if t.endswith((".", "!", "?")) else t + "." for t in (c.storage, *c.statements))
    if c.kind == "stock":
        out = [_Block(f"Lot {c.lot}", "lot", True, True), _Block(what, "drug", True, True),
               _Block(f"Use by (BUD) {c.beyond_use_date.isoformat()}", "bud", True, True),
               _Block(SEP.join((f"Qty {c.quantity}", f"Route {c.route}")), "details", False, False),
               _Block(aux, "statements", False, False)]
        if c.pharmacy:
            out.append(_Block(c.pharmacy.line(), "pharmacy", False, False))
        return out
    assert c.pharmacy is not None and c.patient is not None
    out = [_Block(c.pharmacy.line(), "pharmacy", False, False),
           _Block(c.patient, "patient", True, True), _Block(what, "drug", True, True)]
    out += [_Block(d, "directions", True, False) for d in c.directions]
    details = [f"Rx {c.rx}", f"Qty {c.quantity}", f"Route {c.route}"]
    if c.prescriber:
        details.append(f"Prescriber {c.prescriber}")
    out.append(_Block(SEP.join(details), "details", False, False))
    out.append(_Block(aux, "statements", False, False))
    return out


def band(c: LabelContent) -> list[tuple[str, bool]]:
    """The text beside the barcode (small, bold or not): dates and lot; "k of N" goes last."""
    made = f"Compounded {c.compounded.isoformat()}" if c.compounded else ""
    if c.kind == "stock":
        return [(made, False)] if made else []
    use_by = f"Use by (BUD) {c.beyond_use_date.isoformat()}"
    rest = SEP.join(p for p in (made, f"Lot {c.lot}" if c.lot else "") if p)
    return [(use_by, True), *([(rest, False)] if rest else [])]


@lru_cache(maxsize=64)
def _sizes(low: float, high: float, step: float) -> tuple[float, ...]:
    out, size = [], high
    while size >= low - 1e-9:
        out.append(round(size, 3))
        size -= step
    return tuple(out)


def lay_out(content: LabelContent) -> Layout:
    """The label's layout, or LabelRefused when it cannot fit at the minimum sizes."""
    s = settings()
    text_width = s.width - 2 * s.margin
    copy_text = f"{content.copy} of {content.copies}"
    modules = barcode_modules(content.identifier) + 2 * s.quiet_modules
    bar_width = modules * s.module
    bold = _width_of(s.bold)
    copy_width = bold(copy_text, s.secondary[1]) + s.margin
    if bar_width + copy_width > text_width:
        raise LabelRefused(
            f"the barcode of {content.identifier!r} is {bar_width / POINTS_PER_INCH:.2f} in wide; "
            f"the label has {(text_width - copy_width) / POINTS_PER_INCH:.2f} in for it.",
            hint="Use a shorter Rx or lot number.")
    room = s.height - 2 * s.margin - s.barcode_height - s.barcode_gap
    band_x = s.margin + bar_width + s.margin
    band_width = s.width - s.margin - band_x
    parts, beside = blocks(content), band(content)

    def lines_at(size: float, critical: bool) -> list[tuple[_Block, tuple[str, ...]]]:
        return [(b, wrapped(b.text, text_width, size, s.bold if b.bold else s.regular))
                for b in parts if b.critical == critical]

    def height(found: list[tuple[_Block, tuple[str, ...]]], size: float) -> float:
        return sum(len(lines) for _, lines in found) * size * s.spacing

    # Critical and secondary text wrap independently, each size at most once and only when
    # asked: the largest sizes fit most labels, so most labels wrap one size of each.
    crit_sizes, sec_sizes = _sizes(*s.critical, s.step), _sizes(*s.secondary, s.step)
    crit_lines: dict[float, list[tuple[_Block, tuple[str, ...]]]] = {}
    sec_lines: dict[float, tuple[list[tuple[_Block, tuple[str, ...]]], list[tuple[str, bool]]] | None] = {}

    def crit_at(size: float) -> list[tuple[_Block, tuple[str, ...]]]:
        if size not in crit_lines:
            crit_lines[size] = lines_at(size, True)
        return crit_lines[size]

    def sec_at(size: float) -> tuple[list[tuple[_Block, tuple[str, ...]]], list[tuple[str, bool]]] | None:
        """The secondary lines and band lines at ``size``, or None when the band does not fit."""
        if size not in sec_lines:
            band_lines = _band_lines(beside, copy_text, band_width, size, s)
            fits = band_lines is not None and len(band_lines) * size * s.spacing <= s.barcode_height + 1e-9
            sec_lines[size] = (lines_at(size, False), band_lines) if fits and band_lines is not None else None
        return sec_lines[size]

    best = next(((crit, crit_at(crit), sec, *entry) for crit in crit_sizes for sec in sec_sizes
                 if (entry := sec_at(sec)) is not None
                 and height(crit_at(crit), crit) + height(entry[0], sec) <= room), None)
    if best is None:
        secs = [(sec, entry[0]) for sec in sec_sizes if (entry := sec_at(sec)) is not None]
        smallest = (height(crit_at(crit_sizes[-1]), crit_sizes[-1])
                    + (height(secs[-1][1], secs[-1][0]) if secs else 0))
        raise LabelRefused(
            f"the label's text needs {smallest:.0f} pt of height at the smallest legible sizes "
            f"({s.critical[0]:g} pt for patient, drug and directions, {s.secondary[0]:g} pt for the "
            f"rest); a {s.width / POINTS_PER_INCH:g} × {s.height / POINTS_PER_INCH:g} in label has "
            f"{room:.0f} pt above the barcode. Nothing is truncated.",
            hint="Shorten the directions or names (or split the directions over two labels).")
    crit, c_lines, sec, s_lines, band_lines = best
    chosen = dict(c_lines + s_lines)
    texts: list[Text] = []
    y = s.margin
    for block in parts:
        size = crit if block.critical else sec
        for line in chosen[block]:
            y += size * s.spacing
            texts.append(Text(line, s.margin, y - size * (s.spacing - 1), size, block.bold, block.role))
    bar_top = s.height - s.margin - s.barcode_height
    y = bar_top
    for line, is_bold in band_lines:
        y += sec * s.spacing
        texts.append(Text(line, band_x, y - sec * (s.spacing - 1), sec, is_bold, "band"))
    texts.append(Text(copy_text, s.width - s.margin - bold(copy_text, sec), y - sec * (s.spacing - 1),
                      sec, True, "copy"))
    barcode = Barcode(content.identifier, s.margin + s.quiet_modules * s.module, bar_top,
                      bar_width - 2 * s.quiet_modules * s.module, s.barcode_height, s.module)
    return Layout(s.width, s.height, tuple(texts), barcode, content, crit, sec)


def _band_lines(beside: list[tuple[str, bool]], copy_text: str, width: float, size: float,
                s: Settings) -> list[tuple[str, bool]] | None:
    """The band's lines at ``size``; the last leaves room for "k of N" at its right (else one more)."""
    if width <= 0:
        return None
    lines = [(line, b) for text, b in beside
             for line in wrapped(text, width, size, s.bold if b else s.regular)]
    bold = _width_of(s.bold)
    room_for_copy = width - bold(copy_text, size) - size
    if not lines or _width_of(s.bold if lines[-1][1] else s.regular)(lines[-1][0], size) > room_for_copy:
        lines.append(("", False))
    return lines


def lay_out_all(contents: Sequence[LabelContent]) -> list[Layout]:
    return [lay_out(c) for c in contents]
