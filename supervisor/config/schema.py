"""Typed reads of one TOML table, each bad value recorded as a Problem with its line.

A reader never raises: it records what is wrong and returns the default, so one pass over the
file reports every problem at once.
"""

from __future__ import annotations

import difflib
import math
import re
import shlex
import sys
from typing import Any, TypeVar

from supervisor.config.limits import MAX_SECONDS
from supervisor.config.problems import Problem
from supervisor.config.readlog import KeyRead, ReadObserver
from supervisor.config.source import SourceMap

T = TypeVar("T")
_CLASS_PATH = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$")


def _number(value: float) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def _range(minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f" from {_number(minimum)} to {_number(maximum)}"
    if minimum is not None:
        return f" >= {_number(minimum)}"
    return "" if maximum is None else f" <= {_number(maximum)}"


class TableReader:
    def __init__(
        self,
        data: dict[str, Any],
        path: tuple[str, ...],
        source: SourceMap,
        problems: list[Problem],
        observer: ReadObserver | None = None,
    ) -> None:
        self.data = data
        self.path = path
        self._source = source
        self._problems = problems
        self._observer = observer  # told every key read (the generated reference)

    @classmethod
    def root(
        cls,
        data: dict[str, Any],
        source: SourceMap,
        problems: list[Problem],
        observer: ReadObserver | None = None,
    ) -> TableReader:
        return cls(data, (), source, problems, observer)

    def _note(self, key: str, kind: str, default: Any = None, **bounds: Any) -> None:
        if self._observer is not None:
            self._observer.read(KeyRead((*self.path, key), kind, default, **bounds))

    def problem(self, key: tuple[str, ...], value: Any, message: str) -> None:
        path = self.path + key
        self._problems.append(Problem(self._source.line_of(path), ".".join(path), value, message))

    def allow(self, *known: str) -> None:
        if self._observer is not None:
            self._observer.allowed(self.path, known)
        for key in self.data:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"allowed: {', '.join(known)}"
                self.problem((key,), None, f"unknown key; {hint}")

    def table(self, key: str) -> TableReader:
        self._note(key, "table")
        value = self.data.get(key, {})
        if not isinstance(value, dict):
            self.problem((key,), value, "expected a table")
            value = {}
        return TableReader(value, (*self.path, key), self._source, self._problems, self._observer)

    def _typed(self, key: str, default: T, kinds: tuple[type, ...], expected: str) -> T:
        if key not in self.data:
            return default
        value = self.data[key]
        # bool is an int in Python; TOML keeps them apart, and so do we.
        if isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds):
            return value  # type: ignore[return-value]
        self.problem((key,), value, f"expected {expected}")
        return default

    def string(self, key: str, default: str | None) -> Any:
        self._note(key, "string", default)
        value = self._typed(key, default, (str,), "a string")
        if isinstance(value, str) and "\0" in value:
            self.problem((key,), value, "expected a string without NUL characters")
            return default
        return value

    def name(self, key: str, default: str) -> str:
        """A string that must not be empty (a prefix, a program)."""
        self._note(key, "name", default)
        value = self.string(key, default)
        if value == "":
            self.problem((key,), value, "expected a non-empty string")
            return default
        return value

    def boolean(self, key: str, default: bool) -> bool:
        self._note(key, "boolean", default)
        return self._typed(key, default, (bool,), "true or false")

    def _bounded(self, key: str, value: T, default: T, minimum: Any, maximum: Any) -> T:
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            shown = None if maximum == sys.float_info.max else maximum
            self.problem((key,), value, f"expected a value{_range(minimum, shown)}")
            return default
        return value

    def number(
        self, key: str, default: float, minimum: float | None = None, maximum: float | None = None
    ) -> float:
        """A finite number within the bounds: TOML also has `nan`, `inf` and integers of any
        size, and no timer or comparison downstream is ready for those."""
        self._note(key, "number", default, minimum=minimum, maximum=maximum)
        value = self._typed(key, default, (int, float), "a number")
        if isinstance(value, float) and not math.isfinite(value):
            self.problem((key,), value, f"expected a finite number{_range(minimum, maximum)}")
            return default
        top = sys.float_info.max if maximum is None else maximum
        return float(self._bounded(key, value, default, minimum, top))

    def seconds(
        self, key: str, default: float, minimum: float = 0.0, maximum: float = MAX_SECONDS
    ) -> float:
        """A duration: finite, and at most a day unless the caller says otherwise."""
        self._note(key, "seconds", default, minimum=minimum, maximum=maximum)
        return self.number(key, default, minimum, maximum)

    def integer(
        self, key: str, default: Any, minimum: int | None = None, maximum: int | None = None
    ) -> Any:
        self._note(key, "integer", default, minimum=minimum, maximum=maximum)
        value = self._typed(key, default, (int,), "an integer")
        return value if value is None else self._bounded(key, value, default, minimum, maximum)

    def choice(self, key: str, default: str, allowed: tuple[str, ...]) -> str:
        self._note(key, "choice", default, choices=allowed)
        value = self.data.get(key, default)
        if value not in allowed:
            self.problem((key,), value, f"expected one of {', '.join(allowed)}")
            return default
        return value

    def _list(self, key: str, default: list[Any], kind: type, expected: str) -> list[Any]:
        value = self.data.get(key, default)
        if not isinstance(value, list) or not all(
            isinstance(item, kind) and not isinstance(item, bool) for item in value
        ):
            self.problem((key,), value, f"expected a list of {expected}")
            return default
        return value

    def string_list(self, key: str) -> list[str]:
        self._note(key, "string_list", [])
        value = self._list(key, [], str, "strings")
        if any("\0" in item for item in value):
            self.problem((key,), value, "expected strings without NUL characters")
            return []
        return value

    def exit_codes(self, key: str, default: list[int]) -> frozenset[int]:
        self._note(key, "exit_codes", default, minimum=0, maximum=255)
        codes = self._list(key, default, int, "exit codes")
        if any(not 0 <= code <= 255 for code in codes):
            self.problem((key,), codes, "expected exit codes from 0 to 255")
            return frozenset(default)
        return frozenset(codes)

    def string_table(self, key: str) -> dict[str, str]:
        self._note(key, "string_table", {})
        value = self.data.get(key, {})
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            self.problem((key,), value, "expected a table of strings")
            return {}
        for name, text in value.items():
            if "\0" in text:
                self.problem((key, name), text, "expected a string without NUL characters")
                return {}
        return value

    def environment(self, key: str) -> dict[str, str]:
        """Variables for a child's environment: exec refuses a name that is empty or holds `=`
        (or a NUL, in a name or a value)."""
        self._note(key, "environment", {})
        value = self.string_table(key)
        for name in value:
            if not name or "=" in name or "\0" in name:
                self.problem((key, name), None, "expected a variable name without '=' or NUL")
                return {}
        return value

    def command(self, key: str) -> tuple[str, ...]:
        self._note(key, "command")
        raw = value = self.data.get(key)
        if isinstance(value, str):
            try:
                value = shlex.split(value)
            except ValueError as error:  # "No closing quotation"
                self.problem((key,), raw, f"cannot split into arguments: {error}")
                return ()
        if not value or not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem((key,), raw, "expected a non-empty list of strings")
            return ()
        if not value[0] or any("\0" in v for v in value):
            self.problem((key,), raw, "expected a program name first, and no NUL characters")
            return ()
        return tuple(value)

    def class_path(self, key: str) -> str | None:
        self._note(key, "class_path")
        value = self.string(key, None)
        if value is not None and not _CLASS_PATH.match(value):
            self.problem((key,), value, 'expected a dotted class path like "package.module.Class"')
            return None
        return value
