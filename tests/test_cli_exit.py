"""The command's exit: what the process made is left to the OS (gc.freeze as the last exit
handler), after every file is written and closed. In a fresh interpreter, as a command runs."""

from __future__ import annotations

import csv
import subprocess
import sys


def exit_seen(args: list[str]) -> list[str]:
    """What an exit handler registered before ``main`` (so run after the command's own, last to
    first) finds: whether the objects were frozen, and the command's exit status."""
    code = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print('frozen', gc.get_freeze_count() > 0, flush=True))\n"
        "from compound.cli import main\n"
        f"sys.argv = ['compound', *{args!r}]\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    print('status', exc.code or 0, flush=True)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout
    return out.split()[-4:]


def test_a_command_leaves_its_objects_to_the_os_as_the_process_ends(tmp_path):
    assert exit_seen(["--help"]) == ["status", "0", "frozen", "True"]
    given = tmp_path / "rx.csv"
    given.write_text("form,strength,count,overage,source,tablet_weight\n"
                     "capsules,4.5mg,30,1,tablet,200mg\n", encoding="utf-8")
    assert exit_seen(["batch", str(given), "-o", str(tmp_path / "out")]) == [
        "status", "0", "frozen", "True"]
    with (tmp_path / "out" / "worksheet.csv").open(newline="", encoding="utf-8") as fh:
        assert [r["status"] for r in csv.DictReader(fh)] == ["ok"]  # written whole


def test_main_called_again_in_one_process_freezes_once_at_its_end():
    code = (
        "import gc, sys\nfrozen = []\nfreeze = gc.freeze\n"
        "def counted():\n    frozen.append(1)\n    freeze()\n"
        "gc.freeze = counted\n"
        "import atexit\natexit.register(lambda: print('freezes', len(frozen), flush=True))\n"
        "from compound.cli import main\n"
        "for _ in range(3):\n"
        "    try:\n        main(['--version'])\n    except SystemExit:\n        pass\n"
        "print('before exit', len(frozen), flush=True)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout
    assert out.splitlines()[-2:] == ["before exit 0", "freezes 1"]
