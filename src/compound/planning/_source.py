"""What every plan shares: the drug source, salt basis, balance, and safety checks.

Written for liquids, drops and dilutions, and shaped so capsules can reuse it:
:func:`resolve_source` turns the source options (tablet or API, product,
tablet weight, API form, assay, water) into numbers with their sources and the
findings they raise; :func:`safety_findings` applies the dose band, unit-slip
and opioid rules; :func:`non_positive_findings` refuses zero or negative amounts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from compound.catalog import loader
from compound.catalog.loader import Row, number
from compound.core import units
from compound.core.dilution import Devices
from compound.core.findings import Finding, Severity
from compound.core.rounding import (
    format_concentration,
    format_mass,
    format_number,
    format_percent,
    format_volume,
    json_number,
    round_sig,
)
from compound.core.safety import classify_dose, dose_band_finding, opioid_finding
from compound.core.salts import api_to_weigh_mg, to_hcl_mg
from compound.core.working import Step
from compound.errors import InputError
from compound.planning import resolve

API_FORMS = {"anhydrous": "hcl", "dihydrate": "dihydrate", "base": "base"}
"""CLI spelling of the API form -> the api_form column of products.csv."""


def amount(value: Any, kind: units.Kind, field_name: str) -> float | None:
    """A user amount (text or pint quantity) in canonical units, or None if not given."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return units.coerce(value, kind, field=field_name)


def typed(value: Any) -> str | None:
    """The input as the user typed it, for the plan's ``inputs``."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip()
    return f"{value:~P}" if hasattr(value, "units") else str(value)


@dataclass(frozen=True)
class Source:
    """The starting material, resolved to numbers, with its findings and working."""

    kind: str
    product_key: str
    product_name: str
    product_source: str
    api_form: str
    tablet_strength_mg: float
    tablet_weight_mg: float
    assay: float
    water: float
    powder_per_hcl: float
    """API powder weighed per mg naltrexone HCl delivered (1 for tablets)."""
    content_low_pct: float
    content_high_pct: float
    salts: resolve.Salts
    balance: resolve.Balance
    findings: list[Finding] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)

    @property
    def from_tablets(self) -> bool:
        return self.kind == "tablet"

    @property
    def mwq_mg(self) -> float:
        return self.balance.mwq_mg


def _default_api_product(form: str) -> Row:
    wanted = API_FORMS[form]
    for row in loader.table("products"):
        if row.get("kind") == "api" and row.get("api_form") == wanted:
            return row
    raise InputError(f"the catalog has no API product of form {form!r}.",
                     hint="Give one with --product.", field="product")


def _fraction(value: Any, field_name: str) -> float | None:
    got = amount(value, "fraction", field_name)
    if got is None:
        return None
    if field_name == "assay" and not got > 0:
        raise InputError("the assay must be greater than 0 %.", hint="Type the CoA assay, e.g. 99.2%.",
                         field="assay")
    if field_name == "water" and not 0 <= got < 1:
        raise InputError("the water content must be from 0 % to below 100 %.",
                         hint="Type the CoA water, e.g. 8.71%.", field="water")
    return got


def _assay_findings(assay: float | None) -> list[Finding]:
    """The same assay checks as capsule plans: assumed, outside USP, implausible."""
    rule = resolve.rule("api_assay")
    if assay is None:
        return [Finding("ASSAY_ASSUMED", Severity.INFO,
                        "No CoA assay given: 100 % is assumed. Type --assay from the lot's "
                        "certificate of analysis.", {})]
    if assay * 100 > float(rule["max_plausible_pct"]):
        return [Finding("ASSAY_IMPLAUSIBLE", Severity.REFUSAL,
                        f"An assay of {format_percent(assay)} is not a plausible CoA figure: check the "
                        "certificate (did you mean e.g. 99.2% rather than 992%?).",
                        {"source": rule["source"]})]
    if not float(rule["low_pct"]) <= assay * 100 <= float(rule["high_pct"]):
        return [Finding("ASSAY_OUTSIDE_USP", Severity.WARNING,
                        f"The assay {format_percent(assay)} is outside the USP range for naltrexone "
                        "hydrochloride (98.0–102.0 %, anhydrous basis): check the certificate and "
                        "the grade.", {"source": rule["source"]})]
    return []


def check_tablet_weight(weight_mg: float | None, strength_mg: float) -> None:
    """A tablet cannot weigh less than the drug it contains: a typo or a wrong unit."""
    if weight_mg is not None and not weight_mg > strength_mg:
        raise InputError(
            f"tablet_weight: a {format_mass(strength_mg)} tablet cannot weigh {format_mass(weight_mg)}.",
            hint="Type the measured average weight of one whole tablet (weigh 20 tablets together, "
                 "divide by 20), e.g. 200mg.",
            field="tablet_weight")


def resolve_source(source: str, *, product: str | None = None, tablet_weight: Any = None,
                   api_form: str = "anhydrous", assay: Any = None, water: Any = None,
                   balance: str | None = None, balance_sensitivity: Any = None,
                   default_tablet_product: str | None = None) -> Source:
    """Resolve the source options to numbers; raise InputError for a contradiction."""
    if source not in ("tablet", "api"):
        raise InputError(f"source {source!r} is not known.", hint="Use --source tablet or --source api.",
                         field="source")
    if api_form not in API_FORMS:
        raise InputError(f"API form {api_form!r} is not known.",
                         hint="Use anhydrous, dihydrate or base.", field="api_form")
    sensitivity = amount(balance_sensitivity, "mass", "balance_sensitivity")
    scale = resolve.balance(balance, sensitivity)
    salts = resolve.salts()
    weight = amount(tablet_weight, "mass", "tablet_weight")
    assay_f = _fraction(assay, "assay")
    water_f = _fraction(water, "water")
    findings: list[Finding] = []
    steps: list[Step] = []

    if product:
        row = resolve.product(product.strip())
        if row.get("kind") != source:
            raise InputError(f"product {row['key']!r} is {row.get('kind')!r}, not {source!r}.",
                             hint=f"Use --source {row.get('kind')} or another --product.",
                             field="product")
    elif source == "tablet":
        row = resolve.product(default_tablet_product
                              or str(resolve.rule("liquid")["default_tablet_product"]))
    else:
        row = _default_api_product(api_form)

    if source == "tablet":
        if assay_f is not None or water_f is not None:
            raise InputError("--assay and --water describe API powder, not tablets.",
                             hint="Leave them out with --source tablet, or use --source api.",
                             field="assay")
        if api_form != "anhydrous":
            raise InputError(f"--api-form {api_form} describes API powder, not tablets.",
                             hint="Leave it out with --source tablet, or use --source api.",
                             field="api_form")
        strength = number(row, "strength_mg", table_name="products")
        check_tablet_weight(weight, strength)
        low = number(row, "content_tolerance_low_pct", table_name="products")
        high = number(row, "content_tolerance_high_pct", table_name="products")
        findings.append(Finding(
            "TABLET_CONTENT_TOLERANCE", Severity.INFO,
            f"Made from tablets: the preparation inherits the tablets' content range "
            f"({format_number(low)}–{format_number(high)} % of label).",
            {"source": row["source"]}))
        return Source("tablet", row["key"], row.get("name", row["key"]), row["source"], "hcl",
                      strength, math.nan if weight is None else weight, 1.0, 0.0, 1.0, low, high,
                      salts, scale, findings, steps)

    if weight is not None:
        raise InputError("--tablet-weight describes tablets, not API powder.",
                         hint="Leave it out with --source api, or use --source tablet.",
                         field="tablet_weight")
    form_in_catalog = row.get("api_form", "hcl")
    form = next(k for k, v in API_FORMS.items() if v == form_in_catalog)
    if product and api_form != "anhydrous" and api_form != form:
        raise InputError(f"product {row['key']!r} is the {form} form, not {api_form}.",
                         hint="Leave out --api-form when you name the product.", field="api_form")
    hydrate = resolve.rule("hydrate")
    if water_f is None:
        water_f = salts.dihydrate_water if form == "dihydrate" else 0.0
        water_note = "theoretical water of the dihydrate" if form == "dihydrate" else "none given"
        if form == "dihydrate":
            findings.append(Finding(
                "DIHYDRATE_WATER_ASSUMED", Severity.INFO,
                f"No CoA water given: the dihydrate's theoretical water "
                f"{format_percent(salts.dihydrate_water)} is used (molecules.csv). Type --water "
                "from the CoA for the lot's value.", {"source": salts.source_dihydrate}))
    else:
        water_note = "CoA"
    findings += _assay_findings(assay_f)
    assay_note = "CoA" if assay_f is not None else "none given, assumed"
    assay_f = 1.0 if assay_f is None else assay_f
    if form == "anhydrous" and water_f >= float(hydrate["mismatch_water_fraction"]):
        findings.append(Finding(
            "HYDRATE_MISMATCH", Severity.WARNING,
            f"The CoA water ({format_percent(water_f)}) is high for an API declared anhydrous: it "
            f"looks like the dihydrate (theoretical water {format_percent(salts.dihydrate_water)}). "
            "The water is corrected for here (assay × (1 − water)); check the label and CoA, and "
            "plan with --api-form dihydrate if it is the dihydrate.",
            {"water": water_f, "source": hydrate["source"]}))
    if form == "dihydrate" and abs(water_f - salts.dihydrate_water) > float(
            hydrate["dihydrate_water_tolerance"]):
        findings.append(Finding(
            "DIHYDRATE_WATER_OFF", Severity.WARNING,
            f"The CoA water ({format_percent(water_f)}) is far from the dihydrate's theoretical "
            f"{format_percent(salts.dihydrate_water)}: check the form and the certificate (the CoA "
            "value is used).", {"water": water_f, "source": hydrate["source"]}))
    per_hcl = float(api_to_weigh_mg(1.0, form == "base", assay_f, water_f, salts.mw_hcl,
                                    salts.mw_base))
    molar = f"MW base / MW HCl = {format_number(salts.mw_base)} / {format_number(salts.mw_hcl)}; " \
        if form == "base" else ""
    steps.append(Step(
        key="powder_per_hcl", label="API powder per mg naltrexone HCl",
        formula=("MW(base)/MW(HCl) ÷ (assay × (1 − water))" if form == "base"
                 else "1 ÷ (assay × (1 − water))"),
        inputs={"API": row.get("name", row["key"]), "assay": f"{format_percent(assay_f)} ({assay_note})",
                "water": f"{format_percent(water_f)} ({water_note})"},
        result=f"{format_number(per_hcl)} mg per mg", value=json_number(per_hcl),
        source=f"{molar}core/salts.py (USP assay on the anhydrous basis); {row['source']}",
    ))
    return Source("api", row["key"], row.get("name", row["key"]), row["source"], form, math.nan,
                  math.nan, assay_f, water_f, per_hcl, math.nan, math.nan, salts, scale, findings,
                  steps)


def to_hcl(amount_mg: float, basis: str, salts: resolve.Salts) -> float:
    """An amount (or concentration) on the prescription's basis as naltrexone HCl."""
    if basis not in ("hcl", "base"):
        raise InputError(f"basis {basis!r} is not known.", hint="Use --basis hcl or --basis base.",
                         field="basis")
    return float(to_hcl_mg(amount_mg, basis == "base", salts.mw_hcl, salts.mw_base))


def basis_step(key: str, label: str, value: float, basis: str, salts: resolve.Salts,
               unit: str) -> Step | None:
    """The base -> HCl conversion step, when the prescription is written as base."""
    if basis != "base":
        return None
    hcl = to_hcl(value, basis, salts)
    return Step(key=key, label=label, formula="amount as base × MW(HCl) / MW(base)",
                inputs={"as base": f"{format_number(value)} {unit}",
                        "MW(HCl)": f"{format_number(salts.mw_hcl)} g/mol",
                        "MW(base)": f"{format_number(salts.mw_base)} g/mol"},
                result=f"{format_number(hcl)} {unit}", value=hcl,
                source=f"molecules.csv: {salts.source_hcl}; {salts.source_base}")


def rounded(findings: list[Finding]) -> list[Finding]:
    """Findings with their numeric data rounded by the output rule (no float noise in JSON)."""
    def fix(value: Any) -> Any:
        if isinstance(value, float):
            return json_number(value)
        return value

    return [Finding(f.code, f.severity, f.message, {k: fix(v) for k, v in f.data.items()})
            for f in findings]


def non_positive_findings(values: dict[str, float | None]) -> list[Finding]:
    """A refusal for each given amount that is zero or negative."""
    out = []
    for name, value in values.items():
        if value is not None and not value > 0:
            out.append(Finding("NON_POSITIVE_INPUT", Severity.REFUSAL,
                               f"The {name.replace('_', ' ')} must be greater than zero.",
                               {"input": name}))
    return out


def base_basis_finding(amounts: list[tuple[str, float | None, str]], basis: str,
                       salts: resolve.Salts) -> list[Finding]:
    """A prescription written as naltrexone base: each amount beside its HCl equivalent.

    ``amounts`` are ``(what, value as base, "mg" | "mg/mL" | "mg/drop")``. LDN doses are
    usually meant as the HCl (domain.md 1.1), so the pharmacist confirms the base reading:
    1.5 mg base × 377.86 / 341.41 = 1.66 mg HCl (+10.68 %).
    """
    if basis != "base":
        return []
    shown = [(what, value, unit) for what, value, unit in amounts if value is not None and value > 0]
    if not shown:
        return []
    factor = to_hcl(1.0, basis, salts)
    parts = [f"{what} {_amount(value, unit)} base = {_amount(value * factor, unit)} naltrexone HCl"
             for what, value, unit in shown]
    _, value, unit = shown[-1]  # the dose when given: the data of the amount that matters most
    return [Finding(
        "BASIS_BASE", Severity.WARNING,
        f"Written as naltrexone base: {'; '.join(parts)} (+{format_percent(factor - 1)}), and the HCl "
        "amount is what is weighed. LDN doses are usually written as the HCl: if the prescriber "
        "meant naltrexone HCl, plan with --basis hcl.",
        {"as_base": json_number(value), "as_hcl": json_number(value * factor), "unit": unit,
         "difference_pct": json_number((factor - 1) * 100),
         "source": f"molecules.csv: {salts.source_hcl}; {salts.source_base}; domain.md 1.1"})]


def _amount(value: float, unit: str) -> str:
    if unit == "mg/mL":
        return format_concentration(value)
    return format_mass(value) + ("/drop" if unit == "mg/drop" else "")


def _litres(ml: float) -> str:
    """``63000 mL (63 L)``: a large volume also in litres, so its size reads at a glance."""
    return format_volume(ml) + (f" ({format_number(ml / 1000)} L)" if ml >= 1000 else "")


def batch_limit_findings(*, volume_ml: float | None = None, count: float | None = None,
                         how: str = "") -> list[Finding]:
    """A refusal when a batch is larger than the pharmacy's maximum (rules.toml [batch_limits]).

    ``how`` says where the figure came from (``4.5 mg ÷ 1 mcg/mL × 14 days``).
    """
    limits = resolve.rule("batch_limits")
    out = []
    for value, most, what in ((volume_ml, float(limits["max_volume_ml"]), "volume"),
                              (count, float(limits["max_capsules"]), "capsule count")):
        if value is None or not value > most:
            continue
        shown = _litres(value) if what == "volume" else f"{format_number(value)} capsules"
        limit = _litres(most) if what == "volume" else f"{format_number(most)} capsules"
        out.append(Finding(
            "BATCH_TOO_LARGE", Severity.REFUSAL,
            f"The {what} {shown}{f' ({how})' if how else ''} is more than the largest batch this "
            f"pharmacy makes, {limit} (pharmacy policy, rules.toml [batch_limits]). Check the "
            "figures and their units; split a larger order into batches.",
            {"value": value, "limit": most, "source": limits["source"]}))
    return out


def safety_findings(dose_hcl_mg: float | None, *, opioid_use: bool = False,
                    override_opioid: str | None = None, small_slip: bool = True) -> list[Finding]:
    """Dose band, unit slip and opioid findings for one daily dose of naltrexone HCl.

    ``small_slip`` also warns when the dose is 1000 × below a usual LDN dose
    (4.5 mcg for 4.5 mg); the microgram planner turns it off.
    """
    findings: list[Finding] = []
    if dose_hcl_mg is not None:
        bands = resolve.dose_bands()
        index = int(classify_dose(dose_hcl_mg, bands))
        if index >= 0:
            findings.append(dose_band_finding(dose_hcl_mg, bands[index]))
        usual = next(b for b in bands if b.key == "ldn")
        # 12 significant figures: "4.5mcg" parses to 0.0045000000000000005, and × 1000 must
        # still land on the 4.5 mg band edge.
        big = bool(usual.contains(round_sig(dose_hcl_mg / 1000.0, 12)))
        small = bool(usual.contains(round_sig(dose_hcl_mg * 1000.0, 12)))
        # The same rule as core.safety.unit_slip_suspected, on rounded values.
        if dose_hcl_mg > 0 and (big or (small and small_slip)):
            meant = format_mass(dose_hcl_mg / 1000.0 if big else dose_hcl_mg * 1000.0)
            findings.append(Finding(
                "UNIT_SLIP_SUSPECTED", Severity.WARNING,
                f"A dose of {format_mass(dose_hcl_mg)} is 1000 × {'above' if big else 'below'} "
                f"a usual LDN dose: was {meant} meant? Check the unit (mg, mcg, g).",
                {"dose_mg": dose_hcl_mg, "source": "ISMP Canada Bulletin 23(10), 2023 "
                 "(mcg/mg/g slips); dose_bands.csv"}))
    if opioid_use or (override_opioid and override_opioid.strip()):
        findings.append(opioid_finding(override_opioid))
    return findings


@dataclass(frozen=True)
class Component:
    key: str
    name: str
    amount_mg: float
    amount_ml: float
    qs: bool
    role: str
    source: str


@dataclass(frozen=True)
class Vehicle:
    """A liquid vehicle and its components per ``per_volume_ml`` (vehicles.csv)."""

    key: str
    name: str
    per_volume_ml: float
    bud_category: str
    method: str
    source: str
    components: tuple[Component, ...]

    @property
    def liquid_fraction(self) -> float:
        """Fraction of the volume taken by measured liquids that are not the qs liquid."""
        ml = sum(c.amount_ml for c in self.components if not math.isnan(c.amount_ml))
        return ml / self.per_volume_ml


def vehicle(key: str | None) -> Vehicle:
    """A vehicle by key (default from rules [liquid]) with its components in order."""
    wanted = (key or str(resolve.rule("liquid")["default_vehicle"])).strip().lower()
    row = loader.lookup("vehicles", wanted, what="vehicle")
    parts = []
    for c in loader.table("vehicle_components"):
        if c.get("vehicle") != row["key"]:
            continue
        mg = number(c, "amount_mg", table_name="vehicle_components") if c.get("amount_mg") else math.nan
        ml = number(c, "amount_ml", table_name="vehicle_components") if c.get("amount_ml") else math.nan
        qs = c.get("qs") == "1"
        if qs + (not math.isnan(mg)) + (not math.isnan(ml)) != 1:
            from compound.errors import CatalogError

            raise CatalogError(f"vehicle_components.csv, row {c['key']!r}: give exactly one of "
                               "amount_mg, amount_ml or qs = 1.")
        parts.append(Component(c["key"], c.get("name", c["key"]), mg, ml, qs, c.get("role", ""),
                               c["source"]))
    return Vehicle(row["key"], row.get("name", row["key"]),
                   number(row, "per_volume_ml", table_name="vehicles"), row.get("bud_category", ""),
                   row.get("method", ""), row["source"], tuple(parts))


def measuring_devices(*, for_dose: bool) -> tuple[list[Row], Devices]:
    """Measuring devices (all, or those given to patients), as rows and as core tuples."""
    rows = [r for r in loader.table("measuring_devices") if not for_dose or r.get("for_dose") == "1"]
    if not rows:
        from compound.errors import CatalogError

        raise CatalogError("measuring_devices.csv lists no device" +
                           (" for measuring doses (for_dose = 1)." if for_dose else "."))

    def low(r: Row) -> float:
        if r.get("min_volume_ml"):
            return number(r, "min_volume_ml", table_name="measuring_devices")
        return number(r, "graduation_ml", table_name="measuring_devices")

    return rows, Devices(
        tuple(number(r, "capacity_ml", table_name="measuring_devices") for r in rows),
        tuple(number(r, "graduation_ml", table_name="measuring_devices") for r in rows),
        tuple(low(r) for r in rows),
    )
