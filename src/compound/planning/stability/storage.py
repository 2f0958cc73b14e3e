"""How the preparation is stored: the storage given, or the one assumed and said so."""

from __future__ import annotations

from collections.abc import Mapping

from compound.core.findings import Finding, Severity
from compound.errors import InputError
from compound.planning.stability.rules import BudRule, Study, storages


def _storage_key(storage: str | None) -> str | None:
    if storage is None:
        return None
    known = storages()
    key = str(storage).strip().lower()
    if key not in known:
        raise InputError(f"unknown storage {storage!r}.", hint=f"Use one of: {', '.join(known)}.",
                         field="storage")
    return key


def _default_storage(rule: BudRule, st: Study | None, names: Mapping[str, str],
                     findings: list[Finding]) -> str:
    """The storage assumed when none is given, stated as an info finding."""
    if st is not None and st.category == rule.key:
        tested = [s for s in st.window_days if s in rule.storage]
        if len(tested) > 1:
            options = ", ".join(f"{st.window_days[s]} days {names[s]}" for s in tested)
            raise InputError(
                f"{st.key} gives a different BUD for each storage ({options}).",
                hint="Say how it will be stored: " + " or ".join(f"--storage {s}" for s in tested)
                     + ".", field="storage")
        if tested:
            findings.append(Finding(
                "STORAGE_ASSUMED", Severity.INFO,
                f"Storage not given: {st.key} tested storage {names[tested[0]]} only, so the "
                "label must say so.", {"storage": tested[0]}))
            return tested[0]
    default = rule.default_storage
    if len(rule.storage) == 1:
        why = "this category must be stored so"
    else:
        allowed = " or ".join(names[s] for s in rule.storage)
        why = f"USP <795> allows storage {allowed} for this category; give --storage to choose"
    findings.append(Finding("STORAGE_ASSUMED", Severity.INFO,
                            f"Storage not given: assumed storage {names[default]} ({why}).",
                            {"storage": default}))
    return default

