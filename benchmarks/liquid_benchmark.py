"""How fast is ``compound batch`` on a million oral-liquid (or drops) prescriptions? (Not a test.)

Run: ``python benchmarks/liquid_benchmark.py [--rows 1000000] [--form liquid|drops|both]
[--scenario typical|diverse|both]``

Scenarios (the planning time grows with the number of *distinct* prescriptions, not rows):

* ``typical``: a pharmacy's repeat liquids or drops, about 150 distinct combinations;
* ``diverse``: every column varies independently, about 10,000 distinct combinations
  (tablets and API, trituration, liquid aliquots, vehicles, overage, days' supply,
  dropper calibrations, per-drop and strength forms, a few refusals).

Measured, for each form and scenario: ``compound batch`` end to end in process (read, plan,
write worksheet.csv, errors.csv, summary.json); planning alone (grouping the rows, then planning
each distinct prescription, as the run does between reading and writing); and the number of
distinct prescriptions. Timings are the best of ``--repeat`` runs.

``make_csv`` also writes the fixed files the equality checks compare before and after a change.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from batch_benchmark import best, write_prescriptions

os.environ.setdefault("COMPOUND_TODAY", "2025-03-10")
os.environ.setdefault("COMPOUND_CATALOG", os.pathsep)  # the shipped catalog only

LIQUID_COLUMNS = ("form", "strength", "volume", "dose", "days", "source", "tablet_weight", "api_form",
                  "assay", "vehicle", "overage", "balance", "rx", "patient")
DROPS_COLUMNS = ("form", "per_drop", "strength", "calibration", "drops_per_ml", "volume", "dose",
                 "source", "tablet_weight", "api_form", "vehicle", "rx", "patient")
# (source, tablet_weight, api_form, assay)
_SOURCES = (("tablet", "", "", ""), ("tablet", "200mg", "", ""), ("api", "", "", ""),
            ("API", "", "dihydrate", "99.2%"), ("api", "", "base", ""), ("tablet", "195.5mg", "", ""),
            ("tablet", "", "base", ""))  # the last: an API form with tablets, an error row


def _liquid_templates(scenario: str) -> list[tuple[str, ...]]:
    if scenario == "typical":
        out = []
        for strength in ("0.5mg/mL", "1mg/mL", "2mg/mL", "4.5mg/mL", "0.01mg/mL"):
            for volume, dose, days in (("30mL", "", ""), ("50mL", "4.5mg", ""), ("100mL", "", ""),
                                       ("", "4.5mg", "30"), ("100mL", "3mg", "")):
                for src in _SOURCES[:3]:
                    for vehicle in ("", "purified-water"):
                        out.append((strength, volume, dose, days, *src, vehicle, "", ""))
        return out
    strengths = ("0.5mg/mL", "1mg/mL", "1.5mg/mL", "2mg/mL", "4.5mg/mL", "0.01mg/mL", "0.001mg/mL",
                 "0.05mg/mL", "150mg/mL", "0mg/mL", "1,5mg/mL", "0.2mg/mL")
    volumes = (("30mL", "", ""), ("50mL", "4.5mg", ""), ("75mL", "1.5mg", ""), ("100mL", "", ""),
               ("", "4.5mg", "30"), ("", "3mg", "14d"), ("10mL", "0.5mg", ""), ("2mL", "", ""))
    return [(s, *v, *src, veh, ov, bal)
            for s, v, src, veh, ov, bal in itertools.product(
                strengths, volumes, _SOURCES, ("", "purified-water"), ("", "5%", "10%", "2%"),
                ("", "analytical-0.1mg"))]


def _drops_templates(scenario: str) -> list[tuple[str, ...]]:
    if scenario == "typical":
        out = []
        for per_drop, strength in (("0.5mg/drop", ""), ("0.25mg/drop", ""), ("", "10mg/mL"),
                                   ("", "5mg/mL"), ("0.05mg", "")):
            for calibration, dpm in (("", ""), ("46 drops/2mL", ""), ("", "23")):
                for volume, dose in (("30mL", "4.5mg"), ("15mL", ""), ("30mL", "3mg"), ("10mL", "1.5mg"),
                                     ("30mL", "9 drops")):
                    for src in (("api", "", "", ""), ("tablet", "200mg", "", "")):
                        out.append((per_drop, strength, calibration, dpm, volume, dose, src[0], src[1],
                                    src[2], ""))
        return out
    kinds = (("0.5mg/drop", ""), ("0.25mg/drop", ""), ("0.1mg/drop", ""), ("0.01mg", ""),
             ("", "10mg/mL"), ("", "5mg/mL"), ("", "1mg/mL"), ("", "0.02mg/mL"))
    calibrations = (("", ""), ("46 drops/2mL", ""), ("35 drops/2mL", ""), ("", "23"), ("", "18.5"))
    doses = ("", "4.5mg", "3mg", "1.5mg", "0.5mg", "9 drops", "0.001mg")
    sources = (("api", "", ""), ("tablet", "200mg", ""), ("tablet", "", ""), ("api", "", "dihydrate"),
               ("api", "", "base"))
    return [(k[0], k[1], c[0], c[1], v, d, *s, veh)
            for k, c, v, d, s, veh in itertools.product(
                kinds, calibrations, ("30mL", "15mL", "10mL", "50mL"), doses, sources,
                ("", "purified-water"))]


def make_csv(path: Path, rows: int, scenario: str, form: str, seed: int = 0) -> None:
    """Write ``rows`` liquid or drops prescriptions (``scenario`` typical or diverse)."""
    rng = np.random.default_rng(seed)
    if form == "liquid":
        columns, templates = LIQUID_COLUMNS, _liquid_templates(scenario)
    else:
        columns, templates = DROPS_COLUMNS, _drops_templates(scenario)
    table = np.array(templates, dtype=object)[rng.integers(0, len(templates), rows)]
    data = {"form": np.full(rows, form, dtype=object), **dict(zip(columns[1:-2], table.T, strict=True)),
            "rx": np.char.add("RX", rng.integers(100000, 999999, rows).astype(str)).astype(object),
            "patient": np.array(["A. Patient", "B. Patient", "C. Patient"],
                                dtype=object)[rng.integers(0, 3, rows)]}
    write_prescriptions(path, data, columns)


def measure(rows: int, scenario: str, form: str, repeat: int, workdir: Path) -> list[tuple[str, float]]:
    from compound.batch.read import read_prescriptions
    from compound.batch.run import GROUP_ROWS, Options, run_batch
    from compound.batch.spread import Rows, plan_groups
    from compound.batch.summary import Summary

    path = workdir / f"{form}-{scenario}.csv"
    make_csv(path, rows, scenario, form)
    run = best(repeat, lambda: run_batch(path, workdir / f"out-{form}-{scenario}",
                                                 options=Options(overwrite=True)))
    table = read_prescriptions(path)
    prescriptions = Rows(table=table.table)

    def plan_all() -> None:
        groups = prescriptions.groups({})
        plan_groups(prescriptions, groups, {}, block_rows=GROUP_ROWS, summary=Summary())

    plan = best(repeat, plan_all)
    distinct = len(prescriptions.groups({}))
    return [("compound batch, in process (read, plan, write)", run),
            ("planning alone (group rows, plan each distinct once)", plan),
            ("distinct prescriptions (each planned once)", float(distinct))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--form", choices=("liquid", "drops", "both"), default="both")
    parser.add_argument("--scenario", choices=("typical", "diverse", "both"), default="both")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    forms = ("liquid", "drops") if args.form == "both" else (args.form,)
    scenarios = ("typical", "diverse") if args.scenario == "both" else (args.scenario,)
    with tempfile.TemporaryDirectory() as tmp:
        for form in forms:
            for scenario in scenarios:
                results = measure(args.rows, scenario, form, args.repeat, Path(tmp))
                print(f"\n{args.rows:,} {form} rows, scenario {scenario!r}")
                for name, value in results:
                    print(f"{name:<54} {value:>10.3f}")


if __name__ == "__main__":
    main()
