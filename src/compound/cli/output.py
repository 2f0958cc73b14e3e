"""Shared output helpers for CLI commands: JSON to stdout, text to stdout."""

from __future__ import annotations

import json
from typing import Any

import click


def emit_json(payload: Any) -> None:
    """Stable, readable JSON: keys in insertion order, non-ASCII kept, no NaN."""
    click.echo(json.dumps(payload, indent=2, ensure_ascii=False, allow_nan=False))
