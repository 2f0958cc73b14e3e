"""``lots list --json``'s lean path (register.listing) writes what the Lot objects write.

The register holds lots of every status, partly and wholly dispensed lots, study-dated
and rule-dated lots, lots expiring soon and lots past their BUD on the later "today"s,
non-ASCII text, a lot with no checker and fractional quantities; each lot's text from
:meth:`Register.iter_lots_json` must equal ``json.dumps(lot.to_dict(full=False))`` of the
same lot from :meth:`Register.iter_lots`, for every filter, with the rows paged 2 at a time,
on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner

from compound.cli import cli
from compound.register import Register, reading

NTX = "NTX2403"
TODAYS = [dt.date(2025, 3, 10), dt.date(2025, 3, 25), dt.date(2025, 9, 5), dt.date(2025, 9, 6),
          dt.date(2026, 6, 1)]
FILTERS = [(None, None), *((s, None) for s in ("quarantine", "released", "dispensed",
                                               "expired", "recalled", "destroyed")),
           (None, 0), (None, 30), ("released", 30)]


def record(reg, **overrides):
    args = dict(
        kind="capsules", description="Naltrexone HCl 4.5 mg capsules", quantity=90,
        quantity_unit="capsules", plan={"kind": "capsules", "status": "ok"},
        compounded="2025-03-10", beyond_use_date="2025-09-05",
        bud_limit="rule: nonaqueous-solid (180 days)", bud_source="USP <795> (2023) Table 4",
        stability_window_days=None, storage="room", compounded_by="AB", checked_by="CD",
        components=[(NTX, 9, "tablets")])
    return reg.record_lot(**{**args, **overrides})


@pytest.fixture
def reg(register_url):
    register = Register.open(register_url)
    fill(register)
    yield register
    register.close()


def fill(register):
    """Lots of every status, partly and wholly dispensed, study- and rule-dated, non-ASCII."""
    register.receive_ingredient(item="naltrexone-hcl-50mg-tablet", lot_number=NTX,
                                expiry="2026-05", received="2025-01-15", received_by="AB")
    register.record_prescription(rx="RX1", patient_name="Zoë Quux", patient_dob="1970-01-02",
                                 prescriber="Dr A Smith", directions="1 at bedtime",
                                 strength="4.5mg", form="capsules", quantity=30, refills=5,
                                 recorded_by="AB")
    record(register)  # quarantine
    record(register, beyond_use_date="2025-03-20", description="Zäpfchen «naltrexone» 1,5 mg")
    partly = record(register, stability_window_days=360, stability_window_end="2026-03-05",
                    bud_limit="study: Smith 2020 (360 days)", bud_source="Smith 2020")
    register.release(partly, by="CD")
    register.dispense(partly, "AB", quantity=30, rx="RX1")
    register.dispense(partly, "AB", quantity="7 capsules")
    whole = record(register, checked_by=None, storage="refrigerated")
    register.release(whole, by="CD")
    register.dispense(whole, "AB")
    recalled = record(register, quantity=47.25, quantity_unit="mL", kind="liquid",
                      description="Naltrexone 1 mg/mL suspension", beyond_use_date="2025-04-09")
    register.release(recalled, by="CD")
    register.dispense(recalled, "AB", quantity="12.35mL")
    register.recall(recalled, by="CD", reason="assay out of range")
    destroyed = record(register, beyond_use_date="2025-03-11")
    register.destroy(destroyed, by="CD", reason="spilt")
    released = record(register, beyond_use_date="2025-03-10", quantity=0.3333333333,
                      quantity_unit="g", kind="powder")
    register.release(released, by="CD")


def test_each_lot_s_json_is_the_lot_objects_json(reg, monkeypatch):
    monkeypatch.setattr(reading, "LIST_BATCH", 2)  # several pages, and a page boundary
    compared = 0
    for today in TODAYS:
        for status, days in FILTERS:
            lots = reg.list_lots(status, days, today=today)
            texts = list(reg.iter_lots_json(status, days, today=today))
            assert texts == [json.dumps(lot.to_dict(full=False), ensure_ascii=False)
                             for lot in lots]
            compared += len(texts)
    assert compared > 60  # the filters and days are not all empty
    statuses = {lot.status for today in TODAYS for lot in reg.list_lots(today=today)}
    assert statuses == {"quarantine", "released", "dispensed", "expired", "recalled",
                        "destroyed"}


def test_the_command_prints_every_lot_as_the_lot_objects_give_it(reg, register_url):
    result = CliRunner().invoke(cli, ["lots", "list", "--json", "--db", register_url],
                                catch_exceptions=False)
    assert result.exit_code == 0
    assert json.loads(result.output) == [lot.to_dict(full=False) for lot in reg.list_lots()]
    assert result.output.startswith("[\n  {") and len(result.output.splitlines()) == 9


def test_a_bad_filter_is_refused_as_iter_lots_refuses_it(reg):
    with pytest.raises(Exception, match="not a lot status"):
        list(reg.iter_lots_json("sold"))
    with pytest.raises(Exception, match="expiring"):
        list(reg.iter_lots_json(None, "soon"))
