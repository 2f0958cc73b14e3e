"""Shared output helpers for CLI commands: JSON to stdout, text to stdout."""

from __future__ import annotations

import json
from collections.abc import Iterable
from itertools import islice
from typing import Any

import click


def emit_json(payload: Any) -> None:
    """Stable, readable JSON: keys in insertion order, non-ASCII kept, no NaN."""
    click.echo(json.dumps(payload, indent=2, ensure_ascii=False, allow_nan=False))


def emit_json_array(items: Iterable[Any], *, batch: int = 1000, encoded: bool = False) -> None:
    """A JSON array written as it is read: one item per line, ``batch`` items per write.

    For long lists (100,000 lots): nothing is held but the batch being written, and the
    items are not pretty-printed (indenting every nested value costs more than the query).
    ``encoded``: the items are JSON text already (as json.dumps would write them).
    """
    items = iter(items)
    click.echo("[", nl=False)
    separator = "\n  "
    while chunk := list(islice(items, batch)):
        texts = chunk if encoded else (json.dumps(item, ensure_ascii=False, allow_nan=False)
                                       for item in chunk)
        click.echo(separator + ",\n  ".join(texts), nl=False)
        separator = ",\n  "
    click.echo("\n]" if separator != "\n  " else "]")
