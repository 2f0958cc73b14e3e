"""One error hierarchy for the whole tool.

Every mistake a user can make raises a subclass of :class:`CompoundError` with a
message that says what to type instead. Front ends catch the root type: the CLI
maps ``exit_code`` to its exit status, the TUI shows the message in a dialog.
Anything that is *not* a ``CompoundError`` is a bug in compound and may show a
traceback.

Exit codes (stable, documented in the README):

====  ======================================================================
0     a plan was produced (warnings allowed)
1     an unexpected internal error (a bug: please report it)
2     bad input: a value, unit, date or option the tool cannot accept
3     refused: the input is well formed but unsafe to compound as asked
4     register integrity: the audit chain does not verify
5     catalog (data files) missing or malformed
6     register operation not allowed (unknown lot, wrong status, expired)
====  ======================================================================
"""

from __future__ import annotations


class CompoundError(Exception):
    """Root of every error compound raises on purpose."""

    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}" if self.hint else self.message


class InputError(CompoundError):
    """A value the user typed cannot be accepted."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None, field: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.field = field


class UnitInputError(InputError):
    """An amount has no unit, an unknown or ambiguous unit, or a comma decimal."""


class DateInputError(InputError):
    """A date is malformed, impossible (2025-02-30) or out of order."""


class FormulationRefused(CompoundError):
    """The input is well formed but the preparation must not be made as asked."""

    exit_code = 3


class LabelRefused(FormulationRefused):
    """A label that must not be printed: a required field missing, or text that does not fit."""


class IntegrityError(CompoundError):
    """The register's audit trail does not verify."""

    exit_code = 4


class CatalogError(CompoundError):
    """A data file is missing, malformed or has no source for a row."""

    exit_code = 5


class RegisterError(CompoundError):
    """A register operation is not allowed (unknown lot, wrong status, expired)."""

    exit_code = 6
