"""compound: formulation and stability calculator for compounding pharmacists.

The public Python API, resolved lazily so that ``import compound`` stays cheap::

    import compound
    plan = compound.plan_capsules("4.5mg", 30, overage="1", tablet_weight="200mg")
    plan.quantity("api_required_mg")     # <Quantity(139.5, 'milligram')>
    print(plan.worksheet())
"""

from __future__ import annotations

import importlib
from typing import Any

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


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'compound' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC])
