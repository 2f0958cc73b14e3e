"""The pharmacy profile printed on every label: name, address, phone.

Read from ``pharmacy.toml`` in the user config directory (or the file named by
``COMPOUND_PHARMACY``)::

    name = "Example Compounding Pharmacy"
    address = "1 Main Street, Springfield, IL 62701"
    phone = "(555) 010-0100"

A patient label that leaves the pharmacy must carry the dispenser's name and
address (FD&C Act 503(b)(2)), so a missing profile refuses a patient label; a
stock label prints without one.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass

from compound import paths
from compound.errors import CatalogError, InputError

FIELDS = ("name", "address", "phone")


@dataclass(frozen=True)
class Pharmacy:
    name: str
    address: str
    phone: str

    def line(self) -> str:
        return f"{self.name} · {self.address} · {self.phone}"


def load() -> Pharmacy | None:
    """The profile, or None when there is no profile file."""
    path = paths.pharmacy_profile()
    if not path.is_file():
        return None
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{path} is not valid TOML: {exc}.") from None
    except OSError as exc:
        raise CatalogError(f"cannot read {path}: {exc.strerror}.") from None
    missing = [f for f in FIELDS if not isinstance(data.get(f), str) or not data[f].strip()]
    if missing:
        raise CatalogError(f"{path}: the pharmacy profile has no {', '.join(missing)}.",
                           hint='Write each as text, e.g. phone = "(555) 010-0100".')
    return Pharmacy(*(" ".join(data[f].split()) for f in FIELDS))


def require() -> Pharmacy:
    found = load()
    if found is None:
        raise InputError(
            f"no pharmacy profile ({paths.pharmacy_profile()}): a patient label must name the "
            "pharmacy, its address and phone.",
            hint='Create it with name = "…", address = "…", phone = "…" (or set COMPOUND_PHARMACY).',
            field="pharmacy")
    return found
