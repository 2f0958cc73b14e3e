"""Labels as CSV for label software (BarTender, NiceLabel): one row per label.

* Stable ASCII headers (:data:`compound.labels.content.FIELD_NAMES`), UTF-8
  without a BOM, RFC 4180: every cell quoted, ``""`` for a quote, CRLF rows.
  Multi-line fields (directions, statements) keep their line breaks (LF)
  inside the quoted cell.
* Not apostrophe-prefixed (the label would print the apostrophe): a cell a
  spreadsheet would run as a formula (:func:`compound.spreadsheet.formula_like`,
  the rule the batch worksheets neutralise by) refuses the label instead.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from compound.errors import InputError
from compound.labels.content import FIELD_NAMES, LabelContent
from compound.spreadsheet import formula_like


def check(content: LabelContent) -> dict[str, str]:
    row = content.fields()
    for name, value in row.items():
        for line in value.split("\n"):
            if formula_like(line):
                raise InputError(
                    f"{name}: {line!r} starts with {line[0]!r}, which label software and "
                    "spreadsheets run as a formula.",
                    hint=f"Retype the {name} without the leading {line[0]!r}.", field=name)
    return row


def render(contents: Sequence[LabelContent]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(FIELD_NAMES)
    for content in contents:
        row = check(content)
        writer.writerow([row[name] for name in FIELD_NAMES])
    return out.getvalue().encode("utf-8")
