"""A problem found in a services file, and how an error message repeats a value.

Light on purpose: the error type a client command may meet (`tomlfile.ConfigError`) needs it,
and such a command must not import the whole reader.
"""

from __future__ import annotations

from typing import Any, NamedTuple

_SHOWN = 120  # characters of a value an error message repeats


def show(value: Any) -> str:
    """A value as an error message repeats it: its repr, cut short (a value can be megabytes,
    and an integer of thousands of digits has no repr at all)."""
    try:
        text = repr(value)
    except ValueError:  # Python will not print an integer of more than 4300 digits
        if isinstance(value, int):
            return f"<an integer of about {value.bit_length() * 3 // 10} digits>"
        return f"<a {type(value).__name__} holding an integer too long to print>"
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


class Problem(NamedTuple):
    """A NamedTuple, not a dataclass: a client command meets this type, and importing the
    dataclasses module cost it more than all the rest of the config package it needs."""

    line: int | None
    key: str
    value: Any  # None when the problem is about a missing key or a whole table
    message: str

    def render(self, file: str) -> str:
        where = f"{file}:{self.line}" if self.line else file
        what = self.key if self.value is None else f"{self.key} = {show(self.value)}"
        return f"{where}: {what}: {self.message}" if what else f"{where}: {self.message}"
