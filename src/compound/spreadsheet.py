"""Which CSV cells a spreadsheet would run as a formula (CWE-1236, OWASP ASVS 1.2.10), or convert.

One rule for every CSV compound writes (pure Python, nothing imported but ``re``):

* A cell is run as a formula when it starts with ``=``, ``+``, ``-`` or
  ``@``, a tab, a carriage return or a NUL, unless it is a plain number such
  as ``-3``. Spreadsheets also skip leading spaces and line feeds before a
  formula, and Excel reads the full-width forms ``＝＋－＠`` (typed with a CJK
  input method) as the ASCII ones; a cell starting with a line feed is
  neutralised as a tab or a CR is. Spreadsheet exports (batch worksheets,
  the register's export) neutralise such cells with a leading apostrophe;
  label-data CSVs refuse them instead, since label software would print the
  apostrophe (engineering notes, "CSV formula injection").
* An identifier a spreadsheet would turn into a number, a date or a boolean
  (lot ``1E5`` becomes 100000, ``0001`` becomes 1, ``3/4`` becomes 4 March)
  gets a leading ``'`` in spreadsheet exports too, so it stays text and keeps
  its characters (:func:`identifier_cell`).
"""

from __future__ import annotations

import re
from typing import Final

#: What a formula may start with, ASCII and full-width.
FORMULA_CHARS: Final = "=+-@\uff1d\uff0b\uff0d\uff20"
#: A cell starting with one of these is neutralised whatever follows.
CONTROL_STARTS: Final = "\t\r\n\x00"
#: Skipped by spreadsheets before a formula: space, tab, CR, LF, no-break and ideographic space.
_BLANKS: Final = " \t\r\n\u00a0\u3000"
#: The rule as a regular expression (Python ``re`` and RE2, which pyarrow uses, read it alike).
FORMULA_START: Final = (f"^(?:[{re.escape(CONTROL_STARTS)}]|[{re.escape(_BLANKS)}]*"
                        f"[{re.escape(FORMULA_CHARS)}])")
PLAIN_NUMBER: Final = r"^[+-]?[0-9]+(\.[0-9]+)?$"
_FORMULA = re.compile(FORMULA_START)
_PLAIN_NUMBER = re.compile(PLAIN_NUMBER)

_MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
#: What spreadsheets convert on opening a CSV: numbers (with exponent, thousands separators, a
#: percent or currency sign, in parentheses), fractions and dates (3/4, 1-2, 2024-01, 4-Mar,
#: Mar 2025), times, and booleans.
_CONVERTED = re.compile(
    r"^\s*(?:"
    r"[+\-(]?[$€£¥]?\s*(?:\d[\d,]*\.?\d*|\.\d+)(?:e[+\-]?\d+)?\s*%?\)?"
    r"|\d{1,4}\s*[/\-.]\s*\d{1,4}(?:\s*[/\-.]\s*\d{1,4})?"
    rf"|\d{{1,2}}[\s/\-]*(?:{_MONTHS})[a-z]*(?:[\s/\-,]*\d{{1,4}})?"
    rf"|(?:{_MONTHS})[a-z]*[\s/\-,]*\d{{1,4}}(?:[\s/\-,]*\d{{1,4}})?"
    r"|\d{1,2}:\d{2}(?::\d{2})?(?:\s*[ap]m?)?"
    r"|true|false"
    r")\s*$",
    re.IGNORECASE)


def formula_like(text: str) -> bool:
    """True when a spreadsheet would evaluate ``text`` (a plain number is not a formula)."""
    return _FORMULA.match(text) is not None and _PLAIN_NUMBER.match(text) is None


def neutralise_cell(text: str) -> str:
    """Text a spreadsheet will show, never evaluate: a formula-like cell gets a leading ``'``."""
    return "'" + text if formula_like(text) else text


def identifier_cell(text: str) -> str:
    """An identifier (a lot number, a reference) that a spreadsheet keeps as text, as typed."""
    if _FORMULA.match(text) or _CONVERTED.match(text):
        return "'" + text
    return text
