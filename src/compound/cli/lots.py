"""``compound lots …`` and ``compound audit …``: the register from the command line.

The register (and SQLAlchemy) is imported inside each command, so
``compound lots --help`` stays quick. Today is ``COMPOUND_TODAY`` when set.
Errors exit with the codes in :mod:`compound.errors` (2 bad input, 4 audit
trail does not verify, 6 operation not allowed).
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import click

from compound.cli.output import emit_json, emit_json_array

if TYPE_CHECKING:
    from compound.register import IngredientLot, Lot, Register
    from compound.register.views import Dispensing

F = TypeVar("F", bound=Callable[..., Any])

_DB_HELP = "Register file or database URL (default: COMPOUND_DB, else the user data directory)."


def db_option(func: F) -> F:
    return click.option("--db", "db", default=None, metavar="PATH|URL", help=_DB_HELP)(func)


_AS_OF_HELP = ("Date it happened, for an entry made late (needs --reason); default: today "
               "by the real clock. COMPOUND_TODAY never dates a register entry.")


def as_of_option(func: F) -> F:
    return click.option("--as-of", "as_of", default=None, metavar="DATE", help=_AS_OF_HELP)(func)


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(func)


@contextmanager
def opened(db: str | None, *, read_only: bool = False,
           audit_key: bytes | None = None) -> Iterator[Register]:
    """The register; ``read_only`` for commands that only read (a file the user may only read
    opens, and nothing is created or migrated)."""
    from compound.register import Register

    register = Register.open(db, read_only=read_only, audit_key=audit_key)
    try:
        yield register
    finally:
        register.close()


@contextmanager
def reading(db: str | None) -> Iterator[Any]:
    """The register for ``lots list``, ``lots show``, ``audit verify/head/log``: an SQLite file at the
    current schema is read with the standard library (:mod:`compound.register.lite`:
    SQLAlchemy is not even imported); anything else by a read-only :class:`Register`, which
    refuses or explains as before."""
    from compound.register.lite import open_reader

    reader = open_reader(db)
    if reader is None:
        with opened(db, read_only=True) as register:
            yield register
        return
    try:
        yield reader
    finally:
        reader.close()


def _days_left(days: int) -> str:
    if days < 0:
        return f"expired {-days} day{'s' if days != -1 else ''} ago"
    if days == 0:
        return "BUD is today (last day of use)"
    return f"{days} day{'s' if days != 1 else ''} left"


def _table(rows: list[list[str]], header: list[str] | None) -> str:
    """Columns aligned with two spaces; a column empty in every row is left out."""
    every = [header, *rows] if header else rows
    keep = [i for i in range(len(every[0])) if any(r[i] for r in rows)]
    widths = {i: max(len(r[i]) for r in every) for i in keep}
    return "\n".join("  ".join(row[i].ljust(widths[i]) for i in keep).rstrip() for row in every)


@click.group()
def lots() -> None:
    """The register of compounded and ingredient lots.

    Ingredient lots are received (lots receive); compounded lots are recorded by
    `compound plan … --save` and move quarantine → released → dispensed, or are
    recalled or destroyed. A lot past its beyond-use date shows as expired.
    """


@lots.command()
@click.argument("path", metavar="PATH|URL")
def init(path: str) -> None:
    """Create a register at PATH (its folder too), or check the one there.

    \b
    Example:
      compound lots init ~/pharmacy/register.sqlite3
      export COMPOUND_DB=~/pharmacy/register.sqlite3
    """
    from compound.register import Register, db

    url = db.database_url(path, create=True)
    file = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else None
    existed = file is None or os.path.exists(file)
    with Register.open(path, create=True) as register:
        count = len(register.events())
        where = register.location
    if existed:
        click.echo(f"{where} is a register ({count} event{'s' if count != 1 else ''}); ready.")
    else:
        click.echo(f"Created the register at {where}.")


@lots.command()
@click.argument("item")
@click.argument("lot_number")
@click.option("--expiry", required=True, metavar="DATE",
              help="Expiry on the container: YYYY-MM-DD, or YYYY-MM (= last day of the month).")
@click.option("--by", "by", required=True, metavar="INITIALS", help="Who received it, e.g. AB.")
@click.option("--received", default=None, metavar="DATE", help="Date received (default: today).")
@click.option("--supplier", default=None, help="Supplier or manufacturer.")
@click.option("--reference", default=None, help="CoA or invoice reference.")
@click.option("--assay", default=None, metavar="PCT", help="API: CoA assay, e.g. 99.2%.")
@click.option("--water", default=None, metavar="PCT", help="API: CoA water content, e.g. 0.4%.")
@click.option("--tablet-weight", default=None, metavar="MASS",
              help="Tablets: measured average weight (weigh 20, divide by 20), e.g. 200mg.")
@click.option("--pack-stat", "pack_stats", multiple=True, metavar="SIZE=MASS",
              help="Fillers: measured fill weight per capsule of a size, e.g. 3=135mg (repeat).")
@as_of_option
@click.option("--reason", default=None, help="Why the receipt is entered late (with --as-of).")
@json_option
@db_option
def receive(item: str, lot_number: str, expiry: str, by: str, received: str | None,
            supplier: str | None, reference: str | None, assay: str | None, water: str | None,
            tablet_weight: str | None, pack_stats: tuple[str, ...], as_of: str | None,
            reason: str | None, as_json: bool, db: str | None) -> None:
    """Receive an ingredient lot of ITEM (a product, excipient or vehicle key).

    \b
    Example:
      compound lots receive naltrexone-hcl-50mg-tablet NTX2403 --expiry 2026-05 \\
          --tablet-weight 200mg --by AB
    """
    from compound.errors import InputError

    stats = {}
    for entry in pack_stats:
        size, sep, mass = entry.partition("=")
        if not sep or not size.strip() or not mass.strip():
            raise InputError(f"--pack-stat {entry!r}: give SIZE=MASS.", hint="e.g. 3=135mg.",
                             field="pack_stat")
        stats[size.strip()] = mass.strip()
    with opened(db) as register:
        number = register.receive_ingredient(
            item=item, lot_number=lot_number, expiry=expiry, received_by=by, received=received,
            supplier=supplier, reference=reference, assay=assay, water=water,
            tablet_weight=tablet_weight, pack_stats=stats or None, as_of=as_of, reason=reason)
        found = register.get_ingredient(number)
    if as_json:
        emit_json(found.to_dict())
        return
    read_as = " (the last day of the month given)" if found.expiry_from_month else ""
    click.echo(f"Received {found.lot_number}: {found.item_name}, expiry "
               f"{found.expiry.isoformat()}{read_as}, on {found.received.isoformat()} by "
               f"{found.received_by}.")


@lots.command("list")
@click.option("--expiring", default=None, metavar="DAYS",
              help="Lots still in the pharmacy with a BUD within DAYS (e.g. 30d), and those "
                   "already expired.")
@click.option("--status", default=None,
              type=click.Choice(["quarantine", "released", "dispensed", "expired", "recalled",
                                 "destroyed"]), help="Only lots with this status.")
@click.option("--ingredients", is_flag=True, help="List received ingredient lots instead.")
@json_option
@db_option
def list_(expiring: str | None, status: str | None, ingredients: bool, as_json: bool,
          db: str | None) -> None:
    """List compounded lots by beyond-use date (or ingredient lots by expiry)."""
    with reading(db) as register:
        if ingredients:
            found_ing = register.list_ingredients()
            if as_json:
                emit_json([i.to_dict() for i in found_ing])
                return
            rows = [[i.lot_number, i.expiry.isoformat(),
                     _days_left(i.days_left).replace("BUD", "expiry"), i.item_key]
                    for i in found_ing]
            click.echo(_table(rows, ["LOT", "EXPIRY", "", "ITEM"]) if rows
                       else "No ingredient lots.")
            return
        if as_json:
            emit_json_array(register.iter_lots_json(status=status,
                                                    expiring_within_days=expiring),
                            encoded=True)
            return
        found = register.iter_lots(status=status, expiring_within_days=expiring)
        from compound.register.views import show_quantity

        # LEFT only for a lot partly dispensed (the column disappears when no lot is).
        rows = [[lot.lot_number, lot.status, lot.beyond_use_date.isoformat(),
                 _days_left(lot.days_left) if lot.status in ("quarantine", "released", "expired")
                 else "",
                 show_quantity(lot.remaining, lot.quantity_unit)
                 if 0 < lot.remaining < lot.quantity else "", lot.description] for lot in found]
    if not rows:
        click.echo("No lots" + (f" expiring within {expiring}" if expiring else "")
                   + (f" with status {status}" if status else "") + ".")
        return
    click.echo(_table(rows, ["LOT", "STATUS", "BUD", "", "LEFT", "DESCRIPTION"]))


def _show_lot(lot: Lot) -> str:
    from compound.core.figures import format_percent
    from compound.register.views import format_amount, show_quantity

    status = lot.status
    if status == "expired":
        status += f" (recorded status: {lot.recorded_status})"
    checked = f", checked by {lot.checked_by}" if lot.checked_by else ""
    quantity = show_quantity(lot.quantity, lot.quantity_unit)
    if lot.dispensings or lot.remaining != lot.quantity:
        quantity += f" made; {show_quantity(lot.remaining, lot.quantity_unit)} left"
    lines = [
        f"Lot {lot.lot_number}: {lot.description} ({lot.kind})",
        f"  Status           {status}",
        f"  Quantity         {quantity}",
        f"  Compounded       {lot.compounded.isoformat()} by {lot.compounded_by}{checked}",
        f"  Beyond-use date  {lot.beyond_use_date.isoformat()} ({_days_left(lot.days_left)}, "
        f"today {lot.today.isoformat()})",
        f"    limit          {lot.bud_limit}",
        f"    source         {lot.bud_source}",
    ]
    if lot.stability_window_days:
        used = lot.window_used
        end = (f", ends {lot.stability_window_end.isoformat()}" if lot.stability_window_end
               else "")
        lines.append(f"  Stability window {lot.stability_window_days} days{end}; "
                     f"{format_percent(used or 0)} used")
    lines.append(f"  Storage          {lot.storage}")
    lines.append("  Components")
    rows = [[c.lot_number, c.name, format_amount(c.amount, c.unit),
             f"({'expiry' if c.source == 'ingredient' else 'BUD'} {c.expiry.isoformat()})"]
            for c in lot.components]
    lines += ["    " + line for line in _table(rows, None).splitlines()]
    if lot.dispensings:
        lines.append("  Dispensed")
        lines += ["    " + line for line in _dispensing_table(lot.dispensings, "PATIENT")]
    lines.append("  History")
    for e in lot.history:
        detail = e.to_dict()
        move = f" {detail['from']} → {detail['to']}" if "from" in detail else ""
        given = e.payload.get("dispensing") if e.action == "lot.dispense" else None
        if given:
            move += f", {show_quantity(given['quantity'], given['quantity_unit'])}" + (
                f" to {given['rx_number']}" if given["rx_number"] else "")
        extra = detail.get("reason") or detail.get("note")
        lines.append(f"    #{e.seq} {e.at_utc} {e.actor} {e.action}{move}"
                     + (f": {extra}" if extra else ""))
    return "\n".join(lines)


def saved_summary(lot: Lot) -> str:
    """What ``plan … --save`` recorded, printed under the worksheet."""
    from compound.register.views import format_amount, show_quantity

    checked = f", checked by {lot.checked_by}" if lot.checked_by else ""
    used = ", ".join(f"{c.lot_number} {format_amount(c.amount, c.unit)}" for c in lot.components)
    rx = (lot.plan.get("prescription") or {}).get("rx_number")
    return "\n".join([
        "",
        f"Saved lot {lot.lot_number} ({lot.status}): "
        f"{show_quantity(lot.quantity, lot.quantity_unit)}, BUD "
        f"{lot.beyond_use_date.isoformat()} ({lot.storage}).",
        f"  Recorded: compounded {lot.compounded.isoformat()} by {lot.compounded_by}{checked}; "
        f"{used}" + (f"; for prescription {rx}" if rx else "") + ".",
        f"  Next: after the final check, compound lots release {lot.lot_number} --by INITIALS.",
    ])


def _dispensing_table(found: list[Dispensing], who: str) -> list[str]:
    """DATE, RX, PATIENT (or LOT), QUANTITY, BY: one row per dispensing."""
    from compound.register.views import show_quantity

    rows = [[d.dispensed_on.isoformat(), d.rx_number or "(no Rx)",
             (d.lot_number if who == "LOT" else
              f"{d.patient_name} (born {d.patient_dob.isoformat()})" if d.patient_name else ""),
             show_quantity(d.quantity, d.quantity_unit),
             f"fill {d.fill}" if d.fill else "", d.dispensed_by] for d in found]
    return _table(rows, ["DATE", "RX", who, "QUANTITY", "", "BY"]).splitlines()


def _show_ingredient(lot: IngredientLot) -> str:
    from compound.core.figures import format_mass, format_percent

    lines = [
        f"Ingredient lot {lot.lot_number}: {lot.item_name} ({lot.item_key}, {lot.item_kind})",
        f"  Expiry         {lot.expiry.isoformat()} "
        f"({_days_left(lot.days_left).replace('BUD', 'expiry')})",
        f"  Received       {lot.received.isoformat()} by {lot.received_by}",
    ]
    optional = [
        ("Supplier", lot.supplier), ("Reference", lot.reference),
        ("Assay (CoA)", None if lot.assay is None else format_percent(lot.assay)),
        ("Water (CoA)", None if lot.water is None else format_percent(lot.water)),
        ("Tablet weight", None if lot.tablet_weight_mg is None
         else f"{format_mass(lot.tablet_weight_mg)} (measured average)"),
    ]
    lines += [f"  {name:<14} {value}" for name, value in optional if value is not None]
    lines += [f"  {'Pack stat #' + size:<14} {format_mass(mg)} per capsule"
              for size, mg in lot.pack_stats.items()]
    return "\n".join(lines)


@lots.command()
@click.argument("lot")
@json_option
@db_option
def show(lot: str, as_json: bool, db: str | None) -> None:
    """Show a lot: status, BUD, days left, stability window, components, history."""
    from compound.errors import RegisterError

    with reading(db) as register:
        try:
            found = register.get(lot)
        except RegisterError:
            try:
                ingredient = register.get_ingredient(lot)
            except RegisterError:
                raise RegisterError(f"unknown lot {lot.strip()}.",
                                    hint="compound lots list shows the lots.") from None
            if as_json:
                emit_json(ingredient.to_dict())
                return
            click.echo(_show_ingredient(ingredient))
            return
    if as_json:
        emit_json(found.to_dict())
    else:
        click.echo(_show_lot(found))


def _move_command(action: str, summary: str, reason_help: str) -> click.Command:
    @click.argument("lot")
    @click.option("--by", "by", required=True, metavar="INITIALS", help="Who does it, e.g. AB.")
    @click.option("--reason", default=None, metavar="TEXT", help=reason_help)
    @as_of_option
    @json_option
    @db_option
    def command(lot: str, by: str, reason: str | None, as_of: str | None, as_json: bool,
                db: str | None) -> None:
        with opened(db) as register:
            found = getattr(register, action)(lot, by, reason, as_of=as_of)
        if as_json:
            emit_json(found.to_dict())
        else:
            click.echo(f"Lot {found.lot_number} is now {found.status} ({found.description}; "
                       f"BUD {found.beyond_use_date.isoformat()}).")
            patients = {d.rx_number for d in found.dispensings if d.rx_number}
            if action == "recall" and patients:
                click.echo(f"It was dispensed to {len(patients)} prescription"
                           f"{'s' if len(patients) != 1 else ''}: compound lots trace "
                           f"{found.lot_number} lists the patients to contact.")

    command.__doc__ = summary
    return click.command(name=action)(command)


lots.add_command(_move_command(
    "release", "Release a lot from quarantine after the final check.",
    "Optional note on the release (e.g. the check done); required with --as-of. Recorded in "
    "the audit trail."))
lots.add_command(_move_command(
    "destroy", "Destroy a lot (quarantined, released, expired or recalled).",
    "Why it is destroyed (e.g. expired, damaged, recalled); required with --as-of. Recorded "
    "in the audit trail."))
lots.add_command(_move_command(
    "recall", "Recall a lot, dispensed or not (--reason required).",
    "Why it is recalled (required), e.g. the supplier's recall notice; recorded in the audit "
    "trail."))


@lots.command()
@click.argument("lot")
@click.option("--quantity", default=None, metavar="AMOUNT",
              help="How much: a capsule count (30) or a volume (30mL). Default: all that "
                   "remains.")
@click.option("--rx", default=None, metavar="RX",
              help="The prescription it is dispensed to (recorded with compound rx add or "
                   "plan … --rx --save): one fill, counted against its refills.")
@click.option("--by", "by", required=True, metavar="INITIALS", help="Who dispenses, e.g. AB.")
@click.option("--reason", default=None, metavar="TEXT",
              help="Optional note on this dispensing (e.g. a partial fill, the rest owed); "
                   "required with --as-of. Recorded in the audit trail.")
@as_of_option
@json_option
@db_option
def dispense(lot: str, quantity: str | None, rx: str | None, by: str, reason: str | None,
             as_of: str | None, as_json: bool, db: str | None) -> None:
    """Dispense all or part of a released lot, to a prescription.

    The lot keeps what remains and stays released until it is empty. Refused for an
    expired, quarantined or recalled lot, for more than remains, for an unknown Rx and
    when the Rx has no refills left.

    \b
    Example:
      compound lots dispense LDN-20250310-0001 --quantity 30 --rx RX1 --by AB
    """
    from compound.register.views import show_quantity

    with opened(db) as register:
        found = register.dispense(lot, by, reason, quantity=quantity, rx=rx, as_of=as_of)
    if as_json:
        emit_json(found.to_dict())
        return
    last = found.dispensings[-1]
    to = f" to {last.rx_number} (fill {last.fill})" if last.rx_number else ""
    left = (f"{show_quantity(found.remaining, found.quantity_unit)} left, still released"
            if found.status == "released" else f"none left, now {found.status}")
    click.echo(f"Dispensed {show_quantity(last.quantity, last.quantity_unit)} of lot "
               f"{found.lot_number}{to}; {left}.")


@lots.command()
@click.argument("lot")
@click.option("--by", "by", required=True, metavar="INITIALS")
@click.option("--text", "text", required=True, help="The note or correction.")
@db_option
def note(lot: str, by: str, text: str, db: str | None) -> None:
    """Add a note or correction to a lot's history (nothing is overwritten)."""
    with opened(db) as register:
        found = register.note(lot, by, text)
    click.echo(f"Noted on lot {found.lot_number}.")


@lots.command()
@click.argument("lot")
@json_option
@db_option
def trace(lot: str, as_json: bool, db: str | None) -> None:
    """Which lots used an ingredient lot (or a sub-lot), and who received them: for recalls.

    For a compounded lot, the patients it was dispensed to are listed as well.
    """
    from compound.errors import RegisterError
    from compound.register.views import format_amount

    with opened(db, read_only=True) as register:
        found = register.trace(lot)
        try:
            own = [d.to_dict() for d in register.get(lot).dispensings]
        except RegisterError:  # an ingredient lot: dispensed only inside compounded lots
            own = []
    if as_json:
        emit_json({"lot_number": lot.strip(), "dispensings": own, "used_in": found})
        return
    if own:
        _echo_recipients([{"lot_number": lot.strip(), "dispensings": own}])
    if not found:
        click.echo(f"{lot.strip()} was not used in any compounded lot.")
        return
    rows = [[f["lot_number"], f["status"], f["compounded"], f["beyond_use_date"],
             format_amount(f["used"]["amount"], f["used"]["unit"]),
             f"via {f['via']}" if f["via"] else "", f["description"]] for f in found]
    click.echo(f"{lot.strip()} was used in {len(found)} lot{'s' if len(found) != 1 else ''}:")
    click.echo(_table(rows, ["LOT", "STATUS", "COMPOUNDED", "BUD", "USED", "", "DESCRIPTION"]))
    _echo_recipients(found)


def _echo_recipients(found: list[dict[str, Any]]) -> None:
    """Who received the lots a recall reaches, for the pharmacist to contact."""
    from compound.register.views import show_quantity

    given = [(f["lot_number"], d) for f in found for d in f.get("dispensings", [])]
    if not given:
        click.echo("None of these lots was dispensed.")
        return
    rows = [[d["patient_name"] or "(no Rx)", d["patient_dob"] or "", d["rx_number"] or "",
             lot_number, d["date"], show_quantity(d["quantity"], d["quantity_unit"])]
            for lot_number, d in given]
    click.echo(f"Dispensed to ({len(rows)} dispensing{'s' if len(rows) != 1 else ''}; contact "
               "these patients):")
    click.echo(_table(rows, ["PATIENT", "BORN", "RX", "LOT", "DATE", "QUANTITY"]))


@lots.command()
@click.option("--csv", "as_csv", is_flag=True, default=True,
              help="CSV, safe to open in a spreadsheet (the only format, and the default).")
@click.option("--ingredients", is_flag=True, help="Export the ingredient lots instead.")
@click.option("--with-patients", is_flag=True,
              help="Add who received each lot (Rx, patient name, date of birth); left out "
                   "otherwise.")
@click.option("-o", "--output", default=None, type=click.Path(dir_okay=False, writable=True),
              help="Write to FILE (UTF-8 with BOM for Excel) instead of standard output.")
@db_option
def export(as_csv: bool, ingredients: bool, with_patients: bool, output: str | None,
           db: str | None) -> None:
    """Export the register as a spreadsheet-safe CSV (RFC 4180; formulas neutralised).

    Patient details stay out of the file unless --with-patients is given.
    """
    what = "ingredients" if ingredients else "lots"
    with opened(db, read_only=True) as register:
        if output is None:
            buffer = io.StringIO()
            register.export_csv(buffer, what=what, with_patients=with_patients)
            _write_bytes(buffer.getvalue().encode("utf-8"))
            return
        count = register.export_csv(output, what=what, with_patients=with_patients)
    click.echo(f"Wrote {count} {'ingredient lots' if ingredients else 'lots'} to {output}.",
               err=True)


def _write_bytes(data: bytes) -> None:
    """Bytes to stdout as they are: RFC 4180's CRLF must not become CR CR LF on Windows."""
    stream = getattr(sys.stdout, "buffer", None)
    if stream is None:
        sys.stdout.write(data.decode("utf-8"))
        return
    sys.stdout.flush()
    stream.write(data)
    stream.flush()


@click.group()
def audit() -> None:
    """The register's hash-chained audit trail."""


def _key_option(func: F) -> F:
    return click.option(
        "--key-file", default=None, metavar="FILE",
        help="The audit key file (default: COMPOUND_AUDIT_KEY, else COMPOUND_AUDIT_KEY_FILE).")(func)


@audit.command()
@click.option("--anchor", "anchor_text", default=None, metavar="FILE|HASH",
              help="Check the chain still holds this head: an anchor file, or what "
                   "`compound audit head` printed ('#SEQ HASH' or the hash). Default: the "
                   "anchor file the register keeps.")
@_key_option
@json_option
@db_option
def verify(anchor_text: str | None, key_file: str | None, as_json: bool, db: str | None) -> None:
    """Re-walk the audit chain and replay it against every lot row; check the anchor, the
    signatures and the guards. Exit 4 if anything differs."""
    from compound.errors import IntegrityError
    from compound.register import anchor, signing
    from compound.register.lite import Reader

    against = anchor.from_option(anchor_text) if anchor_text else None
    key = signing.read_key_file(key_file) if key_file else signing.key_from_environment()
    origin = "--anchor" if against else None
    with reading(db) as register:
        if isinstance(register, Reader):
            report = register.verify(key=key, against=against, origin=origin)
        else:
            register.audit_key = key
            report = register.verify(against=against, origin=origin)
        where = register.location
    if as_json:
        emit_json(report.to_dict())
    elif report.ok:
        head = f"head #{report.head_seq} sha256 {report.head_hash}" if report.head_seq else "empty"
        click.echo(f"Audit trail verified: {report.events} events, {head}.\n"
                   "Every lot, ingredient lot, component, prescription and dispensing row "
                   "matches its events.")
        if report.anchor:
            click.echo(f"The chain holds the anchor {report.anchor}.")
        if report.signed:
            click.echo(f"{report.signed} events carry a valid signature of the audit key.")
    else:
        click.echo(f"The audit trail of {where} does NOT verify:")
        for problem in report.problems:
            click.echo(f"  - {problem}")
    if not as_json:
        for note in report.notes:
            click.echo(f"Note: {note}")
    if not report.ok:
        count = len(report.problems)
        raise IntegrityError(
            f"the audit trail does not verify ({count} problem{'s' if count != 1 else ''}).",
            hint="Do not use the register until the pharmacist in charge has reviewed it; "
                 "restore it from a backup if it was damaged.")


@audit.command()
@json_option
@db_option
def head(as_json: bool, db: str | None) -> None:
    """Print the chain head (last event number and hash) for the pharmacy's log.

    Later, `compound audit verify --anchor '#SEQ HASH'` proves that no event up to
    it was deleted or rewritten.
    """
    from compound.register.audit import utc_now, utc_text

    with reading(db) as register:
        found = register.head()
        where = register.location
    at = utc_text(utc_now())
    if as_json:
        emit_json({**(found.to_dict() if found else {"seq": None, "hash": None}),
                   "register": where, "at_utc": at})
    elif found is None:
        click.echo(f"The audit trail of {where} is empty.")
    else:
        click.echo(f"{found}  {where}  {at}")


@audit.command("new-key")
@click.option("-o", "--output", required=True, metavar="FILE",
              help="Write the key here (a new file, readable by its owner only).")
def new_key(output: str) -> None:
    """Make a random audit key file. Point COMPOUND_AUDIT_KEY_FILE at it on every station,
    and keep a copy off the machine: events signed with it cannot be forged without it."""
    import os

    from compound.errors import InputError
    from compound.register import signing

    try:
        fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise InputError(f"cannot create the key file {output[:80]}: {exc.strerror}.",
                         hint="Give a new file name; an existing key is never overwritten.",
                         field="output") from None
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(signing.new_key() + "\n")
    click.echo(f"Wrote a new audit key to {output}. Set {signing.KEY_FILE_ENV}={output} on "
               "every station; keep a copy somewhere safe.")


@audit.command()
@click.option("--lot", default=None, help="Only the events of this lot.")
@json_option
@db_option
def log(lot: str | None, as_json: bool, db: str | None) -> None:
    """List the audit events (who, when in UTC, what)."""
    with reading(db) as register:
        events = register.events(lot.strip() if lot else None)
    if as_json:
        emit_json([e.to_dict() for e in events])
        return
    for e in events:
        d = e.to_dict()
        move = f" {d['from']} → {d['to']}" if "from" in d else ""
        click.echo(f"#{e.seq} {e.at_utc} {e.actor} {e.action} {e.subject or ''}{move}".rstrip())
