"""Which CSV cells a spreadsheet would run as a formula (CWE-1236, OWASP ASVS 1.2.10).

One rule for every CSV compound writes: text starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return is a formula to Excel, Calc and Sheets, unless
it is a plain number such as ``-3``. Spreadsheet exports (batch worksheets)
neutralise such cells with a leading apostrophe; label-data CSVs refuse them
instead, since label software would print the apostrophe.
"""

from __future__ import annotations

import re
from typing import Final

FORMULA_START: Final = r"^[=+\-@\t\r]"
PLAIN_NUMBER: Final = r"^[+-]?[0-9]+(\.[0-9]+)?$"


def formula_like(text: str) -> bool:
    """True when a spreadsheet would evaluate ``text`` (a plain number is not a formula)."""
    return bool(re.match(FORMULA_START, text)) and not re.match(PLAIN_NUMBER, text)
