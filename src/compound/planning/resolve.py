"""Catalog rows turned into the typed values the core functions take.

The core never reads files; the planning layer resolves names (``mcc``,
``3``, ``class-iii``) to numbers here, once per plan (or once per distinct
value in a batch run), and keeps the source of each value for the working.
"""

from __future__ import annotations

from dataclasses import dataclass

from compound.catalog import loader
from compound.catalog.loader import Row, number
from compound.core.findings import Severity
from compound.core.safety import DoseBand
from compound.core.weighing import minimum_weighable_quantity
from compound.errors import CatalogError, InputError


@dataclass(frozen=True, slots=True)
class Salts:
    mw_base: float
    mw_hcl: float
    mw_dihydrate: float
    dihydrate_water: float
    source_base: str
    source_hcl: str
    source_dihydrate: str


def salts() -> Salts:
    rows = {r["key"]: r for r in loader.table("molecules")}
    try:
        base, hcl, di = rows["base"], rows["hcl"], rows["dihydrate"]
    except KeyError as exc:
        raise CatalogError(f"molecules.csv has no row {exc.args[0]!r}.") from None
    return Salts(
        mw_base=number(base, "mw_g_per_mol", table_name="molecules"),
        mw_hcl=number(hcl, "mw_g_per_mol", table_name="molecules"),
        mw_dihydrate=number(di, "mw_g_per_mol", table_name="molecules"),
        dihydrate_water=number(di, "water_fraction", table_name="molecules"),
        source_base=base["source"], source_hcl=hcl["source"], source_dihydrate=di["source"],
    )


@dataclass(frozen=True, slots=True)
class Balance:
    key: str
    name: str
    sensitivity_mg: float
    max_error: float
    source: str

    @property
    def mwq_mg(self) -> float:
        return float(minimum_weighable_quantity(self.sensitivity_mg, self.max_error))


def balance(key: str | None = None, sensitivity_mg: float | None = None,
            max_error: float | None = None) -> Balance:
    """The balance profile by key (default from rules.toml), with optional overrides."""
    key = key or str(loader.rules()["balance"]["default"])
    row = loader.lookup("balances", key, what="balance")
    sens = number(row, "sensitivity_mg", table_name="balances")
    err = number(row, "max_error_pct", table_name="balances") / 100.0
    source = row["source"]
    if sensitivity_mg is not None:
        if not sensitivity_mg > 0:
            raise InputError("the balance sensitivity must be greater than zero.",
                             field="balance_sensitivity")
        sens, source = sensitivity_mg, "given by the user (--balance-sensitivity)"
    if max_error is not None:
        if not 0 < max_error < 1:
            raise InputError("the acceptable weighing error must be between 0 % and 100 %.",
                             field="balance_error")
        err = max_error
    return Balance(key, row.get("name", key), sens, err, source)


def dose_bands() -> list[DoseBand]:
    def opt(row: Row, col: str) -> float | None:
        return number(row, col, table_name="dose_bands") if row.get(col, "") != "" else None

    out = []
    for row in loader.table("dose_bands"):
        try:
            severity = Severity[row["severity"].upper()]
        except KeyError:
            raise CatalogError(f"dose_bands.csv, row {row['key']!r}: unknown severity "
                               f"{row['severity']!r} (info, warning or refusal).") from None
        out.append(DoseBand(
            key=row["key"], name=row["name"],
            lower_mg=opt(row, "lower_mg"), lower_inclusive=row.get("lower_inclusive") == "1",
            upper_mg=opt(row, "upper_mg"), upper_inclusive=row.get("upper_inclusive") == "1",
            severity=severity, message=row["message"], source=row["source"],
        ))
    return out


def excipient(key: str) -> Row:
    """An excipient by key or alias (case-insensitive)."""
    wanted = key.strip().lower()
    for row in loader.table("excipients"):
        aliases = {a.strip().lower() for a in row.get("aliases", "").split(";") if a.strip()}
        if wanted == row["key"] or wanted in aliases:
            return row
    known = ", ".join(r["key"] for r in loader.table("excipients"))
    raise InputError(f"unknown filler {key!r}.", hint=f"Known: {known}.", field="filler")


def product(key: str) -> Row:
    return loader.lookup("products", key, what="product")


def capsule_size(size: str) -> Row:
    return loader.lookup("capsule_sizes", size.strip().lstrip("#"), what="capsule size")


def pack_stat(filler_key: str, size: str) -> Row | None:
    """The pharmacy's measured fill weight for this filler and size, if any (latest wins)."""
    rows = [r for r in loader.table("pack_stats")
            if r.get("filler") == filler_key and r.get("capsule_size") == size.strip().lstrip("#")]
    return rows[-1] if rows else None


rule = loader.rule
