"""Units: one registry, and an allow-list between the user's text and it.

The registry is built from ``pharmacy_units.txt`` alone, so it knows only the
units a pharmacist types. Text never reaches pint's own parser: :func:`parse`
splits a number from a unit word, looks the word up in an allow-list, and
refuses anything else with a message that says what to type instead.

Every *kind* of amount has one canonical unit, and the core computes on plain
float64 magnitudes in those units (scalars or numpy arrays):

=================  ============  =========================================
kind               canonical     typed as
=================  ============  =========================================
``mass``           mg            ``4.5mg``, ``500mcg``, ``1.2g``
``volume``         mL            ``30mL``, ``0.1L``
``concentration``  mg/mL         ``1mg/mL``, ``500mcg/mL``, ``5mg/5mL``
``mass_per_drop``  mg/drop       ``0.5mg/drop``
``fraction``       1 (0–1)       ``5%``, ``99.2%``
``duration``       day           ``14d``, ``14 days``, ``2 weeks``
``calibration``    drop/mL       ``46 drops/2mL``, ``23 drops/mL``
``count``          1 (integer)   ``30``
=================  ============  =========================================

Reading typed text lives in :mod:`compound.core.amounts` (no pint, no numpy) and
is re-exported here.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from compound.core.amounts import Kind as Kind
from compound.core.amounts import Parsed as Parsed
from compound.core.amounts import parse as parse
from compound.core.amounts import parse_overage as parse_overage
from compound.core.amounts import refuse
from compound.errors import UnitInputError

if TYPE_CHECKING:
    import pint

# The registry and its units are made on first use (PEP 562 ``__getattr__`` below): importing
# pint takes ~0.2 s, and text is read without it (compound.core.amounts), so a plan or a batch
# run that never hands out a pint quantity never imports pint.
ureg: pint.UnitRegistry
Q_: Any
MG: Any
MCG: Any
G: Any
ML: Any
DROP: Any
DAY: Any
PERCENT: Any
DIMENSIONLESS: Any
MG_PER_ML: Any
MG_PER_DROP: Any
DROPS_PER_ML: Any
CANONICAL: dict[str, Any]
_REGISTRY_NAMES: Final = frozenset({"ureg", "Q_", "MG", "MCG", "G", "ML", "DROP", "DAY", "PERCENT",
                                    "DIMENSIONLESS", "MG_PER_ML", "MG_PER_DROP", "DROPS_PER_ML",
                                    "CANONICAL"})


def _make_registry() -> dict[str, Any]:
    """The registry from pharmacy_units.txt, pint's application registry, and the canonical units."""
    import pint

    registry: pint.UnitRegistry = pint.UnitRegistry(
        filename=str(Path(__file__).with_name("pharmacy_units.txt")),  # not importlib.resources: 5 ms
        autoconvert_offset_to_baseunit=False,
    )
    pint.set_application_registry(registry)
    mg, ml, drop = registry.Unit("mg"), registry.Unit("mL"), registry.Unit("drop")
    dimensionless = registry.Unit("")
    made: dict[str, Any] = {
        "ureg": registry, "Q_": registry.Quantity, "MG": mg, "MCG": registry.Unit("mcg"),
        "G": registry.Unit("g"), "ML": ml, "DROP": drop, "DAY": registry.Unit("day"),
        "PERCENT": registry.Unit("percent"), "DIMENSIONLESS": dimensionless,
        "MG_PER_ML": mg / ml, "MG_PER_DROP": mg / drop, "DROPS_PER_ML": drop / ml,
    }
    made["CANONICAL"] = {
        "mass": mg,
        "volume": ml,
        "concentration": made["MG_PER_ML"],
        "mass_per_drop": made["MG_PER_DROP"],
        "fraction": dimensionless,
        "duration": made["DAY"],
        "calibration": made["DROPS_PER_ML"],
        "count": dimensionless,
    }
    return made


def __getattr__(name: str) -> Any:
    if name in _REGISTRY_NAMES:
        globals().update(_make_registry())  # once: the names are module globals from now on
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def is_quantity(value: Any) -> bool:
    """A pint quantity (of any registry)? Without importing pint: if pint is not loaded, no
    value can be one."""
    pint = sys.modules.get("pint")
    return pint is not None and isinstance(value, pint.Quantity)


def coerce(value: Any, kind: Kind, *, field: str | None = None) -> float:
    """Canonical magnitude from text, an amount already read (:class:`Parsed`), a pint
    quantity, or a count.

    The Python API accepts ``"4.5mg"`` or ``Q_(4.5, "mg")`` alike. A bare number
    is refused for any kind that has a unit, exactly as on the command line.
    """
    if isinstance(value, str):
        return parse(value, kind, field=field).value
    if isinstance(value, Parsed):  # a plan's own amount, already in the canonical unit: no pint
        if value.kind != kind:
            raise refuse(value.text, field, f"it is not a {kind.replace('_', ' ')}", kind)
        return value.value
    if is_quantity(value):
        import pint

        registry = __getattr__("ureg")
        if value._REGISTRY is not registry:  # a quantity from another registry: re-read its unit
            value = registry.Quantity(value.magnitude, str(value.units))
        try:
            return float(value.to(__getattr__("CANONICAL")[kind]).magnitude)
        except pint.DimensionalityError:
            raise refuse(f"{value:~P}", field, f"it is not a {kind.replace('_', ' ')}", kind) from None
    if kind == "count" and isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        raise refuse(repr(value), field, "it has no unit", kind)
    raise refuse(repr(value), field, "it is not an amount", kind)


def parse_column(
    texts: Sequence[str | None] | Iterable[str | None], kind: Kind, *, field: str | None = None
) -> tuple[np.ndarray, list[str | None]]:
    """Parse a column of typed amounts, each distinct string once.

    Returns the float64 magnitudes in the canonical unit (NaN where a cell was
    empty or refused) and, per cell, ``None`` or the error message. Batch runs
    use this: a column of a million ``"4.5mg"`` costs one parse.
    """
    cache: dict[str, tuple[float, str | None]] = {}
    values: list[float] = []
    errors: list[str | None] = []
    for text in texts:
        if text is None or (isinstance(text, float) and math.isnan(text)) or text == "":
            values.append(math.nan)
            errors.append(None)
            continue
        hit = cache.get(text)
        if hit is None:
            try:
                hit = (parse(text, kind, field=field).value, None)
            except UnitInputError as exc:
                hit = (math.nan, str(exc))
            cache[text] = hit
        values.append(hit[0])
        errors.append(hit[1])
    return np.asarray(values, dtype=np.float64), errors
