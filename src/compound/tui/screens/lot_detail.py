"""One lot: what it is, its BUD and stability window, components, dispensings and audit
history; release, dispense (all or part, to an Rx) or destroy it, signed with initials (each a
register write in a worker)."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, ClassVar

from rich import box
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from compound.errors import CompoundError
from compound.tui import store
from compound.tui.screens.error import ErrorModal
from compound.tui.screens.sign import AS_OF, BY, REASON, RX, Ask, SignModal, in_words
from compound.tui.widgets.lots import window_used_text

if TYPE_CHECKING:
    from compound.register import Lot

ACTIONS = {"release": "Release", "dispense": "Dispense", "destroy": "Destroy"}


def days_left(days: int) -> str:
    if days < 0:
        return f"expired {-days} day{'s' if days != -1 else ''} ago"
    return "last day of use today" if days == 0 else f"{days} day{'s' if days != 1 else ''} left"


def format_amount(amount: float, unit: str) -> str:
    """As the register prints it (imported here, not at start-up: the register loads SQLAlchemy,
    which the app's first paint does not need)."""
    from compound.register.views import format_amount as register_format

    return register_format(amount, unit)


def show_quantity(amount: float, unit: str) -> str:
    """As the register prints a lot's quantity: ``60 capsules``, ``50 mL``."""
    from compound.register.prescriptions import show_quantity as register_show

    return register_show(amount, unit)


def quantity_asked(lot: Lot | None) -> Ask:
    """The dispense dialog's quantity, filled in with what is left of the lot (typed as
    ``compound lots dispense --quantity`` takes it: ``60``, ``50mL``)."""
    from compound.register.prescriptions import quantity_text

    left = quantity_text(lot.remaining, lot.quantity_unit) if lot else ""
    return Ask("quantity", "Quantity", "e.g. 30 or 50mL; empty = all that is left", default=left)


def describe(lot: Lot) -> Table:
    table = Table(box=None, show_header=False, pad_edge=False, expand=True, padding=(0, 2, 0, 0))
    table.add_column("what", style="bold", no_wrap=True)
    table.add_column("value", ratio=1, overflow="fold")
    status = Text(lot.status.upper(), style="bold red" if lot.status == "expired" else "bold")
    rows: list[tuple[str, str | Text]] = [
        ("Lot", lot.lot_number), ("Status", status), ("What", lot.description),
        ("Quantity", show_quantity(lot.quantity, lot.quantity_unit) + (
            f" made; {show_quantity(lot.remaining, lot.quantity_unit)} left"
            if lot.dispensings or lot.remaining != lot.quantity else "")),
        ("Compounded", f"{lot.compounded.isoformat()} by {lot.compounded_by}"
         + (f", checked by {lot.checked_by}" if lot.checked_by else "")),
        ("BUD", f"{lot.beyond_use_date.isoformat()} ({days_left(lot.days_left)}), stored {lot.storage}"),
        ("BUD limit", lot.bud_limit),
    ]
    if lot.stability_window_days:
        end = f" to {lot.stability_window_end.isoformat()}" if lot.stability_window_end else ""
        rows.append(("Stability", f"{lot.stability_window_days}-day window{end}, "
                     f"{window_used_text(lot.window_used)} used"))
    for what, value in rows:
        table.add_row(what, value)
    return table


def components(lot: Lot) -> Table:
    table = Table(title="Components", title_justify="left", box=box.SIMPLE_HEAD, expand=True,
                  pad_edge=False)
    for name, justify in (("Lot", "left"), ("What", "left"), ("Used", "right"), ("Expiry", "left")):
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for c in lot.components:
        table.add_row(c.lot_number, c.name, format_amount(c.amount, c.unit), c.expiry.isoformat())
    return table


def dispensings(lot: Lot) -> Table | str:
    if not lot.dispensings:
        return ""
    table = Table(title="Dispensed", title_justify="left", box=box.SIMPLE_HEAD, expand=True,
                  pad_edge=False)
    for name in ("Date", "Rx", "Fill", "Quantity", "By"):
        table.add_column(name, overflow="fold")
    for d in lot.dispensings:
        table.add_row(d.dispensed_on.isoformat(), d.rx_number or "(no Rx)",
                      str(d.fill) if d.fill else "", show_quantity(d.quantity, d.quantity_unit),
                      d.dispensed_by)
    return table


def history(lot: Lot) -> Table:
    table = Table(title="Audit history", title_justify="left", box=box.SIMPLE_HEAD, expand=True,
                  pad_edge=False)
    for name in ("When (UTC)", "By", "What", "Detail"):
        table.add_column(name, overflow="fold")
    for e in lot.history:
        detail = ", ".join(f"{k} {v}" for k, v in e.to_dict().items()
                           if k in ("date", "from", "to", "reason", "note"))
        if e.payload.get("as_of"):  # the time beside it is when it was really written
            detail += f"{', ' if detail else ''}entered late, as of {e.payload['as_of']}"
        table.add_row(e.at_utc[:16].replace("T", " "), e.actor, e.action.removeprefix("lot."), detail)
    return table


class LotDetailScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("r", "act('release')", "Release"),
        Binding("d", "act('dispense')", "Dispense"),
        Binding("x", "act('destroy')", "Destroy"),
        Binding("l", "label", "Label"),
    ]

    def __init__(self, lot_number: str) -> None:
        super().__init__()
        self.lot_number = lot_number
        self.lot: Lot | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="lot-detail"):
            yield Static(f"Reading lot {self.lot_number}…", id="lot-summary")
            yield Static(id="lot-components")
            yield Static(id="lot-dispensings")
            yield Static(id="lot-history")
        yield Footer()

    def on_mount(self) -> None:
        self._read()

    @work(thread=True, exclusive=True, group="lot")
    def _read(self) -> None:
        try:
            found = store.lot(self.lot_number)
        except CompoundError as exc:
            self.app.call_from_thread(self.app.push_screen, ErrorModal(exc))
            return
        self.app.call_from_thread(self._show, found)

    def _show(self, lot: Lot) -> None:
        self.lot = lot
        self.query_one("#lot-summary", Static).update(describe(lot))
        self.query_one("#lot-components", Static).update(components(lot))
        self.query_one("#lot-dispensings", Static).update(dispensings(lot))
        self.query_one("#lot-history", Static).update(history(lot))

    def action_label(self) -> None:
        from compound.tui.screens.labels import LabelsScreen

        self.app.push_screen(LabelsScreen(self.lot_number))

    def action_act(self, action: str) -> None:
        detail = f"{ACTIONS[action]} lot {self.lot_number}" + (
            f" ({self.lot.description}, {self.lot.status})" if self.lot else "")
        asks = ((quantity_asked(self.lot), RX, BY, REASON, AS_OF) if action == "dispense"
                else (BY, REASON, AS_OF))
        self.app.push_screen(SignModal(f"{ACTIONS[action]} lot", detail, asks,
                                       verb=ACTIONS[action]),
                             partial(self._signed, action, asks))

    def _signed(self, action: str, asks: tuple[Ask, ...], signed: dict[str, str] | None) -> None:
        if signed:
            self._move(action, signed, asks)

    @work(thread=True, exclusive=True, group="lot")
    def _move(self, action: str, signed: dict[str, str], asks: tuple[Ask, ...]) -> None:
        try:
            if action == "dispense":
                found = store.dispense(self.lot_number, by=signed["by"],
                                       quantity=signed["quantity"], rx=signed["rx"],
                                       reason=signed["reason"], as_of=signed["as_of"])
            else:
                found = store.move(action, self.lot_number, by=signed["by"],
                                   reason=signed.get("reason"), as_of=signed["as_of"])
        except CompoundError as exc:
            self.app.call_from_thread(self.app.push_screen, ErrorModal(exc, in_words(asks)))
            return
        self.app.call_from_thread(self._moved, found, action)

    def _moved(self, lot: Lot, action: str) -> None:
        self._show(lot)
        if action == "dispense" and lot.status == "released":
            last = lot.dispensings[-1]
            self.notify(f"Dispensed {show_quantity(last.quantity, last.quantity_unit)}; "
                        f"{show_quantity(lot.remaining, lot.quantity_unit)} left.",
                        title=ACTIONS[action])
            return
        self.notify(f"Lot {lot.lot_number} is now {lot.status}.", title=ACTIONS[action])
