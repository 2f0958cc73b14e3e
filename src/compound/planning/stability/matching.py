"""Whether a stability study applies to this preparation (filler, vehicle, container, concentration)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from compound.core import units
from compound.core.findings import Finding, Severity
from compound.errors import InputError
from compound.planning.stability.rules import (
    MATCH_KEYS,
    BudRule,
    Study,
    _concentrations,
    container_name,
    studies,
)


def _normalise_preparation(preparation: Mapping[str, Any] | None) -> dict[str, Any]:
    if not preparation:
        return {}
    unknown = [k for k in preparation if k not in MATCH_KEYS]
    if unknown:
        raise InputError(f"unknown preparation detail(s) {', '.join(unknown)}.",
                         hint=f"Known: {', '.join(MATCH_KEYS)}.", field="preparation")
    out: dict[str, Any] = {}
    for key, value in preparation.items():
        if value is None or value == "":
            continue
        if key == "filler":
            from compound.planning.resolve import excipient

            out[key] = excipient(str(value))["key"]
        elif key == "concentration":
            out[key] = units.coerce(value, "concentration", field="strength")
        elif key == "container":
            out[key] = container_name(str(value))
        else:
            out[key] = str(value).strip().lower()
    return out


def _mismatches(st: Study, rule: BudRule, storage: str, prep: Mapping[str, Any],
                names: Mapping[str, str]) -> list[str]:
    """What about this preparation does not match the study (empty when it matches)."""
    out = []
    if st.category != rule.key:
        out.append(f"it studied {st.category} preparations, this one is {rule.key}")
    if storage not in st.window_days:
        tested = " or ".join(names[s] for s in st.window_days)
        out.append(f"it tested storage {tested}, not {names[storage]}")
    for key, value in prep.items():
        wanted = st.match.get(MATCH_KEYS[key])
        if wanted is None:
            continue
        if key == "concentration":
            # One number or a list (any matches), checked when the catalog was read.
            strengths = _concentrations(wanted, f"studies.toml [study.{st.key}] "
                                                f"match.{MATCH_KEYS[key]}")
            if not any(math.isclose(value, c, rel_tol=1e-6) for c in strengths):
                out.append(f"it tested {' or '.join(f'{c:g}' for c in strengths)} mg/mL, this "
                           f"preparation is {value:g} mg/mL")
        else:
            allowed = [str(w).lower() for w in (wanted if isinstance(wanted, list) else [wanted])]
            if value not in allowed:
                out.append(f"its {key} was {' or '.join(allowed)}, this preparation's is {value}")
    return out


def _shorter_study_warning(rule: BudRule, storage: str, prep: Mapping[str, Any],
                           names: Mapping[str, str]) -> Finding | None:
    """A study on this very vehicle or filler that supports less than the default."""
    identifying = {k: v for k, v in prep.items() if k in ("filler", "vehicle")}
    if not identifying:
        return None
    for st in studies().values():
        window = st.window_days.get(storage)
        if window is None or window >= rule.days or st.category != rule.key:
            continue
        studied = any(MATCH_KEYS[k] in st.match for k in identifying)
        if studied and not _mismatches(st, rule, storage, prep, names):
            return Finding(
                "STUDY_SUGGESTS_SHORTER_BUD", Severity.WARNING,
                f"{st.name} tested this {' and '.join(identifying)} and supports only {window} "
                f"days stored {names[storage]}, shorter than the USP <795> default of {rule.days} "
                f"days. Consider --study {st.key} --attest.",
                {"study": st.key, "window_days": window, "default_days": rule.days})
    return None

