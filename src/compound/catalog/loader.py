"""Read the data tables (CSV) and rules (TOML), with the pharmacy's overlay.

Every CSV row must name its ``source``. An overlay directory holds files with
the same names as the shipped ones; a row whose key matches a shipped row
replaces the fields it fills in, and a new key adds a row. An overlay TOML file
is merged key by key over the shipped one. Within one process each table is read
once; across processes, only :mod:`compound.catalog.checked` keeps what a check read
(:func:`snapshot`, :func:`prime`), for as long as the files are unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from compound import paths
from compound.errors import CatalogError

Row = dict[str, str]
TableKey = tuple[str, tuple[str, ...]]

# Read once per process: what table() and rules() have returned, by their arguments. (Not
# functools.cache: a checked catalog's snapshot primes them, and csv and tomllib are imported
# only when a file is read, so a primed start needs neither.)
_tables: dict[TableKey, tuple[Row, ...]] = {}
_rules: dict[str, dict[str, Any]] = {}


def _read_csv(path: Path, key: tuple[str, ...]) -> list[Row]:
    import csv

    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(
                line for line in fh if line.strip() and not line.lstrip().startswith("#")
            )
            header = reader.fieldnames or []
            missing = [c for c in (*key, "source") if c not in header]
            if missing:
                raise CatalogError(
                    f"{path}: missing column(s) {', '.join(missing)}.",
                    hint="Every catalog table needs its key column(s) and a source column.",
                )
            rows = []
            for n, row in enumerate(reader, start=2):
                clean = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
                if any(not clean.get(k) for k in key):
                    raise CatalogError(f"{path}, line {n}: the key is empty.")
                rows.append(clean)
            return rows
    except OSError as exc:
        raise CatalogError(f"cannot read {path}: {exc.strerror}.") from None


def _merge(base: list[Row], extra: Iterable[Row], key: tuple[str, ...]) -> list[Row]:
    merged = {tuple(r[k] for k in key): dict(r) for r in base}
    for row in extra:
        k = tuple(row[c] for c in key)
        target = merged.setdefault(k, {})
        target.update({c: v for c, v in row.items() if v != ""})
    return list(merged.values())


def table(name: str, key: tuple[str, ...] = ("key",)) -> tuple[Row, ...]:
    """Rows of ``data/<name>.csv`` with overlays applied; every row has a source."""
    rows = _tables.get((name, key))
    if rows is None:
        rows = _tables[name, key] = _read_table(name, key)
    return rows


def _read_table(name: str, key: tuple[str, ...]) -> tuple[Row, ...]:
    shipped = paths.data_dir() / f"{name}.csv"
    rows = _read_csv(shipped, key) if shipped.exists() else []
    for directory in paths.overlay_dirs():
        overlay = directory / f"{name}.csv"
        if overlay.exists():
            rows = _merge(rows, _read_csv(overlay, key), key)
    if not shipped.exists() and not rows:
        raise CatalogError(f"the catalog has no table {name!r} ({shipped} is missing).")
    for row in rows:
        if not row.get("source"):
            ident = "/".join(row.get(k, "?") for k in key)
            raise CatalogError(
                f"catalog table {name!r}, row {ident!r}: no source.",
                hint="Say where the value comes from (a reference, a CoA, 'measured 2025-03-01 AB').",
            )
    return tuple(rows)


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in extra.items():
        out[k] = _deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def rules(name: str = "rules") -> dict[str, Any]:
    """``data/<name>.toml`` with overlays merged key by key."""
    merged = _rules.get(name)
    if merged is None:
        merged = _rules[name] = _read_rules(name)
    return merged


def _read_rules(name: str) -> dict[str, Any]:
    import tomllib

    def load(path: Path) -> dict[str, Any]:
        try:
            with path.open("rb") as fh:
                return tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise CatalogError(f"{path} is not valid TOML: {exc}.") from None

    shipped = paths.data_dir() / f"{name}.toml"
    if not shipped.exists():
        raise CatalogError(f"the catalog has no rules file {name!r} ({shipped} is missing).")
    merged = load(shipped)
    for directory in paths.overlay_dirs():
        overlay = directory / f"{name}.toml"
        if overlay.exists():
            merged = _deep_merge(merged, load(overlay))
    return merged


def rule(section: str) -> dict[str, Any]:
    """One ``[section]`` of rules.toml (overlays merged), or a CatalogError naming it."""
    try:
        return dict(rules()[section])
    except KeyError:
        raise CatalogError(f"rules.toml has no section [{section}].") from None


def clear_cache() -> None:
    """Forget tables read so far (tests that change COMPOUND_CATALOG call this)."""
    _tables.clear()
    _rules.clear()


def snapshot() -> tuple[dict[TableKey, tuple[Row, ...]], dict[str, dict[str, Any]]]:
    """What this process has read so far: the tables and the rules, by their arguments."""
    return dict(_tables), dict(_rules)


def prime(tables: dict[TableKey, tuple[Row, ...]], rules: dict[str, dict[str, Any]]) -> None:
    """Take these as read (a :func:`snapshot` of the same files, by
    :mod:`compound.catalog.checked`), without reading a file."""
    _tables.update(tables)
    _rules.update(rules)


def lookup(name: str, key: str, *, what: str, key_column: str = "key") -> Row:
    """One row by key, or a clear error listing the keys that exist."""
    for row in table(name, (key_column,)):
        if row[key_column] == key:
            return row
    known = ", ".join(sorted(r[key_column] for r in table(name, (key_column,))))
    from compound.errors import InputError

    raise InputError(f"unknown {what} {key!r}.", hint=f"Known: {known}.", field=what)


def number(row: Row, column: str, *, table_name: str = "") -> float:
    """A numeric cell, or a CatalogError naming the table, row and column."""
    text = row.get(column, "")
    try:
        return float(text)
    except ValueError:
        raise CatalogError(
            f"catalog {table_name or 'table'}: row {row.get('key', '?')!r}, column {column!r}: "
            f"{text!r} is not a number."
        ) from None
