"""The columns a prescription file may have, and reading a column once per distinct value.

Column names are the ``compound plan`` options with underscores
(``--tablet-weight`` → ``tablet_weight``), plus ``form`` and the prescription
fields printed on labels. Headers are matched case-insensitively, and ``-``
or a space counts as ``_`` (``Tablet Weight`` is ``tablet_weight``).

A column compound does not know is an error that stops the run before any
row is planned: a misspelt optional column (``overgae``) would otherwise be
ignored and every plan would silently lack its overage. Columns that are only
for the user's own records are carried through unchanged when they are named
``note`` or start with ``x_`` (``x_ward``, ``x_ordered_by``).

Values are typed as on the command line (``4.5mg``, ``5%``, ``46 drops/2mL``).
A column of a million ``4.5mg`` cells is parsed once: :func:`distinct` factorises
the column (C speed) and each distinct text is read by the same parser the
command line uses.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from compound.batch.plan_explain import first_positions
from compound.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

FORMS: Final = ("capsules", "liquid", "drops")
_ALL: Final = FORMS


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a prescription file."""

    name: str
    forms: tuple[str, ...]
    """The forms that read it (others ignore it: a liquid row's ``count`` is not used)."""
    what: str
    example: str


def _c(name: str, forms: tuple[str, ...], what: str, example: str) -> Column:
    return Column(name, forms, what, example)


CAPS, LIQ, DROPS = ("capsules",), ("liquid",), ("drops",)

#: Every column compound reads, in the order the documentation lists them.
COLUMNS: Final[dict[str, Column]] = {c.name: c for c in (
    _c("form", _ALL, "what to plan: capsules, liquid or drops (required)", "capsules"),
    _c("strength", _ALL, "capsules: mg per capsule; liquid and drops: mg/mL", "4.5mg / 1mg/mL"),
    _c("count", CAPS, "capsules prescribed", "30"),
    _c("overage", CAPS + LIQ, "capsules: extra capsules (1) or a percentage (5%); liquid: extra volume (5%)",
       "1"),
    _c("fill_weight", CAPS, "powder one capsule holds (your pack statistic)", "100mg"),
    _c("capsule_size", CAPS, "capsule size from the catalog", "3"),
    _c("filler", CAPS, "capsule filler from the catalog", "mcc"),
    _c("route", CAPS, "tablet route: weighed or whole-tablets", "weighed"),
    _c("volume", LIQ + DROPS, "volume to make", "30mL"),
    _c("dose", LIQ + DROPS, "dose per administration", "4.5mg"),
    _c("days", LIQ, "days of supply (liquid: volume = dose ÷ strength × days)", "14"),
    _c("vehicle", LIQ + DROPS, "vehicle from the catalog", "purified-water"),
    _c("per_drop", DROPS, "drops: mg per drop", "0.5mg/drop"),
    _c("calibration", DROPS, "drops counted in a measured volume", "46 drops/2mL"),
    _c("drops_per_ml", DROPS, "drops per mL of your calibrated dropper", "23"),
    _c("source", _ALL, "tablet (crushed 50 mg tablets) or api (powder)", "tablet"),
    _c("product", _ALL, "starting product from the catalog", "naltrexone-hcl-50mg-tablet"),
    _c("tablet_weight", _ALL, "measured average tablet weight", "200mg"),
    _c("api_form", _ALL, "API salt/hydrate: anhydrous, dihydrate or base", "anhydrous"),
    _c("assay", _ALL, "CoA assay on the anhydrous basis", "99.2%"),
    _c("water", _ALL, "CoA water content", "8.71%"),
    _c("basis", _ALL, "strengths are naltrexone hcl (default) or base", "hcl"),
    _c("balance", _ALL, "balance profile from the catalog", "class-iii"),
    _c("balance_sensitivity", _ALL, "your balance's sensitivity requirement", "6mg"),
    _c("opioid_use", _ALL, "the patient takes opioids: yes or no", "no"),
    _c("override_opioid", _ALL, "the pharmacist's reason to override the opioid refusal", ""),
    _c("compounded", _ALL, "date of compounding, YYYY-MM-DD (gives the BUD)", "2025-03-10"),
    _c("storage", _ALL, "room or refrigerated (BUD)", "room"),
    _c("study", _ALL, "stability study backing the BUD (cote-2018, fawcett-1997)", ""),
    _c("attest", _ALL, "yes: the preparation matches the study", ""),
    _c("policy", _ALL, "BUD policy: usp795-2023 (default) or study", ""),
    _c("day_zero", _ALL, "yes: count the compounding day as Day 0", ""),
    _c("container", _ALL, "container (checked against a study)", ""),
    _c("component_expiry", _ALL, "component expiries, [LABEL=]DATE separated by ;", "API=2026-06"),
    _c("rx", _ALL, "prescription number (label)", "RX1001"),
    _c("patient", _ALL, "patient name (label)", "A. Patient"),
    _c("prescriber", _ALL, "prescriber (label)", "Dr B. Prescriber"),
    _c("directions", _ALL, "directions for use (label)", "1 capsule at bedtime"),
    _c("note", _ALL, "your note, carried through unchanged", ""),
)}

#: Prescription fields copied to the worksheet for labels.
LABEL_FIELDS: Final = ("rx", "patient", "prescriber", "directions")
#: Columns carried through as given.
PASS_THROUGH_PREFIX: Final = "x_"
BOOLEAN_TEXT: Final = {
    "yes": True, "y": True, "true": True, "1": True,
    "no": False, "n": False, "false": False, "0": False,
}


def normalise_name(raw: object) -> str:
    """A header as compound reads it: ``' Tablet-Weight '`` → ``tablet_weight``."""
    text = str(raw).strip().lower().lstrip("-")
    return re.sub(r"[\s\-]+", "_", text)


def is_pass_through(name: str) -> bool:
    return name == "note" or (name.startswith(PASS_THROUGH_PREFIX) and len(name) > 2)


def planning_columns(names: Sequence[str]) -> list[str]:
    """The columns that decide a row's plan: all but label fields and carried-through columns."""
    return [n for n in names if n not in LABEL_FIELDS and not is_pass_through(n)]


def check_header(raw_names: Sequence[object]) -> list[str]:
    """The normalised column names, or an InputError naming every problem.

    Raises for an unknown column (with the closest known name), a blank
    header cell and two headers that mean the same column.
    """
    names = [normalise_name(n) for n in raw_names]
    problems: list[str] = []
    blanks = [str(i + 1) for i, n in enumerate(names) if not n or n.startswith("unnamed:_")]
    if blanks:
        problems.append(f"header cell(s) {_some(blanks)} are empty")
    unknown = [(str(raw), n) for raw, n in zip(raw_names, names, strict=True)
               if n and not n.startswith("unnamed:_") and n not in COLUMNS and not is_pass_through(n)]
    if len(unknown) > _SHOWN_NAMES:
        # A file of thousands of stray columns (the wrong file, or a pivoted sheet) gets one line.
        problems.append(f"{len(unknown)} unknown columns ({_some([repr(_cut(r)) for r, _ in unknown])})")
    for raw, n in unknown if len(unknown) <= _SHOWN_NAMES else ():
        close = difflib.get_close_matches(n, list(COLUMNS), n=1, cutoff=0.6)
        guess = f" (did you mean {close[0]!r}?)" if close else ""
        problems.append(f"unknown column {_cut(raw)!r}{guess}")
    seen: dict[str, int] = {}
    for n in names:
        seen[n] = seen.get(n, 0) + 1
    dupes = sorted(_cut(n) for n, k in seen.items() if n and k > 1)
    if dupes:
        problems.append(f"column(s) given twice: {_some(dupes)}")
    if problems:
        raise InputError(
            "the prescription file's header cannot be used: " + "; ".join(problems) + ".",
            hint="Columns are the `compound plan` options with underscores (e.g. strength, count, "
                 "tablet_weight) plus form; name your own columns note or x_something to carry "
                 "them through. `compound batch --columns` lists them.",
            field="header",
        )
    if "form" not in names:
        raise InputError(
            "the prescription file has no 'form' column.",
            hint="Add a column 'form' saying capsules, liquid or drops for each row.", field="form")
    return names


#: Names listed in a header error before "and N more".
_SHOWN_NAMES: Final = 3
#: Characters of a header cell shown in an error.
_SHOWN_CHARS: Final = 40


def _cut(text: str) -> str:
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS - 1] + "…"


def _some(items: Sequence[str]) -> str:
    """The first few items, comma-separated, and how many more."""
    more = len(items) - _SHOWN_NAMES
    return ", ".join(items[:_SHOWN_NAMES]) + (f" and {more} more" if more > 0 else "")


@dataclass(frozen=True)
class Distinct:
    """A column factorised: ``codes[i]`` indexes ``uniques`` (−1 = empty cell)."""

    codes: np.ndarray
    uniques: np.ndarray
    """The distinct non-empty cells (object array), in order of first appearance."""

    def __len__(self) -> int:
        return int(self.codes.size)


@dataclass(frozen=True)
class Encoded:
    """A column of a large file as grouping dictionary-encoded it, kept for the groups' first rows
    (the rows planned), so that a block of them is factorised without hashing its cells again.

    ``codes``: per group, its cell's entry of ``values`` (None: one text in every row, entry 0);
    ``blank``: per entry, empty, whitespace or missing (read as −1, as :func:`distinct` does).
    """

    codes: np.ndarray | None
    values: np.ndarray
    blank: np.ndarray

    def block(self, start: int, stop: int) -> Distinct:
        """:func:`distinct` of the cells of groups ``start`` … ``stop − 1``: the same codes and
        distinct texts, in order of first appearance in the block."""
        n = stop - start
        codes = (np.zeros(n, dtype=np.int64) if self.codes is None
                 else self.codes[start:stop].astype(np.int64))
        k = self.values.size
        at = first_positions(codes, k)  # each entry's first row in the block
        used = np.flatnonzero((at < n) & ~self.blank)
        order = used[np.argsort(at[used], kind="stable")]
        number = np.full(k, -1, dtype=np.int64)
        number[order] = np.arange(order.size, dtype=np.int64)
        return Distinct(number[codes], self.values[order])


def encoded(codes: np.ndarray | None, dictionary: Any) -> Encoded:
    """:class:`Encoded` of a pyarrow dictionary (a null entry reads as blank)."""
    return Encoded(codes, dictionary.to_numpy(zero_copy_only=False).astype(object), _blank_texts(dictionary))


def _blank_texts(texts: Any) -> np.ndarray:
    """For each text of a pyarrow text array: empty, whitespace or missing (Arrow's own whitespace
    trim, as pandas' ``str.strip() == ""`` on Arrow-backed text, so both paths agree)."""
    import pyarrow.compute as pc

    blank = pc.fill_null(pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(texts)), 0), True)
    return blank.to_numpy(zero_copy_only=False).astype(bool)


def _blank_uniques(uniques: np.ndarray, all_text: bool = False) -> np.ndarray:
    """True for each distinct value that is empty text, whitespace or missing."""
    import pandas as pd

    if uniques.size == 0:
        return np.zeros(0, dtype=bool)
    if all_text:
        return (pd.Series(uniques, dtype="str").str.strip() == "").to_numpy()
    as_text = pd.Series(uniques, dtype=object)
    is_str = as_text.map(type).eq(str).to_numpy()
    blank = np.zeros(uniques.size, dtype=bool)
    if is_str.any():
        blank[is_str] = (pd.Series(uniques[is_str], dtype="str").str.strip() == "").to_numpy()
    others = ~is_str
    if others.any():
        blank[others] = pd.isna(pd.Series(uniques[others], dtype=object)).to_numpy()
    return blank


def distinct(values: pd.Series | Sequence[Any] | None, n: int) -> Distinct:
    """Factorise a column; empty and whitespace-only cells become −1.

    ``values=None`` (the column is absent) gives ``n`` empty cells. A pyarrow
    string column (a CSV file's, as read) is factorised by Arrow, without pandas;
    anything else (``plan_frame``'s DataFrame columns) by pandas.
    """
    if values is None:
        return Distinct(np.full(n, -1, dtype=np.int64), np.zeros(0, dtype=object))
    if _is_arrow_text(values):
        codes, uniq, blank = _arrow_distinct(values)
    else:
        import pandas as pd

        series = values if isinstance(values, pd.Series) else pd.Series(values)
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        codes = np.asarray(codes, dtype=np.int64)
        uniq = np.asarray(uniques, dtype=object)
        blank = _blank_uniques(uniq, all_text=pd.api.types.is_string_dtype(series.dtype))
    if blank.any():
        new_index = np.full(uniq.size + 1, -1, dtype=np.int64)
        new_index[:-1][~blank] = np.arange(int((~blank).sum()))
        codes = new_index[codes]  # -1 (empty) indexes the last slot, which stays -1
        uniq = uniq[~blank]
    return Distinct(codes, uniq)


def _is_arrow_text(values: Any) -> bool:
    if type(values).__module__.partition(".")[0] != "pyarrow":
        return False
    import pyarrow as pa

    kind = values.type.value_type if pa.types.is_dictionary(values.type) else values.type
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _arrow_distinct(values: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Codes, distinct texts and which of them are blank, of a pyarrow text column.

    Blank as pandas' ``str.strip() == ""`` on its Arrow-backed text (Arrow's own
    whitespace trim), so both paths agree on what an empty cell is.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(values.type):
        # A planning column as the CSV reader encoded it (a block of rows, a small file): its text,
        # factorised as any other, so the distinct texts come in order of first appearance, and a
        # block's chunks' separate dictionaries need not be unified.
        values = values.cast(values.type.value_type)
    array = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if _one_text(array):
        # A column with one text in every row (a file's form, filler, capsule size): comparing
        # with it is a quarter of a hash encoding.
        codes = np.zeros(len(array), dtype=np.int64)
        dictionary = array.slice(0, 1)
    else:
        encoded = array.dictionary_encode()
        codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
        dictionary = encoded.dictionary
    return codes, dictionary.to_numpy(zero_copy_only=False).astype(object), _blank_texts(dictionary)


def _one_text(array: Any) -> bool:
    """Whether every cell of a pyarrow text array holds the same text (none missing)."""
    import pyarrow.compute as pc

    n = len(array)
    if n == 0 or array.null_count:
        return False
    first = array[0]
    if array[n - 1] != first or array[n // 2] != first:  # most columns that vary show it here
        return False
    return bool(pc.all(pc.equal(array, first)).as_py())


def read_boolean(raw: Any, field: str) -> bool:
    """``yes``/``no`` (also y/n, true/false, 1/0) as typed in a spreadsheet cell."""
    if isinstance(raw, (bool, np.bool_)):
        return bool(raw)
    text = str(raw).strip().lower()
    if text in BOOLEAN_TEXT:
        return BOOLEAN_TEXT[text]
    raise InputError(f"{field}: cannot read {str(raw)!r} as yes or no.",
                     hint="Type yes or no (or leave the cell empty for no).", field=field)


def read_choice(raw: Any, field: str, choices: Sequence[str]) -> str:
    text = str(raw).strip().lower()
    if text in choices:
        return text
    raise InputError(f"{field}: {str(raw)!r} is not one of {', '.join(choices)}.",
                     hint=f"Type one of: {', '.join(choices)}.", field=field)


def read_text(raw: Any) -> str:
    """A cell as text: numbers a spreadsheet stored (``30``, ``4.5``) as they were typed."""
    if isinstance(raw, str):
        return raw
    if isinstance(raw, (bool, np.bool_)):
        return "yes" if raw else "no"
    if isinstance(raw, (int, np.integer)):
        return str(int(raw))
    if isinstance(raw, (float, np.floating)):
        value = float(raw)
        return str(int(value)) if value.is_integer() else np.format_float_positional(value, trim="-")
    return str(raw)


def documentation() -> list[dict[str, str]]:
    """The column table (for ``compound batch --columns`` and the README)."""
    return [{"column": c.name, "forms": "all" if c.forms == FORMS else ", ".join(c.forms),
             "what": c.what, "example": c.example} for c in COLUMNS.values()]
