"""Formulate: one tab per preparation type, each a form beside its results.

The screen runs the plan function the CLI runs (a plan takes well under 10 ms,
so it runs on the event loop). A :class:`~compound.errors.CompoundError` opens
the :class:`ErrorModal` and leaves the form as it was; the results pane is
cleared whenever an input changes, so a number never stays on screen for
inputs it was not computed from. With a compounding date the plan gets its
BUD; ingredient lots named are read from the register in a worker, and
ctrl+s saves the plan as a lot (also in a worker).

The first paint shows a one-widget look-alike of the header (:class:`ShellHeader`) and a
line that says the form is loading; Textual's Header, the tab strip, the footer and the form
follow right after it (:meth:`_open`), so the
first frame waits neither for the planning modules (pint, numpy) nor for styling
the form's ~300 widgets. Keys typed in that moment are held by the app and handed
to the form, in the order typed, once its first field has the cursor
(:meth:`CompoundApp.on_calculator_screen_ready`). Other tabs are built when first opened.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual._compositor import Compositor, ReflowResult
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.geometry import Size
from textual.message import Message
from textual.screen import Screen
from textual.widget import MountError, Widget
from textual.widgets import Checkbox, Input, Select, Static

from compound.errors import CompoundError, InputError
from compound.tui import forms
from compound.tui.widgets.shell import ShellHeader

# Imported where used, after the first frame (issue 12): the dating fields, the messages, the
# error and sign dialogs and the register's front door (compound.tui.store); the warm-up
# imports them with the other screens.

if TYPE_CHECKING:
    from textual.widgets import TabbedContent

    from compound.register import IngredientLot
    from compound.tui.messages import CalculationRequested
    from compound.tui.screens.sign import Ask
    from compound.tui.widgets.plan import PlanForm, PlanResults


def save_asks() -> tuple[Ask, ...]:
    """The save dialog: initials, and a late entry's date and reason (``plan … --save --as-of``)."""
    from compound.tui.screens.sign import AS_OF, BY, CHECKED_BY, LATE_REASON

    return (BY, CHECKED_BY, AS_OF, LATE_REASON)


class _Compositor(Compositor):
    """Textual 8.2.8's compositor, but a layout's map of every widget is kept.

    A layout (``reflow``) places every widget of the screen, the same arrangement the
    ``full_map`` property builds, yet leaves the map marked stale whenever a widget updated
    just before it was not on screen (a field's hint that appears, for a character that makes
    the field invalid), so the first look-up after it (the next widget asking its region)
    placed every widget again: a third of that keystroke's layout time, for the map it
    already had. (A calculation, and the keystroke that clears it, lay nothing out.)
    """

    def reflow(self, parent: Widget, size: Size) -> ReflowResult:
        result = super().reflow(parent, size)
        self._full_map_invalidated = False  # this map is the full map
        return result


class CalculatorScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+r", "calculate", "Calculate"),
                                             Binding("ctrl+s", "save_lot", "Save lot")]
    AUTO_FOCUS = ".plan-form Input"  # the first field, not the tab strip: typing goes straight in

    class Ready(Message):
        """The first form is built and has the cursor: the app may warm up the rest."""

    def __init__(self) -> None:
        super().__init__()
        self._compositor = _Compositor()
        self._generation = 0
        """Counts input changes: a worker's answer for older inputs is dropped."""
        self._panes: dict[str, PlanResults] = {}
        """Each built form's results pane, by form key (no DOM query per keystroke)."""
        self._building = asyncio.Lock()
        self._opening = asyncio.Lock()
        self._opened = False
        """The tabs, the footer and the first form are up."""

    def compose(self) -> ComposeResult:
        yield ShellHeader()
        yield Static(f"Loading the {forms.FORMS[0].title.lower()} form…", id="forms-loading",
                     classes="plan-loading")

    def on_mount(self) -> None:
        self.app.call_after_refresh(self._build_first)

    async def _build_first(self) -> None:
        try:
            await self._open()
        except MountError:  # the app closed meanwhile (a run that exits at its first frame)
            return

    async def _open(self) -> None:
        """Mount the tabs, the footer and the first tab's form, after the first paint (an
        after-refresh callback), and put the cursor in the form. The tab strip and the footer
        cost about as much as the rest of the first frame; the other tabs' forms are built
        when first opened."""
        from textual.widgets import Footer, Header, TabbedContent, TabPane

        async with self._opening:
            if self._opened:
                return
            self.app.load_stylesheet()  # type: ignore[attr-defined]  # already, after the first frame
            tabs = TabbedContent(id="forms")
            for spec in forms.FORMS:
                tabs.compose_add_child(TabPane(spec.title, Horizontal(
                    id=f"{spec.key}-panel", classes="plan-panel"), id=spec.key))
            header, footer = Header(), Footer()
            # Shown with the first form, in one frame, in place of the shell's lines.
            header.display = tabs.display = footer.display = False
            shell = self.query_one(ShellHeader)
            loading = self.query_one("#forms-loading")
            await self.mount(header, tabs, footer, before=loading)
            form = await self._build(forms.FORMS[0].key)
            header.display = tabs.display = footer.display = True
            shell.display = loading.display = False
            await self.remove_children([shell, loading])
            self._opened = True
            if self.focused is None:
                form.fields()[0].control.focus()
        self.post_message(self.Ready())

    async def _build(self, key: str) -> PlanForm:
        from compound.tui.widgets.plan import PlanForm, PlanResults

        panel = self.query_one(f"#{key}-panel", Horizontal)
        async with self._building:  # once, whether the tab or the palette asks first
            if key not in self._panes:
                results = PlanResults(key)
                await panel.mount(PlanForm(forms.by_key(key)), results)
                self._panes[key] = results
                changed = partial(self._changed, key)
                for field in panel.query(Input):  # the pane is cleared as the text changes
                    self.watch(field, "value", changed, init=False)
        return panel.query_one(f"#{key}-form", PlanForm)

    async def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id and self._opened:  # the first tab: :meth:`_open` builds it
            await self._build(event.pane.id)

    def _active_key(self) -> str | None:
        """The tab on screen, once the tabs are up."""
        found = self.query("#forms")
        return str(found.first().active) if self._opened and found else None  # type: ignore[attr-defined]

    @property
    def active_form(self) -> PlanForm:
        from compound.tui.widgets.plan import PlanForm

        return self.query_one(f"#{self._active_key()}-form", PlanForm)

    async def show_form(self, key: str) -> None:
        """Bring a form to the front and put the cursor in its first field."""
        await self._open()
        self.query_one("#forms").active = key  # type: ignore[attr-defined]
        form = await self._build(key)
        form.fields()[0].control.focus()

    def action_calculate(self) -> None:
        if self._active_key() in self._panes:  # not while the first form is built
            self.active_form.submit()

    def on_calculation_requested(self, event: CalculationRequested) -> None:
        from compound.tui.forms import dating

        numbers = dating.lot_numbers(event.values)
        pane = self._panes.get(event.form)
        if (pane is not None and pane.plan is not None and not numbers
                and pane.computed_from == (self._generation, event.values)):
            return  # on screen already, from these very inputs (and no register lots to read again)
        if numbers and not dating.compounded(event.values):
            self._failed(event.form, InputError(
                "ingredient lots cap the beyond-use date, so they need the compounding date.",
                hint="Fill in “Compounded on” (YYYY-MM-DD), or clear “Ingredient lots”.",
                field="compounded"))
        elif numbers:
            self._results(event.form).clear("Reading the ingredient lots from the register…")
            self._read_lots(event, numbers, self._generation)
        else:
            self._finish(event, [], self._generation)

    @work(thread=True, exclusive=True, group="ingredient-lots")
    def _read_lots(self, event: CalculationRequested, numbers: list[str], generation: int) -> None:
        from compound.tui import store

        try:
            found = store.ingredient_lots(numbers)
        except CompoundError as exc:
            self.app.call_from_thread(self._failed, event.form, exc)
            return
        self.app.call_from_thread(self._finish, event, found, generation)

    def _finish(self, event: CalculationRequested, lots: list[IngredientLot], generation: int) -> None:
        from compound.tui.forms import dating
        from compound.tui.messages import PlanCalculated, PlanRefused

        if generation != self._generation:  # the inputs changed while the lots were read
            return
        spec = forms.by_key(event.form)
        try:
            plan = spec.calculate(event.values)
            bud = dating.date(plan, event.values,
                              [(f"{lot.item_name} lot {lot.lot_number}", lot.expiry) for lot in lots])
        except CompoundError as exc:
            self._failed(event.form, exc)
            return
        results = self._results(event.form)
        results.words = partial(spec.in_tui_words, extra=dating.DATING)
        results.show(plan, bud, lots)
        results.computed_from = (generation, dict(event.values))
        self.post_message(PlanRefused(event.form, plan) if plan.refused
                          else PlanCalculated(event.form, plan))

    def _results(self, form: str) -> PlanResults:
        return self._panes[form]

    def _failed(self, form: str, error: CompoundError) -> None:
        from compound.tui.forms import dating
        from compound.tui.messages import CalculationFailed
        from compound.tui.screens.error import ErrorModal

        self._results(form).clear("Not calculated: see the message.")
        self.post_message(CalculationFailed(form, error))
        words = partial(forms.by_key(form).in_tui_words, extra=dating.DATING)
        self.app.push_screen(ErrorModal(error, words), lambda _: self._focus_field(form, error))

    def action_save_lot(self) -> None:
        """Save the plan on screen as a lot: it must be calculated, dated and not refused."""
        if self._active_key() not in self._panes:  # not while the first form is built
            return
        form = self.active_form.spec.key
        results = self._results(form)
        plan, bud = results.plan, results.bud
        problem = None
        if plan is None:
            problem = InputError("there is no calculated plan to save.",
                                 hint="Fill in the form and press Enter to calculate first.")
        elif plan.refused:
            problem = InputError("a refused plan is never saved as a lot.",
                                 hint="Resolve the refusal shown in red, then calculate again.")
        elif bud is None or bud.refused:
            problem = InputError("a lot needs its beyond-use date.",
                                 hint="Fill in “Compounded on” and calculate again.",
                                 field="compounded")
        elif not results.ingredient_lots:
            problem = InputError("a lot records the ingredient lots it was made from.",
                                 hint="Fill in “Ingredient lots” (e.g. NTX2403) and calculate again.",
                                 field="ingredient_lots")
        if problem is not None:
            self._failed_save(form, problem)
            return
        assert plan is not None and bud is not None
        detail = (f"{plan.kind}: BUD {bud.beyond_use_date}, from "
                  f"{', '.join(lot.lot_number for lot in results.ingredient_lots)}")
        from compound.tui.screens.sign import SignModal

        self.app.push_screen(SignModal("Save as a lot (quarantine)", detail, save_asks(),
                                       verb="Save"),
                             partial(self._save, form, self._generation))

    def _failed_save(self, form: str, error: CompoundError,
                     words: Callable[[str], str] = str) -> None:
        from compound.tui.screens.error import ErrorModal

        self.app.push_screen(ErrorModal(error, words), lambda _: self._focus_field(form, error))

    def _save(self, form: str, generation: int, signed: dict[str, str] | None) -> None:
        results = self._results(form)
        if signed is None or generation != self._generation or results.plan is None:
            return
        self._save_worker(form, results, signed)

    @work(thread=True, exclusive=True, group="save-lot")
    def _save_worker(self, form: str, results: PlanResults, signed: dict[str, str]) -> None:
        from compound.tui import store
        from compound.tui.screens.sign import in_words

        assert results.plan is not None and results.bud is not None
        try:
            number = store.save_lot(results.plan, results.bud, results.ingredient_lots,
                                    by=signed["by"], checked_by=signed.get("checked_by"),
                                    as_of=signed["as_of"], reason=signed["reason"])
        except CompoundError as exc:
            self.app.call_from_thread(self._failed_save, form, exc, in_words(save_asks()))
            return
        self.app.call_from_thread(self._saved, form, results, number)

    def _saved(self, form: str, results: PlanResults, number: str) -> None:
        from compound.tui.messages import LotSaved

        results.saved(number)
        self.post_message(LotSaved(form, number))
        self.notify(f"Saved as lot {number}, in quarantine.", title="Lot saved")

    def _focus_field(self, form: str, error: CompoundError) -> None:
        """After the dialog, put the cursor in the field the error names, if the form has it."""
        name = error.field if isinstance(error, InputError) else None
        if name:
            found = self.query(f"#{form}-{name}")
            if found:
                found.first().focus()

    @on(Select.Changed)
    @on(Checkbox.Changed)
    def _choice_changed(self, event: Select.Changed | Checkbox.Changed) -> None:
        if event.control.id:
            self._changed(event.control.id.split("-", 1)[0])

    def _changed(self, form: str) -> None:
        """An input of ``form`` changed: clear its plan. A text field's change comes here as it
        is made (a watcher, not its Changed message, which climbs the form's widgets one
        message at a time): the pane is cleared in the frame that draws the character typed,
        not in a second frame a frame's time later."""
        self._generation += 1
        pane = self._panes.get(form)
        if pane is not None and pane.plan is not None:
            pane.clear("Inputs changed: press Enter (or ctrl+r) to calculate again.")
