"""The compounded-lot register: lots, ingredient lots and a hash-chained audit trail.

Python API (stable)::

    from compound.register import Register

    with Register.open() as reg:               # COMPOUND_DB, or the user data directory
        reg.receive_ingredient(item="naltrexone-hcl-50mg-tablet", lot_number="NTX2403",
                               expiry="2026-05", received_by="AB", tablet_weight="200mg")
        lot = reg.record_lot(kind="capsules", description="Naltrexone HCl 4.5 mg capsules", ...)
        reg.release(lot, by="CD")
        reg.verify().ok

SQLAlchemy is imported by this package only: the rest of compound stays light. The names
below are imported when first used, so a read-only command on SQLite (``lots list``,
``lots show``, ``audit verify``: :mod:`compound.register.lite`) never imports SQLAlchemy.
"""

from __future__ import annotations

from compound._lazy import lazy_exports

_PUBLIC = {
    "VerifyReport": "compound.register.audit",
    "Register": "compound.register.lots",
    "bud_fields": "compound.register.lots",
    "Problem": "compound.register.replay",
    "LotSummary": "compound.register.summaries",
    "STATUSES": "compound.register.views",
    "Component": "compound.register.views",
    "Event": "compound.register.views",
    "IngredientLot": "compound.register.views",
    "Lot": "compound.register.views",
}

__all__ = sorted(_PUBLIC)

__getattr__, __dir__ = lazy_exports(__name__, _PUBLIC, lambda: list(globals()))
