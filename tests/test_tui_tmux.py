"""``compound`` in a real terminal (tmux): type a prescription, read the numbers off the screen.

Skipped only when tmux is not installed (CI installs it: .ci/run). The screen is polled
until the plan appears; the wait is a ceiling for a loaded machine, not a speed check.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
TMUX = shutil.which("tmux")
COMPOUND = Path(sys.executable).with_name("compound")


@pytest.mark.skipif(TMUX is None, reason="tmux is not installed")
def test_a_prescription_typed_in_a_real_terminal_shows_its_numbers(tmp_path):
    session = f"compound-test-{uuid.uuid4().hex[:8]}"
    # The pane's size, not an inherited COLUMNS/LINES (pytest's workers set them), sizes the app.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("TMUX") and k not in ("COLUMNS", "LINES")}
    socket = str(tmp_path / "tmux.sock")
    tmux = ["tmux", "-f", "/dev/null", "-S", socket]  # no user config: the size is ours
    subprocess.run([*tmux, "new-session", "-d", "-s", session, "-x", "100", "-y", "50",
                    f"{COMPOUND}"], env=env, check=True)
    # Detached, tmux may keep its default 80×24; the amounts sit below the findings.
    subprocess.run([*tmux, "set-option", "-g", "window-size", "manual"], env=env, check=True)
    subprocess.run([*tmux, "resize-window", "-t", session, "-x", "100", "-y", "50"], env=env,
                   check=True)

    def capture() -> str:
        return subprocess.run([*tmux, "capture-pane", "-t", session, "-p"], capture_output=True,
                              text=True, check=True).stdout

    def wait(words: str) -> str:
        deadline = time.monotonic() + 60
        while words not in (shown := capture()) and time.monotonic() < deadline:
            time.sleep(0.2)
        return shown

    try:
        assert "Strength / capsule" in wait("Strength / capsule")
        # 4.5 mg × 30 capsules from 200 mg tablets: 4.5 × 30 = 135 mg HCl;
        # 135 / 50 = 2.7 → 3 tablets; 135 / 50 × 200 mg = 540 mg of tablet powder.
        subprocess.run([*tmux, "send-keys", "-t", session, "4.5mg", "Tab", "30"], check=True)
        for _ in range(7):  # Overage, size, filler, fill weight, source, product: Tablet weight
            subprocess.run([*tmux, "send-keys", "-t", session, "Tab"], check=True)
        subprocess.run([*tmux, "send-keys", "-t", session, "200mg", "Enter"], check=True)
        shown = wait("540 mg")
        assert "540 mg" in shown, shown
        assert "135 mg" in shown, shown
    finally:
        subprocess.run([*tmux, "kill-server"], check=False)
