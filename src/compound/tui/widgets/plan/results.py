"""The results pane: status, findings, amounts, nested objects and the working.

Everything shown comes from :meth:`Plan.to_dict` (rounded by the rule, with the
amounts, extra objects and steps withheld when the plan is refused), so the
TUI shows exactly what ``--json`` prints and never a refused amount. Labels and
formatted results come from the plan's own working steps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.content import Content
from textual.geometry import Region, Size
from textual.reactive import Reactive
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollBarRender
from textual.selection import Selection
from textual.strip import Strip
from textual.visual import Visual, VisualType, visualize

from compound.core.rounding import (
    format_concentration,
    format_mass,
    format_number,
    format_volume,
)

if TYPE_CHECKING:
    from compound.planning.base import Plan
    from compound.planning.stability import BudResult
    from compound.register import IngredientLot

_MARK = {"refusal": ("REFUSED", "bold red"), "warning": ("WARNING", "bold yellow"),
         "info": ("info", "cyan")}
_STATUS = {
    "ok": ("OK", "bold green", "Check the working below before compounding."),
    "warning": ("WARNING", "bold yellow", "Read the warnings before compounding."),
    "refused": ("REFUSED", "bold red",
                "No quantities are given for a refused preparation. Resolve the refusal and "
                "calculate again."),
}
# Keys of Plan.to_dict that are not results; everything else it prints is (amounts withheld
# when refused, so a refused plan shows none).
_NOT_RESULTS = frozenset({"kind", "status", "inputs", "findings", "steps", "beyond_use_date", "bud",
                          "lot_number"})
# Longest suffix first: "_mg_per_ml" must win over "_ml".
_SUFFIXES = (
    ("_mg_per_ml", format_concentration),
    ("_mg_per_drop", lambda v: f"{format_mass(v)}/drop"),
    ("_drops_per_ml", lambda v: f"{format_number(v)} drops/mL"),
    ("_mg", format_mass),
    ("_ml", format_volume),
    ("_pct", lambda v: f"{format_number(v)} %"),
    ("_days", lambda v: f"{format_number(v)} days"),
)


def _unit_suffix(key: str) -> tuple[str, Callable[[float], str]] | None:
    for suffix, fmt in _SUFFIXES:
        if key.endswith(suffix) or key == suffix[1:]:
            return suffix, fmt
    return None


def label_for(key: str) -> str:
    """``fill_weight_low_mg`` -> "Fill weight low" (the value carries the unit)."""
    found = _unit_suffix(key)
    if found and key != found[0][1:]:
        key = key[: -len(found[0])]
    return key.replace("_", " ").strip().capitalize()


def format_value(key: str, value: Any) -> str:
    """A JSON value (already rounded by the plan) written with the unit its key names."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        found = _unit_suffix(key)
        return found[1](float(value)) if found else format_number(float(value))
    return str(value)


def describe_extra(key: str, value: Any) -> Text:
    """A nested object (trituration, shortcut, stages, vehicle) as indented lines."""
    return Text("\n").join([Text(label_for(key), style="bold"), *_lines(value, "  ")])


def _lines(value: Any, pad: str) -> list[Text]:
    out: list[Text] = []
    if isinstance(value, dict):
        seen: set[str] = set()
        for k, v in value.items():
            label = label_for(k)
            if label in seen:  # "diluent" and "diluent_mg": keep them apart
                label += " amount"
            seen.add(label)
            if isinstance(v, (dict, list)):
                out += [Text(f"{pad}{label}:"), *_lines(v, pad + "  ")]
            else:
                out.append(Text(f"{pad}{label}: {format_value(k, v)}"))
    elif isinstance(value, list):
        for n, item in enumerate(value, start=1):
            if isinstance(item, dict) and item.get("stage") == n:  # numbered already
                item = {k: v for k, v in item.items() if k != "stage"}
            out.append(Text(f"{pad}{n}. {_inline(item)}"))
    return out


def _inline(item: Any) -> str:
    """A row of a list on one line: ``Ascorbic acid, amount 500 mg, role antioxidant``."""
    if not isinstance(item, dict):
        return format_value("", item)
    return ", ".join(format_value(k, v) if k == "name" else f"{label_for(k).lower()} {_inline_value(k, v)}"
                     for k, v in item.items())


def _inline_value(key: str, value: Any) -> str:
    if isinstance(value, dict):
        return "(" + _inline(value) + ")"
    if isinstance(value, list):
        return "; ".join(_inline(v) for v in value)
    return format_value(key, value)


def finding_lines(findings: list[dict[str, Any]], words: Callable[[str], str] = str) -> Text:
    """Findings one a line: severity, code (never split from its colon), message in TUI words."""
    text = Text()
    for n, f in enumerate(findings):
        word, style = _MARK[f["severity"]]
        text.append("\n" if n else "")
        text.append(f"{word} ", style=style)
        text.append(f"{f['code']}:\u00a0", style="bold")
        text.append(words(f["message"]))
    return text


def working_text(data: dict[str, Any], steps: list[dict[str, Any]]) -> Content:
    """The working, a step a paragraph: label and result, formula and inputs, source, note.

    Textual's own Content (a Rich Text was converted to one on every calculation, for 3× the
    time); the heading alone is bold and underlined.
    """
    entered = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in data["inputs"].items()
                        if v not in (None, "", False))
    parts: list[str | tuple[str, str]] = [("Working", "bold underline"), (f"\nAs entered: {entered}", "dim")]
    for n, s in enumerate(steps, start=1):
        parts += [f"\n{n:>2}. ", (s["label"], "bold"), f": {s['result']}"]
        inputs = ", ".join(f"{k} = {v}" for k, v in s["inputs"].items())
        parts.append(f"\n    = {s['formula']}" + (f"  [{inputs}]" if inputs else ""))
        if s["source"] != "arithmetic":
            parts.append((f"\n    source: {s['source']}", "dim"))
        if s.get("note"):
            parts.append((f"\n    note: {s['note']}", "italic"))
    return Content.assemble(*parts)


class AmountsTable:
    """Amounts beside their values: long labels wrap in the pane's width, values never scroll away.

    Drawn as Rich's ``Table(box=SIMPLE_HEAD, expand=True, show_edge=False, pad_edge=False)``
    with a folding label column and a right-aligned value column drew it (a test holds them
    alike), at a fraction of its cost: the pane is drawn again for every calculation.
    """

    HEAD = ("Amount", "Value")

    def __init__(self, rows: Sequence[tuple[str, str]]) -> None:
        self.rows = rows

    def lines(self, width: int) -> list[Text]:
        value_width = max(cell_len(v) for v in (self.HEAD[1], *(value for _, value in self.rows)))
        label_width = max(width - value_width - 3, 1)
        bold = Style(bold=True)
        out = [Text.assemble((_pad(self.HEAD[0], label_width) + " ", bold), " ",
                             (" " + self.HEAD[1].rjust(value_width), bold)),
               Text("─" * width)]
        for label, value in self.rows:
            for n, line in enumerate(_wrap(label, label_width)):
                out.append(Text(f"{_pad(line, label_width)}   "
                                f"{value.rjust(value_width) if n == 0 else ' ' * value_width}"))
        return out

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for line in self.lines(options.max_width):
            yield from line.render(console)
            yield Segment.line()

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(options.max_width, options.max_width)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - cell_len(text))


def _wrap(text: str, width: int) -> list[str]:
    """Words onto lines of ``width`` cells; a word longer than a line is folded (Rich's ``fold``)."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        while cell_len(word) > width:  # fold: as much as fits, the rest on the next line
            if line:
                lines.append(line)
                line = ""
            cut = width
            while cell_len(word[:cut]) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        if not line:
            line = word
        elif cell_len(line) + 1 + cell_len(word) <= width:
            line += " " + word
        else:
            lines.append(line)
            line = word
    if line or not lines:
        lines.append(line)
    return lines


class _BlankWhileItFits(ScrollBarRender):
    """The scrollbar, drawn as an empty column while everything fits (no thumb to draw).

    The pane's scrollbar is always placed (``overflow-y: scroll``): one that comes and goes
    lays the whole screen out (Textual places it as a widget), on most calculations and clears
    (a plan overflows the pane, the message that clears it does not). The column looks as
    ``scrollbar-gutter: stable`` left it before: blank until there is something to scroll.
    """

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if self.window_size and self.virtual_size > self.window_size:
            yield from super().__rich_console__(console, options)
            return
        blank = Segment(" " * (options.max_width or 1))
        for _ in range(options.height or 1):
            yield blank
            yield Segment.line()


_INSET = {"refused": 1, "warning": 1, "bud": 2}
"""The cells a section's band or edge takes left of its text."""
_Row = Strip | tuple[Content, str, int]
"""A line of the pane: drawn, or a line of wrapped text, its section's look and width."""


class PlanResults(ScrollView, can_focus=True):
    """Shows one plan; :meth:`clear` when its inputs change, so no stale number stays up.

    One widget that draws its lines itself (Textual's line API): the sections (status, BUD,
    findings, amounts, nested objects, working) are rendered once per width into a list of
    lines, and a frame draws the lines in view. A calculation or a clear changes what it
    draws and its scrollable height, never its size: the screen is not laid out again (a
    layout places every widget of the screen, ~150, the form's mostly), and the text is
    wrapped once.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "plan-results--refused", "plan-results--warning", "plan-results--edge"}
    """The refused and warning verdicts (a band of colour) and the BUD's edge (compound.tcss)."""

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)
    """Its scrollable size is its own business: the pane's size does not follow its content."""

    def __init__(self, form_key: str) -> None:
        super().__init__(id=f"{form_key}-results", classes="plan-results")
        self.set_reactive(PlanResults.auto_links, False)  # no links: not a pass over every line
        self.form_key = form_key
        self.plan: Plan | None = None
        self.bud: BudResult | None = None
        """The plan's beyond-use date, when a compounding date was given."""
        self.ingredient_lots: Sequence[IngredientLot] = ()
        """The register lots the BUD was capped by (and a saved lot records)."""
        self.saved_as: str | None = None
        """The lot number this plan was saved as."""
        self._bud_text = Text()
        self.words: Callable[[str], str] = str
        """Rewrites a message in the TUI's words (a field's label, not its CLI flag)."""
        self.shown: dict[str, tuple[str, str]] = {}
        """The amounts on screen: JSON key -> (label, value as printed)."""
        self.computed_from: tuple[int, dict[str, str | bool]] | None = None
        """The screen's input generation and the values the plan on screen was computed from."""
        self.sections: dict[str, tuple[VisualType, str]] = {}
        """What is shown, top to bottom: section name -> (content, look: "" or "refused",
        "warning", "bud")."""
        self._drawn: tuple[tuple[object, ...], list[_Row], dict[str, tuple[int, int, int]]] | None = None
        """The sections' lines for a width and styles (a theme's colours are in them), and each
        section's first and end line and the cells its edge or band takes on the left."""
        self._strips: dict[int, Strip] = {}
        """The wrapped lines drawn so far (by line number), for the lines above."""
        self._frame: tuple[int, list[_Row], dict[str, tuple[int, int, int]]] | None = None
        """:meth:`_lines` while a frame is drawn (:meth:`render_lines`)."""

    def on_mount(self) -> None:
        self.vertical_scrollbar.renderer = _BlankWhileItFits
        self.clear("Fill in the form and press Enter (or ctrl+r) to calculate.")

    # ---- what is shown ----

    def clear(self, message: str) -> None:
        self.plan, self.bud, self.ingredient_lots, self.saved_as = None, None, (), None
        self.computed_from = None
        self.shown = {}
        self._set({"status": (Text(message, style="dim"), "")})

    def show(self, plan: Plan, bud: BudResult | None = None,
             ingredient_lots: Sequence[IngredientLot] = ()) -> None:
        self.plan, self.bud, self.ingredient_lots, self.saved_as = plan, bud, ingredient_lots, None
        data = plan.to_dict()
        word, style, advice = _STATUS[data["status"]]
        look = data["status"] if data["status"] in ("refused", "warning") else ""
        sections: dict[str, tuple[VisualType, str]] = {
            "status": (Text.assemble((f"{word}  ", style), (advice, "")), look)}
        bud_text = self._bud(data)
        if bud_text is not None:
            sections["bud"] = (bud_text, "bud")
        if data["findings"]:
            sections["findings"] = (finding_lines(data["findings"], self.words), "")
        steps = {s["key"]: s for s in data.get("steps", [])}
        self.shown = {}
        extra: list[Text] = []
        for key, value in data.items():
            if key in _NOT_RESULTS or value is None:  # None: not applicable to this route
                continue
            if isinstance(value, (dict, list)):
                extra.append(describe_extra(key, value))
                continue
            step = steps.get(key)
            self.shown[key] = (step["label"] if step else label_for(key),
                               step["result"] if step else format_value(key, value))
        if self.shown:
            sections["amounts"] = (AmountsTable(list(self.shown.values())), "")
        if extra:
            sections["extra"] = (Text("\n\n").join(extra), "")
        if data.get("steps"):
            sections["working"] = (working_text(data, data["steps"]), "")
        self._set(sections)
        self.scroll_home(animate=False)

    def saved(self, lot_number: str) -> None:
        """Say on screen which lot the plan was saved as."""
        self.saved_as = lot_number
        self._bud_text.append_text(Text.assemble(
            ("\nSaved as lot ", "bold"), (lot_number, "bold green"),
            " (quarantine: release it from Lots after the final check)."))
        self._set({**self.sections, "bud": (self._bud_text, "bud")})

    def _bud(self, data: dict[str, Any]) -> Text | None:
        bud = data.get("bud")
        if not data.get("beyond_use_date") or not bud:
            return None
        limit = bud["limit"]
        days = f" ({limit['days']} days)" if limit.get("days") else ""
        text = Text.assemble(("Beyond-use date  ", "bold"), (data["beyond_use_date"], "bold"),
                             f"  stored {bud['storage']}", "\n",
                             (f"{limit['kind']}: {limit['name']}{days}", "dim"))
        if bud.get("stability_window_days"):
            text.append(f"\nStability window {bud['stability_window_days']} days, to "
                        f"{bud['stability_window_end']}", style="dim")
        self._bud_text = text
        return text

    def look(self, name: str) -> str | None:
        """How a section is marked ("refused", "warning", "bud" or ""), None if not shown."""
        found = self.sections.get(name)
        return None if found is None else found[1]

    def text(self, name: str) -> str:
        """What a section draws at the pane's width, line by line ("" when it is not shown)."""
        _, rows, spans = self._lines()
        start, end, inset = spans.get(name, (0, 0, 0))
        return "\n".join(self._strip(rows, n).text[inset:].rstrip() for n in range(start, end))

    # ---- drawing ----

    def _set(self, sections: dict[str, tuple[VisualType, str]]) -> None:
        """Show these sections: their lines are made for the pane's width now (the height
        they take decides the scrollbar's thumb), and the pane is drawn again, not laid out."""
        self.sections = sections
        self._drawn = None
        self._measure()
        self.refresh()

    def _measure(self) -> None:
        """Set the scrollable size for the lines at the pane's width, and the scrollbar's
        thumb (Textual sets both in a layout, from the size a layout found)."""
        width, rows, _ = self._lines()
        if not width:
            return  # not laid out yet: the first layout's resize measures
        self.virtual_size = Size(width, len(rows))
        bar = self.vertical_scrollbar
        bar.window_virtual_size = len(rows)
        bar.window_size = self.scrollable_content_region.height
        self.scroll_y = self.validate_scroll_y(self.scroll_y)

    def on_resize(self, event: events.Resize) -> None:
        self._measure()

    def _lines(self) -> tuple[int, list[_Row], dict[str, tuple[int, int, int]]]:
        """The pane's lines at its width: text is wrapped for all of them (their number is
        the scrollable height), and drawn when first shown (:meth:`_strip`)."""
        width = self.scrollable_content_region.width
        key = (width, self.visual_style, *(self.get_visual_style(name)
                                           for name in sorted(self.COMPONENT_CLASSES)))
        if self._drawn is None or self._drawn[0] != key:
            rows: list[_Row] = []
            spans: dict[str, tuple[int, int, int]] = {}
            if width > 0:
                blank = Strip.blank(width, self.visual_style.rich_style)
                for name, (content, look) in self.sections.items():
                    start = len(rows)
                    rows += self._rows(content, look, width)
                    spans[name] = (start, len(rows), _INSET.get(look, 0))
                    rows.append(blank)  # the space below each section
            self._drawn = (key, rows, spans)
            self._strips = {}
        return width, self._drawn[1], self._drawn[2]

    def _rows(self, content: VisualType, look: str, width: int) -> list[_Row]:
        """A section's lines: text wrapped (drawn later), anything else drawn now."""
        inner = max(width - 2 * bool(look), 1)  # a band's cell either side, or the BUD's edge
        visual = visualize(self, content, markup=False)
        if isinstance(visual, Content):
            return [(line, look, inner) for line in visual.wrap(inner)]
        return [self._decorate(strip, look)
                for strip in Visual.to_strips(self, visual, inner, None, self._style(look), pad=True)]

    def _style(self, look: str) -> Any:
        return (self.get_visual_style(f"plan-results--{look}") if look in ("refused", "warning")
                else self.visual_style)

    def _decorate(self, line: Strip, look: str) -> Strip:
        """A verdict on its band of colour (a cell of it either side), the BUD behind a thick
        edge, the rest as it comes."""
        if look in ("refused", "warning"):
            band = Strip.blank(1, self._style(look).rich_style)
            return Strip.join([band, line, band])
        if look == "bud":
            edge = Strip([Segment("█", self.get_visual_style("plan-results--edge").rich_style),
                          Segment(" ", self.visual_style.rich_style)], 2)
            return Strip.join([edge, line])
        return line

    def _strip(self, rows: list[_Row], index: int) -> Strip:
        """A line drawn; its text carries its place (Textual's offsets) for selecting with the
        mouse: column 0 is where the section's text starts, right of a band or edge."""
        strip = self._strips.get(index)
        if strip is None:
            row = rows[index]
            if isinstance(row, Strip):
                strip = row.apply_offsets(0, index)
            else:
                line, look, inner = row
                style = self._style(look)
                drawn = Visual.to_strips(self, line, inner, 1, style, pad=True, apply_selection=False)
                strip = self._decorate((drawn[0] if drawn else Strip.blank(inner, style.rich_style))
                                       .apply_offsets(0, index), look)
            self._strips[index] = strip
        return strip

    def _inset(self, rows: list[_Row], index: int) -> int:
        row = rows[index]
        return 0 if isinstance(row, Strip) else _INSET.get(row[1], 0)

    def render_lines(self, crop: Region) -> list[Strip]:
        """A frame's lines, with the pane's lines looked up once for all of them (:meth:`_lines`
        asks for the pane's styles, ~15 µs a time, once for each line in view otherwise)."""
        self._frame = self._lines()
        try:
            return super().render_lines(crop)
        finally:
            self._frame = None

    def render_line(self, y: int) -> Strip:
        width, rows, _ = self._frame or self._lines()
        index = self.scroll_offset.y + y
        if not 0 <= index < len(rows):
            return Strip.blank(width, self.visual_style.rich_style)
        strip = self._strip(rows, index)
        selection = self.text_selection
        span = selection.get_span(index) if selection is not None else None
        if span is not None:  # what the mouse selected, in the screen's selection colours
            inset = self._inset(rows, index)
            start, end = span
            end = strip.cell_length if end == -1 else min(inset + end, strip.cell_length)
            start = min(inset + start, end)
            before, chosen, after = strip.divide([start, end, strip.cell_length])[:3]
            shade = Style(bgcolor=self.screen.get_component_rich_style("screen--selection").bgcolor)
            strip = Strip.join([before, Strip(Segment.apply_style(chosen, post_style=shade)), after])
        return strip

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """The text selected with the mouse: the sections' text as drawn, line by line."""
        _, rows, _ = self._lines()
        text = "\n".join(self._strip(rows, n).text[self._inset(rows, n):].rstrip()
                         for n in range(len(rows)))
        return selection.extract(text), "\n"
