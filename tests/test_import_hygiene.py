"""The core imports no front end or storage library; --help stays light.

A static import graph (lint-imports) cannot prove that a deferred import really
defers, so these run the imports in a fresh interpreter and read sys.modules.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import pytest

from fresh import run_in_one_interpreter

HEAVY = ["textual", "rich", "pandas", "sqlalchemy", "sqlite3", "click"]


def modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        check=True, capture_output=True, text=True,
    ).stdout
    return {m.split(".")[0] for m in json.loads(out.strip().splitlines()[-1])}


@pytest.mark.parametrize(
    "module",
    ["compound.core", "compound.core.units", "compound.core.rounding", "compound.core.salts",
     "compound.core.weighing", "compound.core.safety"],
)
def test_core_is_pure(module):
    loaded = modules_after(f"import {module}")
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_help_imports_neither_pandas_textual_pint_nor_a_database():
    code = (
        "import sys\nfrom compound.cli import main\n"
        "sys.argv = ['compound', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
    )
    loaded = modules_after(code)
    for heavy in ("pandas", "textual", "sqlalchemy", "sqlite3", "pint", "numpy", "pyarrow"):
        assert heavy not in loaded, heavy


def modules_after_command(args: list[str]) -> set[str]:
    """Top-level modules a fresh interpreter holds after running ``compound ARGS``."""
    code = (
        f"import sys\nfrom compound.cli import main\nsys.argv = ['compound', *{args!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
    )
    return modules_after(code)


@pytest.fixture
def register_with_lots(tmp_path):
    """A register holding ingredient lots, a released lot and its history (made in this process)."""
    from compound.register import Register

    path = tmp_path / "register.sqlite3"
    with Register.open(path) as register:
        register.receive_ingredient(item="naltrexone-hcl-50mg-tablet", lot_number="NTX2403",
                                    expiry="2026-05", received="2025-03-01", received_by="AB",
                                    tablet_weight="200mg")
        register.receive_ingredient(item="naltrexone-hcl-api", lot_number="API-1",
                                    expiry="2026-05", received="2025-03-01", received_by="AB",
                                    assay="99.2%", water="0.4%")
        register.receive_ingredient(item="avicel", lot_number="MCC-7781", expiry="2027-01-31",
                                    received="2025-03-01", received_by="AB",
                                    pack_stats={"#3": "135mg"})
        lot = register.record_lot(
            kind="capsules", description="Naltrexone HCl 4.5 mg capsules", quantity=30,
            quantity_unit="capsules", plan={"kind": "capsules", "status": "ok"},
            compounded="2025-03-10", beyond_use_date="2025-09-05",
            bud_limit="rule: nonaqueous-solid (180 days)", bud_source="USP <795> (2023) Table 4",
            stability_window_days=360, storage="room", compounded_by="AB", checked_by="CD",
            components=[("NTX2403", 3, "tablets"), ("MCC-7781", 2.1, "g")])
        register.release(lot, "CD")
        register.record_prescription(
            rx="RX1", patient_name="Zelda Quux", patient_dob="1970-01-02", prescriber="Dr A",
            directions="1 at bedtime", strength="4.5mg", form="capsules", quantity=10,
            recorded_by="AB")
        register.dispense(lot, "AB", quantity=10, rx="RX1")
    return str(path), lot


READS = [
    ["lots", "list"], ["lots", "list", "--json"], ["lots", "list", "--expiring", "30d"],
    ["lots", "list", "--status", "released", "--json"], ["lots", "list", "--ingredients"],
    ["lots", "show", "{lot}"], ["lots", "show", "{lot}", "--json"], ["lots", "show", "NTX2403"],
    ["lots", "show", "API-1"],
    ["lots", "trace", "NTX2403"], ["lots", "export"], ["audit", "verify"], ["audit", "log"],
    ["lots", "export", "--with-patients"], ["rx", "show", "RX1"], ["rx", "show", "RX1", "--json"],
]


def test_register_reads_import_neither_pint_nor_numpy(register_with_lots):
    """Issue 13: reading the register (a start-up in a few hundred ms) needs no unit or array maths.

    The commands run one after another in one fresh interpreter; the heavy modules are looked
    for after each, so the first command that pulls one in is the one named.
    """
    path, lot = register_with_lots
    commands = [[a.format(lot=lot) for a in args] + ["--db", path] for args in READS]
    seen = {command: ran["modules"] for command, ran in run_in_one_interpreter(commands).items()}
    for command, loaded in seen.items():
        assert "sqlite3" in loaded, command  # it really read the register (lots list and
        # lots show without SQLAlchemy: test_register_lite)
        heavy = {"pint", "numpy", "pandas", "pyarrow", "textual"} & set(loaded)
        assert not heavy, (command, heavy)


PLANS = [
    ["plan", "capsules", "--strength", "4.5mg", "--count", "30", "--tablet-weight", "200mg", "--json"],
    ["plan", "capsules", "--strength", "4.5mg", "--count", "30", "--tablet-weight", "200mg"],
    ["plan", "liquid", "--strength", "1mg/mL", "--dose", "4.5mg", "--days", "14", "--source", "api",
     "--vehicle", "purified-water", "--json"],
    ["plan", "drops", "--strength", "10mg/mL", "--calibration", "46 drops/2mL", "--volume", "30mL",
     "--source", "api", "--dose", "4.5mg", "--json"],
    ["plan", "dilution", "--strength", "1mcg/mL", "--volume", "30mL", "--dose", "5mcg",
     "--vehicle", "purified-water", "--json"],
    # With a beyond-use date, a study is matched against the plan's concentration (as a number
    # already read: compound.planning.dating.concentration_of, not a pint quantity).
    ["plan", "liquid", "--strength", "1mg/mL", "--dose", "4.5mg", "--days", "14", "--source", "api",
     "--vehicle", "fawcett-1997", "--compounded", "2025-03-10", "--storage", "refrigerated",
     "--json"],
    ["plan", "drops", "--strength", "10mg/mL", "--calibration", "46 drops/2mL", "--volume", "30mL",
     "--source", "api", "--dose", "4.5mg", "--compounded", "2025-03-10", "--json"],
    # Dated: the register only for --ingredient-lot or --save.
    ["plan", "capsules", "--strength", "4.5mg", "--count", "30", "--tablet-weight", "200mg",
     "--compounded", "2025-03-10", "--json"],
    ["bud", "--category", "nonaqueous-solid", "--compounded", "2025-03-10", "--json"],
    ["titrate", "--ladder", "1.5mg x7d, 3mg x7d, 4.5mg x7d", "--start", "2025-06-02", "--form", "all",
     "--json"],
]


def test_planning_commands_import_neither_pint_pandas_pyarrow_nor_a_database():
    """Issue 12: a plan reads its amounts as text (compound.core.amounts) and computes on floats;
    pint (0.2 s) is imported only when a pint quantity is asked for. No batch, storage or TUI
    library either. Each command runs in its own fresh interpreter, and must succeed."""
    for args in PLANS:
        code = (
            f"import sys\nfrom compound.cli import main\nsys.argv = ['compound', *{args!r}]\n"
            "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        )
        loaded = modules_after(code)
        assert "numpy" in loaded, args  # it planned
        heavy = {"pint", "pandas", "pyarrow", "sqlalchemy", "sqlite3", "textual", "rich",
                 "reportlab"} & loaded
        assert not heavy, (args, heavy)


def test_pint_is_imported_when_a_quantity_is_asked_for():
    loaded = modules_after("from compound.planning.capsules import plan_capsules\n"
                           "import sys\nassert 'pint' not in sys.modules\n"
                           "plan = plan_capsules('4.5mg', 30, tablet_weight='200mg')\n"
                           "assert 'pint' not in sys.modules\n"
                           "assert str(plan.quantity('fill_weight_mg').units) == 'milligram'\n")
    assert "pint" in loaded


def test_a_batch_file_run_imports_no_pandas(tmp_path):
    """Issue 13: pandas is for plan_frame and .xlsx files (and pint for quantities, numpy.ma for
    nothing); a CSV
    run (files or --jsonl, with --worksheets) plans and writes through pyarrow alone, even
    though pyarrow tries to import pandas itself (compound.batch.arrow). A file with a
    malformed row (read cell by cell into a DataFrame) and an .xlsx file may import it: both
    still run, in the same guarded process."""
    import openpyxl

    good = tmp_path / "rx.csv"
    good.write_text("form,strength,count,overage,source,tablet_weight,rx\n"
                    "capsules,4.5mg,30,1,tablet,200mg,RX1\ncapsules,3mg,60,5%,api,,RX2\n"
                    "drops,,,,,,\n", encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("form,strength,count\ncapsules,4.5mg,30\ncapsules,4,5mg,30\n", encoding="utf-8")
    book = openpyxl.Workbook()
    for row in (["form", "strength", "count", "source", "tablet_weight"],
                ["capsules", "4.5mg", "30", "tablet", "200mg"]):
        book.active.append(row)
    book.save(tmp_path / "rx.xlsx")
    runs = [
        ["batch", str(good), "-o", str(tmp_path / "a")],
        ["batch", str(good), "--jsonl"],
        ["batch", str(good), "-o", str(tmp_path / "b"), "--worksheets"],
        ["batch", "--columns"],
        ["batch", str(bad), "-o", str(tmp_path / "c")],
        ["batch", str(tmp_path / "rx.xlsx"), "-o", str(tmp_path / "d")],
    ]
    code = (
        "import json, sys\nfrom compound.cli import main\nseen = []\n"
        f"for args in {runs!r}:\n"
        "    sys.argv = ['compound', *args]\n"
        "    try:\n        main()\n        status = 0\n    except SystemExit as exc:\n"
        "        status = exc.code\n"
        "    seen.append([status, 'pandas' in sys.modules, 'pyarrow' in sys.modules,\n"
        "                 'pint' in sys.modules, 'numpy.ma' in sys.modules,\n"
        "                 'concurrent.futures' in sys.modules, 'logging' in sys.modules,\n"
        "                 'importlib.resources' in sys.modules, 'secrets' in sys.modules])\n"
        "print(json.dumps(seen))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout
    seen = json.loads(out.strip().splitlines()[-1])
    assert [s[0] for s in seen] == [2, 2, 2, 0, 2, 0]  # the drops row and the malformed row: status 2
    assert [s[1] for s in seen] == [False, False, False, False, True, True]  # pandas loaded after each
    assert all(s[2] for s in seen[:3])  # it really ran through pyarrow
    assert not any(s[3] for s in seen[:4])  # nor pint: amounts are read as text, computed as floats
    # nor numpy.ma (14 ms): pa.array asks every ndarray whether it is a masked array, so the
    # run hands Arrow its numbers as buffers (compound.batch.arrow.from_numpy)
    assert not any(s[4] for s in seen[:4])
    # A file of one block runs in the calling thread: no thread pool, nor the logging it imports
    # (compound.batch.threads.pool); nor importlib.resources (and the zipfile and tempfile it
    # imports: compound.paths finds its data beside itself) nor secrets (write_set's fresh names).
    # Seen after the first run, the only one in a fresh interpreter.
    assert seen[0][5:] == [False, False, False, False]
    assert (tmp_path / "a" / "worksheet.csv").read_text(encoding="utf-8").count("\n") == 4
    assert len(list((tmp_path / "b" / "worksheets").iterdir())) == 3
    assert (tmp_path / "d" / "worksheet.csv").read_text(encoding="utf-8").count("\n") == 2


#: What a CSV run imports only once its file is read: on a thread while pyarrow reads a large
#: file (compound.batch.read_warmup), after the read for a small one; never before it.
AFTER_READ = ["compound.batch.spread", "compound.batch.plan", "compound.batch.plan_capsules",
              "compound.batch.summary", "compound.batch.write_cells", "compound.batch.write_worksheet",
              "compound.batch.write_jsonl", "compound.planning", "compound.catalog", "pyarrow.compute",
              "hashlib", "shutil", "json"]


def test_a_csv_batch_run_imports_its_planners_and_writers_after_reading_the_file(tmp_path):
    """The modules a run needs once its file is read wait for the read (issue 12: start-up):
    seen in a fresh interpreter when the command first opens the file, and after the run."""
    given = tmp_path / "rx.csv"
    given.write_text("form,strength,count,overage,source,tablet_weight\n"
                     "capsules,4.5mg,30,1,tablet,200mg\ncapsules,3mg,60,5%,api,\n", encoding="utf-8")
    code = (
        "import sys\nfrom compound.cli import main\nseen = {}\n"
        f"target = {str(given)!r}\n"
        "def hook(event, args):\n"
        "    if event == 'open' and args[0] == target and 'before' not in seen:\n"
        "        seen['before'] = sorted(sys.modules)\n"
        "sys.addaudithook(hook)\n"
        f"sys.argv = ['compound', 'batch', target, '-o', {str(tmp_path / 'out')!r}]\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "seen['after'] = sorted(sys.modules)\nprint(__import__('json').dumps(seen))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout
    seen = json.loads(out.strip().splitlines()[-1])
    before, after = set(seen["before"]), set(seen["after"])
    assert {"compound.batch.read", "pyarrow.csv"} <= before  # it was about to read
    assert set(AFTER_READ) <= after  # and it planned and wrote
    assert not set(AFTER_READ) & before, sorted(set(AFTER_READ) & before)
    assert (tmp_path / "out" / "worksheet.csv").read_text(encoding="utf-8").count("\n") == 3


def test_a_batch_of_liquids_and_drops_imports_neither_pint_nor_pandas(tmp_path):
    """Each liquid's and drops' beyond-use date is matched against the studies by its
    concentration, which was a pint quantity: the run built pint's unit registry (~0.2 s) for
    it, and grouped the quantities with pandas (~0.25 s) as Arrow cannot hold them."""
    given = tmp_path / "rx.csv"
    given.write_text(
        "form,strength,source,volume,dose,vehicle,per_drop,calibration,compounded,storage,container\n"
        "liquid,1mg/mL,api,100mL,4.5mg,fawcett-1997,,,2025-03-10,refrigerated,light-resistant\n"
        "liquid,2mg/mL,api,50mL,4.5mg,purified-water,,,2025-03-10,refrigerated,\n"
        "drops,,api,30mL,4.5mg,fawcett-1997,0.5mg/drop,46 drops/2mL,2025-03-12,refrigerated,\n",
        encoding="utf-8")
    code = (
        "import sys\nfrom compound.cli import main\n"
        f"sys.argv = ['compound', 'batch', {str(given)!r}, '-o', {str(tmp_path / 'out')!r}]\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "print(sorted({'pint', 'pandas', 'numpy'} & set(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True, env={**os.environ, "COMPOUND_TODAY": "2025-03-12"}).stdout
    assert out.strip().splitlines()[-1] == "['numpy']"
    with (tmp_path / "out" / "worksheet.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["form"] for r in rows] == ["liquid", "liquid", "drops"]
    assert all(r["beyond_use_date"] for r in rows)
