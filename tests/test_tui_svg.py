"""Snapshot-like checks of the key screens: the SVG the app exports (what the README shows)
holds the numbers and words a pharmacist reads there.

The SVGs come from ``examples/tui_screenshots.py``, the script that makes the README's
screenshots, so the pictures in the README are the app's own and are checked here.
Text is compared, not pixels: a font or colour change in Textual does not fail the suite.
"""

from __future__ import annotations

import html
import importlib.util
import re
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "examples" / "tui_screenshots.py"


def svg_text(path: Path) -> str:
    """The characters drawn in an exported screenshot, one string (spaces as spaces)."""
    svg = path.read_text(encoding="utf-8")
    return html.unescape("".join(re.findall(r"<text[^>]*>(.*?)</text>", svg))).replace("\xa0", " ")


async def test_screenshots_of_the_key_screens_show_their_numbers(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("tui_screenshots", SCRIPT)
    assert spec and spec.loader
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    script.demo_register()  # into this test's register (conftest's COMPOUND_DB)
    saved = await script.capture(tmp_path)
    assert set(saved) == set(script.SCREENS)

    formulate = svg_text(saved["formulate"])
    # 4.5 mg × (30 + 1) capsules; BUD 2025-03-10 + 180 − 1 days (USP <795> 2023, Day 1).
    assert "Beyond-use date  2025-09-05" in formulate
    assert "Saved as lot LDN-20250310-0001" in formulate
    assert "DOSE_BAND_LDN:" in formulate

    lots = svg_text(saved["lots"])
    assert "4 of 4 lots" in lots
    assert re.search(r"LDN-20250203-0001 quarantine .* 2026-01-29 +325 +9%", lots)  # 35/360 days

    lot = svg_text(saved["lot"])
    assert "LDN-20250310-0001" in lot and "NTX2403" in lot and "179 days left" in lot

    stability = svg_text(saved["stability"])
    assert "today 2025-03-10" in stability and "│░" in stability and "█" in stability

    titrate = svg_text(saved["titrate"])
    assert "Total: 63 mg over 21 days" in " ".join(titrate.split())

    labels = svg_text(saved["labels"])
    assert "LDN-20250310-0001: stock label, 1 copy" in labels
    assert "LotLDN-20250310-0001" in labels.replace(" ", "") and "▌" in labels  # bold: no spaces drawn
