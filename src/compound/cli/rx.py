"""``compound rx …``: prescriptions, and every lot dispensed for one.

Patient details are shown here because the pharmacist asked for them; they are
never put in an error message.
"""

from __future__ import annotations

import click

from compound.cli.lots import _dispensing_table, db_option, json_option, opened
from compound.cli.output import emit_json


@click.group()
def rx() -> None:
    """Prescriptions: record one, see every lot dispensed for it.

    A prescription is recorded once (here or by `compound plan … --rx … --save`) and never
    changed. Each `compound lots dispense LOT --rx RX` is one fill; an Rx with N refills
    allows 1 + N fills.
    """


@rx.command()
@click.argument("rx_number", metavar="RX")
@click.option("--patient", required=True, help="Patient's full name.")
@click.option("--dob", required=True, metavar="YYYY-MM-DD", help="Patient's date of birth.")
@click.option("--prescriber", required=True, help="Prescriber's name.")
@click.option("--directions", required=True, help="Directions as written, e.g. 'Take 1 capsule "
                                                  "at bedtime'.")
@click.option("--form", required=True, type=click.Choice(["capsules", "liquid", "drops",
                                                           "dilution"]), help="Form prescribed.")
@click.option("--strength", required=True, metavar="AMOUNT",
              help="Per capsule (4.5mg) or a concentration (1mg/mL).")
@click.option("--basis", type=click.Choice(["hcl", "base"]), default="hcl", show_default=True,
              help="Whether the strength is naltrexone HCl or base.")
@click.option("--quantity", required=True, metavar="AMOUNT",
              help="Per fill: capsules (30) or a volume (100mL).")
@click.option("--refills", default=0, show_default=True, type=click.IntRange(min=0),
              help="Refills authorised after the first fill.")
@click.option("--by", "by", required=True, metavar="INITIALS", help="Who records it, e.g. AB.")
@json_option
@db_option
def add(rx_number: str, patient: str, dob: str, prescriber: str, directions: str, form: str,
        strength: str, basis: str, quantity: str, refills: int, by: str, as_json: bool,
        db: str | None) -> None:
    """Record prescription RX (for dispensing from a stock lot).

    \b
    Example:
      compound rx add RX1 --patient "Jane Doe" --dob 1970-01-02 --prescriber "Dr A Smith" \\
          --directions "Take 1 capsule at bedtime" --form capsules --strength 4.5mg \\
          --quantity 30 --refills 2 --by AB
    """
    with opened(db) as register:
        number = register.record_prescription(
            rx=rx_number, patient_name=patient, patient_dob=dob, prescriber=prescriber,
            directions=directions, strength=strength, form=form, quantity=quantity,
            refills=refills, recorded_by=by, basis=basis)
        found = register.get_prescription(number)
    if as_json:
        emit_json(found.to_dict())
        return
    click.echo(f"Recorded prescription {found.rx_number}: {found.strength} {found.form}, "
               f"{found.refills} refill{'s' if found.refills != 1 else ''}.")


@rx.command()
@click.argument("rx_number", metavar="RX")
@json_option
@db_option
def show(rx_number: str, as_json: bool, db: str | None) -> None:
    """Show a prescription and every lot dispensed for it (date, lot, quantity, fill, by)."""
    from compound.register.prescriptions import show_quantity

    with opened(db) as register:
        found = register.get_prescription(rx_number)
    if as_json:
        emit_json(found.to_dict())
        return
    refills = f"{found.refills} refill{'s' if found.refills != 1 else ''}"
    lines = [
        f"Prescription {found.rx_number}",
        f"  Patient      {found.patient_name} (born {found.patient_dob.isoformat()})",
        f"  Prescriber   {found.prescriber}",
        f"  Directions   {found.directions}",
        f"  Prescribed   {found.strength} {found.form}, "
        f"{show_quantity(found.quantity, found.quantity_unit)} per fill, {refills}",
        f"  Fills        {len(found.dispensings)} of {found.fills_allowed} dispensed; "
        f"{found.refills_left} refill{'s' if found.refills_left != 1 else ''} left",
    ]
    if found.dispensings:
        lines.append("  Dispensed")
        lines += ["    " + line for line in _dispensing_table(found.dispensings, "LOT")]
    else:
        lines.append("  Nothing dispensed yet.")
    click.echo("\n".join(lines))
