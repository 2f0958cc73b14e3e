"""``compound batch``: plan a CSV (or XLSX) of prescriptions, one preparation per row.

Exit status: 0 when every row was read (refused rows included: they are
in worksheet.csv with the reason); 2 when some rows could not be read (every
file is still written, those rows are in errors.csv), when the file itself
cannot be read (missing, empty, wrong encoding, an unclosed quote, unknown or
duplicated columns, no ``form`` column), when the output folder cannot be
used (it holds other files, or an earlier run without ``--overwrite``, or
another run is writing to it) or an option is wrong; 5 when the catalog is
broken. stdout carries the summary, or the JSON lines with ``--jsonl`` (the
summary then goes to stderr); the progress bar is on stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click


def _columns_table() -> str:
    from compound.batch.columns import documentation

    rows = documentation()
    width = max(len(r["column"]) for r in rows)
    lines = [f"{'column':<{width}}  {'forms':<24}  what (example)"]
    for r in rows:
        example = f" ({r['example']})" if r["example"] else ""
        lines.append(f"{r['column']:<{width}}  {r['forms']:<24}  {r['what']}{example}")
    lines.append(f"{'x_…':<{width}}  {'all':<24}  your own columns, carried through unchanged")
    return "\n".join(lines) + "\n"


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("prescriptions", required=False, type=click.Path(dir_okay=False))
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False),
              help="Directory for worksheet.csv, errors.csv and summary.json.")
@click.option("--jsonl", is_flag=True, help="Write one JSON object per row to stdout.")
@click.option("--encoding", default=None, help="Text encoding of the CSV (default UTF-8, BOM or not).")
@click.option("--delimiter", default=",", show_default=True, help="CSV field separator, e.g. ';'.")
@click.option("--sheet", default=None, help="XLSX worksheet name (default: the first).")
@click.option("--progress/--no-progress", default=None,
              help="Show a progress bar on stderr (default: for large files on a terminal).")
@click.option("--worksheets", "text_worksheets", is_flag=True,
              help="Also write OUT/worksheets/<row>-<rx>.txt: each row's working (up to 10,000 rows).")
@click.option("--overwrite", is_flag=True,
              help="Replace OUT when it holds an earlier run (it is replaced as a whole).")
@click.option("--labels", "label_format", type=click.Choice(["pdf", "zpl", "csv"]), default=None,
              help="Also write OUT/labels.<format>: a patient label for each ok or warning row.")
@click.option("--columns", "show_columns", is_flag=True, help="List the columns a file may have.")
def batch(prescriptions: str | None, out_dir: str | None, jsonl: bool, encoding: str | None,
          delimiter: str, sheet: str | None, progress: bool | None, text_worksheets: bool,
          overwrite: bool, label_format: str | None, show_columns: bool) -> None:
    """Plan every prescription in a CSV (or .xlsx) file.

    One preparation per row. Columns are the `compound plan` options with
    underscores (strength, count, overage, source, tablet_weight, ...) plus
    form (capsules, liquid or drops); values are typed as on the command line
    (4.5mg, 5%, 46 drops/2mL). Writes worksheet.csv (one row per input row, in
    order), errors.csv and summary.json to OUT, and prints what to pull from
    stock. Bad rows never stop the run, but they make the exit status 2 (as
    does a file that cannot be read); 0 when every row was read.
    """
    if show_columns:
        click.echo(_columns_table(), nl=False)
        return
    if prescriptions is None:
        raise click.UsageError("give the prescription file, e.g. compound batch prescriptions.csv -o out/")
    if out_dir is None and not jsonl:
        raise click.UsageError("give -o OUT (a directory for the output files), or --jsonl.")
    if len(delimiter) != 1:
        raise click.UsageError("--delimiter must be one character, e.g. ';'.")
    from compound.batch.arrow import keep_pandas_out
    from compound.batch.run import Options, run_batch

    if Path(prescriptions).suffix.lower() not in (".xlsx", ".xlsm"):
        keep_pandas_out()  # a CSV run needs none of pandas' 0.25 s import (an .xlsx is read by it)

    made: dict[str, int] = {}
    if label_format is not None:
        if out_dir is None:
            raise click.UsageError("--labels needs -o OUT (the labels are written there).")
        from compound.labels.pharmacy import require

        require()  # before planning: a patient label cannot be made without the pharmacy
    if jsonl:
        from compound.batch.write_jsonl import binary_stdout
    summary = run_batch(prescriptions, out_dir, jsonl=binary_stdout(sys.stdout) if jsonl else None,
                        options=Options(encoding=encoding, delimiter=delimiter, sheet=sheet,
                                        progress=progress, worksheets=text_worksheets,
                                        overwrite=overwrite,
                                        labels=_labels(label_format, made) if label_format else None))
    click.echo(summary.text(), nl=False, err=jsonl)
    if label_format is not None:
        click.echo(f"Labels: {made['labels']} in {out_dir}/labels.{label_format}"
                   + (f"; {made['missing']} ok or warning rows without a label (see errors.csv)"
                      if made["missing"] else ""), err=jsonl)
    unread = summary.by_status.get("error", 0)
    if unread:
        # Every file is written, but a run with rows it could not read is not a clean run.
        click.echo(f"compound batch: {unread} row{'s' if unread != 1 else ''} could not be read "
                   "(see errors.csv); exit status 2.", err=True)
        from compound.errors import InputError

        sys.exit(InputError.exit_code)


def _labels(fmt: str, made: dict[str, int]) -> Any:
    """The run's label step: labels.<fmt> in the staging folder; rows without one for errors.csv."""
    def write(worksheet: Path, staging: Path) -> list[tuple[int, str, str, str]]:
        from compound.labels.batch import labels_from_worksheet

        result = labels_from_worksheet(worksheet)
        data = result.render(fmt)
        if data is not None:
            with (staging / f"labels.{fmt}").open("xb") as fh:
                fh.write(data)
        made.update(labels=len(result.rows), missing=len(result.errors))
        return [(e.row, e.column, e.value, e.error) for e in result.errors]

    return write
