"""The results pane: status, findings, amounts, nested objects and the working.

Everything shown comes from :meth:`Plan.to_dict` (rounded by the rule, with the
amounts, extra objects and steps withheld when the plan is refused), so the
TUI shows exactly what ``--json`` prints and never a refused amount. Labels and
formatted results come from the plan's own working steps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.geometry import Size
from textual.visual import VisualType
from textual.widgets import Static

from compound.core.rounding import (
    format_concentration,
    format_mass,
    format_number,
    format_volume,
)
from compound.tui.widgets.plan.sized import SizedByLayout

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
_PARTS = ("status", "bud", "findings", "amounts", "extra", "working")
"""The pane's sections, top to bottom (each a :class:`_Part`, ``#<form>-<name>``)."""
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


class _Part(SizedByLayout, Static):
    """A section of the results pane; its height follows its content.

    Its height at a width is measured once per content: the pane measures it to place its
    scrollbar (:meth:`PlanResults._fit_scrollbar`), then the screen's layout asks again
    (measuring wraps the text: the working is the longest).
    """

    def __init__(self, *, id: str, classes: str) -> None:  # noqa: A002 (Textual's name)
        super().__init__(id=id, classes=classes)
        self._heights: dict[int, int] = {}

    def update(self, content: VisualType = "", *, layout: bool = True) -> None:
        self._heights = {}
        super().update(content, layout=layout)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        height = self._heights.get(width)
        if height is None:
            height = self._heights[width] = super().get_content_height(container, viewport, width)
        return height


class PlanResults(SizedByLayout, VerticalScroll):
    """Shows one plan; :meth:`clear` when its inputs change, so no stale number stays up.

    A calculation, and a clear, lay the screen out once (twice when the scrollbar comes or
    goes): the parts are updated together, a hidden part without a layout, and the pane's
    own scrollable size is taken as the layout found it (:class:`SizedByLayout`).
    """

    def __init__(self, form_key: str) -> None:
        super().__init__(id=f"{form_key}-results", classes="plan-results")
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
        self._filled: dict[str, bool] = {}
        """Which parts hold content (a part not named yet may)."""

    def compose(self) -> ComposeResult:
        key = self.form_key
        for name in _PARTS:
            yield _Part(id=f"{key}-{name}", classes=f"plan-{name}")

    def on_mount(self) -> None:
        self.clear("Fill in the form and press Enter (or ctrl+r) to calculate.")

    def _fit_scrollbar(self) -> None:
        """Bring or take away the scrollbar now, for the content just put in, so that the
        layout this content asks for places it too. Textual decides it after a layout, from
        the height that layout found, and asks for a second layout of the whole screen to
        place it (a plan overflows the pane and the message that clears it does not, so it
        did on most keystrokes). If this guess were wrong, Textual's check after the layout
        would still correct it."""
        gutter = self.styles.gutter  # padding and border (not a region look-up: see _Compositor)
        outer = self.outer_size
        content = Size(outer.width - gutter.width, outer.height - gutter.height)
        # The children's width: the scrollbar's column is kept, shown or not (CSS).
        inner = Size(content.width - self.styles.scrollbar_size_vertical, content.height)
        if not content or inner.width <= 0 or self.show_horizontal_scrollbar:
            return  # not laid out yet
        self._clear_arrangement_cache()  # the parts just changed
        show = self.arrange(inner).total_region.bottom > content.height
        if show != self.show_vertical_scrollbar:
            self.show_vertical_scrollbar = show
            self.vertical_scrollbar.display = show

    def _part(self, name: str) -> Static:
        return self.query_one(f"#{self.form_key}-{name}", Static)

    def _put(self, name: str, content: VisualType | None) -> None:
        """Show ``content`` in a part, or hide the part (None): a hidden part is emptied
        without a layout, and one already hidden and empty is left alone."""
        part = self._part(name)
        if content is not None:
            part.update(content)
            part.display = True
        elif part.display or self._filled.get(name, True):
            part.display = False
            part.update("", layout=False)  # hidden: its size is no one's concern
        self._filled[name] = content is not None

    def clear(self, message: str) -> None:
        self.plan, self.bud, self.ingredient_lots, self.saved_as = None, None, (), None
        self.computed_from = None
        self._part("status").update(Text(message, style="dim"))
        self._part("status").set_classes("plan-status")
        for name in _PARTS[1:]:
            self._put(name, None)
        self.shown = {}
        self._fit_scrollbar()

    def show(self, plan: Plan, bud: BudResult | None = None,
             ingredient_lots: Sequence[IngredientLot] = ()) -> None:
        self.plan, self.bud, self.ingredient_lots, self.saved_as = plan, bud, ingredient_lots, None
        data = plan.to_dict()
        word, style, advice = _STATUS[data["status"]]
        status = Text.assemble((f"{word}  ", style), (advice, ""))
        self._part("status").update(status)
        self._part("status").set_classes(f"plan-status -{data['status']}")
        self._show_bud(data)
        self._show_findings(data["findings"])
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
        self._show_amounts()
        self._put("extra", Text("\n\n").join(extra) if extra else None)
        self._show_working(data, data.get("steps", []))
        self._fit_scrollbar()
        self.scroll_home(animate=False)

    def saved(self, lot_number: str) -> None:
        """Say on screen which lot the plan was saved as."""
        self.saved_as = lot_number
        self._bud_text.append_text(Text.assemble(
            ("\nSaved as lot ", "bold"), (lot_number, "bold green"),
            " (quarantine: release it from Lots after the final check)."))
        self._part("bud").update(self._bud_text)

    def _show_bud(self, data: dict[str, Any]) -> None:
        bud = data.get("bud")
        if not data.get("beyond_use_date") or not bud:
            self._put("bud", None)
            return
        limit = bud["limit"]
        days = f" ({limit['days']} days)" if limit.get("days") else ""
        text = Text.assemble(("Beyond-use date  ", "bold"), (data["beyond_use_date"], "bold"),
                             f"  stored {bud['storage']}", "\n",
                             (f"{limit['kind']}: {limit['name']}{days}", "dim"))
        if bud.get("stability_window_days"):
            text.append(f"\nStability window {bud['stability_window_days']} days, to "
                        f"{bud['stability_window_end']}", style="dim")
        self._bud_text = text
        self._put("bud", text)

    def _show_amounts(self) -> None:
        self._put("amounts", AmountsTable(list(self.shown.values())) if self.shown else None)

    def _show_findings(self, findings: list[dict[str, Any]]) -> None:
        self._put("findings", finding_lines(findings, self.words) if findings else None)

    def _show_working(self, data: dict[str, Any], steps: list[dict[str, Any]]) -> None:
        self._put("working", working_text(data, steps) if steps else None)
