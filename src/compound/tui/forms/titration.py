"""The titration form: ``compound titrate`` (a ladder or protocol → calendar and options)."""

from __future__ import annotations

from compound.tui.forms.spec import Choices, FieldSpec, FormSpec


def protocols() -> Choices:
    from compound.planning.titration import protocols as known

    return (("None: type a ladder", ""), *((f"{key}: {p.name}", key) for key, p in known().items()))


TITRATION = FormSpec(
    key="titrate",
    title="Titration",
    function="compound.planning.titration:titrate",
    fields=(
        FieldSpec("ladder", "Ladder", "text", placeholder="e.g. 1.5mg x7d, 3mg x7d, 4.5mg x7d",
                  help="Dose × days for each step; or pick a protocol."),
        FieldSpec("protocol", "Protocol", "choice", default="", choices=protocols),
        FieldSpec("start", "Day 1", "date", placeholder="e.g. 2025-06-02", required=True),
        FieldSpec("form", "Dispense as", "choice", default="all",
                  choices=(("Capsules and liquid", "all"), ("Capsules", "capsules"),
                           ("Oral liquid", "liquid"))),
        FieldSpec("maintenance", "Maintenance", "duration", placeholder="e.g. 28d",
                  help="Days at the last dose after the ladder."),
        FieldSpec("ceiling", "Top dose", "mass", placeholder="e.g. 3mg",
                  help="Replaces a protocol's top dose."),
        FieldSpec("concentration", "Liquid strength", "concentration", placeholder="e.g. 1mg/mL",
                  help="Blank: the catalog's."),
        FieldSpec("gi_sensitive", "GI sensitive", "flag", placeholder="at most +0.5 mg a week"),
        FieldSpec("opioid_use", "Opioids", "flag", placeholder="patient takes opioids"),
        FieldSpec("override_opioid", "Override reason", "text", placeholder="e.g. prescriber confirmed",
                  help="Only to override the opioid refusal."),
    ),
)
