"""The core imports no front end or storage library; --help stays light.

A static import graph (lint-imports) cannot prove that a deferred import really
defers, so these run the imports in a fresh interpreter and read sys.modules.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ["textual", "rich", "pandas", "sqlalchemy", "sqlite3", "click"]


def modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        check=True, capture_output=True, text=True,
    ).stdout
    return {m.split(".")[0] for m in json.loads(out.strip().splitlines()[-1])}


@pytest.mark.parametrize(
    "module",
    ["compound.core", "compound.core.units", "compound.core.rounding", "compound.core.salts",
     "compound.core.weighing", "compound.core.safety"],
)
def test_core_is_pure(module):
    loaded = modules_after(f"import {module}")
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_help_imports_neither_pandas_textual_pint_nor_a_database():
    code = (
        "import sys\nfrom compound.cli import main\n"
        "sys.argv = ['compound', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
    )
    loaded = modules_after(code)
    for heavy in ("pandas", "textual", "sqlalchemy", "sqlite3", "pint", "numpy", "pyarrow"):
        assert heavy not in loaded, heavy
