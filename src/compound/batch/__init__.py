"""Batch runs: a file or DataFrame of prescriptions planned a column at a time.

``plan_frame(df)`` for pipelines; ``run_batch(path, out_dir)`` for files (what
``compound batch`` calls). They import pyarrow (and ``plan_frame`` pandas),
so they are resolved lazily. A CSV file is read, planned and written in Arrow
without pandas (:mod:`.arrow`); pandas reads ``.xlsx`` files and files with
malformed rows.

The modules follow the stages of a run (:mod:`.run` drives them), so the
file names read in order:

1. read: :mod:`.read` (the file, every cell as text; :mod:`.columns` says
   which columns a file may have);
2. group: :mod:`.group` (rows that share every planning input);
3. plan each distinct prescription: :mod:`.plan` (``plan_frame`` and
   ``plan_block``), one planner per form (:mod:`.plan_capsules`,
   :mod:`.plan_liquid`, :mod:`.plan_drops`, the last two through
   :mod:`.plan_liquid_drops`) and what they share (:mod:`.plan_chunk`,
   :mod:`.plan_forms`, :mod:`.plan_explain`; :mod:`.coded` and :mod:`.log`
   hold text columns as codes and row errors);
4. spread: :mod:`.spread` (the plans over the file's rows) and
   :mod:`.summary`;
5. write: :mod:`.write_worksheet` (worksheet.csv), :mod:`.write_jsonl`
   (``--jsonl``), :mod:`.write_texts` (``--worksheets``), :mod:`.write_cells`
   (rounding and neutralising cells, errors.csv).
"""

from __future__ import annotations

from compound._lazy import lazy_exports

_PUBLIC = {
    "plan_frame": "compound.batch.plan",
    "run_batch": "compound.batch.run",
    "read_prescriptions": "compound.batch.read",
    "Options": "compound.batch.run",
    "Summary": "compound.batch.summary",
    "COLUMNS": "compound.batch.columns",
}

__all__ = sorted(_PUBLIC)


__getattr__, __dir__ = lazy_exports(__name__, _PUBLIC, lambda: list(globals()))
