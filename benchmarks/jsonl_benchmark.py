"""How fast is ``compound batch --jsonl`` on a million capsule rows? (Not a test: it prints a table.)

Run: ``python benchmarks/jsonl_benchmark.py [--rows 1000000] [--scenario typical|diverse|both]``

The input files are :func:`batch_benchmark.make_csv`'s (``typical``: about 300 distinct
prescriptions; ``diverse``: about 11,500). Measured, in this process, best of ``--repeat``:

1. ``run_batch(path, out)``: the worksheet path (worksheet.csv, errors.csv, summary.json);
2. ``run_batch(path, None, jsonl=/dev/null)``, /dev/null opened as bytes: what
   ``compound batch FILE --jsonl > /dev/null`` does (the CLI writes to stdout's byte stream);
3. the same through a text stream (Python decodes the lines and encodes them again);
4. assembling the JSON lines alone (:meth:`Spread.json_bytes` over every row, the plans made
   once, one thread), and the same blocks written to /dev/null.

Target from issue 4: --jsonl within about 2 × the worksheet path. Timings from a noisy machine:
read the ratios. Measured on a 2-core box (2026-11-21, best of 3): typical, worksheet 0.84 s,
--jsonl 1.46 s (1.7 ×; 12.2 s before the Arrow assembly), through a text stream 6.0 s; diverse,
1.88 s, 3.03 s (1.6 ×; 13.6 s before), 7.9 s.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("COMPOUND_TODAY", "2025-03-10")
os.environ.setdefault("COMPOUND_CATALOG", os.pathsep)  # the shipped catalog only

sys.path.insert(0, str(Path(__file__).resolve().parent))
from batch_benchmark import best, make_csv


def measure(rows: int, scenario: str, repeat: int, workdir: Path) -> list[tuple[str, float, str]]:
    from compound.batch.read import read_prescriptions
    from compound.batch.run import GROUP_ROWS, LINE_ROWS, Options, run_batch
    from compound.batch.spread import Rows, plan_groups
    from compound.batch.summary import Summary

    path = workdir / f"{scenario}.csv"
    make_csv(path, rows, scenario)
    sheet = best(repeat, lambda: run_batch(path, workdir / f"out-{scenario}",
                                           options=Options(overwrite=True)))

    def jsonl_run(mode: str) -> None:
        with open(os.devnull, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as sink:
            run_batch(path, None, jsonl=sink)

    jsonl = best(repeat, lambda: jsonl_run("wb"))
    text = best(repeat, lambda: jsonl_run("w"))

    table = read_prescriptions(path)
    frame = Rows(table=table.table)
    groups = frame.groups({})
    spread = plan_groups(frame, groups, {}, block_rows=GROUP_ROWS, summary=Summary(), jsonl=True)
    spread.prepare(worksheet=False, errors=False, jsonl=True)
    size = 0

    def assemble() -> None:
        nonlocal size
        size = sum(len(spread.json_bytes(s, min(s + LINE_ROWS, frame.n)))
                   for s in range(0, frame.n, LINE_ROWS))

    def assemble_write() -> None:
        with open(os.devnull, "wb") as sink:
            for s in range(0, frame.n, LINE_ROWS):
                sink.write(spread.json_bytes(s, min(s + LINE_ROWS, frame.n)))

    blocks = best(repeat, assemble)
    written = best(repeat, assemble_write)
    return [
        ("run_batch, worksheet.csv + errors.csv + summary.json", sheet, "1"),
        ("run_batch --jsonl to /dev/null (bytes, as the CLI)", jsonl, f"{jsonl / sheet:.2f}× worksheet"),
        ("run_batch --jsonl to /dev/null through a text stream", text, f"{text / sheet:.2f}× worksheet"),
        ("  JSON lines assembled alone (json_bytes, one thread)", blocks, ""),
        ("  the same, written to /dev/null", written, ""),
        ("distinct prescriptions", float(len(groups)), ""),
        ("JSON lines (MB)", size / 1e6, ""),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--scenario", choices=("typical", "diverse", "both"), default="both")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    scenarios = ("typical", "diverse") if args.scenario == "both" else (args.scenario,)
    with tempfile.TemporaryDirectory() as tmp:
        for scenario in scenarios:
            results = measure(args.rows, scenario, args.repeat, Path(tmp))
            print(f"\n{args.rows:,} capsule rows, scenario {scenario!r}")
            print(f"{'measure':<58} {'value':>9}  ratio")
            for name, value, ratio in results:
                print(f"{name:<58} {value:>9.3f}  {ratio}")


if __name__ == "__main__":
    main()
