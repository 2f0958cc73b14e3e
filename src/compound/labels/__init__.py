"""Labels a pharmacy prints, and the compounding record: PDF, ZPL and CSV.

Three stages, each its own module:

* :mod:`~compound.labels.content`: what a label says, checked (refusals live here);
* :mod:`~compound.labels.layout`: where it goes on a 4 × 2 in label (data a TUI can draw);
* renderers: :mod:`~compound.labels.pdf`, :mod:`~compound.labels.zpl`,
  :mod:`~compound.labels.table` (CSV).

Python API::

    from compound.labels import render
    with compound.Register.open() as register:
        pdf = render(register.get("LDN-20250310-0001"), "pdf", rx="RX1001",
                     patient="J. Doe", directions="Take 1 capsule at bedtime", copies=2)
"""

from __future__ import annotations

from compound._lazy import lazy_exports

_PUBLIC = {
    "render": "compound.labels.output",
    "render_contents": "compound.labels.output",
    "FORMATS": "compound.labels.output",
    "LabelContent": "compound.labels.content",
    "Prescription": "compound.labels.content",
    "from_lot": "compound.labels.content",
    "lay_out": "compound.labels.layout",
    "Layout": "compound.labels.layout",
    "Pharmacy": "compound.labels.pharmacy",
}

__all__ = sorted(_PUBLIC)

__getattr__, __dir__ = lazy_exports(__name__, _PUBLIC, lambda: list(globals()))
