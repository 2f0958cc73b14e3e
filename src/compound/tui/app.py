"""The compound TUI: one mode per job, a key for each, and the command palette.

Each mode (Formulate, Lots, Stability, Titrate, Batch) has its own screen
stack, so a lot opened from Lots stays open while the pharmacist formulates.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import importlib
import os
from collections.abc import AsyncGenerator, Callable, Iterable
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, NamedTuple

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.events import Event, Key, Resize
from textual.message import Message
from textual.screen import Screen

from compound.tui import forms
from compound.tui.screens.calculator import CalculatorScreen

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from compound.register import LotSummary
    from compound.tui.messages import LotSaved


def styled(made: Screen) -> Screen:
    """``made``, marked as styled at the app's current CSS generation.

    When a mode's screen is new, Textual reparses the whole stylesheet twice (a fresh parse of
    every source, no cache) and restyles every widget of the screen being left (Formulate: ~200):
    at start-up that was ~15 ms of the first frame, and half of what F3 costs later. A new
    screen needs none of it: each widget is styled as it mounts, our screens have no CSS of
    their own, and a theme change since the app started has bumped the generation and queued
    its own refresh."""
    made._css_update_count = made.app._css_update_count
    return made


def formulate() -> Screen:
    return styled(CalculatorScreen())


def later(module: str, name: str) -> Callable[[], Screen]:
    """A screen imported when first shown: only Formulate is needed for the first paint."""
    def make() -> Screen:
        screen: type[Screen] = getattr(importlib.import_module(f"compound.tui.screens.{module}"),
                                       name)
        return styled(screen())
    return make


class Mode(NamedTuple):
    key: str
    title: str
    binding: str
    what: str
    screen: Callable[[], Screen]


MODES_SHOWN: tuple[Mode, ...] = (
    Mode("formulate", "Formulate", "f2", "Plan a prescription, see its BUD, save it as a lot",
         formulate),
    Mode("lots", "Lots", "f3", "The register: sort, filter, open a lot, release/dispense/destroy",
         later("lots", "LotsScreen")),
    Mode("stability", "Stability", "f4", "What expires in 7/30/90 days; each lot's window",
         later("stability", "StabilityScreen")),
    Mode("titrate", "Titrate", "f5", "A titration ladder as a calendar and what to dispense",
         later("titrate", "TitrateScreen")),
    Mode("batch", "Batch", "f6", "Run a prescription CSV and browse its results and errors",
         later("batch", "BatchScreen")),
    Mode("labels", "Labels", "f7", "A released lot's patient or stock label: preview, PDF/ZPL/CSV",
         later("labels", "LabelsScreen")),
)


QUIT_KEYS = ("ctrl+q", "ctrl+c")
"""Never held while the first form is built: they act at once."""

STYLESHEET = Path(__file__).with_name("compound.tcss")
"""The app's layout and theme; added after the first frame on Formulate (:meth:`load_stylesheet`)."""

NARROW = 110
"""Terminal width (columns) below which forms take their narrow layout (80×24 included)."""


def screenshot_dir() -> Path:
    """Where screenshots go: ``COMPOUND_SCREENSHOTS``, else ``screenshots`` in the current folder."""
    return Path(os.environ.get("COMPOUND_SCREENSHOTS") or Path.cwd() / "screenshots").absolute()


class CompoundApp(App[None]):
    TITLE = "compound"
    SUB_TITLE = "LDN compounding"
    # No CSS_PATH: Textual would parse STYLESHEET (~5-8 ms of CPU) and match its rules before the
    # first frame, whose shell (a Header, a line of text) none of them style.
    MODES: ClassVar[dict[str, str | Callable[[], Screen]]] = {m.key: m.screen for m in MODES_SHOWN}
    BINDINGS: ClassVar[list[BindingType]] = [
        *(Binding(m.binding, f"mode('{m.key}')", m.title) for m in MODES_SHOWN),
        Binding("f1", "help", "Help"),
        Binding("question_mark", "help", "Help", show=False),
        Binding("f9", "toggle_theme", "Light/dark", show=False),
        Binding("f12", "screenshot", "Screenshot", show=False),
        Binding("ctrl+q", "quit", "Quit", priority=True),
        # Priority: focus moves when Tab arrives, before the keys typed after it are handed to
        # a field (a scanner or a fast typist's "4.5mg<Tab>30" must not land "30" in strength).
        Binding("tab", "focus_next", "Next field", show=False, priority=True),
        Binding("shift+tab", "focus_previous", "Previous field", show=False, priority=True),
    ]

    def __init__(self, screen: str = "formulate") -> None:
        """``screen``: the mode shown first (a key of :data:`MODES_SHOWN`, e.g. ``lots``)."""
        super().__init__()
        if screen not in self.MODES:
            raise ValueError(f"no screen {screen!r}: one of {', '.join(self.MODES)}")
        self.first_screen = screen
        self.first_form_built = asyncio.Event()
        """Set once Formulate's first form is built, right after the first paint."""
        self.lots_read_ahead: tuple[list[LotSummary], int] | None = None
        """The Lots table's first page, read after the first paint so F3 shows rows at once."""
        self._held_keys: list[Key] | None = [] if screen == "formulate" else None
        """Keys typed while Formulate's first form is built (a pharmacist who starts typing at
        once): handed on, in order, once its first field has the cursor. None: not holding."""
        self._stylesheet: str | None = STYLESHEET.read_text(encoding="utf-8")
        """compound.tcss, until it is added to the app's stylesheet."""

    def load_stylesheet(self) -> None:
        """Add compound.tcss to the app's stylesheet (once) and restyle what is mounted.

        On Formulate this waits for the first frame (its shell needs none of it) and comes
        before the form is built; any other first screen gets it before it is shown. Each new
        source is parsed once (Textual caches the others), unlike a screen's CSS_PATH, whose
        first showing reparses every source."""
        if self._stylesheet is None:
            return
        css, self._stylesheet = self._stylesheet, None
        self.stylesheet.add_source(css, read_from=(str(STYLESHEET), ""), is_default_css=False)
        self.stylesheet.update(self)
        self.refresh(layout=True)

    def on_mount(self) -> None:
        if self.first_screen != "formulate":
            self.load_stylesheet()
        # Not DEFAULT_MODE: with it, headless runs lost key presses (engineering notes B.2).
        self.switch_mode(self.first_screen)
        self._fit(self.size.width)
        self.call_after_refresh(self._first_painted)

    def _first_painted(self) -> None:
        self.load_stylesheet()
        # Warm up after the first paint and, on Formulate, after its first form is built, so
        # that neither competes with it.
        if not isinstance(self.screen, CalculatorScreen) or self.first_form_built.is_set():
            self._warm_up()

    async def on_event(self, event: Event) -> None:
        if (self._held_keys is not None and isinstance(event, Key) and not event.is_forwarded
                and event.key not in QUIT_KEYS):
            self._held_keys.append(Key(event.key, event.character))
            return
        await super().on_event(event)

    async def on_calculator_screen_ready(self) -> None:
        if not self.first_form_built.is_set():
            self.first_form_built.set()
            # Handed on here, in this handler: a key that arrives meanwhile waits in the app's
            # queue behind them, so the order typed is kept (a Tab moves on to the next field
            # before the keys after it are handed on, as when typed into the form).
            held, self._held_keys = self._held_keys or [], None
            for key in held:
                await super().on_event(key)
            self._warm_up()

    @asynccontextmanager
    async def run_test(self, *, headless: bool = True, size: tuple[int, int] | None = (80, 24),
                       tooltips: bool = False, notifications: bool = False,
                       message_hook: Callable[[Message], None] | None = None,
                       ) -> AsyncGenerator[Pilot[None], None]:
        """Textual's, but the pilot is handed over once the first form is built (just after the
        first paint), where a pharmacist starts typing."""
        async with super().run_test(headless=headless, size=size, tooltips=tooltips,
                                    notifications=notifications,
                                    message_hook=message_hook) as pilot:
            if isinstance(self.screen, CalculatorScreen):
                await asyncio.wait_for(self.first_form_built.wait(), timeout=60)
                await pilot.pause()
            yield pilot

    @work(thread=True, group="warm-up")
    def _warm_up(self) -> None:
        """Import the register (SQLAlchemy, ~0.3 s) while the pharmacist reads the first screen,
        so the first look at Lots or a save does not wait for it; and the other screens, which the
        first paint does without. Then read the Lots table's first page (an existing register,
        read-only), unless Lots is already up."""
        import compound.register.lots  # noqa: F401
        from compound.tui import store

        for module in ("lots", "stability", "titrate", "batch", "labels", "help", "error", "sign"):
            importlib.import_module(f"compound.tui.screens.{module}")
        importlib.import_module("compound.tui.forms.dating")
        if self.first_screen != "lots":
            from compound.tui.screens.lots import FIRST_PAGE

            page = store.existing_lot_page(FIRST_PAGE)
            self.call_from_thread(setattr, self, "lots_read_ahead", page)
        # Everything imported so far lives as long as the app: out of the collector's sight, a
        # full collection walks only what the session made (80-100 ms -> a few ms, and one
        # keystroke in about twenty used to pay for it). Let go when the app ends (on_unmount).
        if self.is_running:
            gc.freeze()

    def on_unmount(self) -> None:
        gc.unfreeze()  # a process that goes on after the app (tests, the Python API) collects as usual

    def on_lot_saved(self, event: LotSaved) -> None:
        self.lots_read_ahead = None  # it lacks the new lot: Lots reads for itself

    def on_resize(self, event: Resize) -> None:
        self._fit(event.size.width)

    def _fit(self, width: int) -> None:
        """Below :data:`NARROW` columns the forms narrow, so the results keep whole finding codes."""
        self.set_class(width < NARROW, "-narrow")

    async def action_mode(self, key: str) -> None:
        self.load_stylesheet()
        await self.switch_mode(key)

    def action_help(self) -> None:
        self.load_stylesheet()
        from compound.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        """Save an SVG of the screen in :func:`screenshot_dir` (created if missing)."""
        folder = Path(path) if path else screenshot_dir()
        name = filename or f"compound-{self.current_mode}-{dt.datetime.now():%Y%m%d-%H%M%S}.svg"
        self._write_screenshot(folder / name, self.export_screenshot())

    @work(thread=True, group="screenshot")
    def _write_screenshot(self, target: Path, svg: str) -> None:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(svg, encoding="utf-8")
        except OSError as exc:
            self.call_from_thread(self.notify, f"Could not save {target}: {exc.strerror or exc}.",
                                  title="Screenshot not saved", severity="error")
            return
        self.call_from_thread(self.notify, f"Saved {target}", title="Screenshot")

    async def show_form(self, key: str) -> None:
        await self.switch_mode("formulate")
        screen = self.screen
        if isinstance(screen, CalculatorScreen):
            await screen.show_form(key)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):
            if command.title != "Screenshot":  # ours says where it saves, and does
                yield command
        yield SystemCommand("Screenshot", f"Save an SVG of this screen in {screenshot_dir()} (F12)",
                            self.action_screenshot)
        for mode in MODES_SHOWN:
            yield SystemCommand(f"{mode.title} ({mode.binding.upper()})", mode.what,
                                partial(self.action_mode, mode.key))
        for spec in forms.FORMS:
            yield SystemCommand(f"Plan {spec.title.lower()}", f"Open the {spec.title.lower()} form",
                                partial(self.show_form, spec.key))
        yield SystemCommand("Light or dark theme (F9)", "Switch between the light and dark theme",
                            self.action_toggle_theme)
        yield SystemCommand("Help", "Keys, fields and how results are shown (F1)", self.action_help)
