"""``compound labels`` and ``compound record``: what a pharmacy prints.

Both read the lot from the register (imported inside the command, so
``--help`` stays quick). A refused label exits 3, a lot that may not be
labelled 6, bad input 2; the output file is written whole or not at all.
"""

from __future__ import annotations

from pathlib import Path

import click

from compound.cli.lots import db_option, opened


def write_file(path: str | Path, data: bytes) -> None:
    """All of ``data`` at ``path`` or, on any failure, nothing there (a temp file, then a rename)."""
    from compound.labels.files import write_atomic

    write_atomic(path, data)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("lot", required=False)
@click.option("--format", "fmt", required=True, type=click.Choice(["pdf", "zpl", "csv"]),
              help="PDF (4 × 2 in roll or letter sheet), ZPL II for Zebra printers, or CSV for "
                   "label software.")
@click.option("-o", "--out", "out", required=True, type=click.Path(dir_okay=False),
              help="The file to write.")
@click.option("--stock", is_flag=True, help="A stock (batch) label: lot, preparation, BUD, storage, "
                                            "quantity; no prescription.")
@click.option("--rx", default=None, help="Prescription number (the patient label's barcode).")
@click.option("--patient", default=None, help="Patient name.")
@click.option("--prescriber", default=None, help="Prescriber name.")
@click.option("--directions", multiple=True,
              help="Directions for use; repeat for each line (e.g. each titration step).")
@click.option("--titration", "ladder", default=None, metavar="LADDER",
              help="Directions from a titration, dated: e.g. '1.5mg x7d, 3mg x7d' (with --start).")
@click.option("--start", default=None, metavar="DATE", help="Day 1 of the --titration, YYYY-MM-DD.")
@click.option("--copies", default=1, show_default=True, type=click.IntRange(1, 999),
              help="Labels to print, each numbered 'k of N'.")
@click.option("--dpi", default=203, show_default=True, type=click.Choice(["203", "300"]),
              help="ZPL: the printer's resolution.")
@click.option("--layout", default="roll", show_default=True, type=click.Choice(["roll", "sheet"]),
              help="PDF: one 4 × 2 in label per page (roll), or 10 per 8.5 × 11 in sheet.")
@click.option("--from-batch", "from_batch", default=None, type=click.Path(dir_okay=False),
              help="A batch run's worksheet.csv: a patient label for each ok or warning row.")
@db_option
def labels(lot: str | None, fmt: str, out: str, stock: bool, rx: str | None, patient: str | None,
           prescriber: str | None, directions: tuple[str, ...], ladder: str | None, start: str | None,
           copies: int, dpi: str, layout: str, from_batch: str | None, db: str | None) -> None:
    """Print labels for a released lot: a patient label (USP <17>) or a stock label.

    \b
    Examples:
      compound labels LDN-20250310-0001 --rx RX1001 --patient "J. Doe" \\
          --prescriber "Dr A. Example" --directions "Take 1 capsule at bedtime" \\
          --format pdf -o label.pdf --copies 2
      compound labels LDN-20250310-0001 --stock --format zpl --dpi 300 -o stock.zpl
      compound labels --from-batch out/worksheet.csv --format pdf -o out/labels.pdf

    The pharmacy's name, address and phone come from pharmacy.toml in the user
    config directory (or COMPOUND_PHARMACY). A label is refused, never cut
    short: a missing field, a lot not released, text too long for the label.
    """
    from compound.labels import content, export

    if from_batch is not None:
        if lot is not None:
            raise click.UsageError("give a LOT or --from-batch, not both.")
        _from_batch(from_batch, fmt, out, copies, int(dpi), layout)
        return
    if lot is None:
        raise click.UsageError("give the LOT number (or --from-batch worksheet.csv).")
    if ladder is not None:
        if start is None:
            raise click.UsageError("--titration needs --start DATE (day 1 of the course).")
        directions = (*directions, *content.directions_from_titration(ladder, start))
    order = export.LabelOrder(lot, "stock" if stock else "patient", rx=rx, patient=patient,
                              prescriber=prescriber, directions=directions)
    with opened(db) as register:
        label = export.label_of(register, order)
    write_file(out, export.render(label, fmt, copies=copies, dpi=int(dpi), layout=layout))
    what = f"{'stock' if stock else 'patient'} label{'s' if copies != 1 else ''}"
    click.echo(f"Wrote {copies} {what} for lot {label.lot}"
               f"{'' if stock else f' (Rx {label.rx})'} to {out} ({fmt.upper()}).")


def _from_batch(worksheet: str, fmt: str, out: str, copies: int, dpi: int, layout: str) -> None:
    from compound.errors import LabelRefused
    from compound.labels.batch import labels_from_worksheet

    result = labels_from_worksheet(worksheet)
    data = result.render(fmt, copies=copies, dpi=dpi, layout=layout)
    for e in result.errors:
        click.echo(f"  row {e.row}: {e.error}", err=True)
    if data is None:
        raise LabelRefused(f"no row of {worksheet} can have a label.",
                           hint="Only ok and warning rows with rx, patient, directions and "
                                "compounded get one.")
    write_file(out, data)
    click.echo(f"Wrote {len(result.rows) * copies} labels for {len(result.rows)} rows to {out} "
               f"({fmt.upper()}); {len(result.errors)} ok or warning rows without a label.")


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("lot")
@click.option("--format", "fmt", required=True, type=click.Choice(["pdf", "txt"]),
              help="A letter-size PDF or plain text.")
@click.option("-o", "--out", "out", required=True, type=click.Path(dir_okay=False),
              help="The file to write.")
@db_option
def record(lot: str, fmt: str, out: str, db: str | None) -> None:
    """The compounding record of a lot (USP <795>), to file and sign.

    \b
    The preparation, quantity, date and who compounded and checked it; each
    component with its lot, amount and expiry; the BUD with the limit that set
    it, why and its source; the findings; every worksheet step with its
    formula, inputs and source; the lot's history; signature lines.
    Example:
      compound record LDN-20250310-0001 --format pdf -o LDN-20250310-0001.pdf
    """
    from compound.labels import pharmacy
    from compound.labels import record as record_

    with opened(db) as register:
        found = register.get(lot)
    write_file(out, record_.render(found, fmt, pharmacy.load()))
    click.echo(f"Wrote the compounding record of lot {found.lot_number} to {out} ({fmt.upper()}).")
