"""Titration schedules: a ladder or protocol → dated calendar, what to dispense, directions.

:func:`titrate` reads the ladder (typed, or a protocol from
``data/titration_protocols.toml``), applies the side-effect rules asked for
(the GI cap, 50 % reduction weeks, maintenance), lays the course out day by day
with :mod:`compound.core.titration`, and compares the ways to dispense it:

* ``single-strength``: one capsule strength, several capsules per dose (the
  greatest strength that makes every dose whole, or ``capsule_strength``);
* ``strength-per-step``: one strength per dose, one capsule a day;
* ``two-strength-kit``: a small and a large strength combined (the starter-kit
  pattern, prior-art T5);
* ``liquid``: one concentration, split into preparations none of which is used
  past its beyond-use date (:func:`compound.planning.stability.assign_bud`).

(the options live in :mod:`compound.planning.titration_options`, the text
worksheet in :mod:`compound.planning.titration_text`). An option that cannot
deliver every dose is refused on its own (its counts are withheld); the plan is
refused only for a dose outside the dose bands or opioid use. Doses are
naltrexone HCl [mg], as LDN is prescribed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from compound.catalog import loader
from compound.core import titration as core
from compound.core import units
from compound.core.dates import coerce_date
from compound.core.findings import Finding, Severity, any_refusal
from compound.core.rounding import (
    format_mass,
    format_number,
    json_number,
)
from compound.core.safety import classify_dose, dose_band_finding, opioid_finding, unit_slip_suspected
from compound.core.working import Step, Working
from compound.errors import CatalogError, InputError, UnitInputError
from compound.planning import resolve
from compound.planning.base import Plan
from compound.planning.titration_options import (
    Course,
    capsule_options,
    liquid_option,
    settings,
    when,
    whole_days,
)

if TYPE_CHECKING:
    import pint

FORMS = ("capsules", "liquid", "all")
_DATA = "titration_protocols"
_KIND_NAMES = {core.LADDER: "ladder", core.GI_STEP: "gi-step", core.REDUCED: "reduced",
               core.RESUMED: "resumed", core.MAINTENANCE: "maintenance"}
_LADDER_HINT = 'Type steps as DOSE x DAYS separated by commas, e.g. --ladder "1.5mg x7d, 3mg x7d, 4.5mg x7d".'

# ----------------------------------------------------------------------------- data


@dataclass(frozen=True, slots=True)
class Protocol:
    key: str
    name: str
    source: str
    note: str
    ladder: str | None = None
    start_mg: float | None = None
    step_mg: float | None = None
    interval_days: int | None = None
    ceiling_mg: float | None = None
    first_step_days: int | None = None
    last_step_days: int | None = None

    def describe(self) -> str:
        if self.ladder:
            return self.ladder
        assert self.start_mg is not None and self.step_mg is not None and self.ceiling_mg is not None
        return (f"{format_mass(self.start_mg)}, +{format_mass(self.step_mg)} every "
                f"{self.interval_days} days to {format_mass(self.ceiling_mg)}")

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "name": self.name, "schedule": self.describe(),
                "note": self.note or None, "source": self.source}


def _data_amount(value: Any, kind: units.Kind, where: str) -> float:
    try:
        return units.parse(str(value), kind).value
    except UnitInputError as exc:
        raise CatalogError(f"titration_protocols.toml {where}: {exc.message}") from None


def _data_days(value: Any, where: str) -> int:
    days = _data_amount(value, "duration", where)
    if days < 1 or days != int(days):
        raise CatalogError(f"titration_protocols.toml {where}: {value!r} is not a whole number of days.")
    return int(days)


def protocols() -> dict[str, Protocol]:
    """Every protocol in the catalog (with the pharmacy's overlay), by key."""
    out = {}
    for key, p in loader.rules(_DATA).get("protocols", {}).items():
        where = f"[protocols.{key}]"
        if not isinstance(p, dict) or not p.get("name") or not p.get("source"):
            raise CatalogError(f"titration_protocols.toml {where} needs a name and a source.")
        if p.get("ladder"):
            try:
                parse_ladder(str(p["ladder"]))
            except InputError as exc:
                raise CatalogError(f"titration_protocols.toml {where}: {exc.message}") from None
            out[key] = Protocol(key, p["name"], p["source"], p.get("note", ""), ladder=p["ladder"])
            continue
        missing = [c for c in ("start", "step", "interval", "ceiling") if not p.get(c)]
        if missing:
            raise CatalogError(f"titration_protocols.toml {where}: give a ladder, or "
                               f"{', '.join(missing)}.")
        out[key] = Protocol(
            key, p["name"], p["source"], p.get("note", ""),
            start_mg=_data_amount(p["start"], "mass", where),
            step_mg=_data_amount(p["step"], "mass", where),
            interval_days=_data_days(p["interval"], where),
            ceiling_mg=_data_amount(p["ceiling"], "mass", where),
            first_step_days=_data_days(p["first_step"], where) if p.get("first_step") else None,
            last_step_days=_data_days(p["last_step"], where) if p.get("last_step") else None)
    return out


def protocol(key: str) -> Protocol:
    found = protocols()
    wanted = str(key).strip().lower()
    if wanted not in found:
        raise InputError(f"unknown titration protocol {key!r}.",
                         hint=f"Known: {', '.join(found)} (compound titrate --list shows them).",
                         field="protocol")
    return found[wanted]


# ----------------------------------------------------------------------------- ladder text

_STEP = re.compile(r"^(?P<dose>.+?)\s*(?:\bx|×|\*|\bfor\b)\s*(?P<days>\d.*)$", re.IGNORECASE)


def _step_days(value: Any, where: str) -> int:
    days = units.coerce(value, "duration", field=where)
    if days < 1 or abs(days - round(days)) > 1e-9:
        raise InputError(f"{where}: {format_number(days)} days is not a whole number of days "
                         "(1 or more).", hint=_LADDER_HINT, field="ladder")
    return round(days)


def parse_ladder(ladder: str | Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Doses [mg] and lengths [days] from ``"1.5mg x7d, 3mg x7d"`` or ``[("1.5mg", "7d"), ...]``.

    Raises :class:`~compound.errors.InputError` naming the step and saying what
    to type for an empty ladder, a step without ``x DAYS``, a dose or length
    without a unit, a comma decimal or a part-day length.
    """
    if isinstance(ladder, str):
        text = ladder.strip()
        if not text:
            raise InputError("the ladder is empty.", hint=_LADDER_HINT, field="ladder")
        slip = re.search(r"\d,\d", text)
        if slip:
            raise UnitInputError(
                f"ladder: cannot read {text!r}: the comma in '{slip.group()}' is ambiguous "
                "(a decimal mark or the end of a step).",
                hint="Write decimals with a point (1.5mg) and end each step with its unit: "
                     + _LADDER_HINT, field="ladder")
        pairs: list[tuple[Any, Any]] = []
        for n, part in enumerate(re.split(r"[;,\n]", text), start=1):
            part = part.strip()
            if not part:
                raise InputError(f"ladder step {n} is empty ({text!r}).", hint=_LADDER_HINT,
                                 field="ladder")
            m = _STEP.match(part)
            if not m:
                raise InputError(f"ladder step {n} ({part!r}) has no length: write DOSE x DAYS.",
                                 hint=_LADDER_HINT, field="ladder")
            pairs.append((m["dose"].strip(), m["days"].strip()))
    else:
        pairs = []
        for n, item in enumerate(ladder, start=1):
            if not (isinstance(item, tuple | list) and len(item) == 2):
                raise InputError(f"ladder step {n}: expected a (dose, days) pair, got {item!r}.",
                                 hint='e.g. [("1.5mg", "7d"), ("3mg", "7d")].', field="ladder")
            pairs.append((item[0], item[1]))
        if not pairs:
            raise InputError("the ladder is empty.", hint=_LADDER_HINT, field="ladder")
    doses = [units.coerce(d, "mass", field=f"ladder step {n} dose") for n, (d, _) in
             enumerate(pairs, start=1)]
    days = [_step_days(t, f"ladder step {n} length") for n, (_, t) in enumerate(pairs, start=1)]
    return np.asarray(doses, dtype=np.float64), np.asarray(days, dtype=np.int64)


# ----------------------------------------------------------------------------- plan


@dataclass
class TitrationPlan(Plan):
    """A titration: ``amounts`` total_mg and course_days; ``extra`` the calendar,
    schedule, options and directions (JSON-ready)."""

    @property
    def total(self) -> pint.Quantity | None:
        return self.quantity("total_mg")

    @property
    def calendar(self) -> list[dict[str, Any]]:
        return list(self.extra.get("calendar", [])) if not self.refused else []

    @property
    def options(self) -> list[dict[str, Any]]:
        return list(self.extra.get("options", [])) if not self.refused else []

    def option(self, name: str) -> dict[str, Any] | None:
        return next((o for o in self.options if o["name"] == name), None)

    @property
    def directions(self) -> list[str]:
        return list(self.extra.get("directions", [])) if not self.refused else []

    def worksheet(self) -> str:
        from compound.planning.titration_text import render

        return render(self)


def _base_ladder(ladder: Any, protocol_key: str | None, ceiling: Any,
                 working: Working) -> tuple[np.ndarray, np.ndarray, Protocol | None]:
    if (ladder is None) == (protocol_key is None):
        raise InputError("give either a ladder or a protocol (not both, not neither).",
                         hint='--ladder "1.5mg x7d, 3mg x7d, 4.5mg x7d" or --protocol ldnrt-cancer '
                              "(compound titrate --list shows the protocols).", field="ladder")
    if ladder is not None:
        if ceiling is not None:
            raise InputError("--ceiling applies to a generated protocol; a typed ladder already "
                             "ends where you write it.", hint="Leave out --ceiling.", field="ceiling")
        dose, days = parse_ladder(ladder)
        return dose, days, None
    p = protocol(str(protocol_key))
    if p.ladder:
        if ceiling is not None:
            raise InputError(f"protocol {p.key} is a fixed ladder ({p.ladder}); --ceiling applies "
                             "to protocols given as start, step and interval.",
                             hint="Leave out --ceiling, or type the ladder you want with --ladder.",
                             field="ceiling")
        dose, days = parse_ladder(p.ladder)
        working.add(Step("schedule", "Protocol ladder", "as published", {"protocol": p.name},
                         p.ladder, None, p.source, p.note or None))
        return dose, days, p
    assert p.start_mg is not None and p.step_mg is not None and p.interval_days is not None
    top = p.ceiling_mg if ceiling is None else units.coerce(ceiling, "mass", field="ceiling")
    assert top is not None
    if top < p.start_mg:
        raise InputError(f"the ceiling {format_mass(top)} is below the protocol's starting dose "
                         f"{format_mass(p.start_mg)}.", hint="Give a higher --ceiling.",
                         field="ceiling")
    dose = core.protocol_doses(p.start_mg, p.step_mg, top)
    days = np.full(dose.size, p.interval_days, dtype=np.int64)
    if p.first_step_days:
        days[0] = p.first_step_days
    if p.last_step_days:
        days[-1] = p.last_step_days
    working.add(Step(
        "schedule", "Protocol doses",
        "start, start + step, … while below the ceiling, then the ceiling; each step lasts the interval",
        {"start": format_mass(p.start_mg), "step": format_mass(p.step_mg),
         "interval": f"{p.interval_days} days",
         "ceiling": format_mass(top) + ("" if ceiling is None else " (--ceiling)")},
        ", ".join(format_mass(d) for d in dose), None, p.source, p.note or None))
    return dose, days, p


def _reduce(course: Course, dates: Sequence[Any], factor: float, length: int,
            findings: list[Finding], source: str) -> None:
    for day in sorted(coerce_date(d, "reduce_at") for d in dates):
        at = (day - course.start).days
        end = course.date(course.n_days - 1)
        if not 0 <= at < course.n_days:
            raise InputError(
                f"reduce_at {day.isoformat()} is outside the course "
                f"({course.start.isoformat()} to {end.isoformat()}).",
                hint="Give the date the patient starts the lower dose, within the course.",
                field="reduce_at")
        first = core.step_first_day(course.days)
        i = int(np.searchsorted(first, at, side="right") - 1)
        if course.kind[i] == core.REDUCED:
            raise InputError(f"reduce_at {day.isoformat()} falls in a reduced week already.",
                             hint="Give a date after the reduced week ends.", field="reduce_at")
        before = float(course.dose[i])
        course.update(*core.insert_reduction(course.dose, course.days, course.kind, at, factor,
                                             length))
        findings.append(Finding(
            "SIDE_EFFECT_REDUCTION", Severity.INFO,
            f"From {core.format_day(day)} the dose is reduced by {format_number((1 - factor) * 100)} % "
            f"({format_mass(before)} → {format_mass(before * factor)}) for {length} days, then "
            f"{format_mass(before)} resumes for the rest of that step; every later step moves "
            f"{length} days later.",
            {"date": day.isoformat(), "from_mg": json_number(before), "to_mg": json_number(before * factor),
             "days": length, "source": source}))


def _gi_cap(course: Course, cap: float, interval: int, findings: list[Finding], source: str) -> None:
    before = course.n_days
    course.update(*core.cap_increases(course.dose, course.days, course.kind, cap, interval))
    added = int(np.count_nonzero(course.kind == core.GI_STEP))
    longer = course.n_days - before
    message = (f"GI-sensitive: every increase is at most {format_mass(cap)}, at least {interval} days "
               "after the previous one.")
    message += (f" {added} intermediate step{'s' if added != 1 else ''} added; the course is "
                f"{longer} days longer." if longer else " The ladder already keeps to this.")
    findings.append(Finding("GI_CAP_APPLIED", Severity.INFO, message,
                            {"max_step_mg": json_number(cap), "interval_days": interval, "steps_added": added,
                             "days_added": longer, "source": source}))


def _dose_findings(doses: np.ndarray, findings: list[Finding], checked: set[float]) -> None:
    """Dose-band findings for each distinct dose not checked yet (refusals, warnings, non-LDN bands)."""
    bands = resolve.dose_bands()
    distinct = np.array(sorted(set(np.unique(doses).tolist()) - checked), dtype=np.float64)
    checked.update(distinct.tolist())
    which = classify_dose(distinct, bands)
    slips = unit_slip_suspected(distinct, bands)
    for dose, i, slip in zip(distinct, which, slips, strict=True):
        if i < 0:
            raise InputError(f"the dose {dose!r} is not a number.", field="ladder")
        band = bands[int(i)]
        if band.severity < Severity.WARNING and band.key == "ldn":
            continue
        f = dose_band_finding(float(dose), band, what="step dose")
        if slip and band.severity >= Severity.WARNING:
            guess = dose / 1000 if dose > 1 else dose * 1000
            f = Finding(f.code, f.severity, f"{f.message} Did you mean {format_mass(guess)}?",
                        {**f.data, "unit_slip_suspected": True})
        findings.append(f)


def titrate(
    ladder: str | Sequence[Any] | None = None, *, protocol: str | None = None,
    start: Any, form: str = "capsules", concentration: Any = None,
    vehicle: str | None = None, bud_category: str | None = None, storage: str | None = None,
    study: str | None = None, attest: bool = False, day_zero: bool = False,
    made_ahead: Any = None, capsule_strength: Any = None, kit: Sequence[Any] | str | None = None,
    maintenance: Any = None, ceiling: Any = None, gi_sensitive: bool = False,
    reduce_at: Sequence[Any] | Any = (), overage: str | None = None, timing: str | None = None,
    opioid_use: bool = False, override_opioid: str | None = None,
) -> TitrationPlan:
    """A titration course laid out day by day, with dispensing options and directions.

    Parameters
    ----------
    ladder : str or sequence of (dose, days), optional
        ``"1.5mg x7d, 3mg x7d, 4.5mg x7d"``; exactly one of ``ladder`` and
        ``protocol``.
    protocol : str, optional
        A key of ``data/titration_protocols.toml`` (:func:`protocols`).
    start : date or ``YYYY-MM-DD``
        Day 1 of the course.
    form : ``capsules`` | ``liquid`` | ``all``
        Which dispensing options to compare.
    concentration : str or Quantity, optional
        Liquid strength (default from the catalog, 1 mg/mL).
    vehicle, bud_category, storage, study, attest, day_zero
        The liquid's BUD, as for :func:`compound.planning.stability.assign_bud`
        (default category: aqueous-unpreserved, the shorter BUD).
    made_ahead : duration, optional
        Each liquid preparation is compounded this long before its first day of
        use (default 0: on that day).
    capsule_strength : mass, optional
        The strength for ``single-strength`` (default: the greatest that makes
        every dose whole).
    kit : (small, large) masses or ``"0.5mg, 1.5mg"``, optional
        The two strengths of ``two-strength-kit`` (default: chosen, see
        :func:`compound.core.titration.kit_large_strength`).
    maintenance : duration, optional
        Days at the last dose after the ladder ends.
    ceiling : mass, optional
        Replaces a generated protocol's ceiling.
    gi_sensitive : bool
        Cap increases (0.5 mg per 7 days, from the catalog).
    reduce_at : date or dates
        From each date, 50 % of the dose for 7 days, then resume.
    overage : str, optional
        Capsules: extra capsules per strength (``1``) or ``5%``; liquid:
        ``5%`` or a volume (``2mL``) per preparation. Stated apart from what
        the doses need.
    timing : str, optional
        A key of the catalog's timing words (``bedtime``, ``morning``).
    """
    form = str(form).strip().lower()
    if form not in FORMS:
        raise InputError(f"unknown form {form!r}.", hint=f"Use one of: {', '.join(FORMS)}.",
                         field="form")
    start_date = coerce_date(start, "start")
    side = settings("side_effects")
    timing_words = _timing(timing)
    if form == "capsules" and (concentration is not None or made_ahead is not None):
        raise InputError("--concentration and --made-ahead apply to a liquid.",
                         hint="Use --form liquid (or all), or leave them out.", field="form")
    if form == "liquid" and (capsule_strength is not None or kit is not None):
        raise InputError("--capsule-strength and --kit apply to capsules.",
                         hint="Use --form capsules (or all), or leave them out.", field="form")

    working = Working()
    findings: list[Finding] = []
    if opioid_use or override_opioid:
        findings.append(opioid_finding(override_opioid))
    dose, days, proto = _base_ladder(ladder, protocol, ceiling, working)
    course = Course(start_date, dose, days, np.full(dose.size, core.LADDER, dtype=np.int64))
    checked: set[float] = set()
    # a refused dose (50 mg, a 4.5 g slip) stops here, before any ladder is expanded
    _dose_findings(course.dose, findings, checked)
    if any_refusal(findings):
        return TitrationPlan("titration", _inputs(locals()), findings=findings, working=working)
    if gi_sensitive:
        _gi_cap(course, _data_amount(side["gi_max_step"], "mass", "[settings.side_effects]"),
                _data_days(side["gi_interval"], "[settings.side_effects]"), findings, side["source"])
    if maintenance is not None:
        extra_days = whole_days(maintenance, "maintenance")
        course.update(np.append(course.dose, course.dose[-1]), np.append(course.days, extra_days),
                      np.append(course.kind, core.MAINTENANCE))
    dates = [reduce_at] if isinstance(reduce_at, str | dt.date) else list(reduce_at or ())
    if dates:
        _reduce(course, dates, float(side["reduce_factor"]),
                _data_days(side["reduce_for"], "[settings.side_effects]"), findings, side["source"])
    max_days = int(settings("course")["max_days"])
    if course.n_days > max_days:
        raise InputError(f"the course is {course.n_days} days; compound lays out at most {max_days}.",
                         hint="Split the prescription into shorter courses.", field="ladder")

    _dose_findings(course.dose, findings, checked)  # the reduced and GI doses
    plan = TitrationPlan("titration", _inputs(locals()), findings=findings, working=working)
    if plan.refused:
        return plan

    total = core.course_total_mg(course.dose, course.days)
    plan.amounts = {"total_mg": total, "course_days": float(course.n_days)}
    working.add(Step("course_days", "Length of the course", "sum of the days of every step",
                     {"steps": " + ".join(str(int(d)) for d in course.days)},
                     f"{course.n_days} days", course.n_days))
    working.add(Step("total_mg", "Naltrexone HCl for the whole course",
                     "sum over the steps of daily dose × days",
                     {"steps": " + ".join(f"{format_mass(d)} × {int(n)}"
                                          for d, n in zip(course.dose, course.days, strict=True))},
                     format_mass(total), json_number(total)))

    options: list[dict[str, Any]] = []
    overage = overage.strip() if overage else None
    # with --form all, a percentage applies to both; a count to capsules, a volume to the liquid
    count_like = bool(overage) and bool(re.fullmatch(r"[+-]?\d+", overage or ""))
    both = form != "all" or bool(overage and overage.endswith("%"))
    if form in ("capsules", "all"):
        options += capsule_options(course, capsule_strength, kit,
                                   overage if both or count_like else None, timing_words, working)
    if form in ("liquid", "all"):
        options.append(liquid_option(
            course, concentration, vehicle, bud_category, storage, study, attest, day_zero,
            made_ahead, overage if both or not count_like else None, timing_words, working))
    end = course.date(course.n_days - 1)
    plan.extra = {
        "start": start_date.isoformat(), "end": end.isoformat(),
        "protocol_detail": proto.to_dict() if proto else None,
        "schedule": _schedule(course),
        "calendar": [{"day": n + 1, "date": course.date(n).isoformat(), "dose_mg": json_number(d)}
                     for n, d in enumerate(course.daily)],
        "options": options,
        "directions": [f"{when(course, a, b)}: take {format_mass(d)} {timing_words}"
                       for a, b, d in course.runs()],
    }
    return plan


def _inputs(v: dict[str, Any]) -> dict[str, Any]:
    """The inputs as typed, for the record (``v`` is titrate's locals)."""
    proto, dates = v.get("proto"), v.get("reduce_at")
    dates = [dates] if isinstance(dates, str | dt.date) else list(dates or ())
    out = {
        "ladder": v["ladder"] if isinstance(v["ladder"], str | None) else str(list(v["ladder"])),
        "protocol": proto.key if proto else v["protocol"], "start": v["start_date"].isoformat(),
        "form": v["form"], "concentration": _text(v["concentration"]), "vehicle": v["vehicle"],
        "bud_category": v["bud_category"], "storage": v["storage"], "study": v["study"],
        "attest": v["attest"] or None, "day_zero": v["day_zero"] or None,
        "made_ahead": _text(v["made_ahead"]), "capsule_strength": _text(v["capsule_strength"]),
        "kit": _text(v["kit"]), "maintenance": _text(v["maintenance"]), "ceiling": _text(v["ceiling"]),
        "gi_sensitive": v["gi_sensitive"] or None,
        "reduce_at": ", ".join(coerce_date(d, "reduce_at").isoformat() for d in dates) or None,
        "overage": v["overage"], "timing": v["timing"], "opioid_use": v["opioid_use"] or None,
        "override_opioid": v["override_opioid"],
    }
    return {k: val for k, val in out.items() if val is not None}


def _text(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    if units.is_quantity(value):
        return f"{value:~P}"
    if isinstance(value, list | tuple):
        return ", ".join(str(_text(v)) for v in value)
    return str(value)


def _timing(key: str | None) -> str:
    t = settings("timing")
    wanted = str(key or t["default"]).strip().lower()
    words = {k: v for k, v in t.items() if k not in ("default", "source") and isinstance(v, str)}
    if wanted not in words:
        raise InputError(f"unknown timing {key!r}.", hint=f"Use one of: {', '.join(words)}.",
                         field="timing")
    return words[wanted]


def _schedule(course: Course) -> list[dict[str, Any]]:
    first = core.step_first_day(course.days)
    out = []
    for n, (d, k, a) in enumerate(zip(course.dose, course.days, first, strict=True), start=1):
        b = int(a + k - 1)
        out.append({"step": n, "day_from": int(a) + 1, "day_to": b + 1,
                    "start": course.date(int(a)).isoformat(), "end": course.date(b).isoformat(),
                    "dose_mg": json_number(d), "days": int(k),
                    "kind": _KIND_NAMES[int(course.kind[n - 1])]})
    return out


