"""LDN capsule plans (:func:`plan_capsules`); the module :mod:`.plan` holds them for now.

Import from this package, not from the modules: names with a leading underscore are
shared with :mod:`compound.batch` but are not part of the API.
"""

from __future__ import annotations

from compound.planning.capsules.plan import _DEFAULT_API_PRODUCT as _DEFAULT_API_PRODUCT
from compound.planning.capsules.plan import (
    API_FORMS,
    COUNT_KEYS,
    FILL_METHODS,
    ROUTES,
    CapsuleContext,
    CapsulePlan,
    amounts_for,
    capsule_rules,
    extra_for,
    findings_for,
    plan_capsules,
    resolve_fill_weight,
    working_for,
)
from compound.planning.capsules.plan import _check_kind as _check_kind

# _DEFAULT_API_PRODUCT and _check_kind are imported as themselves (re-exported, outside
# __all__): compound.batch.capsules uses them.
__all__ = ["API_FORMS", "COUNT_KEYS", "FILL_METHODS", "ROUTES", "CapsuleContext", "CapsulePlan",
           "amounts_for", "capsule_rules", "extra_for", "findings_for", "plan_capsules",
           "resolve_fill_weight", "working_for"]
