"""How fast is ``compound batch`` on a million capsule prescriptions? (Not a test: it prints a table.)

Run: ``python benchmarks/batch_benchmark.py [--rows 1000000] [--scenario typical|diverse|distinct|both|all]
[--runs 3]``

Scenarios (the time to explain rows grows with the number of *distinct* prescriptions,
not with the number of rows):

* ``typical``: a pharmacy's repeat prescriptions, about 300 distinct combinations;
* ``diverse``: every column varies independently, about 11,500 distinct combinations;
* ``distinct``: a chain's file, strengths to 0.01 mg and any count: about 456,000 distinct
  prescriptions in a million rows (issue 13).

Measured, for each scenario:

1. the floor: pyarrow reading the input CSV (every column as text) and writing it back, in this
   process (best of ``--repeat``) and as a whole process (a fresh interpreter importing pyarrow);
2. ``compound batch`` end to end in one process (``run_batch``: read, plan, write worksheet.csv,
   errors.csv, summary.json), and the command ``compound batch FILE -o OUT`` in a fresh
   interpreter (start-up included, importing what the command imports), whose peak memory is
   its own high-water mark (VmHWM in /proc/self/status). The whole processes
   run ``--runs`` times, alternating with the whole-process floor; the median and range print.
   compound's modules are compiled to bytecode first, as an installed wheel has them (pyarrow's
   have theirs): under PYTHONDONTWRITEBYTECODE each process compiled them again
   (:func:`compile_modules`);
3. planning alone: grouping the rows by their planning cells, then planning each distinct
   prescription (parse, resolve, the core, findings, BUD, each group's worksheet text), as
   ``compound batch`` does between reading and writing; the core alone
   (:func:`compound.core.capsules.compute_capsules` on 1M-element columns); and a bare numpy
   computation of the same arithmetic on the same columns;
4. for the profile: grouping alone, and writing worksheet.csv's bytes to a new file (the cost of
   the output's size, with nothing computed).

Targets: issue 12, a batch as a whole process ≤ 2 × the whole-process pyarrow floor; issue 13,
the ``distinct`` file ≤ 4 × that floor in ≤ 600 MB; issue 4, planning ≤ 3 × bare numpy. The
machine is shared: read medians and ranges, and the load average printed with them.

Figures: README.md, Development → Performance (the commit, the machine's load and the
command with each).
"""

from __future__ import annotations

import argparse
import os
import statistics
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
    elif scenario == "distinct":
        # A chain's file: strengths to the hundredth of a mg, any count, so about 456,000 of a
        # million rows are distinct prescriptions (issue 13's "457k distinct").
        hundredths = rng.integers(50, 501, rows)
        strength = np.char.add(np.char.add((hundredths // 100).astype(str), "."),
                               np.char.zfill((hundredths % 100).astype(str), 2))
        route = rng.integers(0, 5, rows)  # tablet of one of four weights, or API
        source = np.where(route < 4, "tablet", "api").astype(object)
        cols = {
            "strength": np.char.add(strength, "mg").astype(object),
            "count": rng.integers(10, 130, rows).astype(str).astype(object),
            "overage": np.array(["0", "1"], dtype=object)[rng.integers(0, 2, rows)],
            "source": source,
            "tablet_weight": np.where(route < 4, np.array(["200mg", "195mg", "210mg", "205.5mg", ""],
                                                          dtype=object)[route], ""),
            "fill_weight": np.full(rows, "100mg", dtype=object),
            "capsule_size": np.full(rows, "3", dtype=object),
            "filler": np.full(rows, "mcc", dtype=object),
        }
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
    """``compound batch PATH -o OUT`` in a fresh interpreter: (wall seconds, seconds from the
    interpreter's start of the script to the command's end, peak RSS MB).

    The command itself (``compound.cli.main``, as the console script runs it), so the process
    imports what the command imports: a CSV run refuses pyarrow's own tries to import pandas
    (:func:`compound.batch.arrow.keep_pandas_out`), which ``run_batch`` called alone does not.
    The peak is the child's own VmHWM: ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` would count the
    parent's pages that the child held between fork and exec.
    """
    code = ("import sys, time; t = time.perf_counter()\n"
            "from compound.cli import main\n"
            "sys.argv = ['compound', 'batch', sys.argv[1], '-o', sys.argv[2], '--overwrite',\n"
            "            '--no-progress']\n"
            "try:\n    status = main()\nexcept SystemExit as exc:\n    status = exc.code\n"
            "assert status in (None, 0, 2), status  # 2: some rows unread, every file written\n"
            "print(time.perf_counter() - t, file=sys.stderr)\n"
            "print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')),"
            " file=sys.stderr)")
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, str(path), str(out)], check=True,
                          capture_output=True, text=True)
    wall = time.perf_counter() - start
    seconds, peak_kb = done.stderr.split()[-2:]
    return wall, float(seconds), float(peak_kb) / 1024


def child_floor(path: Path, out: Path) -> tuple[float, float]:
    """The floor as a whole process: a fresh interpreter importing pyarrow, reading the CSV (every
    column as text) and writing it back. (wall seconds, peak RSS MB)"""
    code = ("import sys\n"
            "import pyarrow as pa, pyarrow.csv as pacsv\n"
            f"names = {COLUMNS!r}\n"
            "table = pacsv.read_csv(sys.argv[1], convert_options=pacsv.ConvertOptions(\n"
            "    column_types=dict.fromkeys(names, pa.string())))\n"
            "pacsv.write_csv(table, sys.argv[2])\n"
            "print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')))")
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, str(path), str(out)], check=True,
                          capture_output=True, text=True)
    return time.perf_counter() - start, float(done.stdout.split()[0]) / 1024


def spread_of(values: list[float]) -> str:
    """``median (min–max)``."""
    return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"


def measure(rows: int, scenario: str, repeat: int, runs: int,
            workdir: Path) -> tuple[list[tuple[str, float, str, str]], dict[str, str]]:
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
    # Whole processes, alternated (floor, batch, floor, batch, ...) so that load falls on both.
    floors, walls, childs, peaks = [], [], [], []
    for _ in range(runs):
        floors.append(child_floor(path, workdir / "floor-child.csv")[0])
        wall, child, peak_mb = child_run(path, workdir / f"child-{scenario}")
        walls.append(wall)
        childs.append(child)
        peaks.append(peak_mb)
    wall, child, peak_mb, process_floor = (statistics.median(v) for v in (walls, childs, peaks, floors))
    whole = {"floor": spread_of(floors), "batch": spread_of(walls), "run": spread_of(childs),
             "peak": f"{statistics.median(peaks):.0f} ({min(peaks):.0f}–{max(peaks):.0f})",
             "ratio": spread_of([w / f for w, f in zip(walls, floors, strict=True)])}

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
        ("pyarrow read + write as a whole process (median)", process_floor, "1", ""),
        ("compound batch as a whole process (median)", wall, f"{wall / process_floor:.1f}× process floor",
         "≤ 2× (issue 12), ≤ 4× (13)"),
        ("  of which the command, in that interpreter", child, f"{child / process_floor:.1f}× process floor",
         ""),
        ("planning alone (group rows, plan each distinct once)", plan, f"{plan / numpy_time:.1f}× numpy",
         "≤ 3×"),
        ("  of which grouping the rows (Arrow hash group-by)", group_time, "", ""),
        ("core alone: compute_capsules on every row", core_time, f"{core_time / numpy_time:.1f}× numpy", ""),
        ("bare numpy, the same arithmetic", numpy_time, "1", ""),
        ("peak memory of the whole process (MB, median)", peak_mb, "", "≤ 600 (issue 13)"),
        ("distinct prescriptions (each planned once)", float(distinct), "", ""),
        ("worksheet.csv size (MB)", sheet.stat().st_size / 1e6, f"{len(planned.kinds) + 6} columns", ""),
        ("writing worksheet.csv's bytes alone (no planning)", write_time, f"{write_time / floor:.1f}× floor",
         ""),
    ], whole


def compile_modules() -> str:
    """Give compound's modules their bytecode, as installing a wheel does; what was done, to print.

    An interpreter run with PYTHONDONTWRITEBYTECODE (as this project's sessions are) never writes
    ``__pycache__``, so every whole process of an editable install compiled compound's ~70 modules
    from source: ~0.07 s of CPU (0.13 -> 0.06 s for its imports, measured) that an installed
    compound does not spend, and that the floor does not spend on pyarrow (its wheel holds its
    bytecode). The files go where Python itself would put them (``__pycache__``, ignored by git).
    """
    import compileall

    import compound

    folder = Path(compound.__file__).parent
    if not compileall.compile_dir(folder, quiet=1):
        return f"compound's bytecode could not all be written under {folder}: processes compile"
    setting = " (PYTHONDONTWRITEBYTECODE is set)" if sys.flags.dont_write_bytecode else ""
    return f"compound's modules compiled to bytecode first, as an installed wheel has them{setting}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--scenario", choices=("typical", "diverse", "distinct", "both", "all"),
                        default="both", help="both: typical and diverse; all: the three")
    parser.add_argument("--repeat", type=int, default=2, help="in-process timings: best of this many")
    parser.add_argument("--runs", type=int, default=3, help="whole processes: median of this many")
    args = parser.parse_args()
    scenarios = {"both": ("typical", "diverse"), "all": ("typical", "diverse", "distinct")}.get(
        args.scenario, (args.scenario,))
    print(f"load average at start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(compile_modules())
    with tempfile.TemporaryDirectory() as tmp:
        for scenario in scenarios:
            results, whole = measure(args.rows, scenario, args.repeat, args.runs, Path(tmp))
            print(f"\n{args.rows:,} capsule rows, scenario {scenario!r}")
            print(f"{'measure':<52} {'value':>9}  {'ratio':<22} target")
            for name, value, ratio, target in results:
                print(f"{name:<52} {value:>9.3f}  {ratio:<22} {target}")
            print(f"whole processes, median (range) of {args.runs}: pyarrow {whole['floor']} s, "
                  f"compound batch {whole['batch']} s = {whole['ratio']}× the pyarrow process, "
                  f"peak {whole['peak']} MB; load average now "
                  f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
