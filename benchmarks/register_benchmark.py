"""How does the lot register behave with years of records? (Not a test: it prints a table.)

Run: ``python benchmarks/register_benchmark.py [--sizes 1000,10000,100000] [--db FILE] [--runs 3]``

Builds a register of compounded capsule lots through the public bulk API
(``Register.record_lots``, 500 lots a transaction, each with a real plan from
``compound.plan_capsules``, drawn in turn from ``--plans`` distinct ones; BUDs spread over
the next 180 days; one lot in 30 released), growing it to each of ``--sizes`` in turn
(``--db FILE`` keeps it for another run), and at each size measures whole ``compound``
processes (median of ``--runs``, with the range, and each process's peak memory, its own
high-water mark from ``wait4``):

* ``compound audit verify`` (issue 13: linear, ≤ 30 s and ≤ 200 MB at 100,000 lots);
* ``compound lots list --json`` (≤ 2 s and ≤ 150 MB at 100,000 lots; on SQLite it reads with
  the standard library, no SQLAlchemy import);
* ``compound lots list --status released`` and ``--expiring 7d`` (filtered in SQL);
* ``compound plan capsules … --save`` into the full register (flat at any size);
* the register file's size per lot (≤ 5 KB).

Register writes are dated by the real clock, so the lots are compounded today.

Figures: README.md, Development → Performance (the commit, the machine's load and the
command with each).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("COMPOUND_CATALOG", os.pathsep)  # the shipped catalog only
os.environ.pop("COMPOUND_TODAY", None)  # writes are dated by the real clock

RELEASED_EVERY = 30
"""One lot in this many is released (a release is its own transaction, so not all)."""


def build(path: Path, lots: int, distinct_plans: int) -> None:
    """Grow the register at ``path`` to ``lots`` compounded lots, their plans drawn in turn from
    ``distinct_plans`` real ones (strengths 0.5 mg, 0.6 mg, …; 30, 60 or 90 capsules)."""
    import compound
    from compound.register import Register

    today = dt.date.today()
    plans = [compound.plan_capsules(f"{0.5 + n // 3 / 10:.1f}mg", 30 * (1 + n % 3), overage="1",
                                    tablet_weight="200mg").to_dict()
             for n in range(distinct_plans)]
    with Register.open(path) as reg:
        have = reg.lot_summaries(limit=0)[1]
        if have == 0:
            for item, number in (("naltrexone-hcl-50mg-tablet", "NTX2403"),
                                 ("avicel", "MCC-7781")):
                reg.receive_ingredient(item=item, lot_number=number,
                                       expiry=(today + dt.timedelta(days=700)).isoformat(),
                                       received_by="AB",
                                       tablet_weight="200mg" if number == "NTX2403" else None)

        def entries():
            for i in range(have, lots):
                yield dict(
                    kind="capsules", description="Naltrexone HCl 4.5 mg capsules", quantity=31,
                    quantity_unit="capsules", plan=plans[i % len(plans)], compounded=today,
                    beyond_use_date=today + dt.timedelta(days=1 + i % 180),
                    bud_limit="rule: nonaqueous-solid (180 days)",
                    bud_source="USP <795> (2023) Table 4", stability_window_days=360,
                    storage="room", compounded_by="AB", checked_by="CD",
                    components=[("NTX2403", 3, "tablets"), ("MCC-7781", 2.1, "g")])

        numbers = reg.record_lots(entries())
        for i, lot in enumerate(numbers, start=have):
            if i % RELEASED_EVERY == 0:
                reg.release(lot, "CD")


def count(path: Path) -> int:
    import sqlite3

    with sqlite3.connect(path) as conn:
        try:
            return int(conn.execute("SELECT count(*) FROM lots").fetchone()[0])
        except sqlite3.OperationalError:  # a new file
            return 0


def run(args: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one ``compound`` process.

    Linux counts the memory of the process that forked a child in the child's peak (until it
    execs), so the register is built in a process of its own and this one stays small.
    """
    code = "import sys\nfrom compound.cli import main\nsys.exit(main())"
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"compound {' '.join(args)} failed")
    return wall, usage.ru_maxrss / 1024


def measure(path: Path, runs: int) -> None:
    lots = count(path)
    db = ["--db", str(path)]
    save = ["plan", "capsules", "--strength", "3mg", "--count", "30",
            "--tablet-weight", "200mg", "--ingredient-lot", "NTX2403", "--ingredient-lot",
            "MCC-7781", "--compounded", dt.date.today().isoformat(), "--save", "--by", "AB",
            "--json", *db]
    rows = [("compound audit verify", ["audit", "verify", *db]),
            ("compound lots list --json", ["lots", "list", "--json", *db]),
            ("compound lots list --status released", ["lots", "list", "--status",
                                                     "released", *db]),
            ("compound lots list --expiring 7d", ["lots", "list", "--expiring", "7d", *db]),
            ("compound plan capsules … --save", save)]
    print(f"\n{lots} lots; python {sys.version.split()[0]}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}; median of {runs} whole processes")
    print(f"{'what':<40} {'median':>8} {'range':>15} {'peak RSS':>9}")
    for name, command in rows:
        measured = [run(command) for _ in range(runs)]
        walls = [w for w, _ in measured]
        print(f"{name:<40} {statistics.median(walls):>7.2f}s "
              f"{min(walls):>6.2f}–{max(walls):.2f}s "
              f"{max(m for _, m in measured):>6.0f} MB", flush=True)
    size = path.stat().st_size + sum(p.stat().st_size for p in path.parent.glob(
        path.name + "-*"))
    print(f"{'register file':<40} {size / 1e6:>6.1f} MB = {size / 1024 / max(lots, 1):.1f} KB "
          "a lot", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000",
                        help="lot counts to grow the register to and measure at, in order")
    parser.add_argument("--db", type=Path, default=None,
                        help="keep the register in this file (reused when it holds lots)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--build-only", type=int, default=None, metavar="LOTS",
                        help="grow --db to LOTS lots and stop (how the measuring process "
                             "builds without growing itself)")
    parser.add_argument("--plans", type=int, default=100,
                        help="distinct plans the lots' plans are drawn from (a pharmacy's "
                             "repeat prescriptions)")
    args = parser.parse_args()
    if args.build_only is not None:
        build(args.db, args.build_only, args.plans)
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "register.sqlite3"
        for size in sizes:
            have = count(path) if path.exists() else 0
            if have < size:
                start = time.perf_counter()
                subprocess.run([sys.executable, __file__, "--build-only", str(size), "--db",
                                str(path), "--plans", str(args.plans)], check=True)
                print(f"\nbuilt {have} → {size} lots in {time.perf_counter() - start:.0f} s "
                      "(Register.record_lots, 500 a transaction)", flush=True)
            measure(path, args.runs)


if __name__ == "__main__":
    main()
