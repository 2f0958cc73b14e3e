"""Batch runs: a file or DataFrame of prescriptions planned a column at a time.

``plan_frame(df)`` for pipelines; ``run_batch(path, out_dir)`` for files (what
``compound batch`` calls). Both import pandas and pyarrow, so they are
resolved lazily.
"""

from __future__ import annotations

from compound._lazy import lazy_exports

_PUBLIC = {
    "plan_frame": "compound.batch.frame",
    "run_batch": "compound.batch.run",
    "read_prescriptions": "compound.batch.reader",
    "Options": "compound.batch.run",
    "Summary": "compound.batch.summary",
    "COLUMNS": "compound.batch.columns",
}

__all__ = sorted(_PUBLIC)


__getattr__, __dir__ = lazy_exports(__name__, _PUBLIC, lambda: list(globals()))
