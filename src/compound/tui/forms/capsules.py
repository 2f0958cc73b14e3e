"""The capsule form: ``compound plan capsules``."""

from __future__ import annotations

from compound.tui.forms import shared
from compound.tui.forms.spec import FieldSpec, FormSpec

CAPSULES = FormSpec(
    key="capsules",
    title="Capsules",
    function="compound.planning.capsules:plan_capsules",
    fields=(
        FieldSpec("strength", "Strength / capsule", "mass", placeholder="e.g. 4.5mg", required=True),
        FieldSpec("count", "Capsules", "count", placeholder="e.g. 30", required=True),
        FieldSpec("overage", "Overage", "overage", default="0", placeholder="e.g. 1 or 5%",
                  help="Extra capsules (1) or percent (5%)."),
        FieldSpec("capsule_size", "Capsule size", "choice", default=shared.default_size,
                  choices=shared.capsule_sizes),
        FieldSpec("filler", "Filler", "text", default=shared.default_filler, placeholder="e.g. mcc",
                  choices=shared.fillers, help="Key or alias: mcc, lactose, ..."),
        FieldSpec("fill_weight", "Fill weight", "mass", placeholder="e.g. 100mg",
                  help="Blank: pack stat or volume×density."),
        shared.source("tablet"),
        shared.PRODUCT,
        shared.TABLET_WEIGHT,
        FieldSpec("route", "Tablet route", "choice", default="",
                  choices=(("Automatic", ""), ("Weigh powder", "weighed"),
                           ("Whole tablets", "whole-tablets")),
                  show_when=("source", "tablet")),
        *shared.API_FIELDS,
        *shared.COMMON,
    ),
)
