"""Dispensing part of a lot to a prescription from its page in the TUI (key d).

Today is 2025-03-10 (the ``clock`` fixture). A 90-capsule lot of 4.5 mg (HCl)
capsules, released; RX1 prescribes 30 capsules a fill with 1 refill. 90 − 30 = 60
left, and the lot stays released; 100 of the 90 is refused and nothing changes.
"""

from __future__ import annotations

from compound.register import Register
from compound.tui.app import CompoundApp
from compound.tui.screens.error import ErrorModal
from compound.tui.screens.lot_detail import LotDetailScreen
from compound.tui.screens.sign import SignModal
from test_tui_workflow import receive_tablets, settle, text

PLAN = {"kind": "capsules", "status": "ok", "inputs": {"strength": "4.5mg", "basis": "hcl"}}


def released_lot_and_rx(clock) -> str:
    clock.set("2025-03-10")
    receive_tablets()
    with Register.open() as register:
        number = register.record_lot(
            kind="capsules", description="Naltrexone HCl 4.5 mg capsules", quantity=90,
            quantity_unit="capsules", plan=PLAN, compounded="2025-03-10",
            beyond_use_date="2025-09-05", bud_limit="rule: nonaqueous-solid (180 days)",
            bud_source="USP <795> (2023) Table 4", stability_window_days=None, storage="room",
            compounded_by="AB", checked_by="CD", components=[("NTX2403", 9, "tablets")])
        register.release(number, by="CD")
        register.record_prescription(
            rx="RX1", patient_name="Zelda Quux", patient_dob="1970-01-02",
            prescriber="Dr A Smith", directions="Take 1 capsule at bedtime", strength="4.5mg",
            form="capsules", quantity=30, refills=1, recorded_by="AB")
    return number


async def open_dispense_dialog(pilot, number: str) -> SignModal:
    pilot.app.push_screen(LotDetailScreen(number))
    await settle(pilot)
    await pilot.press("d")
    await pilot.pause()
    dialog = pilot.app.screen
    assert isinstance(dialog, SignModal)
    return dialog


async def dispense(pilot, dialog: SignModal, quantity: str, rx: str = "") -> None:
    """Fill the dispense dialog (initials AB) and submit it."""
    dialog.query_one("#sign-quantity").value = quantity
    dialog.query_one("#sign-rx").value = rx
    dialog.query_one("#sign-by").value = "AB"
    await pilot.press("enter")
    await settle(pilot)


async def test_a_partial_dispense_to_an_rx_leaves_the_rest_released(clock):
    number = released_lot_and_rx(clock)
    app = CompoundApp()
    async with app.run_test(size=(120, 40)) as pilot:
        dialog = await open_dispense_dialog(pilot, number)
        assert dialog.values()["quantity"] == "90"  # what is left, filled in
        await dispense(pilot, dialog, "30", "RX1")
        assert isinstance(app.screen, LotDetailScreen)
        summary = text(app, "#lot-summary")
        assert "RELEASED" in summary and "90 capsules made; 60 capsules left" in summary
        dispensed = text(app, "#lot-dispensings")
        assert "RX1" in dispensed and "30 capsules" in dispensed
        await pilot.press("d")  # the next dispensing offers what is left
        await pilot.pause()
        assert app.screen.values()["quantity"] == "60"
    with Register.open() as register:
        lot = register.get(number)
    assert (lot.status, lot.remaining) == ("released", 60)
    assert [(d.rx_number, d.fill, d.quantity, d.dispensed_by) for d in lot.dispensings] == [
        ("RX1", 1, 30, "AB")]


async def test_dispensing_more_than_remains_is_refused_and_changes_nothing(clock):
    number = released_lot_and_rx(clock)
    app = CompoundApp()
    async with app.run_test(size=(120, 40)) as pilot:
        dialog = await open_dispense_dialog(pilot, number)
        await dispense(pilot, dialog, "100")
        assert isinstance(app.screen, ErrorModal)
        message = text(app, "#error-message")
        assert "90 capsules left" in message and "100 capsules" in message
        await pilot.press("enter")
        await pilot.pause()
        assert "RELEASED" in text(app, "#lot-summary")
        assert "made;" not in text(app, "#lot-summary")
    with Register.open() as register:
        lot = register.get(number)
    assert (lot.status, lot.remaining, lot.dispensings) == ("released", 90, [])


async def test_a_refusal_names_the_dialog_field_not_a_cli_flag(clock):
    number = released_lot_and_rx(clock)
    app = CompoundApp()
    async with app.run_test(size=(120, 40)) as pilot:
        dialog = await open_dispense_dialog(pilot, number)
        await dispense(pilot, dialog, "30mL")
        assert isinstance(app.screen, ErrorModal)
        message = text(app, "#error-message")
        assert message.startswith("“Quantity”:") and "--" not in message


async def test_an_unknown_rx_is_refused_with_the_command_that_records_it(clock):
    number = released_lot_and_rx(clock)
    app = CompoundApp()
    async with app.run_test(size=(120, 40)) as pilot:
        dialog = await open_dispense_dialog(pilot, number)
        await dispense(pilot, dialog, "30", "RX9")
        assert isinstance(app.screen, ErrorModal)
        assert "unknown prescription RX9" in text(app, "#error-message")
        assert "compound rx add" in text(app, "#error-hint")  # a shell command keeps its flags
    with Register.open() as register:
        assert register.get(number).remaining == 90
