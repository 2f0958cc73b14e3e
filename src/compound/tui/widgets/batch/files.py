"""Choosing a prescription CSV: a folder tree showing only folders and .csv files, and a typed
path completed to the next folder or .csv file.

Both read the disk off the event loop: the tree loads each folder in a worker
thread (Textual's DirectoryTree), and the completion runs in a thread too.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from pathlib import Path

from textual.suggester import Suggester
from textual.widgets import DirectoryTree


def shown(path: Path) -> bool:
    """A folder or a .csv file, not hidden (``.git``, ``.venv``)."""
    if path.name.startswith("."):
        return False
    try:
        return path.is_dir() or (path.suffix.lower() == ".csv" and path.is_file())
    except OSError:
        return False


class CsvTree(DirectoryTree):
    """Folders and .csv files under a folder; Enter on a file selects it."""

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [path for path in paths if shown(path)]


def complete_path(typed: str) -> str | None:
    """``typed`` completed to the first folder (with a trailing ``/``) or .csv file whose name
    starts with what follows its last ``/``; None when nothing matches or cannot be read."""
    if not typed.strip():
        return None
    path = Path(typed).expanduser()
    folder, start = (path, "") if typed.endswith(os.sep) else (path.parent, path.name)
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return None
    for name in names:
        if not name.startswith(start) or not shown(folder / name):
            continue
        rest = name[len(start):]
        return typed + rest + (os.sep if (folder / name).is_dir() else "")
    return None


class CsvPathSuggester(Suggester):
    """Completes a typed path (→ or End accepts) to a folder or .csv file."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        suggestion = await asyncio.to_thread(complete_path, value)
        return None if suggestion == value else suggestion
