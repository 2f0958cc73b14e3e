"""``render``: label content in, the bytes of a PDF, ZPL or CSV file out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from compound.errors import InputError, LabelRefused
from compound.labels import content as content_
from compound.labels.content import LabelContent, Lot, Prescription

if TYPE_CHECKING:
    from compound.labels.pharmacy import Pharmacy

FORMATS: Final = ("pdf", "zpl", "csv")


def render_contents(contents: Sequence[LabelContent], fmt: str, *, dpi: int = 203,
                    layout: str = "roll") -> bytes:
    """Labels already built (and numbered) as one file's bytes."""
    if fmt not in FORMATS:
        raise InputError(f"format {fmt!r}: use pdf, zpl or csv.", field="format")
    if not contents:
        raise LabelRefused("no labels to print.")
    if fmt == "csv":
        from compound.labels import table

        return table.render(contents)
    from compound.labels.layout import lay_out_all

    layouts = lay_out_all(contents)
    if fmt == "zpl":
        from compound.labels import zpl

        return zpl.render(layouts, dpi=dpi)
    from compound.labels import pdf

    return pdf.render(layouts, layout=layout)


def render(lot: Lot | LabelContent, fmt: str = "pdf", *, kind: str = "patient",
           rx: Any = None, patient: Any = None, prescriber: Any = None, directions: Any = (),
           copies: int = 1, dpi: int = 203, layout: str = "roll",
           pharmacy: Pharmacy | None = None, recorded: Mapping[str, Any] | None = None) -> bytes:
    """A lot's label (``copies`` of it, numbered "k of N") as PDF, ZPL or CSV bytes.

    ``lot`` is a :class:`compound.register.Lot` (``Register.get``) or content
    already built; ``recorded`` is the lot's prescription in the register
    (``Register.prescription_for_label``), used for the fields not given.
    Refuses (LabelRefused, RegisterError, InputError) rather than print a
    label that is wrong, incomplete or cut off.
    """
    if isinstance(lot, LabelContent):
        built = lot
    else:
        given = Prescription() if kind == "stock" else content_.prescription(
            rx, patient, prescriber, directions)
        built = content_.from_lot(lot, kind=kind, given=given, recorded=recorded, pharmacy=pharmacy)
    return render_contents(content_.copies_of(built, copies), fmt, dpi=dpi, layout=layout)
