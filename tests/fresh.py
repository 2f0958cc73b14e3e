"""Run ``compound`` commands one after another in one fresh interpreter, and see what each
left imported: the start-up tests (tests/test_import_hygiene.py, tests/test_register_lite.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

_CODE = """\
import io, json, sys
from contextlib import redirect_stdout
from compound.cli import main
seen = {}
for args in ARGS:
    sys.argv = ['compound', *args]
    out, code = io.StringIO(), 0
    with redirect_stdout(out):
        try:
            main()
        except SystemExit as exc:
            code = exc.code
    seen[' '.join(args[:-2])] = {'code': code, 'printed': len(out.getvalue()),
                                 'modules': sorted({m.split('.')[0] for m in sys.modules})}
print(json.dumps(seen))
"""


def run_in_one_interpreter(commands: list[list[str]]) -> dict[str, dict[str, Any]]:
    """Each command (named by its words but the last two, its ``--db PATH``): its exit code,
    how many characters it printed, and the top-level modules loaded once it has run. The
    heavy modules are looked for after each, so the first command that pulls one in is named."""
    code = _CODE.replace("ARGS", repr(commands))
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout
    seen: dict[str, dict[str, Any]] = json.loads(out.strip().splitlines()[-1])
    assert len(seen) == len(commands)
    return seen
