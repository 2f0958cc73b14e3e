"""Beyond-use dates from data: the USP <795> table, attested studies and every limit.

:func:`assign_bud` is the one entry point (the ``bud`` command, the plans and
the lot register call it). It reads the category's default from
``data/bud_rules.csv`` and studies, policies and conventions from
``data/studies.toml``, does the date arithmetic with :mod:`compound.core.bud`
and returns a :class:`BudResult` that names the limit that won, every limit
considered, and each source.

Refusals are findings (severity ``refusal``), as in a plan, so a refused BUD
still explains itself; a refused result carries no date. Callers that need a
date or an exception use :meth:`BudResult.raise_if_refused`. Names that are
not in the catalog (category, study, policy, storage) and malformed dates are
input errors (exit 2).

Modules:

* :mod:`.rules`: the catalog (categories, studies, policies, storage, day counting);
* :mod:`.assign`: :func:`assign_bud`, which checks the request and refuses what it must;
* :mod:`.storage`: the storage given, or the one assumed;
* :mod:`.matching`: whether a study applies to this preparation;
* :mod:`.limits`: every limit, the one that wins, and the study's warnings;
* :mod:`.explain`: the explanation of the date;
* :mod:`.result`: :class:`BudResult` and :class:`Limit`.

Import from this package, not from the modules: names with a leading
underscore are shared between the modules but are not part of the API.
"""

from __future__ import annotations

from compound.planning.stability.assign import assign_bud
from compound.planning.stability.result import KINDS, BudResult, Limit
from compound.planning.stability.rules import (
    DEFAULT_POLICY,
    MATCH_KEYS,
    REFERENCE_POLICY,
    BudRule,
    Policy,
    Study,
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
