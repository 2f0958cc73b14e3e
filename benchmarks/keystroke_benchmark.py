"""A keystroke's recompute and repaint in the capsule form (issue 12). (Not a test: it prints figures.)

Run: ``python benchmarks/keystroke_benchmark.py [--keystrokes 20] [--repeat 3] [--size 100x30]``

Two measurements, each printed for ``--repeat`` runs (a fresh app each), medians and ranges:

1. **The app's own work** (the figure for issue 12's "within one frame"). A key is handed to
   the app as the terminal driver hands it over, and the clock stops when the compositor has
   written the last frame that key caused (``App._display``; headless, the frame is composed
   but not sent, so its encoding into escape sequences, about 1 ms, is added by this
   script). Nothing of the test pilot's idle waits is in it. Three keys, in turn: a character
   typed into "Strength" under a calculated plan (``4.5mg`` → ``4.25mg``: the field is
   revalidated and the results pane cleared), a second one (``4.25mg`` → ``4.5mg``, delete:
   the pane is already clear, as for most keys typed), and Enter (read the fields, plan, fill
   the results pane). For each: wall ms and this process's CPU ms from key to last frame, how
   many times the screen was laid out (``Screen._refresh_layout``: every widget placed again)
   and how many frames were written. The script waits by sleeping, not with the pilot's pause
   (which posts a message to every widget: work that is not the app's), and the fields'
   cursors do not blink.
2. **The pilot's view** (the earlier method, kept for comparison with past figures): what Enter
   runs, called directly, then ``pilot.pause()`` until the screen is refreshed, beside the same
   pause with nothing to refresh (the pilot's own overhead, mostly its wait for the CPU to
   go idle; on a loaded machine this wait dominates).

One frame at 60 Hz is 16.7 ms.

Figures: README.md, Development → Performance (the commit, the machine's load and the
command with each).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

KEYS = {"clear": "a character typed (results cleared)",
        "type": "a character typed (results clear already)", "enter": "Enter"}
VALUES = {"strength": "4.5mg", "count": "30", "tablet_weight": "200mg", "fill_weight": "100mg"}


class Frames:
    """Counts layouts and frames, and times them, by wrapping Textual's two entry points."""

    def __init__(self) -> None:
        from textual.app import App
        from textual.screen import Screen

        self.layouts = 0
        self.frames = 0
        self.last = (0.0, 0.0)  # (wall, CPU) when the last frame was written
        self._patched = [(Screen, "_refresh_layout", Screen._refresh_layout),
                         (App, "_display", App._display)]
        layout, display = Screen._refresh_layout, App._display
        frames = self

        def counted_layout(screen: Any, *args: Any, **kwargs: Any) -> None:
            frames.layouts += 1
            layout(screen, *args, **kwargs)

        def written(app: Any, screen: Any, update: Any) -> None:
            display(app, screen, update)
            if update is not None:
                from textual._compositor import CompositorUpdate

                if isinstance(update, CompositorUpdate):  # what a terminal run also does
                    update.render_segments(app.console)
                frames.frames += 1
                frames.last = (time.perf_counter(), time.process_time())

        Screen._refresh_layout = counted_layout  # type: ignore[method-assign,assignment]
        App._display = written  # type: ignore[method-assign,assignment]

    def restore(self) -> None:
        for owner, name, original in self._patched:
            setattr(owner, name, original)

    async def settled(self, quiet: float = 0.1, first: float = 5.0) -> None:
        """Sleep until a frame has been written (at most ``first`` seconds) and then none for
        ``quiet`` seconds. (Not the pilot's pause: it posts a message to every widget, work
        that would be counted as the app's.) A key whose first frame comes later than
        ``quiet`` (a full garbage collection, ~0.1 s, can fall in it) is timed, not lost."""
        deadline = time.perf_counter() + first
        while not self.frames and time.perf_counter() < deadline:
            await asyncio.sleep(0.01)
        seen = -1
        while seen != self.frames:
            seen = self.frames
            await asyncio.sleep(quiet)

    def reset(self) -> None:
        self.layouts = self.frames = 0
        self.last = (0.0, 0.0)


async def own_work(n: int, size: tuple[int, int]) -> dict[str, list[float]]:
    """Key → last frame written: a character that clears the results, one more, Enter."""
    from textual import events
    from textual.widgets import Input

    from compound.tui.app import CompoundApp

    app = CompoundApp()
    out: dict[str, list[float]] = {f"{key}_{what}": [] for key in KEYS
                                   for what in ("wall", "cpu", "layouts", "frames")}
    frames = Frames()
    try:
        async with app.run_test(size=size) as pilot:
            await app.workers.wait_for_complete()  # the start-up warm-up thread
            screen = app.screen
            for name, value in VALUES.items():
                screen.query_one(f"#capsules-{name}").value = value  # type: ignore[attr-defined]
            for field in screen.query(Input):
                field.cursor_blink = False  # its frames are not the keystroke's
            strength: Any = screen.query_one("#capsules-strength")
            strength.focus()
            await pilot.pause()
            await pilot.press("enter")
            await pilot.pause()
            for k in range(3 * n):
                what = list(KEYS)[k % 3]
                strength.cursor_position = 2  # 4.5mg -> 4.25mg -> 4.5mg
                key = {"clear": events.Key("2", "2"), "type": events.Key("delete", None),
                       "enter": events.Key("enter", "\r")}[what]
                await pilot.pause()
                frames.reset()
                key.set_sender(app)
                start = (time.perf_counter(), time.process_time())
                app._driver.send_message(key)  # type: ignore[union-attr]
                await frames.settled()
                if frames.frames == 0:
                    raise RuntimeError(f"no frame after {key.key!r}")
                out[f"{what}_wall"].append(frames.last[0] - start[0])
                out[f"{what}_cpu"].append(frames.last[1] - start[1])
                out[f"{what}_layouts"].append(frames.layouts)
                out[f"{what}_frames"].append(frames.frames)
            assert strength.value in ("4.5mg", "4.25mg")
            assert app.screen.query_one("#capsules-results").plan is not None  # type: ignore[attr-defined]
    finally:
        frames.restore()
    return out


async def pilot_view(n: int, size: tuple[int, int]) -> dict[str, list[float]]:
    """The earlier method: Enter's handler called directly, then the pilot's pauses."""
    from compound.tui.app import CompoundApp
    from compound.tui.messages import CalculationRequested

    app = CompoundApp()
    out: dict[str, list[float]] = {k: [] for k in ("compute", "refresh", "idle")}
    async with app.run_test(size=size) as pilot:
        await app.workers.wait_for_complete()
        screen = app.screen
        for name, value in VALUES.items():
            screen.query_one(f"#capsules-{name}").value = value  # type: ignore[attr-defined]
        await pilot.pause()
        form: Any = screen.query_one("#capsules-form")
        strength: Any = screen.query_one("#capsules-strength")
        for k in range(n):
            strength.value = ("3mg", "4.5mg")[k % 2]
            await pilot.pause()  # the pane cleared for the changed input
            marks = [time.perf_counter()]
            screen.on_calculation_requested(  # type: ignore[attr-defined]
                CalculationRequested("capsules", form.values()))
            marks.append(time.perf_counter())
            await pilot.pause()
            marks.append(time.perf_counter())
            await pilot.pause()
            marks.append(time.perf_counter())
            for j, name in enumerate(("compute", "refresh", "idle")):
                out[name].append(marks[j + 1] - marks[j])
    return out


def _ms(values: list[float]) -> str:
    return (f"{statistics.median(values) * 1000:.1f} ms "
            f"({min(values) * 1000:.1f}-{max(values) * 1000:.1f})")


def _count(values: list[float]) -> str:
    low, high = int(min(values)), int(max(values))
    return str(low) if low == high else f"{statistics.median(values):g} ({low}-{high})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keystrokes", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--size", default="100x30", help="terminal columns x rows")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    print(f"load average {os.getloadavg()[0]:.1f}, {args.size}, {args.keystrokes} of each key per run")
    with tempfile.TemporaryDirectory() as folder:
        os.environ["COMPOUND_DB"] = str(Path(folder) / "empty.sqlite3")
        for run in range(1, args.repeat + 1):
            t = asyncio.run(own_work(args.keystrokes, (width, height)))
            for what, name in KEYS.items():
                print(f"run {run}: {name}: key → last frame {_ms(t[f'{what}_wall'])} wall, "
                      f"{_ms(t[f'{what}_cpu'])} CPU; layouts {_count(t[f'{what}_layouts'])}, "
                      f"frames {_count(t[f'{what}_frames'])}")
        for run in range(1, args.repeat + 1):
            p = asyncio.run(pilot_view(args.keystrokes, (width, height)))
            print(f"run {run} (pilot's view): recompute {_ms(p['compute'])}, until repainted "
                  f"{_ms(p['refresh'])}, pilot idle {_ms(p['idle'])}")


if __name__ == "__main__":
    main()
