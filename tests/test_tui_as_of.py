"""Late entries from the TUI: "As of" and "Reason" in the sign dialog date a register write as
``--as-of DATE --reason TEXT`` does on the command line.

The real clock reads 2025-03-10 12:00 UTC (conftest). A lot saved, released and dispensed
"as of" 2025-03-08 keeps that date in its audit events, beside the real time (2025-03-10T12:00)
and the reason; an as-of date without a reason, or after today, is refused with the CLI's
message in the dialog's words, and nothing is written.
"""

from __future__ import annotations

from compound.register import Register
from compound.tui.app import CompoundApp
from compound.tui.screens.error import ErrorModal
from compound.tui.screens.lot_detail import LotDetailScreen
from compound.tui.screens.sign import SignModal
from test_tui_dispense import released_lot_and_rx
from test_tui_workflow import receive_tablets, set_values, settle, text

LATE = "paper log, entered two days late"


def late_events(number: str) -> list[tuple[str, str, str, str, str]]:
    """(action, as_of, reason, real date, real UTC time) of the lot's late entries."""
    with Register.open() as register:
        return [(e.action, e.payload["as_of"], e.payload["as_of_reason"], e.payload["real_date"],
                 e.at_utc[:16]) for e in register.events(number) if e.payload.get("as_of")]


async def sign(pilot, **values: str) -> None:
    dialog = pilot.app.screen
    assert isinstance(dialog, SignModal)
    for name, value in values.items():
        dialog.query_one(f"#sign-{name}").value = value
    await pilot.press("enter")
    await settle(pilot)


async def test_a_lot_saved_from_formulate_as_of_a_past_day_keeps_both_dates():
    receive_tablets()
    app = CompoundApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await set_values(pilot, strength="4.5mg", count="30", tablet_weight="200mg",
                         fill_weight="100mg", compounded="2025-03-08", ingredient_lots="NTX2403")
        app.screen.query_one("#capsules-strength").focus()
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await pilot.pause()
        await sign(pilot, by="AB", as_of="2025-03-08", reason=LATE)
        assert not isinstance(app.screen, ErrorModal)
    number = "LDN-20250308-0001"  # numbered by the day it was made, as the CLI numbers it
    assert late_events(number) == [("lot.record", "2025-03-08", LATE, "2025-03-10",
                                    "2025-03-10T12:00")]


async def test_release_and_dispense_as_of_a_past_day_record_it_beside_the_real_time(clock):
    number = released_lot_and_rx(clock)  # released on the 10th
    clock.set("2025-03-12")  # entered two days later
    app = CompoundApp()
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(LotDetailScreen(number))
        await settle(pilot)
        await pilot.press("d")
        await pilot.pause()
        await sign(pilot, quantity="30", rx="RX1", by="AB", as_of="2025-03-10", reason=LATE)
        assert isinstance(app.screen, LotDetailScreen)
        assert "entered late, as of 2025-03-10" in " ".join(text(app, "#lot-history").split())
    (event,) = late_events(number)
    assert event == ("lot.dispense", "2025-03-10", LATE, "2025-03-12", "2025-03-12T12:00")
    with Register.open() as register:
        (dispensed,) = register.get(number).dispensings
    assert (dispensed.dispensed_on.isoformat(), dispensed.quantity) == ("2025-03-10", 30)


async def test_a_late_release_without_a_reason_or_in_the_future_is_refused_as_the_cli_refuses(
        cli):
    receive_tablets()
    with Register.open() as register:  # in quarantine
        fresh = register.record_lot(
            kind="capsules", description="Naltrexone HCl 4.5 mg capsules", quantity=30,
            quantity_unit="capsules", plan={"kind": "capsules"}, compounded="2025-03-08",
            beyond_use_date="2025-09-03", bud_limit="rule: nonaqueous-solid (180 days)",
            bud_source="USP <795> (2023) Table 4", stability_window_days=None, storage="room",
            compounded_by="AB", checked_by=None, components=[("NTX2403", 3, "tablets")])
    _, _, no_reason = cli("lots", "release", fresh, "--by", "CD", "--as-of", "2025-03-09")
    _, _, future = cli("lots", "release", fresh, "--by", "CD", "--as-of", "2025-03-11",
                       "--reason", LATE)
    app = CompoundApp()
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(LotDetailScreen(fresh))
        await settle(pilot)
        for as_of, reason, cli_error in (("2025-03-09", "", no_reason),
                                         ("2025-03-11", LATE, future)):
            await pilot.press("r")
            await pilot.pause()
            await sign(pilot, by="CD", as_of=as_of, reason=reason)
            assert isinstance(app.screen, ErrorModal)
            shown = " ".join(text(app, "#error-message").split()).replace("“As of”", "as_of")
            assert shown in " ".join(cli_error.split())  # the CLI's words, the field named
            await pilot.press("enter")
            await pilot.pause()
        await pilot.press("r")
        await pilot.pause()
        await sign(pilot, by="CD", as_of="2025-03-09", reason=LATE)
        assert "RELEASED" in text(app, "#lot-summary")
    assert late_events(fresh) == [("lot.release", "2025-03-09", LATE, "2025-03-10",
                                   "2025-03-10T12:00")]
