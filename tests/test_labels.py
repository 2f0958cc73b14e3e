"""``compound labels``: real PDFs, ZPL and CSV, checked with real tools.

The PDF's text is read back with pdftotext, its barcode rasterised with
pdftoppm and decoded with zbarimg (Debian's poppler-utils and zbar-tools;
``.ci/run`` installs them, and on CI a missing tool fails the test rather than
skipping it). Lots are made the way a pharmacist makes them: ``compound plan
… --save`` from received ingredient lots, then ``compound lots release``.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import shutil
import subprocess

import pytest

from compound.errors import InputError, LabelRefused
from compound.labels import content as content_
from compound.labels import zpl
from compound.labels.output import render, render_contents
from compound.register import Register


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is missing on CI: .ci/run must install it")
        pytest.skip(f"{name} is not installed (apt-get install poppler-utils zbar-tools)")
    return found


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "label.pdf"
    path.write_bytes(data)
    return subprocess.run([tool("pdftotext"), "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout


def barcodes(data: bytes, tmp_path, page: int = 1) -> list[str]:
    path = tmp_path / "scan.pdf"
    path.write_bytes(data)
    subprocess.run([tool("pdftoppm"), "-r", "300", "-gray", "-png", "-f", str(page), "-l", str(page),
                    str(path), str(tmp_path / "scan")], check=True)
    image = next(tmp_path.glob("scan*.png"))
    out = subprocess.run([tool("zbarimg"), "--raw", "-q", str(image)], capture_output=True, text=True)
    image.unlink()
    return out.stdout.split()


@pytest.fixture
def run(cli):
    """``compound ARGS`` in-process: (exit code, out, err) (conftest's ``cli``)."""
    return cli


def _saved(out: str) -> str:
    return re.search(r'"lot_number": "([^"]+)"', out).group(1)


@pytest.fixture
def lots(run, pharmacy):
    """Released lots: 4.5 mg capsules (room), a 1 mg/mL suspension from tablets (fridge)."""
    assert run("lots", "receive", "naltrexone-hcl-50mg-tablet", "NTX2403", "--expiry", "2026-05",
               "--tablet-weight", "200mg", "--by", "AB")[0] == 0
    assert run("lots", "receive", "mcc", "MCC77", "--expiry", "2025-08-31", "--by", "AB")[0] == 0
    assert run("lots", "receive", "purified-water", "PW1", "--expiry", "2026-01", "--by", "AB")[0] == 0
    code, out, err = run("plan", "capsules", "--strength", "4.5mg", "--count", "30", "--overage", "1",
                         "--tablet-weight", "200mg", "--fill-weight", "100mg", "--compounded",
                         "2025-03-10", "--ingredient-lot", "NTX2403", "--ingredient-lot", "MCC77",
                         "--save", "--by", "AB", "--checked-by", "CD", "--json")
    assert code == 0, err
    capsules = _saved(out)
    code, out, err = run("plan", "liquid", "--strength", "1mg/mL", "--volume", "100mL", "--source",
                         "tablet", "--tablet-weight", "200mg", "--vehicle", "purified-water",
                         "--compounded", "2025-03-10", "--ingredient-lot", "NTX2403",
                         "--ingredient-lot", "PW1", "--save", "--by", "AB", "--json")
    assert code == 0, err
    liquid = _saved(out)
    for lot in (capsules, liquid):
        assert run("lots", "release", lot, "--by", "CD")[0] == 0
    return {"capsules": capsules, "liquid": liquid}


def lot(number):
    with Register.open() as register:
        return register.get(number)


PATIENT = {"rx": "RX1001", "patient": "Jane Doe", "prescriber": "Dr A. Example",
           "directions": "Take 1 capsule by mouth at bedtime"}


# -- PDF ------------------------------------------------------------------------------------------

def test_patient_label_pdf_holds_every_required_field(lots, tmp_path):
    text = pdf_text(render(lot(lots["capsules"]), "pdf", **PATIENT), tmp_path)
    flat = " ".join(text.split())
    for expected in ("Jane Doe", "Naltrexone HCl 4.5 mg capsules", "Take 1 capsule by mouth at bedtime",
                     "Rx RX1001", "Prescriber Dr A. Example", "Qty 30 capsules", "Route oral",
                     "Compounded 2025-03-10", "Use by (BUD) 2025-08-31", f"Lot {lots['capsules']}",
                     "Store at 20–25 °C.", "Protect from light.", "This is a compounded preparation.",
                     "Contains naltrexone: blocks opioid medicines. Tell every prescriber and "
                     "emergency staff.",
                     "Example Compounding Pharmacy", "1 Main Street, Springfield, IL 62701",
                     "(555) 010-0100", "1 of 1"):
        assert expected in flat, expected
    # 30 capsules dispensed (the prescription), not the 31 made with the overage capsule.
    assert "31 capsules" not in flat
    assert "Shake well" not in flat and "Refrigerate" not in flat


def test_patient_label_barcode_decodes_to_the_rx_number(lots, tmp_path):
    assert barcodes(render(lot(lots["capsules"]), "pdf", **PATIENT), tmp_path) == ["RX1001"]


def test_stock_label_of_a_suspension_says_shake_well_and_refrigerate(lots, tmp_path):
    data = render(lot(lots["liquid"]), "pdf", kind="stock")
    flat = " ".join(pdf_text(data, tmp_path).split())
    for expected in (f"Lot {lots['liquid']}", "Naltrexone HCl 1 mg/mL oral liquid",
                     "Use by (BUD) 2025-03-23", "Qty 100 mL", "Refrigerate 2–8 °C.",
                     "Shake well before use.", "Protect from light.", "Compounded 2025-03-10"):
        assert expected in flat, expected
    assert "Tell every prescriber" not in flat  # the patient warning is for patient labels
    assert barcodes(data, tmp_path) == [lots["liquid"]]


def test_pdf_disables_print_scaling_and_is_4_by_2_inches(lots, tmp_path):
    data = render(lot(lots["capsules"]), "pdf", **PATIENT, copies=3)
    assert b"/PrintScaling /None" in data
    path = tmp_path / "l.pdf"
    path.write_bytes(data)
    info = subprocess.run([tool("pdfinfo"), str(path)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Pages:\s+3", info) and "288 x 144 pts" in info
    text = pdf_text(data, tmp_path)
    assert [m for m in ("1 of 3", "2 of 3", "3 of 3") if m in text] == ["1 of 3", "2 of 3", "3 of 3"]


def test_sheet_layout_puts_ten_labels_on_a_letter_page(lots, tmp_path):
    data = render(lot(lots["capsules"]), "pdf", **PATIENT, copies=12, layout="sheet")
    path = tmp_path / "s.pdf"
    path.write_bytes(data)
    info = subprocess.run([tool("pdfinfo"), str(path)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Pages:\s+2", info) and "612 x 792 pts" in info
    assert b"/PrintScaling /None" in data
    assert set(barcodes(data, tmp_path, page=2)) == {"RX1001"}
    page2 = subprocess.run([tool("pdftotext"), "-f", "2", "-l", "2", str(path), "-"], check=True,
                           capture_output=True, text=True).stdout
    assert "11 of 12" in page2 and "12 of 12" in page2 and "10 of 12" not in page2


def test_titration_directions_print_with_their_dates(lots, run, tmp_path):
    out = tmp_path / "t.pdf"
    code, _, err = run("labels", lots["capsules"], "--rx", "RX1001", "--patient", "J. Doe",
                            "--titration", "1.5mg x7d, 3mg x7d, 4.5mg x7d", "--start", "2025-06-02",
                            "--format", "pdf", "-o", out)
    assert code == 0, err
    flat = " ".join(pdf_text(out.read_bytes(), tmp_path).split())
    for step in ("Days 1–7 (2 Jun – 8 Jun 2025): take 1.5 mg at bedtime",
                 "Days 8–14 (9 Jun – 15 Jun 2025): take 3 mg at bedtime",
                 "Days 15–21 (16 Jun – 22 Jun 2025): take 4.5 mg at bedtime"):
        assert step in flat, step


def test_critical_text_is_at_least_11_pt_and_shrinks_before_refusing(lots):
    from compound.labels.layout import lay_out

    short = lay_out(content_.from_lot(lot(lots["capsules"]), given=content_.prescription(**PATIENT)))
    assert short.critical_pt == 14  # room to spare: the largest size
    long_directions = "Take 1 capsule by mouth at bedtime, with a full glass of water, every night " * 3
    longer = lay_out(content_.from_lot(lot(lots["capsules"]), given=content_.prescription(
        **{**PATIENT, "directions": long_directions})))
    assert 11 <= longer.critical_pt < 14
    sizes = {t.size for t in longer.texts if t.role in ("patient", "drug", "directions")}
    assert min(sizes) >= 11
    words = " ".join(t.text for t in longer.texts if t.role == "directions").split()
    assert words == long_directions.split()  # every word, none cut off
    with pytest.raises(LabelRefused, match="Nothing is truncated"):
        lay_out(content_.from_lot(lot(lots["capsules"]), given=content_.prescription(
            **{**PATIENT, "directions": long_directions * 3})))


def test_pdf_refuses_text_its_font_cannot_draw(lots):
    with pytest.raises(LabelRefused, match="cannot draw"):
        render(lot(lots["capsules"]), "pdf", **{**PATIENT, "patient": "محمد"})


# -- refusals -------------------------------------------------------------------------------------

def test_a_missing_prescription_field_refuses_the_label(lots, run, tmp_path):
    out = tmp_path / "x.pdf"
    code, _, err = run("labels", lots["capsules"], "--rx", "RX1", "--patient", "J. Doe",
                       "--format", "pdf", "-o", out)
    assert code == 3 and "directions" in err and not out.exists()


def test_a_quarantined_lot_gets_no_label(run, lots, tmp_path):
    code, out, err = run("plan", "capsules", "--strength", "3mg", "--count", "30", "--tablet-weight",
                         "200mg", "--fill-weight", "100mg", "--compounded", "2025-03-10",
                         "--ingredient-lot", "NTX2403", "--ingredient-lot", "MCC77", "--save",
                         "--by", "AB", "--json")
    assert code == 0, err
    code, _, err = run("labels", _saved(out), "--stock", "--format", "zpl", "-o", tmp_path / "q.zpl")
    assert code == 6 and "quarantine" in err and "compound lots release" in err


@pytest.mark.parametrize("action", ["recall", "destroy"])
def test_recalled_or_destroyed_lots_get_no_label(run, lots, tmp_path, action):
    if action == "destroy":
        assert run("lots", "recall", lots["capsules"], "--by", "CD", "--reason", "test")[0] == 0
    assert run("lots", action, lots["capsules"], "--by", "CD", "--reason", "test")[0] == 0
    code, _, err = run("labels", lots["capsules"], "--stock", "--format", "pdf", "-o", tmp_path / "r.pdf")
    assert code == 6 and ("recalled" in err or "destroyed" in err)


def test_an_expired_lot_gets_no_label(run, lots, tmp_path, monkeypatch):
    monkeypatch.setenv("COMPOUND_TODAY", "2025-09-01")  # the BUD was 2025-08-31
    code, _, err = run("labels", lots["capsules"], "--stock", "--format", "pdf", "-o", tmp_path / "e.pdf")
    assert code == 6 and "expired" in err


def test_a_patient_label_needs_the_pharmacy_profile(lots, run, tmp_path, monkeypatch):
    monkeypatch.setenv("COMPOUND_PHARMACY", str(tmp_path / "none.toml"))
    code, _, err = run("labels", lots["capsules"], "--rx", "RX1", "--patient", "J. Doe",
                       "--directions", "1 at bedtime", "--format", "pdf", "-o", tmp_path / "p.pdf")
    assert code == 2 and "pharmacy profile" in err


def test_a_missing_active_ingredient_amount_or_bud_refuses():
    with pytest.raises(LabelRefused, match="active ingredient"):
        content_.drug_text("capsules", None, None)
    with pytest.raises(LabelRefused, match="beyond-use date"):
        content_.build(kind="stock", form="capsules", drug="Naltrexone HCl 4.5 mg", quantity="30 capsules",
                       beyond_use_date=None, storage="room", findings=(), compounded=None, lot="L1",
                       prescription=content_.Prescription(), pharmacy=None)


def test_control_characters_are_refused_and_barcode_numbers_checked():
    with pytest.raises(InputError, match="control characters"):
        content_.prescription(patient="Jane\x1bDoe")
    with pytest.raises(InputError, match="barcode"):
        content_.identifier("RX^1", "rx")


# -- ZPL ------------------------------------------------------------------------------------------

ALLOWED_COMMANDS = {"XA", "CI", "PW", "LL", "LH", "FO", "A0", "FH", "FD", "FS", "BY", "BC", "PQ", "XZ"}


def zpl_blocks(text: str) -> list[str]:
    """Each ``^XA … ^XZ`` block; fails unless the file is exactly such blocks."""
    blocks = re.findall(r"\^XA.*?\^XZ\n?", text, flags=re.S)
    assert "".join(blocks) == text
    for block in blocks:
        assert block.count("^XA") == 1 and block.count("^XZ") == 1
        assert "^CI28" in block
    return blocks


def zpl_commands(text: str) -> list[str]:
    return re.findall(r"[\^~]([A-Z0-9@]{2})", text)


def field_texts(block: str) -> list[str]:
    # Every ^FD directly follows ^FH.
    assert block.count("^FD") == block.count("^FH^FD")
    return [zpl.unescape(d) for d in re.findall(r"\^FH\^FD(.*?)\^FS", block)]


def test_zpl_is_one_block_per_label_with_every_field_hex_escaped(lots):
    data = render(lot(lots["capsules"]), "zpl", **PATIENT, copies=2).decode("ascii")
    blocks = zpl_blocks(data)
    assert len(blocks) == 2
    assert "^PW812" in blocks[0] and "^LL406" in blocks[0] and "^BY2," in blocks[0]
    assert set(zpl_commands(data)) <= ALLOWED_COMMANDS
    texts = field_texts(blocks[1])
    assert "Jane Doe" in texts and "RX1001" in texts and "2 of 2" in texts


def test_zpl_at_300_dpi(lots):
    block = render(lot(lots["capsules"]), "zpl", kind="stock", dpi=300).decode("ascii")
    assert "^PW1200" in block and "^LL600" in block and "^BY3," in block


HOSTILE = [
    "^XZ^XA^FO0,0^FDpwned^FS^XZ",
    "~JR",
    'O"Brien, "Jr."',
    "Smith, John",
    "Line one\nLine two",
    "Ana 😀 Lopez",
    "محمد عبد الله",
    "back\\slash _under_ score ~tilde ^caret",
    "Müller-Lüdenscheidt",
]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_text_never_becomes_a_zpl_command_and_loses_nothing(lots, hostile):
    data = render(lot(lots["capsules"]), "zpl", rx="RX1001", patient=hostile, prescriber=hostile,
                  directions=[hostile, "Take 1 capsule at bedtime"]).decode("ascii")
    (block,) = zpl_blocks(data)
    assert set(zpl_commands(block)) <= ALLOWED_COMMANDS
    assert "~" not in block
    printed = " ".join(field_texts(block))
    for word in hostile.split():  # white space (the line break) becomes a space; every word stays
        assert word in printed, word


def test_300_characters_round_trip_the_escaper_and_never_print_cut_off(lots):
    name = ("Ñandú ^XZ ~JR " * 30)[:300]
    assert zpl.unescape(zpl.escape(name)) == name
    assert not re.search(r"[\^~]", zpl.escape(name))
    with pytest.raises(LabelRefused, match="Nothing is truncated"):
        render(lot(lots["capsules"]), "zpl", **{**PATIENT, "patient": name})


# -- CSV ------------------------------------------------------------------------------------------

def test_csv_round_trips_through_pandas_unchanged(lots):
    import pandas as pd

    given = content_.prescription(rx="RX1001", patient='O"Brien, Jane', prescriber="Dr A, Example",
                                  directions=["Days 1–7: take 1.5 mg", "Days 8–14: take 3 mg"])
    built = content_.from_lot(lot(lots["capsules"]), given=given)
    labels = content_.copies_of(built, 2)
    data = render_contents(labels, "csv")
    assert data.startswith(b'"label","barcode","rx","patient"')  # stable ASCII header, no BOM
    assert data.decode("ascii", errors="replace").splitlines()[0].isascii()
    frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    assert list(frame.columns) == list(content_.FIELD_NAMES)
    assert frame.to_dict("records") == [c.fields() for c in labels]
    assert frame.loc[0, "directions"] == "Days 1–7: take 1.5 mg\nDays 8–14: take 3 mg"


def test_csv_refuses_a_formula_rather_than_prefixing_it(lots, run, tmp_path):
    out = tmp_path / "x.csv"
    code, _, err = run("labels", lots["capsules"], "--rx", "RX1", "--patient", "=HYPERLINK(\"x\")",
                       "--directions", "1 at bedtime", "--format", "csv", "-o", out)
    assert code == 2 and "formula" in err and not out.exists()


def test_cli_writes_the_file_and_says_so(lots, run, tmp_path):
    out = tmp_path / "l.zpl"
    code, stdout, err = run("labels", lots["capsules"], "--rx", "RX1001", "--patient", "Jane Doe",
                            "--directions", "Take 1 capsule at bedtime", "--format", "zpl",
                            "--dpi", "300", "--copies", "3", "-o", out)
    assert code == 0, err
    assert stdout.strip() == (f"Wrote 3 patient labels for lot {lots['capsules']} (Rx RX1001) to {out} "
                              "(ZPL).")
    assert len(zpl_blocks(out.read_text(encoding="ascii"))) == 3


def test_layout_is_data_a_preview_can_draw(lots):
    from compound.labels.layout import lay_out

    layout = lay_out(content_.from_lot(lot(lots["capsules"]), given=content_.prescription(**PATIENT)))
    roles = [t.role for t in layout.texts]
    assert roles[:3] == ["pharmacy", "patient", "drug"]  # patient, drug, directions at the top
    assert all(0 <= t.x < layout.width and 0 < t.y <= layout.height for t in layout.texts)
    assert layout.barcode.value == "RX1001" and layout.barcode.y + layout.barcode.height <= layout.height
    assert isinstance(layout.content.beyond_use_date, dt.date)


# -- the compounding record -----------------------------------------------------------------------

def test_record_txt_holds_the_working_components_bud_and_signatures(lots, run, tmp_path):
    out = tmp_path / "record.txt"
    code, stdout, err = run("record", lots["capsules"], "--format", "txt", "-o", out)
    assert code == 0, err
    assert stdout.strip() == f"Wrote the compounding record of lot {lots['capsules']} to {out} (TXT)."
    text = out.read_text(encoding="utf-8")
    flat = " ".join(text.split())
    for expected in (f"Compounding record: lot {lots['capsules']}", "Quantity made 31 capsules",
                     "Date compounded 2025-03-10", "Compounded by AB", "Checked by CD",
                     "NTX2403 Naltrexone hydrochloride 50 mg film-coated tablet 3 tablets 2026-05-31",
                     "MCC77 Microcrystalline cellulose (Avicel PH-102) 2542 mg 2025-08-31",
                     "BUD 2025-08-31",
                     "component-expiry: Microcrystalline cellulose (Avicel PH-102) lot MCC77",
                     "a BUD may not be later than any component's expiry",
                     "Whole tablets to crush: 3",
                     "= ⌈naltrexone HCl required ÷ tablet strength⌉ (whole tablets, rounded up)",
                     "source: products.csv naltrexone-hcl-50mg-tablet",
                     "Filler to add (mcc): 2542 mg", "lot.record", "lot.release",
                     "Compounded by: ______________________ Date: ____________",
                     "Checked by (pharmacist): ______________________ Date: ____________"):
        assert expected in flat, expected
    # Every step of the plan's working is there, numbered in order.
    with Register.open() as register:
        steps = register.get(lots["capsules"]).plan["steps"]
    numbers = [int(m) for m in re.findall(r"^  (\d+)\. ", text, flags=re.M)]
    assert numbers == list(range(1, len(steps) + 1)) and len(steps) > 10


def test_record_pdf_holds_the_same_and_turns_print_scaling_off(lots, run, tmp_path):
    out = tmp_path / "record.pdf"
    assert run("record", lots["liquid"], "--format", "pdf", "-o", out)[0] == 0
    data = out.read_bytes()
    assert b"/PrintScaling /None" in data
    flat = " ".join(pdf_text(data, tmp_path).split())
    for expected in (f"Compounding record: lot {lots['liquid']}", "PW1", "Purified water (unpreserved)",
                     "BUD 2025-03-23", "Signatures", "Checked by (pharmacist):", "source:"):
        assert expected in flat, expected


def test_record_of_an_unknown_lot_exits_6(run, tmp_path):
    code, _, err = run("record", "LDN-19990101-0001", "--format", "txt", "-o", tmp_path / "r.txt")
    assert code == 6 and "unknown lot" in err and not (tmp_path / "r.txt").exists()


# -- batch runs -----------------------------------------------------------------------------------

BATCH = (
    "rx,patient,prescriber,directions,form,strength,count,overage,source,tablet_weight,fill_weight,"
    "volume,vehicle,compounded\n"
    "RX2001,Ann Able,Dr A. Example,Take 1 capsule at bedtime,capsules,4.5mg,30,1,tablet,200mg,100mg,,,"
    "2025-03-10\n"
    "RX2002,Ben Baker,Dr A. Example,,capsules,3mg,30,1,tablet,200mg,100mg,,,2025-03-10\n"
    "RX2003,Cy Cole,Dr A. Example,Take 4.5 mL at bedtime,liquid,1mg/mL,,,tablet,200mg,,100mL,"
    "purified-water,2025-03-10\n"
    "RX2004,Di Dunn,Dr A. Example,Take 1 capsule at bedtime,capsules,50mg,30,1,tablet,200mg,100mg,,,"
    "2025-03-10\n"
)


@pytest.fixture
def batch_file(tmp_path, pharmacy):
    path = tmp_path / "rx.csv"
    path.write_text(BATCH, encoding="utf-8")
    return path


def test_batch_writes_one_label_per_planned_row_and_reports_rows_without_one(batch_file, run, tmp_path):
    import json

    out = tmp_path / "out"
    code, stdout, err = run("batch", batch_file, "-o", out, "--labels", "pdf")
    assert code == 0, err
    assert "Labels: 2 in" in stdout and "1 ok or warning rows without a label" in stdout
    data = (out / "labels.pdf").read_bytes()
    pages = re.findall(r"\f", pdf_text(data, tmp_path))
    assert len(pages) == 2  # RX2001 and RX2003; RX2002 has no directions, RX2004 (50 mg) is refused
    flat = " ".join(pdf_text(data, tmp_path).split())
    assert "Ann Able" in flat and "Qty 30 capsules" in flat and "Compounded 2025-03-10" in flat
    assert "Cy Cole" in flat and "Shake well before use." in flat and "Refrigerate 2–8 °C." in flat
    assert "Ben Baker" not in flat and "Di Dunn" not in flat
    assert barcodes(data, tmp_path) == ["RX2001"]
    errors = (out / "errors.csv").read_text(encoding="utf-8")
    assert re.search(r'^2,"?directions"?,.*label: no directions; the row gets no label', errors, flags=re.M)
    manifest = json.loads((out / "summary.json").read_text(encoding="utf-8"))["manifest"]
    assert "labels.pdf" in manifest["files"]


def test_labels_from_a_batch_worksheet(batch_file, run, tmp_path):
    out = tmp_path / "out"
    assert run("batch", batch_file, "-o", out)[0] == 0
    code, stdout, err = run("labels", "--from-batch", out / "worksheet.csv", "--format", "zpl",
                            "--copies", "2", "-o", tmp_path / "b.zpl")
    assert code == 0, err
    assert "Wrote 4 labels for 2 rows" in stdout and "row 2: label: no directions" in err
    blocks = zpl_blocks((tmp_path / "b.zpl").read_text(encoding="ascii"))
    assert len(blocks) == 4
    assert [t for t in field_texts(blocks[3]) if t.endswith("of 2")] == ["2 of 2"]
    assert "RX2003" in field_texts(blocks[3])


def released_for_rx(run, rx: str, *more: str) -> str:
    """30 capsules of 4.5 mg saved for prescription ``rx`` (``more``: further plan options), released."""
    assert run("lots", "receive", "naltrexone-hcl-50mg-tablet", "NTX2403", "--expiry", "2026-05",
               "--tablet-weight", "200mg", "--by", "AB")[0] == 0
    assert run("lots", "receive", "mcc", "MCC77", "--expiry", "2025-08-31", "--by", "AB")[0] == 0
    code, out, err = run("plan", "capsules", "--strength", "4.5mg", "--count", "30", "--tablet-weight",
                         "200mg", "--fill-weight", "100mg", "--compounded", "2025-03-10",
                         "--rx", rx, "--patient", "Zelda Quux", "--dob", "1970-01-02",
                         "--prescriber", "Dr A Smith", "--directions", "Take 1 capsule at bedtime", *more,
                         "--save", "--by", "AB", "--checked-by", "CD", "--ingredient-lot", "NTX2403",
                         "--ingredient-lot", "MCC77", "--json")
    assert code == 0, err
    number = _saved(out)
    assert run("lots", "release", number, "--by", "CD")[0] == 0
    return number


def test_a_lot_saved_with_its_prescription_prints_it_without_flags(run, pharmacy, tmp_path):
    number = released_for_rx(run, "RX7")
    label = tmp_path / "rx.pdf"
    code, stdout, err = run("labels", number, "--format", "pdf", "-o", label)
    assert code == 0, err
    assert "(Rx RX7)" in stdout
    flat = " ".join(pdf_text(label.read_bytes(), tmp_path).split())
    assert "Zelda Quux" in flat and "Take 1 capsule at bedtime" in flat and "Prescriber Dr A Smith" in flat
    # A typed field wins over the recorded one; an Rx the lot was neither made for nor dispensed
    # to is refused.
    code, _, err = run("labels", number, "--directions", "Take 1 capsule by mouth at bedtime",
                       "--format", "csv", "-o", tmp_path / "rx.csv")
    assert code == 0 and "Take 1 capsule by mouth at bedtime" in (tmp_path / "rx.csv").read_text("utf-8")
    code, _, err = run("labels", number, "--rx", "RX8", "--format", "pdf", "-o", tmp_path / "x.pdf")
    assert code == 6 and "RX8" in err


def test_the_example_labels_are_real(tmp_path):
    from pathlib import Path

    import pandas as pd

    here = Path(__file__).resolve().parents[1] / "examples" / "labels"
    (block,) = zpl_blocks((here / "label.zpl").read_text(encoding="ascii"))
    assert set(zpl_commands(block)) <= ALLOWED_COMMANDS and "Jane Doe" in field_texts(block)
    assert barcodes((here / "label.pdf").read_bytes(), tmp_path) == ["RX1001"]
    frame = pd.read_csv(here / "label.csv", dtype=str, keep_default_na=False)
    assert list(frame.columns) == list(content_.FIELD_NAMES) and frame.loc[0, "rx"] == "RX1001"


def test_a_patient_label_gives_one_fill_of_the_prescription_not_the_whole_lot(run, pharmacy, tmp_path):
    # 30 capsules made for RX9, which prescribes 15 a fill (1 refill): each fill's label says 15.
    number = released_for_rx(run, "RX9", "--refills", "1", "--quantity-per-fill", "15")
    code, _, err = run("labels", number, "--format", "csv", "-o", tmp_path / "fill.csv")
    assert code == 0, err
    import pandas as pd

    frame = pd.read_csv(tmp_path / "fill.csv", dtype=str, keep_default_na=False)
    assert frame.loc[0, "quantity"] == "15 capsules"
    code, _, err = run("labels", number, "--stock", "--format", "csv", "-o", tmp_path / "stock.csv")
    assert code == 0, err
    stock = pd.read_csv(tmp_path / "stock.csv", dtype=str, keep_default_na=False)
    assert stock.loc[0, "quantity"] == "30 capsules"
