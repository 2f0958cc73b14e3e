"""compound: formulation and stability calculator for compounding pharmacists.

The public Python API, resolved lazily so that ``import compound`` stays cheap::

    import compound
    plan = compound.plan_capsules("4.5mg", 30, overage="1", tablet_weight="200mg")
    plan.quantity("api_required_mg")     # <Quantity(139.5, 'milligram')>
    print(plan.worksheet())
"""

from __future__ import annotations

from compound._lazy import lazy_exports

__version__ = "0.1.0"

_PUBLIC = {
    "plan_capsules": "compound.planning.capsules",
    "plan_liquid": "compound.planning.liquid",
    "plan_drops": "compound.planning.drops",
    "plan_dilution": "compound.planning.dilution",
    "assign_bud": "compound.planning.stability",
    "titrate": "compound.planning.titration",
    "Register": "compound.register",
    "Plan": "compound.planning.base",
    "CompoundError": "compound.errors",
    "Q_": "compound.core.units",
    "ureg": "compound.core.units",
}

__all__ = sorted(_PUBLIC)


__getattr__, __dir__ = lazy_exports(__name__, _PUBLIC, lambda: list(globals()))
