"""Dose bands and the safety rules every plan applies, vectorised.

The bands themselves are data (``data/dose_bands.csv``); this module only
classifies. :func:`classify_dose` returns, for each dose, the index of the band
it falls in, so a batch run classifies a million doses in one call and a
single plan uses the same function on a scalar.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from compound.core import elementwise as ew
from compound.core.findings import Finding, Severity


@dataclass(frozen=True, slots=True)
class DoseBand:
    key: str
    name: str
    lower_mg: float | None
    lower_inclusive: bool
    upper_mg: float | None
    upper_inclusive: bool
    severity: Severity
    message: str
    source: str

    def contains(self, dose_mg: npt.ArrayLike) -> Any:
        """Whether each dose is in the band: a bool for a float, else a bool array."""
        d = ew.as_float(dose_mg)
        ok = True if ew.is_scalar(d) else np.ones(d.shape, dtype=bool)
        if self.lower_mg is not None:
            ok &= (d >= self.lower_mg) if self.lower_inclusive else (d > self.lower_mg)
        if self.upper_mg is not None:
            ok &= (d <= self.upper_mg) if self.upper_inclusive else (d < self.upper_mg)
        return ok


def classify_dose(dose_mg: npt.ArrayLike, bands: Sequence[DoseBand]) -> Any:
    """Index into ``bands`` for each dose; −1 where no band applies (NaN). An int for a float."""
    d = ew.as_float(dose_mg)
    if ew.is_scalar(d):
        return next((i for i, band in enumerate(bands) if band.contains(d)), -1)
    # The last band first, each overwritten by the bands before it: the first band that holds
    # a dose wins, as in the float path, with a mask and an in-place fill a band.
    out = np.full(d.shape, -1, dtype=np.int64)
    for i in range(len(bands) - 1, -1, -1):
        np.putmask(out, bands[i].contains(d), i)
    return out


def unit_slip_suspected(dose_mg: npt.ArrayLike, bands: Sequence[DoseBand],
                        usual_key: str = "ldn") -> Any:
    """True where the dose is 1000× off a usual LDN dose (``4.5 g`` for 4.5 mg).

    Notes
    -----
    The mcg/mg and mg/g slips are the most common compounding calculation
    errors (ISMP Canada Bulletin 23(10), 2023: clonidine).
    """
    d = ew.as_float(dose_mg)
    usual = next(b for b in bands if b.key == usual_key)
    return usual.contains(d / 1000.0) | usual.contains(d * 1000.0)


def dose_band_finding(dose_mg: float, band: DoseBand, *, what: str = "dose") -> Finding:
    """The finding for one dose in its band."""
    from compound.core.rounding import format_mass

    code = "DOSE_BAND_" + band.key.upper().replace("-", "_")
    return Finding(code, band.severity, f"{what.capitalize()} {format_mass(dose_mg)}: {band.message}",
                   {"band": band.key, "dose_mg": float(dose_mg), "source": band.source})


def opioid_finding(override_reason: str | None) -> Finding:
    """Opioid use on the prescription: a refusal unless the pharmacist overrides.

    Notes
    -----
    Naltrexone blocks opioids and can precipitate withdrawal; labels
    contraindicate use with opioid analgesics and require 7–10 days opioid-free
    (Mallinckrodt label summary; domain.md §5.2). An override needs a stated
    reason, which is recorded with the plan.
    """
    source = "Naltrexone labeling (contraindicated with opioids; 7-10 days opioid-free); domain.md 5.2"
    if override_reason and override_reason.strip():
        return Finding(
            "OPIOID_USE_OVERRIDDEN", Severity.WARNING,
            "Opioid use on the prescription: naltrexone blocks opioids and can precipitate "
            f"withdrawal. Overridden by the pharmacist: {override_reason.strip()}",
            {"override_reason": override_reason.strip(), "source": source},
        )
    return Finding(
        "OPIOID_USE", Severity.REFUSAL,
        "Opioid use on the prescription: naltrexone blocks opioids and can precipitate withdrawal. "
        "Do not compound unless the prescriber confirms; to override, give the reason "
        "(--override-opioid 'reason').",
        {"source": source},
    )
