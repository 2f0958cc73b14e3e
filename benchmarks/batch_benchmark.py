"""How fast is ``compound batch`` on a million capsule prescriptions? (Not a test: it prints a table.)

Run: ``python benchmarks/batch_benchmark.py [--rows 1000000] [--scenario typical|diverse|both]``

Scenarios (the time to explain rows grows with the number of *distinct* prescriptions,
not with the number of rows):

* ``typical``: a pharmacy's repeat prescriptions, about 300 distinct combinations;
* ``diverse``: every column varies independently, about 11,500 distinct combinations.

Measured, for each scenario:

1. the floor: pyarrow reading the input CSV (every column as text) and writing it back;
2. ``compound batch`` end to end in one process (read, plan, write worksheet.csv, errors.csv,
   summary.json), and the same as a command in a fresh interpreter (start-up included), whose
   peak memory is its own high-water mark (VmHWM in /proc/self/status);
3. planning alone: grouping the rows by their planning cells, then planning each distinct
   prescription (parse, resolve, the core, findings, BUD, each group's worksheet text), as
   ``compound batch`` does between reading and writing; the core alone
   (:func:`compound.core.capsules.compute_capsules` on 1M-element columns); and a bare numpy
   computation of the same arithmetic on the same columns;
4. for the profile: grouping alone, and writing worksheet.csv's bytes to a new file (the cost of
   the output's size, with nothing computed).

Targets from issue 4: end to end ≤ 2 × the pyarrow floor; planning ≤ 3 × bare numpy; peak
memory < 2 GB. Timings are the best of ``--repeat`` runs; on a noisy machine read the ratios.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("COMPOUND_TODAY", "2025-03-10")
os.environ.setdefault("COMPOUND_CATALOG", os.pathsep)  # the shipped catalog only

COLUMNS = ("form", "strength", "count", "overage", "source", "tablet_weight", "fill_weight",
           "capsule_size", "filler", "rx", "patient")


def make_csv(path: Path, rows: int, scenario: str, seed: int = 0) -> None:
    """Write a capsule prescription file of ``rows`` rows (11 columns, like the issue's example)."""
    rng = np.random.default_rng(seed)

    def pick(values: list[str], n: int = rows) -> np.ndarray:
        return np.array(values, dtype=object)[rng.integers(0, len(values), n)]

    if scenario == "typical":
        # A few hundred prescriptions the pharmacy makes again and again.
        strengths = ["0.5mg", "1mg", "1.5mg", "2mg", "3mg", "4.5mg"]
        templates = []
        for s in strengths:
            for count in ("30", "60", "90"):
                for source, tw in (("tablet", "200mg"), ("tablet", "203.4mg"), ("api", "")):
                    for overage in ("1", "5%"):
                        for fill in ("", "98mg"):
                            templates.append((s, count, overage, source, tw, fill, "3", "mcc"))
        chosen = rng.integers(0, len(templates), rows)
        table = np.array(templates, dtype=object)[chosen]
        cols = dict(zip(COLUMNS[1:9], table.T, strict=True))
    else:
        source = pick(["tablet", "api"])
        cols = {
            "strength": pick(["0.5mg", "1mg", "1.5mg", "2mg", "2.5mg", "3mg", "3.5mg", "4.5mg"]),
            "count": pick(["30", "60", "90", "100"]),
            "overage": pick(["1", "2", "5%", "0"]),
            "source": source,
            "tablet_weight": np.where(source == "tablet", pick(["200mg", "195mg", "210mg", "205.5mg"]), ""),
            "fill_weight": pick(["100mg", "", "150mg"]),
            "capsule_size": pick(["3", "4", "1"]),
            "filler": pick(["mcc", "mcc", "lactose-anhydrous"]),
        }
    data = {"form": np.full(rows, "capsules", dtype=object), **cols,
            "rx": np.char.add("RX", rng.integers(100000, 999999, rows).astype(str)).astype(object),
            "patient": pick(["A. Patient", "B. Patient", "C. Patient", "D. Patient"])}
    write_prescriptions(path, data, COLUMNS)


def write_prescriptions(path: Path, data: dict[str, np.ndarray], columns: tuple[str, ...]) -> None:
    """``data``'s ``columns`` as a CSV of text cells ("" written as an empty cell)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    table = pa.table({c: pa.array(np.where(data[c] == "", None, data[c]).tolist(), type=pa.string())
                      for c in columns})
    pacsv.write_csv(table, path, write_options=pacsv.WriteOptions(quoting_style="needed"))


def best(repeat: int, fn) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def pyarrow_floor(path: Path, out: Path) -> None:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
        column_types=dict.fromkeys(COLUMNS, pa.string())))
    pacsv.write_csv(table, out)


def bare_numpy(strength, count, extra, fraction, tablet, tw, fill, mwq) -> dict[str, np.ndarray]:
    """The capsule arithmetic with nothing else: no units, findings or text (the floor)."""
    needed = count + extra + np.ceil(count * fraction - 1e-9)
    required = strength * needed
    tablets = np.ceil(required / 50.0 - 1e-9)
    powder = np.where(tablet, required / 50.0 * tw, required)
    left = np.where(tablet, tablets * tw - powder, np.nan)
    factor = np.maximum(2.0, np.ceil(mwq / powder - 1e-9))
    trit = powder < mwq
    aliquot = np.where(trit, powder * factor, np.nan)
    blend = fill * needed
    carried = np.where(trit, aliquot - powder, 0.0)
    return {"needed": needed, "required": required, "tablets": tablets, "powder": powder, "left": left,
            "low": fill * 0.9, "high": fill * 1.1, "per_capsule": powder / needed,
            "filler_per_capsule": fill - powder / needed, "filler_total": blend - powder,
            "filler_to_add": blend - powder - carried, "blend": blend,
            "drug": np.where(trit, mwq, np.nan), "diluent": np.where(trit, (factor - 1) * mwq, np.nan),
            "aliquot": aliquot}


def child_run(path: Path, out: Path) -> tuple[float, float, float]:
    """``compound batch`` in a fresh interpreter: (wall seconds, run seconds, peak RSS MB).

    The peak is the child's own VmHWM: ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` would count the
    parent's pages that the child held between fork and exec.
    """
    code = ("import sys, time; t = time.perf_counter()\n"
            "from compound.batch.run import Options, run_batch\n"
            "run_batch(sys.argv[1], sys.argv[2], options=Options(overwrite=True))\n"
            "print(time.perf_counter() - t)\n"
            "print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')))")
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, str(path), str(out)], check=True,
                          capture_output=True, text=True)
    wall = time.perf_counter() - start
    seconds, peak_kb = done.stdout.split()
    return wall, float(seconds), float(peak_kb) / 1024


def measure(rows: int, scenario: str, repeat: int, workdir: Path) -> list[tuple[str, float, str, str]]:
    from compound.batch.plan import forms_present, plan_block
    from compound.batch.read import read_prescriptions
    from compound.batch.run import GROUP_ROWS, Options, run_batch
    from compound.batch.spread import Rows, plan_groups
    from compound.batch.summary import Summary
    from compound.core import capsules as core
    from compound.planning import capsules as planning
    from compound.planning import resolve

    path = workdir / f"{scenario}.csv"
    make_csv(path, rows, scenario)
    out = workdir / f"out-{scenario}"
    floor = best(repeat, lambda: pyarrow_floor(path, workdir / "floor.csv"))
    run = best(repeat, lambda: run_batch(path, out, options=Options(overwrite=True)))
    wall, child, peak_mb = child_run(path, workdir / f"child-{scenario}")

    table = read_prescriptions(path)
    rows = Rows(table=table.table)

    def plan_all() -> None:
        groups = rows.groups({})
        plan_groups(rows, groups, {}, block_rows=GROUP_ROWS, summary=Summary())

    plan = best(repeat, plan_all)
    group_time = best(repeat, lambda: rows.groups({}))
    distinct = len(rows.groups({}))
    sheet = out / "worksheet.csv"
    data = sheet.read_bytes()

    def write_bytes() -> None:
        target = workdir / "bytes.csv"
        target.unlink(missing_ok=True)
        target.write_bytes(data)

    write_time = best(repeat, write_bytes)
    forms = forms_present(table.frame["form"])

    # The same columns, parsed, for the core and for bare numpy.
    planned = plan_block(table.frame.reset_index(drop=True), forms=forms)
    c = planned.computed
    n = len(planned)
    strength = np.asarray(c["strength_hcl_mg"], dtype=np.float64)
    count = np.asarray(c["capsules_needed"], dtype=np.float64)  # overage folded in below
    tablet = np.asarray(c["route"].codes == 0)
    tw = np.where(tablet, np.asarray(c["tablet_powder_mg"]) / (strength * count / 50.0), np.nan)
    fill = np.asarray(c["fill_weight_mg"], dtype=np.float64)
    mwq = np.full(n, resolve.balance().mwq_mg)
    inputs = core.CapsuleInputs(strength_mg=strength, count=count, fill_weight_mg=fill, mwq_mg=mwq,
                                rules=planning.capsule_rules(), source_is_tablet=tablet,
                                tablet_strength_mg=np.where(tablet, 50.0, np.nan), tablet_weight_mg=tw)
    core_time = best(repeat, lambda: core.compute_capsules(inputs))
    zeros = np.zeros(n)
    numpy_time = best(repeat, lambda: bare_numpy(strength, count, zeros, zeros, tablet, tw, fill, mwq))

    return [
        ("pyarrow: read + write the input CSV (floor)", floor, "1", ""),
        ("compound batch, in process (read, plan, write)", run, f"{run / floor:.1f}× floor", "≤ 2×"),
        ("compound batch, fresh interpreter (start-up incl.)", wall, f"{wall / floor:.1f}× floor", ""),
        ("  of which run_batch in that interpreter", child, f"{child / floor:.1f}× floor", ""),
        ("planning alone (group rows, plan each distinct once)", plan, f"{plan / numpy_time:.1f}× numpy",
         "≤ 3×"),
        ("  of which grouping the rows (Arrow hash group-by)", group_time, "", ""),
        ("core alone: compute_capsules on every row", core_time, f"{core_time / numpy_time:.1f}× numpy", ""),
        ("bare numpy, the same arithmetic", numpy_time, "1", ""),
        ("peak memory of the fresh interpreter (MB)", peak_mb, "", "< 2048"),
        ("distinct prescriptions (each planned once)", float(distinct), "", ""),
        ("worksheet.csv size (MB)", sheet.stat().st_size / 1e6, f"{len(planned.kinds) + 6} columns", ""),
        ("writing worksheet.csv's bytes alone (no planning)", write_time, f"{write_time / floor:.1f}× floor",
         ""),
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
            print(f"{'measure':<52} {'value':>9}  {'ratio':<14} target")
            for name, value, ratio, target in results:
                print(f"{name:<52} {value:>9.3f}  {ratio:<14} {target}")


if __name__ == "__main__":
    main()
