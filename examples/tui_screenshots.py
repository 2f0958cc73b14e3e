"""The README's screenshots, made by the app itself (``App.export_screenshot``).

Run from the repository: ``python examples/tui_screenshots.py docs/screenshots``. It
opens the TUI headless at 100×30 on a demonstration register in a temporary folder, dated from today
(an ingredient lot, a capsule lot saved through the Formulate screen, and a few
lots recorded through the register's API), drives it with keys as a pharmacist
would (the saved lot is released through the API for its label), and writes one SVG per
screen. The tests run the same function.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
import tempfile
from pathlib import Path

SIZE = (100, 30)
SCREENS = ("formulate", "lots", "lot", "stability", "titrate", "labels")


def demo_register() -> None:
    """Tablets received, and three lots made earlier (one on a 360-day study window), dated
    from today: register writes are dated by the real clock."""
    from compound import paths
    from compound.register import Register

    today = paths.today()

    def day(offset: int) -> str:
        return (today + dt.timedelta(days=offset)).isoformat()

    with Register.open() as register:
        register.receive_ingredient(item="naltrexone-hcl-50mg-tablet", lot_number="NTX2403",
                                    expiry=day(440), received_by="AB", received=day(-98),
                                    tablet_weight="200mg")
        for made, bud, window, what in (
                (-98, 4, None, "Naltrexone HCl 1.5 mg capsules"),
                (-63, 26, None, "Naltrexone HCl 3 mg capsules"),
                (-35, 325, 360, "Naltrexone HCl 4.5 mg capsules")):
            register.record_lot(
                kind="capsules", description=what, quantity=30, quantity_unit="capsule",
                plan={"kind": "capsules", "status": "ok"}, compounded=day(made),
                beyond_use_date=day(bud),
                bud_limit="study: cote-2018 (360 days)" if window else "rule: USP <795> (2023)",
                bud_source="demonstration", storage="room", stability_window_days=window,
                compounded_by="AB", checked_by="CD", components=[("NTX2403", 3, "tablet")])


async def capture(out: Path) -> dict[str, Path]:
    """Drive the app through each screen and save ``<screen>.svg`` in ``out``."""
    from compound import paths
    from compound.tui.app import CompoundApp

    out.mkdir(parents=True, exist_ok=True)
    saved: dict[str, Path] = {}
    app = CompoundApp()

    async def settle() -> None:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()

    def save(name: str) -> None:
        saved[name] = out / f"{name}.svg"
        saved[name].write_text(app.export_screenshot(title=f"compound: {name}"), encoding="utf-8")

    async with app.run_test(size=SIZE) as pilot:
        await settle()
        today = paths.today().isoformat()
        screen = app.screen
        for name, value in {"strength": "4.5mg", "count": "30", "overage": "1",
                            "tablet_weight": "200mg", "compounded": today,
                            "ingredient_lots": "NTX2403"}.items():
            screen.query_one(f"#capsules-{name}").value = value  # type: ignore[attr-defined]
        screen.query_one("#capsules-strength").focus()
        await pilot.press("enter")
        await settle()
        await pilot.press("ctrl+s", "A", "B", "enter")
        await settle()
        app.clear_notifications()
        await pilot.pause()
        save("formulate")
        await pilot.press("f3")
        await settle()
        save("lots")
        await pilot.press("down", "down", "enter")
        await settle()
        save("lot")
        await pilot.press("escape", "f4")
        await settle()
        app.screen.query_one("#stability-within").value = "all"  # type: ignore[attr-defined]
        await settle()
        save("stability")
        await pilot.press("f5", *"1.5mg x7d, 3mg x7d, 4.5mg x7d", "tab", "tab")
        await pilot.press(*today, "enter")
        await settle()
        save("titrate")
        from compound.register import Register

        with Register.open() as register:  # the lot saved above, after its final check
            number = max(register.list_lots("quarantine"), key=lambda lot: lot.compounded).lot_number
            register.release(number, "CD")
        await pilot.press("f7", *number, "enter")
        await settle()
        app.clear_notifications()
        save("labels")
    return saved


def main(out: Path) -> None:
    with tempfile.TemporaryDirectory() as folder:
        os.environ.update({"COMPOUND_DB": str(Path(folder) / "register.sqlite3"),
                           "COMPOUND_CATALOG": str(Path(folder) / "no-overlay")})
        os.environ.pop("COMPOUND_TODAY", None)  # register writes are dated by the real clock
        demo_register()
        for name, path in asyncio.run(capture(out)).items():
            print(f"{name}: {path}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
