"""How long does each ``compound`` command take to start? (Not a test: it prints a table.)

Run: ``python benchmarks/startup_benchmark.py [--runs 15]``

Every figure is a whole process (``python -m``-free: the same interpreter running
``compound.cli.main`` as the console script does), started ``--runs`` times with the
commands interleaved so a busy machine slows them alike; the table gives the median and
the range of wall time, and the median CPU time (user + system, steadier than wall time on
a shared machine). Beside each command is the floor it is measured against:

* ``plan … --json``: ``import pint`` plus the pharmacy's unit registry loaded from pint's
  cache (issue 12: within 1.2× of it);
* register reads (``lots list``, ``lots show``, ``audit verify`` on a register of a few
  lots): ``import sqlalchemy, sqlite3`` (issue 13: ≤ 0.25 s, neither pint nor numpy). On
  SQLite they no longer import SQLAlchemy (``compound.register.lite``), so they now run well
  under that floor: Dec 7 2026, ``--runs 5`` at load 4.0–4.5, compiled, median (range):
  lots list 0.158 s (0.146–0.188), lots show 0.156 s (0.147–0.178), audit verify 0.175 s
  (0.156–0.210), ~0.10 s CPU each; the commit before, in the same minutes: 0.44–0.55 s wall,
  0.32–0.36 s CPU. The floor stays as the cost of the SQLAlchemy path (writes, PostgreSQL);
* ``compound batch`` on a 2-row file: ``import pint, pyarrow.csv, pyarrow.compute`` (issue 13:
  ≤ 0.35 s, no pandas).

Start-up depends on whether compound's own modules are compiled. With
``PYTHONDONTWRITEBYTECODE=1`` (set in some environments) an editable install never writes
its bytecode, so every start compiles compound's modules again; a wheel (pip compiles at
install) or a checkout after ``python -m compileall src`` reads them. Both are measured, from
two fresh copies of this checkout's ``src/compound`` and ``data/`` put first on the path,
whatever ``__pycache__`` the checkout holds: "compiled" (bytecode written once beforehand)
and "source" (none, never written). Third-party packages are as installed (compiled).

Figures: README.md, Development → Performance (the commit, the machine's load and the
command with each).
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

os.environ.setdefault("COMPOUND_CATALOG", os.pathsep)  # the shipped catalog only

PLAN = ["plan", "capsules", "--strength", "4.5mg", "--count", "30", "--tablet-weight", "200mg",
        "--json"]
TWO_ROWS = ("form,strength,count,overage,source,tablet_weight\n"
            "capsules,4.5mg,30,1,tablet,200mg\ncapsules,3mg,60,5%,api,\n")


def compound(*args: str) -> list[str]:
    code = "import sys\nfrom compound.cli import main\nsys.exit(main())"
    return [sys.executable, "-c", code, *args]


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def make_register(path: Path) -> str:
    """A register with two ingredient lots and three compounded lots, one released."""
    import datetime as dt

    from compound.register import Register

    today = dt.date.today()  # register writes are dated by the real clock
    with Register.open(path) as register:
        for item, number in (("naltrexone-hcl-50mg-tablet", "NTX2403"), ("avicel", "MCC-7781")):
            register.receive_ingredient(item=item, lot_number=number,
                                        expiry=(today + dt.timedelta(days=700)).isoformat(),
                                        received_by="AB",
                                        tablet_weight="200mg" if number == "NTX2403" else None)
        lots = [register.record_lot(
            kind="capsules", description="Naltrexone HCl 4.5 mg capsules", quantity=30,
            quantity_unit="capsules", plan={"kind": "capsules", "status": "ok"},
            compounded=today, beyond_use_date=today + dt.timedelta(days=180),
            bud_limit="rule: nonaqueous-solid (180 days)", bud_source="USP <795> (2023) Table 4",
            stability_window_days=360, storage="room", compounded_by="AB", checked_by="CD",
            components=[("NTX2403", 3, "tablets"), ("MCC-7781", 2.1, "g")]) for _ in range(3)]
        register.release(lots[0], "CD")
    return lots[0]


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one whole process."""
    start = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited with {child.returncode}")
    return wall, usage.ru_utime + usage.ru_stime


def copy_of_compound(root: Path, compiled: bool) -> Path:
    """A copy of this checkout's src/compound and data/ (as a checkout lays them out) under root."""
    repo = Path(__file__).resolve().parents[1]
    shutil.copytree(repo / "src" / "compound", root / "src" / "compound",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(repo / "data", root / "data")
    if compiled:
        compileall.compile_dir(root / "src", quiet=1)
    return root / "src"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}  # nothing is compiled while measuring
    units_file = str(resources.files("compound.core") / "pharmacy_units.txt")
    modes = ("compiled", "source")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        db = str(work / "register.sqlite3")
        lot = make_register(Path(db))
        (work / "two.csv").write_text(TWO_ROWS, encoding="utf-8")
        envs = {None: env}
        for mode in modes:
            src = copy_of_compound(work / mode, compiled=mode == "compiled")
            envs[mode] = {**env, "PYTHONPATH": os.pathsep.join([str(src), env.get("PYTHONPATH", "")])}
        floors = [
            ("bare python", python("pass")),
            ("floor: import pint + cached registry",
             python(f"import pint; pint.UnitRegistry(filename={units_file!r}, cache_folder=':auto:')")),
            ("floor: import sqlalchemy, sqlite3", python("import sqlalchemy, sqlite3")),
            ("floor: import pint, pyarrow.csv, .compute",
             python("import pint, pyarrow.csv, pyarrow.compute")),
        ]
        commands = [
            ("compound --help", compound("--help"), None),
            ("compound plan capsules … --json", compound(*PLAN), "floor: import pint + cached registry"),
            ("compound lots list", compound("lots", "list", "--db", db),
             "floor: import sqlalchemy, sqlite3"),
            ("compound lots show LOT", compound("lots", "show", lot, "--db", db),
             "floor: import sqlalchemy, sqlite3"),
            ("compound audit verify", compound("audit", "verify", "--db", db),
             "floor: import sqlalchemy, sqlite3"),
            ("compound batch (2 rows)",
             compound("batch", str(work / "two.csv"), "-o", str(work / "out"), "--overwrite"),
             "floor: import pint, pyarrow.csv, .compute"),
        ]
        rows = [(name, cmd, None, None) for name, cmd in floors]
        rows += [(name, cmd, floor, mode) for mode in modes for name, cmd, floor in commands]
        where = {mode: subprocess.run([sys.executable, "-c", "import compound; print(compound.__file__)"],
                                      env=envs[mode], capture_output=True, text=True, check=True
                                      ).stdout.strip() for mode in modes}
        for mode in modes:
            if not where[mode].startswith(str(work / mode)):
                raise SystemExit(f"the {mode} copy is not the compound imported: {where[mode]}")
        for _, cmd, _, mode in rows:  # warm the file cache and pint's registry cache
            timed(cmd, envs[mode])
        times: dict[tuple[str, str | None], list[float]] = {(n, m): [] for n, _, _, m in rows}
        cpu: dict[tuple[str, str | None], list[float]] = {(n, m): [] for n, _, _, m in rows}
        for _ in range(args.runs):
            for name, cmd, _, mode in rows:
                wall, used = timed(cmd, envs[mode])
                times[name, mode].append(wall)
                cpu[name, mode].append(used)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; compound copied from "
          f"{Path(__file__).resolve().parents[1]}, compiled and as source; {args.runs} runs each, "
          f"interleaved; load average {os.getloadavg()[0]:.1f} at the end")
    print(f"{'what':<44} {'wall median':>11} {'range':>15} {'vs floor':>9} {'CPU median':>11} "
          f"{'vs floor':>9}")
    medians = {key: statistics.median(t) for key, t in times.items()}
    cpu_medians = {key: statistics.median(t) for key, t in cpu.items()}
    for name, _, floor, mode in rows:
        t = times[name, mode]
        ratio = f"{medians[name, mode] / medians[floor, None]:.2f}×" if floor else ""
        cpu_ratio = f"{cpu_medians[name, mode] / cpu_medians[floor, None]:.2f}×" if floor else ""
        label = f"{name} ({mode})" if mode else name
        print(f"{label:<44} {medians[name, mode]:>10.3f}s {min(t):>6.3f}–{max(t):.3f}s {ratio:>9} "
              f"{cpu_medians[name, mode]:>10.3f}s {cpu_ratio:>9}")


if __name__ == "__main__":
    main()
