"""CSV export: RFC 4180 quoting and spreadsheet formula neutralising (CWE-1236)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from compound.register import Register
from compound.register.export import neutralise_cell

NTX = "NTX2403"


@pytest.mark.parametrize(("text", "expected"), [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
    ("+44 20 7946 0000", "'+44 20 7946 0000"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("\tcmd", "'\tcmd"),
    ("\rcmd", "'\rcmd"),
    ("\0x", "'\0x"),
    ("Naltrexone HCl 4.5 mg", "Naltrexone HCl 4.5 mg"),
    ("a=b", "a=b"),
    ("", ""),
])
def test_neutralise_cell(text, expected):
    assert neutralise_cell(text) == expected


@pytest.fixture
def reg(tmp_path, clock):
    clock.set("2025-03-01")  # the lots are entered on the day they were made
    with Register.open(tmp_path / "r.sqlite3") as register:
        register.receive_ingredient(item="naltrexone-hcl-50mg-tablet", lot_number=NTX,
                                    expiry="2026-05", received="2025-03-01", received_by="AB",
                                    supplier="+44 Wholesale", reference="=1+2")
        register.receive_ingredient(item="mcc", lot_number="MCC-7781", expiry="2027-01-31",
                                    received="2025-03-01", received_by="AB")
        for description, bud in [('=HYPERLINK("http://evil","LDN")', "2025-09-05"),
                                 ('LDN 4.5 mg, "sugar-free"', "2025-03-05")]:
            register.record_lot(
                kind="capsules", description=description, quantity=30, quantity_unit="capsules",
                plan={}, compounded="2025-03-01", beyond_use_date=bud,
                bud_limit="@rule: nonaqueous-solid", bud_source="-USP <795>",
                stability_window_days=None, storage="room", compounded_by="AB",
                checked_by=None, components=[(NTX, 3, "tablets"), ("MCC-7781", 2.1, "g")])
        clock.set("2025-03-10")
        yield register


def test_lots_export_is_rfc4180_with_formulas_neutralised(reg):
    out = io.StringIO()
    assert reg.export_csv(out) == 2
    text = out.getvalue()
    assert text.count("\r\n") == 3 and "\n" not in text.replace("\r\n", "")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    by_bud = {r["beyond_use_date"]: r for r in rows}
    first, second = by_bud["2025-03-05"], by_bud["2025-09-05"]
    assert second["description"] == "'=HYPERLINK(\"http://evil\",\"LDN\")"
    assert first["description"] == 'LDN 4.5 mg, "sugar-free"'  # quoted, read back intact
    assert '"LDN 4.5 mg, ""sugar-free"""' in text
    assert second["bud_limit"] == "'@rule: nonaqueous-solid"
    assert second["bud_source"] == "'-USP <795>"
    # Numbers the tool writes stay numbers: 2025-03-05 is 5 days before today (2025-03-10).
    assert first["days_left"] == "-5" and first["status"] == "expired"
    assert second["quantity"] == "30"
    assert second["components"] == "NTX2403 3 tablets; MCC-7781 2100 mg"


def test_ingredients_export_and_file_output_with_bom(reg, tmp_path):
    target = tmp_path / "ingredients.csv"
    assert reg.export_csv(target, what="ingredients", today=dt.date(2025, 3, 10)) == 2
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel then reads UTF-8
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    ntx = next(r for r in rows if r["lot_number"] == NTX)
    assert ntx["supplier"] == "'+44 Wholesale" and ntx["reference"] == "'=1+2"
    assert ntx["expiry"] == "2026-05-31" and ntx["expired"] == "no"


def test_identifiers_a_spreadsheet_would_convert_stay_text(tmp_path, clock):
    # A spreadsheet opening the CSV reads 1E5 as 100000, 0001 as 1 and 3/4 as 4 March.
    clock.set("2025-03-01")
    with Register.open(tmp_path / "r.sqlite3") as register:
        for lot in ("1E5", "0001", "3/4", "MCC-7781"):
            register.receive_ingredient(item="mcc", lot_number=lot, expiry="2027-01-31",
                                        received="2025-03-01", received_by="AB", reference=lot)
        out = io.StringIO()
        register.export_csv(out, what="ingredients")
    rows = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    assert sorted((r["lot_number"], r["reference"]) for r in rows) == [
        ("'0001", "'0001"), ("'1E5", "'1E5"), ("'3/4", "'3/4"), ("MCC-7781", "MCC-7781")]
    assert {r["expiry"] for r in rows} == {"2027-01-31"}  # dates the tool writes stay dates


def test_a_file_export_is_whole_and_never_follows_a_symlink(reg, tmp_path, monkeypatch):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep", encoding="utf-8")
    target = tmp_path / "lots.csv"
    target.symlink_to(victim)
    assert reg.export_csv(target) == 2
    assert victim.read_text(encoding="utf-8") == "keep"
    assert not target.is_symlink() and target.read_bytes().startswith(b"\xef\xbb\xbflot_number,")
    before = target.read_bytes()

    # A failure half-way leaves the earlier export as it was, and no temporary file beside it.
    from compound.register import export

    def failing(lot):
        raise RuntimeError("disk gone")

    monkeypatch.setattr(export, "_lot_row", failing)
    with pytest.raises(RuntimeError):
        reg.export_csv(target)
    assert target.read_bytes() == before
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".lots.csv.")]


def test_an_export_to_a_folder_that_does_not_exist_is_one_clear_error(reg, tmp_path):
    from compound.errors import InputError

    with pytest.raises(InputError, match=r"cannot write .*nowhere/lots.csv: No such file or directory"):
        reg.export_csv(tmp_path / "nowhere" / "lots.csv")
