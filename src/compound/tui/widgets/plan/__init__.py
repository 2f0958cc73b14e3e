"""The calculator's widgets: a field, a form of fields, and the results view."""

from compound.tui.widgets.plan.field import AmountValidator, PlanField
from compound.tui.widgets.plan.form import PlanForm
from compound.tui.widgets.plan.results import PlanResults

__all__ = ["AmountValidator", "PlanField", "PlanForm", "PlanResults"]
