"""Reading prescription files: every cell as text, broken files reported, no row lost."""

from __future__ import annotations

import codecs

import pytest

from compound.batch.columns import check_header, normalise_name
from compound.batch.read import read_prescriptions
from compound.errors import InputError

HEADER = "form,strength,count,overage,source,tablet_weight,rx\n"
ROW = "capsules,4.5mg,30,1,tablet,200mg,RX1\n"


def write(tmp_path, text: str | bytes, name: str = "rx.csv"):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_cells_are_text_exactly_as_typed(tmp_path):
    table = read_prescriptions(write(tmp_path, HEADER + "capsules,4.5mg,030,5%,tablet,200mg,007\n"))
    row = table.frame.iloc[0]
    assert row["count"] == "030" and row["rx"] == "007" and row["overage"] == "5%"
    assert not table.read_errors


def test_excel_bom_is_ignored(tmp_path):
    table = read_prescriptions(write(tmp_path, codecs.BOM_UTF8 + (HEADER + ROW).encode()))
    assert table.frame.columns[0] == "form"
    assert table.frame.loc[0, "strength"] == "4.5mg"


def test_utf16_with_bom_is_read(tmp_path):
    table = read_prescriptions(write(tmp_path, (HEADER + ROW).encode("utf-16")))
    assert table.frame.loc[0, "tablet_weight"] == "200mg"


def test_windows_1252_file_is_an_input_error_with_the_line_and_the_fix(tmp_path):
    data = (HEADER + ROW + "capsules,3mg,30,1,tablet,200mg,Ren\xe9e\n").encode("cp1252")
    with pytest.raises(InputError) as err:
        read_prescriptions(write(tmp_path, data))
    assert "line 3" in err.value.message and "0xE9" in err.value.message
    assert "--encoding cp1252" in str(err.value)
    # ... and with the encoding named, it is read.
    table = read_prescriptions(tmp_path / "rx.csv", encoding="cp1252")
    assert table.frame.loc[1, "rx"] == "Renée"


def test_unknown_encoding_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="unknown text encoding"):
        read_prescriptions(write(tmp_path, HEADER + ROW), encoding="klingon")


@pytest.mark.parametrize("text", ["", "\n\n", "   \r\n", codecs.BOM_UTF8.decode()])
def test_empty_file_is_an_input_error(tmp_path, text):
    with pytest.raises(InputError, match="is empty"):
        read_prescriptions(write(tmp_path, text))


def test_missing_file_and_directory_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_prescriptions(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="directory"):
        read_prescriptions(tmp_path)


def test_header_only_gives_no_rows(tmp_path):
    table = read_prescriptions(write(tmp_path, HEADER))
    assert len(table) == 0 and "strength" in table.frame.columns


def test_a_row_with_too_many_fields_is_kept_in_place_as_an_error(tmp_path):
    text = HEADER + ROW + "capsules,4,5mg,30,1,tablet,200mg,RX2\n" + ROW.replace("RX1", "RX3")
    table = read_prescriptions(write(tmp_path, text))
    assert len(table) == 3
    assert list(table.read_errors) == [1]
    message, raw = table.read_errors[1]
    assert "8 fields but the header has 7" in message and "4,5mg" in raw
    assert table.frame.loc[2, "rx"] == "RX3"


def test_a_row_with_too_few_fields_is_an_error_too(tmp_path):
    table = read_prescriptions(write(tmp_path, HEADER + "capsules,4.5mg\n" + ROW))
    assert len(table) == 2 and list(table.read_errors) == [0]
    assert "2 fields but the header has 7" in table.read_errors[0][0]


def test_blank_lines_are_not_records(tmp_path):
    table = read_prescriptions(write(tmp_path, HEADER + ROW + "\n\n" + ROW))
    assert len(table) == 2


def test_quoted_cells_keep_commas_and_newlines(tmp_path):
    text = 'form,strength,count,directions\ncapsules,4.5mg,30,"1 capsule, at night\nwith water"\n'
    table = read_prescriptions(write(tmp_path, text))
    assert table.frame.loc[0, "directions"] == "1 capsule, at night\nwith water"


def test_a_large_file_with_line_breaks_in_cells_is_read_cell_for_cell(tmp_path):
    """Over pyarrow's 1 MB blocks, so block boundaries fall inside quoted cells: every row intact,
    including a cell whose second line looks like a row of its own."""
    two_lines = "take one capsule\nat night with water"
    rows = [f'capsules,{i % 9 + 1}mg,30,"{two_lines if i % 3 else "x,y"}"' for i in range(60_000)]
    rows[12_345] = 'capsules,1mg,30,"first line\ncapsules,2mg,60,second line"'
    path = write(tmp_path, "form,strength,count,directions\n" + "\n".join(rows) + "\n")
    assert path.stat().st_size > 2 << 20
    table = read_prescriptions(path)
    assert len(table) == 60_000 and not table.read_errors
    assert table.frame.loc[1, "directions"] == two_lines
    assert table.frame.loc[3, "directions"] == "x,y"
    assert table.frame.loc[12_345, "directions"] == "first line\ncapsules,2mg,60,second line"
    assert table.frame["strength"].tolist()[:3] == ["1mg", "2mg", "3mg"]


def test_semicolon_file_says_to_pass_the_delimiter(tmp_path):
    path = write(tmp_path, "form;strength;count\ncapsules;4,5mg;30\n")
    with pytest.raises(InputError, match="--delimiter"):
        read_prescriptions(path)
    table = read_prescriptions(path, delimiter=";")
    assert table.frame.loc[0, "strength"] == "4,5mg"


def test_unknown_column_is_an_error_naming_it_and_the_closest_known(tmp_path):
    with pytest.raises(InputError) as err:
        read_prescriptions(write(tmp_path, "form,strenght,count,colour\ncapsules,4.5mg,30,red\n"))
    text = str(err.value)
    assert "'strenght' (did you mean 'strength'?)" in text
    assert "'colour'" in text and "x_" in text


def test_missing_form_column_and_duplicate_columns_are_errors():
    with pytest.raises(InputError, match="no 'form' column"):
        check_header(["strength", "count"])
    with pytest.raises(InputError, match="given twice: strength"):
        check_header(["form", "strength", "Strength"])
    with pytest.raises(InputError, match="header cell"):
        check_header(["form", "", "count"])


def test_headers_are_matched_like_the_command_line_options():
    assert normalise_name(" Tablet Weight ") == "tablet_weight"
    assert normalise_name("--tablet-weight") == "tablet_weight"
    assert check_header(["Form", "STRENGTH", "note", "x_ward"]) == ["form", "strength", "note", "x_ward"]


def test_old_excel_format_is_refused(tmp_path):
    with pytest.raises(InputError, match=r"\.xls"):
        read_prescriptions(write(tmp_path, b"\xd0\xcf\x11\xe0", name="rx.xls"))


def test_xlsx_is_read_with_numbers_and_dates_as_typed(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    import datetime as dt

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["form", "strength", "count", "compounded", "rx"])
    sheet.append(["capsules", "4.5mg", 30, dt.datetime(2025, 3, 10), 1001])
    sheet.append([None, None, None, None, None])
    sheet.append(["capsules", "1.5mg", 60.0, "2025-03-11", "RX2", "stray"])
    sheet.append([None, None, None, None, None])  # trailing empty rows are not records
    path = tmp_path / "rx.xlsx"
    book.save(path)
    table = read_prescriptions(path)
    assert len(table) == 3
    first = table.frame.iloc[0]
    assert (first["count"], first["compounded"], first["rx"]) == ("30", "2025-03-10", "1001")
    assert table.frame.iloc[1].isna().all()
    assert list(table.read_errors) == [2]
    with pytest.raises(InputError, match="no sheet"):
        read_prescriptions(path, sheet="Sheet9")


def rows_with(n: int, special: dict[int, str]) -> str:
    """A header and ``n`` capsule rows; ``special[i]`` replaces row i's patient cell (as typed)."""
    lines = ["form,strength,count,patient"]
    lines += [f"capsules,4.5mg,30,{special.get(i, f'P{i}')}" for i in range(1, n + 1)]
    return "\n".join(lines) + "\n"


def test_an_unclosed_quote_stops_the_run_with_its_line_instead_of_swallowing_the_file(tmp_path):
    # Issue 10: 1,000 rows with an unclosed quote on row 3 were read as 3 rows (exit 0).
    path = write(tmp_path, rows_with(1000, {3: '"Doe, J'}))
    with pytest.raises(InputError) as exc:
        read_prescriptions(path)
    assert exc.value.message == ("rx.csv, line 4: a double quote in row 3, column 'patient' opens a cell "
                                 "that is never closed, so the lines after it would be read as that one "
                                 "cell. Nothing was planned.")
    assert '("")' in (exc.value.hint or "")


def test_an_unclosed_quote_closed_by_a_later_quote_is_caught_too(tmp_path):
    # The cell runs from row 3 to the first quote on row 500 (a quote in the middle of a cell).
    path = write(tmp_path, rows_with(1000, {3: '"Doe, J', 500: '"Q"'}))
    with pytest.raises(InputError, match=r"^rx.csv, line 4: a double quote in row 3, column 'patient' "):
        read_prescriptions(path)


def test_a_quote_still_open_at_the_end_of_the_file_is_caught(tmp_path):
    with pytest.raises(InputError, match=r"line 5: a double quote in row 4, column 'patient' opens a cell"):
        read_prescriptions(write(tmp_path, rows_with(4, {4: '"Doe'})))
    # Also where the unclosed cell is not the last (the row is then short, read by Python's reader).
    with pytest.raises(InputError, match="line 3: a double quote in row 2 opens a cell that is never closed"):
        read_prescriptions(write(tmp_path, "form,patient,strength\ncapsules,P1,4.5mg\ncapsules,\"Doe,4\n"))


def test_line_breaks_inside_closed_quotes_are_still_read_as_cells(tmp_path):
    text = 'form,strength,count,directions\ncapsules,4.5mg,30,"1 at night\nwith water"\ncapsules,3mg,30,x\n'
    table = read_prescriptions(write(tmp_path, text))
    assert list(table.frame["directions"]) == ["1 at night\nwith water", "x"]


def test_ten_thousand_unknown_columns_give_one_short_line(tmp_path):
    header = "form," + ",".join(f"junk{i}" for i in range(10_000)) + ",form\n"
    with pytest.raises(InputError) as exc:
        read_prescriptions(write(tmp_path, header + "capsules\n"))
    assert exc.value.message == ("the prescription file's header cannot be used: 10000 unknown columns "
                                 "('junk0', 'junk1', 'junk2' and 9997 more); column(s) given twice: form.")
    with pytest.raises(InputError, match=r"header cell\(s\) 2, 3, 4 and 4997 more are empty\. "):
        read_prescriptions(write(tmp_path, "form" + "," * 5000 + "\ncapsules\n"))
    # A few unknown columns are still named one by one, with the closest known name.
    with pytest.raises(InputError, match=r"unknown column 'strenght' \(did you mean 'strength'\?\)"):
        check_header(["form", "strenght"])


def test_planning_cells_are_read_dictionary_encoded_and_label_and_carried_cells_as_text(tmp_path):
    """Grouping reads the planning columns' codes as the reader made them; everything that
    reads a cell as text (the DataFrame, the labels, the carried columns) still gets text."""
    import pyarrow as pa

    read = read_prescriptions(write(tmp_path, "form,strength,count,rx,patient,note,x_ward\n"
                                              'capsules,4.5mg,,RX1,A. Patient,"a, note",W1\n'
                                              "capsules, 4.5mg,30,RX2,,,\n"))
    coded = pa.dictionary(pa.int32(), pa.string())
    assert {f.name: f.type for f in read.table.schema} == {
        "form": coded, "strength": coded, "count": coded,
        "rx": pa.large_string(), "patient": pa.large_string(), "note": pa.large_string(),
        "x_ward": pa.large_string()}
    frame = read.frame
    assert all(pd_is_text(frame[c]) for c in frame.columns)
    assert frame["strength"].tolist() == ["4.5mg", " 4.5mg"] and frame.loc[0, "note"] == "a, note"
    assert frame["count"].isna().tolist() == [True, False]


def pd_is_text(column) -> bool:
    import pandas as pd

    return bool(pd.api.types.is_string_dtype(column.dtype)) and str(column.dtype) != "category"


def test_an_unclosed_quote_in_a_planning_cell_is_caught(tmp_path):
    """A planning column is read dictionary-encoded: its texts with a line break are looked for in
    its dictionaries."""
    text = "form,strength,rx,count\n" + "capsules,4.5mg,RX1,30\n" * 3
    with pytest.raises(InputError, match=r"line 5: a double quote in row 4, column 'count' opens a cell"):
        read_prescriptions(write(tmp_path, text + 'capsules,3mg,RX2,"30\n'))
    assert len(read_prescriptions(write(tmp_path, text + "\n" + text.split("\n", 1)[1]))) == 6


@pytest.mark.parametrize(("column", "cell", "looked_at"), [
    ("rx", "RX9", False), ("rx", '"RX\t9"', False), ("rx", '"RX\n9"', True), ("rx", '"RX\r9"', True),
    ("strength", '"4.5\nmg"', True), ("note", '"a\nnote"', True)])
def test_the_cells_are_looked_at_for_a_swallowing_quote_only_where_one_holds_a_line_break(
        tmp_path, monkeypatch, column, cell, looked_at):
    """Only a cell with a line break can hold the lines an unclosed quote swallowed: a file without
    one is not looked at cell by cell, blank lines or not (they are no records); one with a line
    break in a label, planning or carried cell is (its bytes looked at a few at a time here: the
    break is past the first few; a tab, another byte below 14, is none)."""
    from compound.batch import read

    monkeypatch.setattr(read, "BREAK_SCAN_BYTES", 4)
    checked: list[int] = []
    monkeypatch.setattr(read, "_check_quotes", lambda p, enc, delimiter, rows: checked.append(len(rows)))
    cells = {"form": "capsules", "strength": "4.5mg", "rx": "RX1", "note": "n"}
    rows = [",".join(cells.values())] * 3 + [",".join(cell if k == column else v for k, v in cells.items())]
    text = ",".join(cells) + "\n\n" + "\n\n".join(rows) + "\n\n"
    assert len(read_prescriptions(write(tmp_path, text))) == 4
    assert checked == ([4] if looked_at else [])
