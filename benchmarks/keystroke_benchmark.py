"""A keystroke's recompute and repaint in the capsule form (issue 12). (Not a test: it prints figures.)

Run: ``python benchmarks/keystroke_benchmark.py [--keystrokes 20] [--repeat 3]``

As ``tui_benchmark.py``'s keystroke line: what Enter runs in the capsule form (read the
fields, plan, fill the results pane), then the wait until the screen is refreshed, beside the
same wait with nothing to refresh (the test pilot's own overhead). Here the strength changes
before every Enter (4.5 mg, 3 mg, ...), so each calculation draws new figures into a pane that
the change cleared, as in use. Printed for each of ``--repeat`` runs (a fresh app each): medians
and ranges in wall time, and in this process's CPU time, which on a shared machine says what
the app itself spent. One frame at 60 Hz is 16.7 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path


async def keystrokes(n: int) -> dict[str, list[float]]:
    from compound.tui.app import CompoundApp
    from compound.tui.messages import CalculationRequested

    app = CompoundApp()
    out: dict[str, list[float]] = {k: [] for k in ("compute", "refresh", "idle", "compute_cpu",
                                                   "refresh_cpu", "idle_cpu")}
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        screen = app.screen
        for name, value in {"strength": "4.5mg", "count": "30", "tablet_weight": "200mg",
                            "fill_weight": "100mg"}.items():
            screen.query_one(f"#capsules-{name}").value = value  # type: ignore[attr-defined]
        await pilot.pause()
        form = screen.query_one("#capsules-form")
        strength = screen.query_one("#capsules-strength")
        for k in range(n):
            strength.value = ("3mg", "4.5mg")[k % 2]  # type: ignore[attr-defined]
            await pilot.pause()  # the pane cleared for the changed input
            marks = [(time.perf_counter(), time.process_time())]
            screen.on_calculation_requested(  # type: ignore[attr-defined]
                CalculationRequested("capsules", form.values()))  # type: ignore[attr-defined]
            marks.append((time.perf_counter(), time.process_time()))
            await pilot.pause()
            marks.append((time.perf_counter(), time.process_time()))
            await pilot.pause()
            marks.append((time.perf_counter(), time.process_time()))
            for j, name in enumerate(("compute", "refresh", "idle")):
                out[name].append(marks[j + 1][0] - marks[j][0])
                out[f"{name}_cpu"].append(marks[j + 1][1] - marks[j][1])
    return out


def _ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.1f} ms ({min(values) * 1000:.1f}-{max(values) * 1000:.1f})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keystrokes", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        os.environ["COMPOUND_DB"] = str(Path(folder) / "empty.sqlite3")
        for run in range(1, args.repeat + 1):
            t = asyncio.run(keystrokes(args.keystrokes))
            print(f"run {run}: wall: recompute {_ms(t['compute'])}, until repainted {_ms(t['refresh'])}, "
                  f"pilot idle {_ms(t['idle'])}; CPU: recompute {_ms(t['compute_cpu'])}, until repainted "
                  f"{_ms(t['refresh_cpu'])}, pilot idle {_ms(t['idle_cpu'])}")


if __name__ == "__main__":
    main()
