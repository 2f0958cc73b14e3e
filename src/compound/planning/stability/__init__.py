"""Beyond-use dates from data: the USP <795> table, attested studies and every limit.

The code lives in :mod:`.assign` while it is split into short modules; this
package re-exports every name its importers use.
"""

from __future__ import annotations

from compound.planning.stability.assign import (
    DEFAULT_POLICY,
    KINDS,
    MATCH_KEYS,
    REFERENCE_POLICY,
    BudResult,
    BudRule,
    Limit,
    Policy,
    Study,
    assign_bud,
    bud_rule,
    bud_rules,
    category_for_plan,
    day_counting,
    policy,
    storages,
    studies,
    study,
)

__all__ = ["DEFAULT_POLICY", "KINDS", "MATCH_KEYS", "REFERENCE_POLICY", "BudResult", "BudRule",
           "Limit", "Policy", "Study", "assign_bud", "bud_rule", "bud_rules", "category_for_plan",
           "day_counting", "policy", "storages", "studies", "study"]
