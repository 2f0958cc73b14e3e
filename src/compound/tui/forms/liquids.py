"""The liquid forms: ``compound plan liquid``, ``drops`` and ``dilution``."""

from __future__ import annotations

from compound.tui.forms import shared
from compound.tui.forms.spec import FieldSpec, FormSpec

_DOSE = FieldSpec("dose", "Daily dose", "mass", placeholder="e.g. 4.5mg",
                  help="Checks the dose band.")

LIQUID = FormSpec(
    key="liquid",
    title="Oral liquid",
    function="compound.planning.liquid:plan_liquid",
    fields=(
        FieldSpec("strength", "Strength", "concentration", placeholder="e.g. 1mg/mL", required=True),
        FieldSpec("volume", "Volume", "volume", placeholder="e.g. 100mL",
                  help="Or blank, and give dose and days."),
        _DOSE,
        FieldSpec("days", "Days", "duration", placeholder="e.g. 14d",
                  help="Volume = dose ÷ strength × days."),
        FieldSpec("overage", "Overage", "fraction", placeholder="e.g. 5%",
                  help="Extra volume in percent."),
        shared.VEHICLE,
        *shared.source_fields("tablet"),
        *shared.COMMON,
    ),
)

DROPS = FormSpec(
    key="drops",
    title="Sublingual drops",
    function="compound.planning.drops:plan_drops",
    fields=(
        FieldSpec("per_drop", "Per drop", "per_drop", placeholder="e.g. 0.5mg",
                  help="Or blank, and give the strength."),
        FieldSpec("strength", "Strength", "concentration", placeholder="e.g. 10mg/mL"),
        FieldSpec("calibration", "Dropper", "calibration", placeholder="e.g. 46 drops/2mL",
                  help="Blank: USP 20 drops/mL ± 10 %."),
        FieldSpec("volume", "Volume", "volume", placeholder="e.g. 30mL", required=True),
        FieldSpec("dose", "Daily dose", "drop_dose", placeholder="e.g. 4.5mg or 9 drops",
                  help="Drops only with a calibration."),
        shared.VEHICLE,
        *shared.source_fields("api"),
        *shared.COMMON,
    ),
)

DILUTION = FormSpec(
    key="dilution",
    title="Dilution (mcg)",
    function="compound.planning.dilution:plan_dilution",
    fields=(
        FieldSpec("strength", "Final strength", "concentration", placeholder="e.g. 1mcg/mL",
                  required=True),
        FieldSpec("volume", "Volume", "volume", placeholder="e.g. 30mL", required=True),
        _DOSE,
        shared.VEHICLE,
        *shared.source_fields("api"),
        *shared.COMMON,
    ),
)
