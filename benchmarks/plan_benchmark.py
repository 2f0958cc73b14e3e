"""How long does one plan take? (Not a test: it prints figures.)

Run: ``python benchmarks/plan_benchmark.py [--calls 2000] [--repeat 5]``

The TUI plans again on every keystroke (issue 13: one capsule plan ≤ 0.3 ms), so this times
one call of each form's plan function, with the inputs the TUI benchmark types, warmed up
(the catalog loaded and cached, as in a running app). For each: the median of ``--calls``
calls, per run; printed are the median of the ``--repeat`` runs' medians and their range
(the machine may be shared: the range says how much to trust the median).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("COMPOUND_TODAY", "2025-03-10")
os.environ.setdefault("COMPOUND_CATALOG", os.pathsep)  # the shipped catalog only


def cases() -> list[tuple[str, Callable[[], Any]]]:
    from compound.planning.capsules import plan_capsules
    from compound.planning.drops import plan_drops
    from compound.planning.liquid import plan_liquid

    return [
        ("capsules: 4.5 mg × 30 from tablets, weighed (200 mg), fill 100 mg",
         lambda: plan_capsules(strength="4.5mg", count="30", tablet_weight="200mg", fill_weight="100mg")),
        ("capsules: 0.5 mg × 30 from API (triturated)",
         lambda: plan_capsules(strength="0.5mg", count="30", source="api", assay="99.2%")),
        ("capsules: 4.5 mg × 30, whole tablets",
         lambda: plan_capsules(strength="4.5mg", count="30")),
        ("liquid: 1 mg/mL, 100 mL from tablets",
         lambda: plan_liquid("1mg/mL", volume="100mL")),
        ("drops: 0.5 mg/drop, 30 mL",
         lambda: plan_drops(per_drop="0.5mg/drop", volume="30mL")),
    ]


def per_call(function: Callable[[], Any], calls: int) -> float:
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    for name, function in cases():
        function()  # the catalog, loaded once
        runs = [per_call(function, args.calls) for _ in range(args.repeat)]
        print(f"{name}: {statistics.median(runs) * 1e3:.3f} ms per plan "
              f"(medians of {args.calls} calls; {args.repeat} runs {min(runs) * 1e3:.3f}-"
              f"{max(runs) * 1e3:.3f} ms)")


if __name__ == "__main__":
    main()
