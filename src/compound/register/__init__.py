"""The compounded-lot register: lots, ingredient lots and a hash-chained audit trail.

Python API (stable)::

    from compound.register import Register

    with Register.open() as reg:               # COMPOUND_DB, or the user data directory
        reg.receive_ingredient(item="naltrexone-hcl-50mg-tablet", lot_number="NTX2403",
                               expiry="2026-05", received_by="AB", tablet_weight="200mg")
        lot = reg.record_lot(kind="capsules", description="Naltrexone HCl 4.5 mg capsules", ...)
        reg.release(lot, by="CD")
        reg.verify().ok

SQLAlchemy is imported by this package only: the rest of compound stays light.
"""

from __future__ import annotations

from compound.register.audit import VerifyReport
from compound.register.lots import Register, bud_fields
from compound.register.replay import Problem
from compound.register.summaries import LotSummary
from compound.register.views import STATUSES, Component, Event, IngredientLot, Lot

__all__ = ["STATUSES", "Component", "Event", "IngredientLot", "Lot", "LotSummary", "Problem", "Register",
           "VerifyReport", "bud_fields"]
