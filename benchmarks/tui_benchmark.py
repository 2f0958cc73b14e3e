"""How quick is the TUI? (Not a test: it prints figures.)

Run: ``python benchmarks/tui_benchmark.py [--lots 100000] [--db PATH] [--repeat 5]``

Measured (issue 12's targets in brackets):

1. process start → first paint of ``compound``'s app (what ``compound.tui.run`` does: the
   catalog preflight, then the app), against a bare Textual app that imports the same
   libraries and paints an empty screen [≤ 1.1 ×]. The bare app has no stylesheet of its own
   (Textual's default CSS only: ``App.CSS_PATH`` is None, so ``css`` below is None for it);
   compound's stylesheet is compound's own cost and counts against it. (This docstring said
   "with the same stylesheet" until Dec 7 2026; the code never gave the bare app one.)
   "The same libraries" are
   listed from a run of ``compound``'s app: every top-level module outside the standard
   library and compound that is loaded when its first frame is drawn (the planning modules,
   pint and numpy come after it, with the form, so they are not in the list: the bare app
   does not get them either). Each run is a fresh interpreter, headless, that exits when its
   first frame is drawn; the two apps' runs alternate (the machine's load falls on both), and
   the best, the median and the range of ``--repeat`` are printed. Every module comes from
   bytecode, compound's as Textual's (:func:`fresh_env`; until Dec 7 2026 compound's were
   compiled at each start wherever PYTHONDONTWRITEBYTECODE was set), and the app's own
   ``on_mount`` runs once (the script's ``Bench.on_mount`` called it a second time before
   Textual did, and its after-paint stylesheet load ran before the figure was taken).
   compound's catalog check is kept from the untimed run (:mod:`compound.catalog.checked`), as
   after any first start; a fourth run in each round starts with an empty cache, as the first
   start after a catalog file changed. Then, the same way, process start →
   the first form (capsules) built, focused and painted: when a pharmacist can type.
2. a keystroke's recompute + repaint [within one frame, 1/60 s]: what Enter runs in the
   capsule form (read the fields, plan, fill the results pane; the strength alternates
   between 4.25 mg and 4.5 mg, as the same inputs again recompute nothing), then the wait until the
   screen is refreshed, beside the same wait with nothing to refresh (the pilot's overhead);
   medians of 20.
3. Lots with ``--lots`` lots: the app started (headless, first screen up, its warm-up done:
   the Lots table's first page is read ahead then), then from F3 to the Lots table showing
   its first rows [≤ 0.25 s], and to every lot read (sorting and filtering then run in
   memory); wall and CPU seconds (all threads), medians and ranges of ``--repeat`` runs.
4. ``compound --screen lots``: process start → the Lots table's first rows painted, in fresh
   headless interpreters (medians and ranges of ``--repeat``).

Figures: README.md, Development → Performance (the commit, the machine's load and the
command with each).

The big register is a copy: one lot is recorded through the register's API (plan JSON and
all), then its row is inserted ``--lots`` times with new lot numbers and dates, straight into
SQLite (about 80 MB for 100,000 lots at schema v7; reused with ``--db``). It is not a verifiable
register (no audit events for the copies), only a realistic table to read.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import datetime as dt
import importlib.util
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

FIRST_PAINT = """
import sys, time
start = float(sys.argv[1])
{imports}
import inspect
from pathlib import Path
css = App.CSS_PATH and str(Path(inspect.getfile(App)).with_name(str(App.CSS_PATH)))
class Bench(App):
    CSS_PATH = css
    def on_mount(self):  # Textual calls the app's own on_mount after this one: not again here
        if "--form" not in sys.argv:
            self.call_after_refresh(self.painted)
    def on_calculator_screen_ready(self):  # compound's first form is built and focused
        if "--form" in sys.argv:
            self.call_after_refresh(self.painted)
    def painted(self):
        print(time.time() - start, time.process_time())
        if "--modules" in sys.argv:
            print(" ".join(sorted({{m.split(".")[0] for m in sys.modules}})))
        self.exit()
Bench().run(headless=True)
"""
COMPOUND_APP = """from compound.tui import forms
forms.preflight()  # as compound.tui.run does, before the app takes over the terminal
from compound.tui.app import CompoundApp as App
"""


BYTECODE = tempfile.mkdtemp(prefix="tui-benchmark-pycache-")
atexit.register(shutil.rmtree, BYTECODE + "-cache", ignore_errors=True)  # the runs' catalog cache
atexit.register(shutil.rmtree, BYTECODE, ignore_errors=True)


def fresh_env() -> dict[str, str]:
    """The environment of a measured interpreter: every module loaded from bytecode, as in an
    installed compound (pip compiles a wheel's modules, as it did Textual's). With
    PYTHONDONTWRITEBYTECODE (set in some shells and CI) or a checkout's editable install,
    compound's own modules were compiled from source at every start, the bare app's never:
    ~13 ms of CPU that no installed compound pays. The bytecode goes to a temporary folder
    (PYTHONPYCACHEPREFIX), written by an untimed first run of each app (:func:`first_paints`)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    # The untimed run also leaves the catalog's check in a cache of its own
    # (compound.catalog.checked): the runs measured are starts after the first, as most are.
    return {**env, "PYTHONPYCACHEPREFIX": BYTECODE, "COMPOUND_CACHE": BYTECODE + "-cache"}


def run_app(imports: str, *flags: str) -> list[str]:
    """Run one app in a fresh interpreter; its output lines (the seconds first). ``--cold``: with
    an empty cache, as the first start after a catalog file changed (its check read again)."""
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "first_paint.py"
        script.write_text(FIRST_PAINT.format(imports=imports), encoding="utf-8")
        env = fresh_env()
        if "--cold" in flags:
            env["COMPOUND_CACHE"] = str(Path(folder) / "empty-cache")
        out = subprocess.run([sys.executable, str(script), repr(time.time()), *flags],
                             capture_output=True, text=True, check=True, env=env)
    return out.stdout.strip().splitlines()[-2 if "--modules" in flags else -1:]


def third_party_modules() -> list[str]:
    """Top-level modules outside compound (and the standard library) loaded by the time
    compound's app draws its first frame."""
    loaded = run_app(COMPOUND_APP, "--modules")[1].split()
    stdlib = set(sys.stdlib_module_names)
    return [m for m in loaded if m not in stdlib and not m.startswith("_")
            and m not in ("compound", "textual") and importlib.util.find_spec(m) is not None]


def first_paints(bare: str, repeat: int) -> list[tuple[list[float], list[float]]]:
    """Seconds from process start, wall clock and the process's CPU time: the bare app's first
    paint, compound's first paint, compound's first form painted, and compound's first paint
    when its catalog check is not kept (``--cold``); the runs alternate so that load falls on
    each alike (the CPU time is the figure the load disturbs least)."""
    times: list[tuple[list[float], list[float]]] = [([], []) for _ in range(4)]
    run_app(bare)  # untimed: they write the bytecode (:func:`fresh_env`)
    run_app(COMPOUND_APP, "--form")
    for _ in range(repeat):
        for n, (imports, flags) in enumerate([(bare, ()), (COMPOUND_APP, ()),
                                              (COMPOUND_APP, ("--form",)),
                                              (COMPOUND_APP, ("--cold",))]):
            wall, cpu = run_app(imports, *flags)[0].split()
            times[n][0].append(float(wall))
            times[n][1].append(float(cpu))
    return times


def figure(times: list[float]) -> str:
    """Best, median and range in ms."""
    return (f"{min(times) * 1000:.0f} ms (median {statistics.median(times) * 1000:.0f}, range "
            f"{min(times) * 1000:.0f}–{max(times) * 1000:.0f})")


def ratios(ours: list[float], bare: list[float]) -> str:
    return (f"{min(ours) / min(bare):.2f} × best to best, "
            f"{statistics.median(ours) / statistics.median(bare):.2f} × median to median")


async def keystroke() -> tuple[float, float, float]:
    """Medians of 20 [s]: the recompute (what Enter runs: read the fields, plan, fill the results),
    the pause until the screen is refreshed after it, and the same pause with nothing to do
    (the test pilot's own overhead)."""
    from compound.tui.app import CompoundApp
    from compound.tui.messages import CalculationRequested

    app = CompoundApp()
    compute, refresh, idle = [], [], []
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        screen = app.screen
        for name, value in {"strength": "4.5mg", "count": "30", "tablet_weight": "200mg",
                            "fill_weight": "100mg"}.items():
            screen.query_one(f"#capsules-{name}").value = value  # type: ignore[attr-defined]
        await pilot.pause()
        form = screen.query_one("#capsules-form")
        strength: Any = screen.query_one("#capsules-strength")
        for k in range(20):
            # A new strength each time: Enter on the inputs already on screen recomputes nothing.
            strength.value = ("4.25mg", "4.5mg")[k % 2]
            await pilot.pause()
            start = time.perf_counter()
            screen.on_calculation_requested(  # type: ignore[attr-defined]
                CalculationRequested("capsules", form.values()))  # type: ignore[attr-defined]
            computed = time.perf_counter()
            await pilot.pause()
            refreshed = time.perf_counter()
            await pilot.pause()
            compute.append(computed - start)
            refresh.append(refreshed - computed)
            idle.append(time.perf_counter() - refreshed)
    return statistics.median(compute), statistics.median(refresh), statistics.median(idle)


def big_register(path: Path, lots: int) -> None:
    from compound.planning.capsules import plan_capsules
    from compound.planning.dating import date_plan
    from compound.register import Register
    from compound.register.from_plan import record_plan

    with Register.open(path) as register:
        register.receive_ingredient(item="naltrexone-hcl-50mg-tablet", lot_number="NTX1",
                                    expiry="2030-05", received_by="AB", tablet_weight="200mg")
        tablets = register.get_ingredient("NTX1")
        plan = plan_capsules(strength="4.5mg", count=30, tablet_weight="200mg")
        bud = date_plan(plan, dt.date.today().isoformat(),
                        component_expiries=[("tablets", tablets.expiry)])
        record_plan(register, plan, bud, compounded_by="AB", checked_by=None,
                    ingredient_lots=[tablets])
    con = sqlite3.connect(path)
    columns = [r[1] for r in con.execute("pragma table_info(lots)") if r[1] != "id"]
    row = dict(zip(columns, con.execute(f"select {','.join(columns)} from lots").fetchone(),
                   strict=True))
    today = dt.date.today()
    rows = []
    for i in range(lots):
        made = today - dt.timedelta(days=i % 340)
        window = 360 if i % 3 == 0 else 180
        rows.append(tuple({**row, "lot_number": f"BENCH-{i:06d}", "compounded": made.isoformat(),
                           "beyond_use_date": (made + dt.timedelta(days=window - 1)).isoformat(),
                           "stability_window_days": window,
                           "status": ("quarantine", "released", "dispensed")[i % 3]}[c]
                          for c in columns))
    con.executemany(f"insert into lots ({','.join(columns)}) values ({','.join('?' * len(columns))})",
                    rows)
    con.commit()
    con.close()


async def lots_shown(db: Path) -> tuple[float, float, float, float, float, int]:
    """Seconds to start the app, then from F3 to the first rows painted and to every lot read,
    and the process's CPU seconds for the latter (all threads: less sensitive to a busy machine)."""
    os.environ["COMPOUND_DB"] = str(db)
    from compound.tui.app import CompoundApp
    from compound.tui.screens.lots import LotsScreen

    marks: dict[str, float] = {}
    loaded = LotsScreen._loaded

    def timed(screen: LotsScreen, rows, total, complete, then=None) -> None:  # type: ignore[no-untyped-def]
        loaded(screen, rows, total, complete, then)
        if rows and "shown" not in marks:
            marks["shown"] = 1
            screen.call_after_refresh(lambda: marks.update(painted=time.perf_counter(),
                                                           painted_cpu=time.process_time()))
        if complete:
            marks["complete"] = time.perf_counter()
            marks["cpu"] = time.process_time()
            marks["total"] = total

    LotsScreen._loaded = timed  # type: ignore[method-assign]
    start = time.perf_counter()
    app = CompoundApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()  # the warm-up: the Lots page is read ahead
        started = time.perf_counter() - start
        pressed, cpu = time.perf_counter(), time.process_time()
        await pilot.press("f3")
        while "complete" not in marks:  # the full read starts after the first rows are painted
            await pilot.pause()
            await app.workers.wait_for_complete()
        await pilot.pause()
    LotsScreen._loaded = loaded  # type: ignore[method-assign]
    return (started, marks["painted"] - pressed, marks["painted_cpu"] - cpu,
            marks["complete"] - pressed, marks["cpu"] - cpu, int(marks["total"]))


LOTS_FIRST = """
import sys, time
start = float(sys.argv[1])
from compound.tui import forms
forms.preflight()  # as compound.tui.run does
from compound.tui.app import CompoundApp
from compound.tui.screens.lots import LotsScreen
loaded = LotsScreen._loaded
def timed(screen, rows, total, complete, then=None):
    loaded(screen, rows, total, complete, then)
    if rows:
        screen.call_after_refresh(shown, screen)
def shown(screen):
    if not getattr(shown, "done", False):
        shown.done = True
        print(time.time() - start, flush=True)
        screen.app.exit()
LotsScreen._loaded = timed
CompoundApp(screen="lots").run(headless=True)
"""


def lots_first(db: Path, repeat: int) -> list[float]:
    """Process start → the first rows of ``compound --screen lots`` painted, in fresh interpreters."""
    times = []
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "lots_first.py"
        script.write_text(LOTS_FIRST, encoding="utf-8")
        for n in range(repeat + 1):  # the first, untimed, writes the bytecode (:func:`fresh_env`)
            out = subprocess.run([sys.executable, str(script), repr(time.time())],
                                 capture_output=True, text=True, check=True,
                                 env={**fresh_env(), "COMPOUND_DB": str(db)})
            if n:
                times.append(float(out.stdout.strip().splitlines()[-1]))
    return times


def spread(values: list[float], scale: float = 1.0, digits: int = 2) -> str:
    """Median and range, as the README quotes them."""
    return (f"{statistics.median(values) * scale:.{digits}f} "
            f"({min(values) * scale:.{digits}f}–{max(values) * scale:.{digits}f})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lots", type=int, default=100_000)
    parser.add_argument("--db", type=Path, default=None, help="reuse (or make) this register")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    os.environ.pop("COMPOUND_TODAY", None)

    modules = third_party_modules()
    bare, ours, form, cold = first_paints("from textual.app import App\n" + "".join(
        f"import {m}\n" for m in modules), args.repeat)
    print(f"first paint (best of {args.repeat}, load average {os.getloadavg()[0]:.1f}): "
          f"compound {figure(ours[0])}, bare Textual app importing {', '.join(modules)}: "
          f"{figure(bare[0])} ({ratios(ours[0], bare[0])}; target ≤ 1.1 ×); "
          f"CPU time {figure(ours[1])} against {figure(bare[1])} "
          f"({ratios(ours[1], bare[1])}); compound's first form painted and focused: "
          f"{figure(form[0])} (CPU {figure(form[1])}); the first start after a catalog file "
          f"changed (the check read again): CPU {figure(cold[1])} ({ratios(cold[1], bare[1])})")

    with tempfile.TemporaryDirectory() as folder:
        os.environ["COMPOUND_DB"] = str(Path(folder) / "empty.sqlite3")
        compute, refresh, idle = asyncio.run(keystroke())
        print(f"keystroke (Enter): recompute {compute * 1000:.1f} ms, then until repainted "
              f"{refresh * 1000:.1f} ms, of which the pilot's own idle pause is {idle * 1000:.1f} ms "
              f"(medians; one frame at 60 Hz: 16.7 ms)")
        db = args.db or Path(folder) / "big.sqlite3"
        if not db.exists():
            made = time.perf_counter()
            big_register(db, args.lots)
            print(f"(made a register of {args.lots:,} lots in {time.perf_counter() - made:.0f} s)")
        runs = [asyncio.run(lots_shown(db)) for _ in range(args.repeat)]
        total = runs[0][5]
        print(f"Lots with {total:,} lots, medians (ranges) of {args.repeat}: the app up (headless) "
              f"in {spread([r[0] for r in runs])} s; after F3 the first rows are painted in "
              f"{spread([r[1] for r in runs], digits=3)} s, {spread([r[2] for r in runs], digits=3)} s "
              f"of CPU (target ≤ 0.25 s), every lot read (sort/filter ready) in "
              f"{spread([r[3] for r in runs])} s, {spread([r[4] for r in runs])} s of CPU")
        direct = lots_first(db, args.repeat)
        print(f"compound --screen lots: process start → first rows painted in {spread(direct)} s "
              f"(headless)")


if __name__ == "__main__":
    main()
