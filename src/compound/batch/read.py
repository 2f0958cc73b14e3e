"""Reading a prescription file (CSV, or XLSX with the ``xlsx`` extra) into text columns.

Every cell is read as text, exactly as typed: ``030`` stays ``030`` and
``4.5mg`` is parsed later by the same allow-list as the command line. The fast
path is pyarrow's multithreaded CSV reader. It reads the planning columns
dictionary-encoded (a code per cell into each chunk's distinct texts): grouping
needs their codes, and a million cells of a few hundred texts then never exist
as a million strings (:func:`text_table` gives them back as text); the label
and carried columns as ``large_string``, as the writers take them. A file with
a malformed row (too many or too few fields, usually an unquoted ``4,5mg``) is
read again with Python's csv module so that the malformed row can be kept, in
its place, as an error: rows in = rows out.

Row numbers: ``row`` is the 1-based number of the data record, header not
counted, blank lines skipped (row 1 is the first prescription; in a
spreadsheet whose header is on sheet row 1, row N is on sheet row N + 1).

Problems with the file as a whole (missing, empty, not text in the expected
encoding, an unusable header) raise :class:`~compound.errors.InputError`:
the CLI exits with status 2 and plans nothing.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from compound.batch.columns import check_header, planning_columns, read_text
from compound.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

#: What a malformed row says (the ``{}`` are the field counts).
FIELD_COUNT_MESSAGE = (
    "the row has {got} fields but the header has {want}: an unquoted comma (4,5mg) or a stray "
    "delimiter splits cells. Put that cell in double quotes or type a decimal point."
)
#: Bytes of the file pyarrow parses at a time (its default is 1 MB). Fewer, larger blocks cut a
#: million rows' read by ~0.03 s and ~0.07 s of CPU here, dictionary-encoding fewer chunks' texts.
READ_BLOCK_BYTES: Final = 4 << 20


@dataclass
class Prescriptions:
    """A prescription file read into text columns with normalised names.

    The fast CSV path keeps the pyarrow table (``table``) and makes the
    DataFrame only when asked; the other paths build the DataFrame.
    """

    _frame: pd.DataFrame | None = None
    read_errors: dict[int, tuple[str, str]] = field(default_factory=dict)
    """0-based record index -> (message, the raw record) for malformed rows."""
    path: str = ""
    table: Any = None
    """The pyarrow table as read, or None: text columns, the planning ones dictionary-encoded."""

    @property
    def frame(self) -> pd.DataFrame:
        if self._frame is None:
            import pandas  # noqa: F401  a statement, so a file run's guard lets it (compound.batch.arrow)

            self._frame = text_table(self.table).to_pandas()
        return self._frame

    def __len__(self) -> int:
        return int(self.table.num_rows) if self.table is not None else len(self.frame)


def read_prescriptions(path: str | Path, *, encoding: str | None = None, delimiter: str = ",",
                       sheet: str | None = None) -> Prescriptions:
    """Read a ``.csv`` (or ``.xlsx``) prescription file.

    Parameters
    ----------
    encoding : str, optional
        The CSV's text encoding; default UTF-8 (with or without Excel's BOM;
        a UTF-16 file is recognised by its BOM).
    delimiter : str
        The CSV field separator (``;`` for European Excel exports).
    sheet : str, optional
        XLSX worksheet name (default: the first sheet).
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"no such file: {p}.", hint="Check the path of the prescription file.")
    if p.is_dir():
        raise InputError(f"{p} is a directory, not a prescription file.",
                         hint="Give the path of a .csv (or .xlsx) file.")
    if p.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(p, sheet)
    if p.suffix.lower() == ".xls":
        raise InputError(f"{p.name}: the old Excel .xls format is not read.",
                         hint="Save the sheet as .xlsx or as 'CSV UTF-8 (Comma delimited)'.")
    return _read_csv(p, encoding, delimiter)


def _encoding_for(head: bytes, encoding: str | None) -> str:
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise InputError(f"unknown text encoding {encoding!r}.",
                             hint="Use utf-8, utf-8-sig, cp1252, latin-1 or utf-16.") from None
        return encoding
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "utf-8"


def _not_text(p: Path, raw: bytes, encoding: str) -> InputError:
    try:
        raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        bad = raw[exc.start: exc.start + 1].hex().upper()
        return InputError(
            f"{p.name}, line {line}: byte 0x{bad} is not {encoding.upper()} text; the file was "
            "probably saved as Windows-1252 or Latin-1.",
            hint="Save it from Excel as 'CSV UTF-8 (Comma delimited)', or pass --encoding cp1252.")
    return InputError(f"{p.name} is not {encoding} text.", hint="Pass --encoding.")


def _read_csv(p: Path, encoding: str | None, delimiter: str) -> Prescriptions:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    with p.open("rb") as fh:
        head = fh.read(1 << 16)
    enc = _encoding_for(head, encoding)
    if not head.strip(b" \t\r\n\x00" + codecs.BOM_UTF8):
        raise InputError(f"{p.name} is empty.",
                         hint="A prescription file starts with a header row naming its columns, "
                              "e.g. form,strength,count,source,tablet_weight.")
    header = _header(p, enc, delimiter)
    names = check_header(header)
    coded = set(planning_columns(names))
    # Label and carried cells are written as read, into every row: large_string (64-bit offsets),
    # as the worksheet's and the JSON lines' builders take them, so they use the read's buffers
    # rather than a copy (~30 MB for a million rows' rx and patient).
    types = {h: pa.dictionary(pa.int32(), pa.string()) if n in coded else pa.large_string()
             for h, n in zip(header, names, strict=True)}
    bad_rows: list[int] = []

    def on_invalid(row: object) -> str:
        bad_rows.append(1)
        return "skip"

    def read(newlines_in_values: bool) -> Any:
        """The table, or None when pyarrow cannot read the file this way."""
        bad_rows.clear()
        try:
            table = pacsv.read_csv(
                p,
                read_options=pacsv.ReadOptions(encoding=_arrow_encoding(enc), block_size=READ_BLOCK_BYTES),
                parse_options=pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=on_invalid,
                                                 newlines_in_values=newlines_in_values),
                convert_options=pacsv.ConvertOptions(column_types=types,
                                                     strings_can_be_null=True, null_values=[""],
                                                     quoted_strings_can_be_null=True),
            )
        except pa.ArrowInvalid as exc:
            if "UTF8" in str(exc) or "UTF-8" in str(exc):
                raise _not_text(p, p.read_bytes(), enc) from None
            return None
        if bad_rows or table.num_columns != len(names):
            return None
        return table

    # Most files have no line break inside a cell, and pyarrow splits them for its threads faster
    # when told so. Where a cell does hold one, that read fails rather than misreads: pyarrow checks
    # that each split ends where its quote-aware parser ends a row. The file is then read again,
    # allowing line breaks in cells, and only a file with malformed rows goes to Python's reader.
    # An unclosed quote makes every line after it part of one cell, up to the next quote (or the end
    # of the file), and every reader accepts that. Such a cell holds the line breaks it swallowed:
    # a file none of whose cells holds a line break (the usual) has none, and only the cells that
    # do are looked at (_check_quotes).
    table = read(newlines_in_values=False)
    if table is None:
        table = read(newlines_in_values=True)
    read_back = (Prescriptions(table=table.rename_columns(names), path=str(p)) if table is not None
                 else _read_csv_slow(p, enc, delimiter, names))
    if read_back.table is None or _has_break(read_back.table):
        _check_quotes(p, enc, delimiter, read_back)
    return read_back


def text_table(table: Any) -> Any:
    """The table with its dictionary-encoded columns as plain text (for pandas and the like)."""
    import pyarrow as pa

    text = pa.schema([f.with_type(f.type.value_type) if pa.types.is_dictionary(f.type) else f
                      for f in table.schema])
    return table if text == table.schema else table.cast(text)


#: Bytes of a text column looked at a time for line breaks (into one reused mask).
BREAK_SCAN_BYTES: Final = 1 << 18
#: Per byte value: is it a line break?
_BREAK = np.zeros(256, dtype=bool)
_BREAK[[ord("\n"), ord("\r")]] = True


def _has_break(table: Any) -> bool:
    """Does any cell of the table hold a line break (``\\n`` or ``\\r``)?

    A dictionary-encoded column's texts are its chunks' dictionaries; a text column's, its data
    buffers, read where its offsets say, :data:`BREAK_SCAN_BYTES` at a time, in place (no copy:
    fresh pages cost more than the look on this project's VMs): ~3 ms for a million rows' rx and
    patient, where counting the file's lines on a thread took ~27 ms of CPU while pyarrow read it.
    """
    import pyarrow as pa

    mask = np.empty(BREAK_SCAN_BYTES, dtype=bool)
    for column in table.columns:
        for chunk in column.chunks:
            texts = chunk.dictionary if pa.types.is_dictionary(chunk.type) else chunk
            if len(texts) == 0 or texts.buffers()[2] is None:
                continue
            large = pa.types.is_large_string(texts.type) or pa.types.is_large_binary(texts.type)
            offsets = np.frombuffer(texts.buffers()[1], dtype=np.int64 if large else np.int32)
            first, last = int(offsets[texts.offset]), int(offsets[texts.offset + len(texts)])
            data = np.frombuffer(texts.buffers()[2], dtype=np.uint8)[first:last]
            for lo in range(0, data.size, BREAK_SCAN_BYTES):
                part = data[lo:lo + BREAK_SCAN_BYTES]
                # \n and \r are below 14, as few bytes of text are: those few are looked up.
                low = np.less_equal(part, 13, out=mask[:part.size])
                if low.any() and _BREAK[part[low]].any():
                    return True
    return False


def _check_quotes(p: Path, enc: str, delimiter: str, read: Prescriptions) -> None:
    """Refuse a file where an unclosed double quote swallowed the lines after it into one cell.

    Only a cell with a line break can be one. Suspects: such a cell holding a
    line with as many delimiters as a whole record (the records after the
    quote), one in the last row (the quote ran to the end of the file), and a
    malformed row spanning lines. A suspect is read again from its first line
    by Python's reader in strict mode: a cell properly closed ends with a
    quote followed by a delimiter or a line end; a swallowing one runs to the
    end of the file, or to some later quote in the middle of a cell.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    names = list(read.frame.columns) if read.table is None else read.table.column_names
    width, last = len(names), len(read) - 1
    suspects: dict[int, str] = {}
    for name in names:
        column = (pa.array(read.frame[name], type=pa.string(), from_pandas=True) if read.table is None
                  else read.table.column(name))
        if pa.types.is_dictionary(column.type):
            if not any(pc.any(pc.match_substring_regex(c.dictionary, "[\\r\\n]")).as_py()
                       for c in column.chunks):
                continue  # no cell's text has a line break (most planning columns): no cell to look at
            column = column.cast(pa.string())
        has_break = pc.fill_null(pc.match_substring_regex(column, "[\\r\\n]"), False)
        for index in np.flatnonzero(np.asarray(has_break)):
            lines = str(column[int(index)].as_py()).splitlines()[1:]
            if index == last or (width > 1 and any(line.count(delimiter) >= width - 1 for line in lines)):
                suspects.setdefault(int(index), f", column {name!r}")
    for index, (_, raw) in read.read_errors.items():
        if "\n" in raw or "\r" in raw:
            suspects.setdefault(index, "")
    if not suspects:
        return
    checked = sorted(suspects)[:_SUSPECTS_CHECKED]
    for index, line in zip(checked, _record_lines(p, enc, delimiter, checked), strict=True):
        if not _closes(p, enc, delimiter, line):
            raise InputError(
                f"{p.name}, line {line}: a double quote in row {index + 1}{suspects[index]} opens a cell "
                "that is never closed, so the lines after it would be read as that one cell. "
                "Nothing was planned.",
                hint='Close the quote, or delete it; a double quote inside a cell is typed twice ("").')


#: Suspect cells read again in strict mode (each a pass over the file up to it); the first
#: unclosed quote is among the first suspects.
_SUSPECTS_CHECKED: Final = 5


def _open_text(p: Path, enc: str) -> Any:
    return p.open(encoding="utf-8-sig" if enc == "utf-8" else enc, newline="")


def _record_lines(p: Path, enc: str, delimiter: str, indices: list[int]) -> list[int]:
    """The file line on which each data record (0-based, header not counted, sorted) starts."""
    wanted, out = iter(indices), []
    target = next(wanted, None)
    with _open_text(p, enc) as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        records, start = -1, 1  # -1: the header
        for record in reader:
            if record and not (len(record) == 1 and not record[0].strip()):
                while records == target:
                    out.append(start)
                    target = next(wanted, None)
                records += 1
            start = reader.line_num + 1
    return out + [start] * (len(indices) - len(out))


def _closes(p: Path, enc: str, delimiter: str, line: int) -> bool:
    """Does the record starting on ``line`` read as strict CSV (every quote closed where a cell ends)?"""
    with _open_text(p, enc) as fh:
        for _ in range(line - 1):
            fh.readline()
        try:
            next(csv.reader(fh, delimiter=delimiter, strict=True), None)
        except csv.Error:
            return False
    return True


def _arrow_encoding(enc: str) -> str:
    return "utf8" if codecs.lookup(enc).name in ("utf-8", "utf-8-sig") else enc


def _header(p: Path, enc: str, delimiter: str) -> list[str]:
    try:
        with p.open(encoding="utf-8-sig" if enc == "utf-8" else enc, newline="") as fh:
            for record in csv.reader(fh, delimiter=delimiter):
                if record and any(c.strip() for c in record):
                    if len(record) == 1 and delimiter == "," and ";" in record[0]:
                        raise InputError(
                            f"{p.name}: the header has one column, {record[0]!r}; the file seems "
                            "to use ';' between fields.",
                            hint="Pass --delimiter ';' (or save the sheet as comma-separated CSV).")
                    return record
    except UnicodeDecodeError:
        raise _not_text(p, p.read_bytes(), enc) from None
    except csv.Error as exc:
        raise InputError(f"{p.name}: the header row cannot be read ({exc}).") from None
    raise InputError(f"{p.name} is empty.", hint="A prescription file starts with a header row.")


def _read_csv_slow(p: Path, enc: str, delimiter: str, names: list[str]) -> Prescriptions:
    """Python's csv reader: keeps malformed rows (as errors) in their places."""
    want = len(names)
    columns: list[list[str | None]] = [[] for _ in names]
    errors: dict[int, tuple[str, str]] = {}
    try:
        with p.open(encoding="utf-8-sig" if enc == "utf-8" else enc, newline="") as fh:
            reader = csv.reader(fh, delimiter=delimiter)
            header_seen = False
            for record in reader:
                if not record or (len(record) == 1 and not record[0].strip()):
                    continue  # a blank line is not a record
                if not header_seen:
                    header_seen = True
                    continue
                i = len(columns[0])
                if len(record) != want:
                    errors[i] = (FIELD_COUNT_MESSAGE.format(got=len(record), want=want),
                                 delimiter.join(record))
                    record = [""] * want
                for col, value in zip(columns, record, strict=True):
                    col.append(value if value != "" else None)
    except UnicodeDecodeError:
        raise _not_text(p, p.read_bytes(), enc) from None
    except csv.Error as exc:
        raise InputError(f"{p.name}: cannot read the file as CSV ({exc}).",
                         hint="Check for an unclosed double quote.") from None
    import pandas as pd  # a file with malformed rows, read cell by cell: rare, so not worth an Arrow table

    frame = pd.DataFrame({n: pd.array(c, dtype="str") for n, c in zip(names, columns, strict=True)})
    return Prescriptions(_frame=frame, read_errors=errors, path=str(p))


def _cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = read_text(value)
    return text if text.strip() else None


def _read_xlsx(p: Path, sheet: str | None) -> Prescriptions:
    try:
        import openpyxl
    except ModuleNotFoundError:
        raise InputError(f"{p.name}: reading .xlsx needs openpyxl.",
                         hint="Install it with: pip install 'compound[xlsx]' (or save as CSV).") from None
    try:
        book = openpyxl.load_workbook(p, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise InputError(f"{p.name} cannot be opened as an Excel workbook ({exc}).",
                         hint="Open it in Excel and save it again as .xlsx, or as CSV.") from None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise InputError(f"{p.name} has no sheet {sheet!r}.",
                             hint=f"Sheets: {', '.join(book.sheetnames)}.")
        ws = book[sheet] if sheet else book.worksheets[0]
        rows = [[_cell_text(v) for v in r] for r in ws.iter_rows(values_only=True)]
    finally:
        book.close()
    while rows and all(v is None for v in rows[-1]):
        rows.pop()  # Excel's trailing empty rows are not records
    if not rows:
        raise InputError(f"{p.name} is empty.", hint="The first sheet row is the header.")
    header = rows[0]
    while header and header[-1] is None:
        header.pop()
    names = check_header([h if h is not None else "" for h in header])
    width = len(names)
    errors: dict[int, tuple[str, str]] = {}
    body: list[list[str | None]] = []
    for i, r in enumerate(rows[1:]):
        extra = [v for v in r[width:] if v is not None]
        if extra:
            errors[i] = (FIELD_COUNT_MESSAGE.format(got=width + len(extra), want=width),
                         ",".join(v or "" for v in r))
            body.append([None] * width)
        else:
            body.append((list(r) + [None] * width)[:width])
    import pandas as pd

    frame = pd.DataFrame(body, columns=names, dtype="str") if body else pd.DataFrame(
        {n: pd.array([], dtype="str") for n in names})
    return Prescriptions(_frame=frame, read_errors=errors, path=str(p))
