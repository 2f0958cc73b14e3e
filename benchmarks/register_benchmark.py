"""How does the lot register behave with years of records? (Not a test: it prints a table.)

Run: ``python benchmarks/register_benchmark.py [--lots 2000] [--db FILE] [--runs 3]``

Builds a register of ``--lots`` compounded capsule lots through the public API
(``Register.record_lot``, each with a real plan from ``compound.plan_capsules``; a third of
them released), or reuses ``--db FILE`` when it already holds lots, then measures whole
``compound`` processes (median of ``--runs``, with the range, and each process's peak memory,
its own high-water mark from ``wait4``):

* ``compound audit verify`` (issue 13: linear, ≤ 30 s and ≤ 200 MB at 100,000 lots);
* ``compound lots list --json`` (≤ 2 s and ≤ 150 MB at 100,000 lots);
* ``compound lots list --status released``;
* the register file's size per lot (≤ 5 KB);
* ``compound plan capsules … --save`` into the full register (flat at any size).

Register writes are dated by the real clock, so the lots are compounded today.
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


def build(path: Path, lots: int) -> None:
    import compound
    from compound.register import Register

    today = dt.date.today()
    plan = compound.plan_capsules("4.5mg", 30, overage="1", tablet_weight="200mg").to_dict()
    with Register.open(path) as reg:
        for item, number in (("naltrexone-hcl-50mg-tablet", "NTX2403"), ("avicel", "MCC-7781")):
            reg.receive_ingredient(item=item, lot_number=number,
                                   expiry=(today + dt.timedelta(days=700)).isoformat(),
                                   received_by="AB",
                                   tablet_weight="200mg" if number == "NTX2403" else None)
        for i in range(lots):
            lot = reg.record_lot(
                kind="capsules", description="Naltrexone HCl 4.5 mg capsules", quantity=31,
                quantity_unit="capsules", plan=plan, compounded=today,
                beyond_use_date=today + dt.timedelta(days=180),
                bud_limit="rule: nonaqueous-solid (180 days)",
                bud_source="USP <795> (2023) Table 4", stability_window_days=360,
                storage="room", compounded_by="AB", checked_by="CD",
                components=[("NTX2403", 3, "tablets"), ("MCC-7781", 2.1, "g")])
            if i % 3 == 0:
                reg.release(lot, "CD")


def count(path: Path) -> int:
    import sqlite3

    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM lots").fetchone()[0])


def run(args: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one ``compound`` process."""
    code = "import sys\nfrom compound.cli import main\nsys.exit(main())"
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"compound {' '.join(args)} failed")
    return wall, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lots", type=int, default=2000)
    parser.add_argument("--db", type=Path, default=None,
                        help="reuse (or build once) this register file")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "register.sqlite3"
        if not path.exists() or count(path) == 0:
            start = time.perf_counter()
            build(path, args.lots)
            print(f"built {args.lots} lots in {time.perf_counter() - start:.0f} s "
                  "(Register.record_lot, one transaction each)")
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
                ("compound plan capsules … --save", save)]
        print(f"{lots} lots; python {sys.version.split()[0]}, {os.cpu_count()} cores, "
              f"load average {os.getloadavg()[0]:.1f}; median of {args.runs} whole processes")
        print(f"{'what':<40} {'median':>8} {'range':>15} {'peak RSS':>9}")
        for name, command in rows:
            measured = [run(command) for _ in range(args.runs)]
            walls = [w for w, _ in measured]
            print(f"{name:<40} {statistics.median(walls):>7.2f}s "
                  f"{min(walls):>6.2f}–{max(walls):.2f}s "
                  f"{max(m for _, m in measured):>6.0f} MB")
        size = path.stat().st_size + sum(p.stat().st_size for p in path.parent.glob(
            path.name + "-*"))
        print(f"{'register file':<40} {size / 1e6:>6.1f} MB = {size / 1024 / max(lots, 1):.1f} KB "
              "a lot")


if __name__ == "__main__":
    main()
