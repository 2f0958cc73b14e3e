"""LDN capsule plans: typed input and catalog -> core arithmetic -> findings and working.

:func:`plan_capsules` resolves the catalog and parses the user's text once, builds
scalar :class:`~compound.core.capsules.CapsuleInputs` (the core's float path), runs
:func:`~compound.core.capsules.compute_capsules`, and turns the result into a
:class:`CapsulePlan`. :func:`findings_for`, :func:`working_for`,
:func:`amounts_for` and :func:`extra_for` take any row ``i`` of a many-row result
(or row 0 of a one-plan result) with a :class:`CapsuleContext`, so a batch run
reuses them unchanged; :func:`finding_columns` applies the same rules as
:func:`findings_for` to a whole column.

Modules:

* :mod:`.plan`: :class:`CapsulePlan` and :func:`plan_capsules`;
* :mod:`.inputs`: the routes and API forms, and the checks on the typed input;
* :mod:`.context`: :class:`CapsuleContext`, :func:`capsule_rules` and :func:`resolve_fill_weight`;
* :mod:`.amounts`: :func:`amounts_for` and :func:`extra_for`, one row's numbers;
* :mod:`.findings`: :func:`finding_columns`, the findings of a column of plans, and
  :func:`findings_for`, one row's;
* :mod:`.working`: :func:`working_for`, one row's steps.

Import from this package, not from the modules: names with a leading underscore are
shared between the modules but are not part of the API.
"""

from __future__ import annotations

from compound.planning.capsules.amounts import amounts_for, extra_for
from compound.planning.capsules.context import (
    FILL_METHODS,
    CapsuleContext,
    capsule_rules,
    resolve_fill_weight,
)
from compound.planning.capsules.findings import finding_columns, findings_for
from compound.planning.capsules.inputs import (
    API_FORMS,
    DEFAULT_API_PRODUCT,
    ROUTES,
    check_kind,
)
from compound.planning.capsules.plan import COUNT_KEYS, CapsulePlan, plan_capsules
from compound.planning.capsules.working import working_for

__all__ = ["API_FORMS", "COUNT_KEYS", "DEFAULT_API_PRODUCT", "FILL_METHODS", "ROUTES", "CapsuleContext",
           "CapsulePlan", "amounts_for", "capsule_rules", "check_kind", "extra_for", "finding_columns",
           "findings_for",
           "plan_capsules", "resolve_fill_weight", "working_for"]
