"""Dispensing options for a titration course, compared side by side.

* ``single-strength``: one capsule strength, several capsules per dose (the
  greatest strength that makes every dose whole, or the one given);
* ``strength-per-step``: one strength per dose, one capsule a day;
* ``two-strength-kit``: a small and a large strength combined (the starter-kit
  pattern, prior-art T5);
* ``liquid``: one concentration, split into preparations none of which is used
  past its beyond-use date (:func:`compound.planning.stability.assign_bud`).

Each option is a JSON-ready dict with its own findings and status; a refused
option withholds its counts, volumes and directions.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from compound.catalog import loader
from compound.core import titration as core
from compound.core import units
from compound.core.findings import Finding, Severity, status
from compound.core.rounding import (
    ceil_count,
    format_concentration,
    format_mass,
    format_number,
    format_volume,
    json_number,
)
from compound.core.working import Step, Working
from compound.errors import CatalogError, InputError
from compound.planning.base import Plan

_DATA = "titration_protocols"


@dataclass
class Course:
    """A course as step arrays: daily dose [mg], length [days], kind (core.LADDER, ...)."""

    start: dt.date
    dose: np.ndarray
    days: np.ndarray
    kind: np.ndarray

    def __post_init__(self) -> None:
        self.update(self.dose, self.days, self.kind)

    def update(self, dose: np.ndarray, days: np.ndarray, kind: np.ndarray) -> None:
        """Replace the steps; doses off a whole nanogram by float noise are snapped to it."""
        self.dose = core.snap_to_nanograms(dose)
        self.days = np.asarray(days, dtype=np.int64)
        self.kind = np.asarray(kind, dtype=np.int64)

    @property
    def daily(self) -> np.ndarray:
        return core.daily_doses(self.dose, self.days)

    @property
    def n_days(self) -> int:
        return int(self.days.sum())

    def date(self, day_index: int) -> dt.date:
        return self.start + dt.timedelta(days=int(day_index))

    def runs(self) -> list[tuple[int, int, float]]:
        """(first, last, dose) of each run of days at one dose (0-based, inclusive)."""
        d = self.daily
        edges = np.flatnonzero(np.diff(d) != 0) + 1
        firsts = np.concatenate([[0], edges])
        lasts = np.concatenate([edges - 1, [d.size - 1]])
        return [(int(a), int(b), float(d[a])) for a, b in zip(firsts, lasts, strict=True)]


def when(course: Course, first: int, last: int) -> str:
    """``Days 1–7 (2 Jun – 8 Jun 2025)`` for 0-based day indexes."""
    return (f"{core.format_day_numbers(first + 1, last + 1)} "
            f"({core.format_date_range(course.date(first), course.date(last))})")


def whole_days(value: Any, field: str, *, allow_zero: bool = False) -> int:
    days = units.coerce(value, "duration", field=field)
    low = 0 if allow_zero else 1
    if days < low or abs(days - round(days)) > 1e-9:
        raise InputError(f"{field}: {format_number(days)} days is not a whole number of days"
                         f"{' (0 or more)' if allow_zero else ' (1 or more)'}.",
                         hint="Type whole days, e.g. 28d or 4 weeks.", field=field)
    return round(days)


def settings(section: str) -> dict[str, Any]:
    value = loader.rules(_DATA).get("settings", {}).get(section)
    if not isinstance(value, dict) or not value.get("source"):
        raise CatalogError(f"titration_protocols.toml has no [settings.{section}] with a source.")
    return value


# ----------------------------------------------------------------------------- options


def _option(name: str, title: str, findings: list[Finding], body: dict[str, Any]) -> dict[str, Any]:
    """An option as JSON: a refused option keeps its findings and withholds its amounts."""
    for part in [*body.get("units", []), *body.get("preparations", [])]:
        if part.get("plan_status") in ("refused", "error"):
            findings = [*findings, Finding(
                "PREPARATION_PLAN_REFUSED", Severity.WARNING,
                f"'{part['plan_command']}' is refused by its own plan "
                f"({', '.join(part['plan_warnings'])}): run it to see why before dispensing this option.",
                {"plan_command": part["plan_command"]})]
    out: dict[str, Any] = {"name": name, "title": title, "status": status(findings)}
    if out["status"] != "refused":
        out.update(body)
    out["findings"] = [f.to_dict() for f in sorted(findings, key=lambda f: -f.severity)]
    return out


def _lines(course: Course, say: Any, first: int = 0, last: int | None = None) -> list[str]:
    """Directions for days ``first``–``last``: one line per run of one dose."""
    last = course.n_days - 1 if last is None else last
    out = []
    for a, b, dose in course.runs():
        a, b = max(a, first), min(b, last)
        if a <= b:
            out.append(f"{when(course, a, b)}: take {say(dose)}")
    return out


def _capsule_words(parts: Sequence[tuple[int, float]], dose: float, *, show_strength: bool) -> str:
    """``2 capsules (3 mg)`` or ``2 capsules of 1.5 mg and 1 capsule of 0.5 mg (3.5 mg)``."""
    def one(n: int, s: float) -> str:
        noun = "capsule" if n == 1 else "capsules"
        return f"{n} {noun} of {format_mass(s)}" if show_strength else f"{n} {noun}"

    return " and ".join(one(n, s) for n, s in parts if n) + f" ({format_mass(dose)})"


def _doses_and_days(course: Course) -> tuple[np.ndarray, np.ndarray]:
    dose, days = np.unique(course.daily, return_counts=True)
    return dose, days.astype(np.int64)


def _capsule_overage(overage: str | None, count: int) -> int:
    if not overage:
        return 0
    extra, fraction = units.parse_overage(overage)
    if extra < 0 or fraction < 0:
        raise InputError("the overage cannot be negative.", hint="Type e.g. 1 or 5%.", field="overage")
    if extra:
        return extra
    return int(ceil_count(count * (1 + fraction))) - count


def _plan_check(kind: str, strength: float, amount: float, vehicle: str | None = None) -> dict[str, Any]:
    """Run the preparation's own plan with its defaults: its status and warning codes.

    The titration says how much of what; the plan (tablets or API, filler,
    trituration, whole tablets) is the pharmacist's next step, run with their
    tablet weight or API details (``plan_command``).
    """
    from compound.errors import CompoundError

    try:
        if kind == "capsules":
            from compound.planning.capsules import plan_capsules

            plan: Plan = plan_capsules(units.Parsed.of(strength, "mass", "mg"), int(amount))
        else:
            from compound.planning.liquid import plan_liquid

            plan = plan_liquid(units.Parsed.of(strength, "concentration", "mg/mL"),
                               volume=units.Parsed.of(amount, "volume", "mL"), vehicle=vehicle)
    except CompoundError as exc:
        return {"plan_status": "error", "plan_warnings": [str(exc)]}
    return {"plan_status": plan.status,
            "plan_warnings": [f.code for f in plan.findings if f.severity >= Severity.WARNING]}


def _unit(strength: float, count: int, overage: str | None) -> dict[str, Any]:
    extra = _capsule_overage(overage, count)
    out: dict[str, Any] = {"strength_mg": json_number(strength), "count": count}
    if overage:
        out["overage_count"] = extra
        out["count_to_prepare"] = count + extra
    out["plan_command"] = (f"compound plan capsules --strength {format_number(strength)}mg "
                           f"--count {count + extra}")
    out.update(_plan_check("capsules", strength, count + extra))
    return out


def _capsule_bud(course: Course) -> tuple[list[Finding], str | None]:
    from compound.planning.stability import assign_bud
    from compound.planning.stability.supply import longer_than_bud, window_from_bud

    category = str(settings("capsules")["bud_category"])
    bud = assign_bud(category, course.start)
    if bud.refused or bud.beyond_use_date is None:
        return [f for f in bud.findings if f.severity is Severity.REFUSAL], None
    end = course.date(course.n_days - 1)
    window = window_from_bud(
        course.start, bud.beyond_use_date,
        f"the BUD of capsules compounded on {core.format_day(course.start)} "
        f"({core.format_day(bud.beyond_use_date)}, {category})",
        bud.limit.source if bud.limit else "")
    longer = longer_than_bud("COURSE_LONGER_THAN_BUD", course.n_days, window,
                             lead=f"The course ends {core.format_day(end)}", noun="fills")
    found = [] if longer is None else [longer]
    return found, bud.beyond_use_date.isoformat()


def _many_units(per_dose: np.ndarray, dose: np.ndarray, limit: int) -> list[Finding]:
    worst = int(np.max(per_dose))
    if worst <= limit:
        return []
    at = format_mass(float(dose[int(np.argmax(per_dose))]))
    return [Finding("MANY_UNITS_PER_DOSE", Severity.WARNING,
                    f"Up to {worst} capsules for one dose ({at}); more than {limit} is hard to take "
                    "correctly: consider the two-strength kit or one strength per step.",
                    {"max_units_per_dose": worst, "limit": limit})]


def capsule_options(course: Course, capsule_strength: Any, kit: Any, overage: str | None,
                    timing: str, working: Working) -> list[dict[str, Any]]:
    """The capsule options for a course: single strength, strength per step, two-strength kit."""
    cfg = settings("capsules")
    limit = int(cfg["max_units_per_dose"])
    dose, days = _doses_and_days(course)
    bud_findings, bud_date = _capsule_bud(course)
    common = core.common_strength_mg(dose)
    options = [_single_strength(course, dose, days, capsule_strength, common, limit, overage,
                                timing, working, bud_findings, bud_date)]

    per_step: list[Finding] = list(bud_findings)
    if dose.size > 1:
        per_step.append(Finding("STRENGTHS_TO_PREPARE", Severity.INFO,
                                f"{dose.size} strengths: each is its own capsule batch and label."))
    for d, n in zip(dose, days, strict=True):
        working.add(Step(f"strength-per-step[{format_mass(d)}].count", f"Capsules of {format_mass(d)}",
                         "days at this dose × 1 capsule", {"days": str(int(n))}, str(int(n)), int(n)))
    options.append(_option(
        "strength-per-step", "One strength for each dose, 1 capsule a day", per_step, {
            "units": [_unit(d, int(n), overage) for d, n in zip(dose, days, strict=True)],
            "beyond_use_date": bud_date,
            "directions": _lines(course, lambda x: f"1 capsule ({format_mass(x)}) {timing}"),
        }))
    kit_option = _kit(course, dose, days, kit, common, limit, overage, timing, working,
                      bud_findings, bud_date)
    if kit_option:
        options.append(kit_option)
    return options


def _single_strength(course: Course, dose: np.ndarray, days: np.ndarray, given: Any, common: float,
                     limit: int, overage: str | None, timing: str, working: Working,
                     bud_findings: list[Finding], bud_date: str | None) -> dict[str, Any]:
    name, title = "single-strength", "One capsule strength, several capsules per dose"
    findings = list(bud_findings)
    if given is not None:
        strength = units.coerce(given, "mass", field="capsule_strength")
        if not strength > 0:
            raise InputError("the capsule strength must be greater than zero.",
                             hint="Type e.g. 1.5mg.", field="capsule_strength")
    else:
        strength = common
    if not np.isfinite(strength):
        findings.append(Finding("NO_COMMON_STRENGTH", Severity.REFUSAL,
                                "No single capsule strength makes every dose a whole number of "
                                "capsules."))
        return _option(name, title, findings, {})
    per_dose, whole = core.units_per_dose(dose, strength)
    if not np.all(whole):
        bad = "; ".join(f"{format_mass(d)} would need {format_number(u)} capsules"
                        for d, u, w in zip(dose, per_dose, whole, strict=True) if not w)
        hint = (f" The largest strength that makes every dose whole is {format_mass(common)}."
                if np.isfinite(common) else "")
        findings.append(Finding(
            "STRENGTH_CANNOT_DELIVER_DOSE", Severity.REFUSAL,
            f"{format_mass(strength)} capsules cannot make every dose as whole capsules: {bad}.{hint}",
            {"strength_mg": json_number(strength), "suggested_strength_mg": json_number(common)}))
        return _option(name, title, findings, {})
    count = int(np.sum(per_dose * days))
    working.add(Step("single-strength.strength_mg", "Capsule strength for every dose",
                     "given (--capsule-strength)" if given is not None
                     else "greatest common divisor of the doses",
                     {"doses": ", ".join(format_mass(d) for d in dose)}, format_mass(strength),
                     json_number(strength)))
    working.add(Step("single-strength.count", f"Capsules of {format_mass(strength)}",
                     "sum over the doses of capsules per dose × days at that dose",
                     {"doses": ", ".join(f"{format_mass(d)}: {int(u)} × {int(n)} d"
                                         for d, u, n in zip(dose, per_dose, days, strict=True))},
                     str(count), count))
    findings += _many_units(per_dose, dose, limit)
    counts = dict(zip(dose.tolist(), per_dose.tolist(), strict=True))
    return _option(name, title, findings, {
        "units": [_unit(strength, count, overage)],
        "per_dose": [{"dose_mg": json_number(d), "units": [{"strength_mg": json_number(strength),
                                                             "count": int(u)}]}
                     for d, u in zip(dose, per_dose, strict=True)],
        "beyond_use_date": bud_date,
        "directions": _lines(course, lambda x: _capsule_words([(int(counts[x]), strength)], x,
                                                               show_strength=False) + f" {timing}"),
    })


def _kit_strengths(kit: Any) -> tuple[float, float]:
    parts = [p for p in re.split(r"[;,]", kit)] if isinstance(kit, str) else list(kit)
    if len(parts) != 2:
        raise InputError(f"a kit has two strengths, got {kit!r}.", hint='Type e.g. --kit "0.5mg, 1.5mg".',
                         field="kit")
    a, b = sorted(units.coerce(p.strip() if isinstance(p, str) else p, "mass", field="kit")
                  for p in parts)
    if not a > 0 or a == b:
        raise InputError(f"a kit needs two different strengths above zero, got {kit!r}.",
                         hint='Type e.g. --kit "0.5mg, 1.5mg".', field="kit")
    return a, b


def _kit(course: Course, dose: np.ndarray, days: np.ndarray, kit: Any, common: float, limit: int,
         overage: str | None, timing: str, working: Working, bud_findings: list[Finding],
         bud_date: str | None) -> dict[str, Any] | None:
    name, title = "two-strength-kit", "Two strengths combined (starter kit)"
    if kit is not None:
        small, large = _kit_strengths(kit)
        how = "given (--kit)"
    else:
        small = common
        large = core.kit_large_strength(dose, days, small) if np.isfinite(small) else float("nan")
        if not np.isfinite(large):
            return None
        how = ("the common strength, and the multiple of it that divides the top dose and needs "
               "the fewest capsules")
    findings = list(bud_findings)
    n_large, n_small, exact = core.kit_split(dose, small, large)
    if not np.all(exact):
        bad = ", ".join(format_mass(d) for d, e in zip(dose, exact, strict=True) if not e)
        findings.append(Finding("KIT_CANNOT_DELIVER_DOSE", Severity.REFUSAL,
                                f"{format_mass(small)} and {format_mass(large)} capsules cannot make "
                                f"{bad} as whole capsules.",
                                {"small_mg": json_number(small), "large_mg": json_number(large)}))
        return _option(name, title, findings, {})
    count_small, count_large = int(np.sum(n_small * days)), int(np.sum(n_large * days))
    working.add(Step("two-strength-kit.strengths_mg", "Kit strengths", how,
                     {"doses": ", ".join(format_mass(d) for d in dose)},
                     f"{format_mass(small)} and {format_mass(large)}", None))
    for s, n_each, total in ((large, n_large, count_large), (small, n_small, count_small)):
        working.add(Step(f"two-strength-kit[{format_mass(s)}].count", f"Kit capsules of {format_mass(s)}",
                         "largest strength first, the rest in the small strength; × days at each dose",
                         {"doses": ", ".join(f"{format_mass(d)}: {int(u)} × {int(n)} d"
                                             for d, u, n in zip(dose, n_each, days, strict=True))},
                         str(total), total))
    findings += _many_units(n_large + n_small, dose, limit)
    split = {d: ((int(a), large), (int(b), small)) for d, a, b in
             zip(dose.tolist(), n_large, n_small, strict=True)}
    return _option(name, title, findings, {
        "units": [_unit(small, count_small, overage), _unit(large, count_large, overage)],
        "per_dose": [{"dose_mg": json_number(d),
                      "units": [{"strength_mg": json_number(s), "count": n} for n, s in split[d] if n]}
                     for d in dose.tolist()],
        "beyond_use_date": bud_date,
        "directions": _lines(course, lambda x: f"{_capsule_words(split[x], x, show_strength=True)} {timing}"),
    })


# ----------------------------------------------------------------------------- liquid


def _liquid_category(vehicle: str | None, bud_category: str | None,
                     findings: list[Finding]) -> str:
    from compound.planning import stability

    if vehicle is not None and bud_category is not None:
        raise InputError("give the vehicle or the BUD category, not both.",
                         hint="The vehicle's category comes from vehicles.csv.", field="bud_category")
    if bud_category is not None:
        return stability.bud_rule(bud_category).key
    if vehicle is not None:
        return stability.category_for_plan("liquid", vehicle=vehicle)
    cfg = settings("liquid")
    category = stability.bud_rule(str(cfg["default_bud_category"])).key
    findings.append(Finding("VEHICLE_NOT_GIVEN", Severity.INFO,
                            f"No vehicle given: BUDs are for {category} (the shorter default). "
                            "Give --vehicle (or --bud-category) for a preserved vehicle.",
                            {"bud_category": category, "source": cfg["source"]}))
    return category


def _vehicle_of_category(category: str) -> str | None:
    """The first catalog vehicle in a BUD category (purified water for aqueous-unpreserved)."""
    return next((row["key"] for row in loader.table("vehicles")
                 if row.get("bud_category") == category), None)


def _dose_volume_findings(dose: np.ndarray, volume: np.ndarray, concentration: float,
                          working: Working) -> tuple[list[Finding], list[dict[str, Any]]]:
    from compound.core.liquids import choose_device

    devices = [r for r in loader.table("measuring_devices") if r.get("for_dose") == "1"]
    cap = tuple(loader.number(r, "capacity_ml", table_name="measuring_devices") for r in devices)
    grad = tuple(loader.number(r, "graduation_ml", table_name="measuring_devices") for r in devices)
    low = tuple(loader.number(r, "min_volume_ml", table_name="measuring_devices")
                if r.get("min_volume_ml") else g for r, g in zip(devices, grad, strict=True))
    pick = choose_device(volume, cap, grad, low)
    findings, rows = [], []
    for n, (d, v) in enumerate(zip(dose, volume, strict=True)):
        working.add(Step(f"liquid[{format_mass(d)}].dose_volume_ml", f"Volume of a {format_mass(d)} dose",
                         "dose ÷ concentration", {"dose": format_mass(d),
                                                  "concentration": format_concentration(concentration)},
                         format_volume(v), json_number(v)))
        i = int(pick.index[n])
        row: dict[str, Any] = {"dose_mg": json_number(d), "volume_ml": json_number(v),
                               "device": devices[i]["name"] if i >= 0 else None}
        rows.append(row)
        what = f"A {format_mass(d)} dose ({format_volume(v)})"
        if i < 0:
            findings.append(Finding("DOSE_VOLUME_ABOVE_DEVICES", Severity.WARNING,
                                    f"{what} is more than the largest oral syringe holds "
                                    f"({format_volume(max(cap))}): use a stronger liquid.",
                                    {"dose_mg": json_number(d), "volume_ml": json_number(v)}))
            continue
        device = devices[i]
        if pick.below_minimum[n]:
            findings.append(Finding(
                "DOSE_VOLUME_BELOW_DEVICE_MINIMUM", Severity.WARNING,
                f"{what} is below the smallest volume measured on the {device['name']} "
                f"({format_volume(low[i])}): use a weaker liquid.",
                {"dose_mg": json_number(d), "volume_ml": json_number(v), "device": device["key"],
                 "source": device["source"]}))
        elif not pick.on_graduation[n]:
            near = float(pick.nearest_ml[n])
            findings.append(Finding(
                "DOSE_VOLUME_NOT_MEASURABLE", Severity.WARNING,
                f"{what} is not a mark on the {device['name']} (marked every "
                f"{format_volume(grad[i])}): the nearest mark, {format_volume(near)}, gives "
                f"{format_mass(near * concentration)}. Choose a concentration that makes each dose "
                "a marked volume.",
                {"dose_mg": json_number(d), "volume_ml": json_number(v), "device": device["key"],
                 "nearest_ml": json_number(near), "source": device["source"]}))
    return findings, rows


def _liquid_overage(overage: str | None, volume: float) -> float:
    text = (overage or "").strip()
    if not text:
        return 0.0
    if text.endswith("%"):
        fraction = units.parse(text, "fraction", field="overage").value
        if fraction < 0:
            raise InputError("the overage cannot be negative.", hint="Type e.g. 5% or 2mL.",
                             field="overage")
        return fraction * volume
    extra = units.parse(text, "volume", field="overage").value
    if extra < 0:
        raise InputError("the overage cannot be negative.", hint="Type e.g. 5% or 2mL.", field="overage")
    return extra


def liquid_option(course: Course, concentration: Any, vehicle: str | None, bud_category: str | None,
                  storage: str | None, study: str | None, attest: bool, day_zero: bool,
                  made_ahead: Any, overage: str | None, timing: str,
                  working: Working) -> dict[str, Any]:
    """The liquid option: dose volumes and preparations that are never used past their BUD.

    Notes
    -----
    Preparation ``p`` is compounded ``made_ahead`` days before its first day of
    use; its BUD comes from :func:`~compound.planning.stability.assign_bud`
    (Day 1 counting by default: BUD = compounded + N − 1), and it covers the
    days from its first day of use to its BUD. The next one starts the day
    after. Volumes are what the doses need; any overage is stated apart.
    """
    from compound.planning.stability import assign_bud

    name = "liquid"
    findings: list[Finding] = []
    cfg = settings("liquid")
    if concentration is None:
        c = units.parse(str(cfg["default_concentration"]), "concentration").value
        findings.append(Finding("CONCENTRATION_DEFAULT", Severity.INFO,
                                f"No concentration given: {format_concentration(c)} assumed.",
                                {"source": cfg["source"]}))
    else:
        c = units.coerce(concentration, "concentration", field="concentration")
        if not c > 0:
            raise InputError("the concentration must be greater than zero.", hint="Type e.g. 1mg/mL.",
                             field="concentration")
    title = f"Oral liquid {format_concentration(c)}"
    lead = 0 if made_ahead is None else whole_days(made_ahead, "made_ahead", allow_zero=True)
    category = _liquid_category(vehicle, bud_category, findings)
    if vehicle is None:
        # The preparations must be planned in a vehicle of the category their BUDs assume;
        # plan_liquid's own default (a preserved vehicle) would contradict a 14-day split.
        vehicle = _vehicle_of_category(category)
    dose, _ = _doses_and_days(course)
    volume_findings, dose_rows = _dose_volume_findings(dose, dose / c, c, working)
    findings += volume_findings
    daily_ml = course.daily / c
    prep = ({"vehicle": vehicle, "concentration": units.Parsed.of(c, "concentration", "mg/mL")}
            if study else None)

    preps: list[dict[str, Any]] = []
    first = 0
    while first < course.n_days:
        use_from = course.date(first)
        made = use_from - dt.timedelta(days=lead)
        bud = assign_bud(category, made, storage=storage, study=study, attest=attest,
                         day_zero=day_zero, preparation=prep)
        if not preps:  # later preparations repeat the first one's storage/limit notes
            findings += bud.findings
        if bud.refused or bud.beyond_use_date is None:
            return _option(name, title, findings, {})
        usable = (bud.beyond_use_date - use_from).days + 1
        if usable < 1:
            findings.append(Finding(
                "MADE_AHEAD_PAST_BUD", Severity.REFUSAL,
                f"Compounded {lead} days ahead, the preparation's BUD "
                f"({core.format_day(bud.beyond_use_date)}) comes before its first day of use.",
                {"made_ahead_days": lead}))
            return _option(name, title, findings, {})
        last = min(first + usable, course.n_days) - 1
        preps.append({"first": first, "last": last, "made": made, "bud": bud})
        first = last + 1

    firsts = np.array([p["first"] for p in preps], dtype=np.int64)
    volumes = core.sum_by_span(daily_ml, firsts)
    drugs = core.sum_by_span(course.daily, firsts)
    out_preps = []
    for n, (p, v, m) in enumerate(zip(preps, volumes, drugs, strict=True), start=1):
        a, b, bud = p["first"], p["last"], p["bud"]
        extra = _liquid_overage(overage, float(v))
        key = f"liquid.preparation_{n}"
        working.add(Step(f"{key}.volume_ml", f"Preparation {n} of {len(preps)}: volume the doses need",
                         "sum of the daily dose volumes over its days",
                         {"days": when(course, a, b),
                          "doses": " + ".join(f"{format_volume(dv)} × {k}" for dv, k in
                                              _runs_within(course, a, b, c))},
                         format_volume(v), json_number(v)))
        working.add(Step(f"{key}.beyond_use_date", f"Preparation {n}: beyond-use date",
                         bud.explanation or "assign_bud", {"compounded": p["made"].isoformat(),
                                                           "category": category},
                         bud.beyond_use_date.isoformat(), None,
                         bud.limit.source if bud.limit else "USP <795>"))
        row: dict[str, Any] = {
            "part": f"{n}/{len(preps)}", "compounded": p["made"].isoformat(),
            "use_from": course.date(a).isoformat(), "use_until": course.date(b).isoformat(),
            "days": b - a + 1, "volume_ml": json_number(v), "drug_mg": json_number(m),
            "beyond_use_date": bud.beyond_use_date.isoformat(), "storage": bud.storage,
        }
        if overage:
            row["overage_ml"] = json_number(extra)
            row["volume_to_make_ml"] = json_number(v + extra)
        row["directions"] = _lines(course, lambda x: f"{format_volume(x / c)} ({format_mass(x)}) {timing}",
                                   a, b)
        row["plan_command"] = (f"compound plan liquid --strength {format_number(c)}mg/mL "
                               f"--volume {format_number(v + extra)}mL"
                               + (f" --vehicle {vehicle}" if vehicle else ""))
        row.update(_plan_check("liquid", c, float(v + extra), vehicle))
        out_preps.append(row)
    if len(preps) > 1:
        findings.append(Finding(
            "LIQUID_SPLIT_BY_BUD", Severity.INFO,
            f"The {course.n_days}-day course is longer than one preparation may be used "
            f"({preps[0]['last'] + 1} days to its BUD): {len(preps)} preparations, each compounded "
            + ("on its first day of use." if lead == 0 else f"{lead} days before its first day of use."),
            {"preparations": len(preps), "category": category}))
    total_ml = float(np.sum(daily_ml))
    working.add(Step("liquid.total_volume_ml", "Liquid for the whole course", "total drug ÷ concentration",
                     {"total": format_mass(float(np.sum(course.daily))),
                      "concentration": format_concentration(c)}, format_volume(total_ml),
                     json_number(total_ml)))
    return _option(name, title, findings, {
        "concentration_mg_per_ml": json_number(c), "bud_category": category,
        "total_volume_ml": json_number(total_ml), "dose_volumes": dose_rows,
        "preparations": out_preps,
        "directions": _lines(course, lambda x: f"{format_volume(x / c)} ({format_mass(x)}) {timing}"),
    })


def _runs_within(course: Course, first: int, last: int, c: float) -> list[tuple[float, int]]:
    out = []
    for a, b, dose in course.runs():
        a, b = max(a, first), min(b, last)
        if a <= b:
            out.append((dose / c, b - a + 1))
    return out


