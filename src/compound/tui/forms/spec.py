"""Field and form specifications: plain data, no Textual.

A :class:`FormSpec` lists its fields and names the plan function (the same one
the CLI calls) by ``"module:attribute"``, so the TUI never does arithmetic of
its own. Field names are the plan function's keyword arguments, and a field's
``kind`` picks the parser the CLI uses for that option.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from compound.planning.base import Plan

FieldKind = Literal[
    "mass", "volume", "concentration", "mass_per_drop", "fraction", "duration", "calibration",
    "count", "overage", "per_drop", "drop_dose", "choice", "flag", "text", "date",
]
_FLAG = re.compile(r"--[a-z][a-z-]*[a-z]")
Choices = tuple[tuple[str, str], ...]
"""(label, value) pairs; the value "" means "let the plan decide" (the keyword is left out)."""


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    """The plan function's keyword argument."""
    label: str
    kind: FieldKind
    default: str | Callable[[], str] = ""
    placeholder: str = ""
    required: bool = False
    choices: Choices | Callable[[], Choices] = ()
    """For a choice: the options. For text: the suggestions offered while typing."""
    show_when: tuple[str, str] | None = None
    """Shown (and passed to the plan) only while field ``[0]`` has the value ``[1]``."""
    help: str = ""
    """One line under the field while its text is valid: what to type, or what blank means."""

    def initial(self) -> str:
        return self.default() if callable(self.default) else self.default

    def options(self) -> Choices:
        return self.choices() if callable(self.choices) else self.choices


@dataclass(frozen=True, slots=True)
class FormSpec:
    key: str
    title: str
    function: str
    """``"module:attribute"`` of the plan function."""
    fields: tuple[FieldSpec, ...]

    def field(self, name: str) -> FieldSpec:
        return next(f for f in self.fields if f.name == name)

    def visible(self, values: Mapping[str, str | bool]) -> list[FieldSpec]:
        """The fields that apply to these values (API fields only for the API route, ...)."""
        return [f for f in self.fields
                if f.show_when is None or values.get(f.show_when[0]) == f.show_when[1]]

    def arguments(self, values: Mapping[str, str | bool]) -> dict[str, str | bool]:
        """Keyword arguments for the plan: visible fields only; blank means "not given"."""
        out: dict[str, str | bool] = {}
        for spec in self.visible(values):
            value = values.get(spec.name, "")
            if isinstance(value, str):
                value = value.strip()
                if value == "":
                    continue
            elif value is False:
                continue
            out[spec.name] = value
        return out

    def in_tui_words(self, text: str, extra: tuple[FieldSpec, ...] = ()) -> str:
        """``text`` with each CLI option this form has (``--tablet-weight``) named as the field
        is labelled on screen ("Tablet weight"): the TUI has no flags to type."""
        labels = {f"--{f.name.replace('_', '-')}": f.label for f in (*self.fields, *extra)}

        def name(match: re.Match[str]) -> str:
            label = labels.get(match.group(0))
            return f"“{label}”" if label else match.group(0)

        return _FLAG.sub(name, text)

    def calculate(self, values: Mapping[str, str | bool]) -> Plan:
        """Run the plan function on the form's values (it raises CompoundError on bad input)."""
        module_name, attr = self.function.split(":")
        function = getattr(importlib.import_module(module_name), attr)
        return function(**self.arguments(values))  # type: ignore[no-any-return]


