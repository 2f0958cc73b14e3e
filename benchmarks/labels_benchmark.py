"""How fast are labels made? 1,000 labels from a batch run to one PDF and to one ZPL file.

Run: ``python benchmarks/labels_benchmark.py [--labels 1000] [--repeat 3]`` (not a test: it
prints a table). A worksheet of ``--labels`` planned capsule and liquid rows (distinct Rx
numbers, patients and directions) is written once by ``run_batch``; then, best of
``--repeat``: reading it into label content (:func:`labels_from_worksheet`), and rendering
that content to PDF, ZPL and CSV (:meth:`BatchLabels.render`, which lays out every label
once to check it before the file is made).

Targets from issue 11: ZPL at least 10,000 labels/s, PDF at least 200 labels/s. Measured on a
2-core box (2026-12-04, ``--repeat 5``, 1,000 labels, reading the worksheet included, the other
core busy with a test run): reading 0.027 s (36,000/s); ZPL 0.094–0.104 s (9,600–10,600/s);
PDF 0.644–0.674 s (1,480–1,550/s); CSV 0.052–0.059 s (17,000–19,000/s). Each label wraps its
text only at the sizes it tries (largest first), and statements and settings are read once.
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
from batch_benchmark import best

HEADER = ("rx,patient,prescriber,directions,form,strength,count,overage,source,tablet_weight,"
          "fill_weight,volume,vehicle,compounded\n")


def make_worksheet(n: int, workdir: Path) -> Path:
    from compound.batch.run import run_batch

    lines = [HEADER]
    for i in range(n):
        if i % 4 == 3:
            lines.append(f"RX{100000 + i},Patient {i} Example,Dr A. Example,Take 4.5 mL at bedtime,"
                         "liquid,1mg/mL,,,tablet,200mg,,100mL,purified-water,2025-03-10\n")
        else:
            strength = ("1.5mg", "3mg", "4.5mg")[i % 3]
            lines.append(f"RX{100000 + i},Patient {i} Example,Dr A. Example,Take 1 capsule at bedtime "
                         f"(row {i}),capsules,{strength},30,1,tablet,200mg,100mg,,,2025-03-10\n")
    source = workdir / "rx.csv"
    source.write_text("".join(lines), encoding="utf-8")
    run_batch(source, workdir / "out")
    return workdir / "out" / "worksheet.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        profile = workdir / "pharmacy.toml"
        profile.write_text('name = "Example Pharmacy"\naddress = "1 Main St"\nphone = "555 0100"\n',
                           encoding="utf-8")
        os.environ["COMPOUND_PHARMACY"] = str(profile)
        from compound.labels.batch import labels_from_worksheet

        worksheet = make_worksheet(args.labels, workdir)
        batch = labels_from_worksheet(worksheet)
        assert len(batch.rows) == args.labels, (len(batch.rows), batch.errors[:3])
        rows = [("read worksheet into labels", best(args.repeat, lambda: labels_from_worksheet(worksheet)))]
        for fmt in ("zpl", "pdf", "csv"):
            seconds = best(args.repeat, lambda fmt=fmt: labels_from_worksheet(worksheet).render(fmt))
            rows.append((f"render {fmt} (one file)", seconds))
        print(f"{args.labels} labels, best of {args.repeat}:")
        for name, seconds in rows:
            print(f"  {name:<28} {seconds:7.3f} s   {args.labels / seconds:9,.0f} labels/s")


if __name__ == "__main__":
    main()
