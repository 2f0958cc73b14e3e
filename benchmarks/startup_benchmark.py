"""How long does each ``compound`` command take to start? (Not a test: it prints a table.)

Run: ``python benchmarks/startup_benchmark.py [--runs 15]``

Every figure is a whole process (``python -m``-free: the same interpreter running
``compound.cli.main`` as the console script does), started ``--runs`` times with the
commands interleaved so a busy machine slows them alike; the table gives the median and
the range, and the median CPU time (user + system, steadier than wall time on a shared
machine). Beside each command is the floor it is measured against:

* ``plan … --json``: ``import pint`` plus the pharmacy's unit registry loaded from pint's
  cache (issue 12: within 1.2× of it);
* register reads (``lots list``, ``lots show``, ``audit verify`` on a register of a few
  lots): ``import sqlalchemy, sqlite3`` (issue 13: ≤ 0.25 s, neither pint nor numpy);
* ``compound batch`` on a 2-row file (issue 13: ≤ 0.35 s, no pandas).

Start-up depends on whether Python may write bytecode: with ``PYTHONDONTWRITEBYTECODE=1``
an editable install recompiles compound's own modules on every start. The header says how
this run was made; pass ``--bytecode`` to run the commands with bytecode writing allowed
(the first, untimed run compiles, as an installed wheel would already be).
"""

from __future__ import annotations

import argparse
import os
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--bytecode", action="store_true",
                        help="let the commands write bytecode (unset PYTHONDONTWRITEBYTECODE)")
    args = parser.parse_args()
    env = dict(os.environ)
    if args.bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    units_file = str(resources.files("compound.core") / "pharmacy_units.txt")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        db = str(work / "register.sqlite3")
        lot = make_register(Path(db))
        (work / "two.csv").write_text(TWO_ROWS, encoding="utf-8")
        rows = [
            ("bare python", python("pass"), None),
            ("compound --help", compound("--help"), None),
            ("floor: import pint + cached registry",
             python(f"import pint; pint.UnitRegistry(filename={units_file!r}, cache_folder=':auto:')"),
             None),
            ("compound plan capsules … --json", compound(*PLAN), "floor: import pint + cached registry"),
            ("floor: import sqlalchemy, sqlite3", python("import sqlalchemy, sqlite3"), None),
            ("compound lots list", compound("lots", "list", "--db", db),
             "floor: import sqlalchemy, sqlite3"),
            ("compound lots show LOT", compound("lots", "show", lot, "--db", db),
             "floor: import sqlalchemy, sqlite3"),
            ("compound audit verify", compound("audit", "verify", "--db", db),
             "floor: import sqlalchemy, sqlite3"),
            ("compound batch (2 rows)",
             compound("batch", str(work / "two.csv"), "-o", str(work / "out"), "--overwrite"),
             None),
        ]
        for _, cmd, _ in rows:  # warm the file cache, pint's registry cache and any bytecode
            timed(cmd, env)
        times: dict[str, list[float]] = {name: [] for name, _, _ in rows}
        cpu: dict[str, list[float]] = {name: [] for name, _, _ in rows}
        for _ in range(args.runs):
            for name, cmd, _ in rows:
                wall, used = timed(cmd, env)
                times[name].append(wall)
                cpu[name].append(used)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, "
          f"PYTHONDONTWRITEBYTECODE={env.get('PYTHONDONTWRITEBYTECODE', '(unset)')}, "
          f"compound from {Path(__import__('compound').__file__).parent}; "
          f"{args.runs} runs each, interleaved; load average {os.getloadavg()[0]:.1f}")
    print(f"{'what':<40} {'wall median':>11} {'range':>15} {'vs floor':>9} {'CPU median':>11} "
          f"{'vs floor':>9}")
    medians = {name: statistics.median(t) for name, t in times.items()}
    cpu_medians = {name: statistics.median(t) for name, t in cpu.items()}
    for name, _, floor in rows:
        t = times[name]
        ratio = f"{medians[name] / medians[floor]:.2f}×" if floor else ""
        cpu_ratio = f"{cpu_medians[name] / cpu_medians[floor]:.2f}×" if floor else ""
        print(f"{name:<40} {medians[name]:>10.3f}s {min(t):>6.3f}–{max(t):.3f}s {ratio:>9} "
              f"{cpu_medians[name]:>10.3f}s {cpu_ratio:>9}")


if __name__ == "__main__":
    main()
