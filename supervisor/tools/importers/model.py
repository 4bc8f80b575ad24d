"""A service as an importer translated it, with the notes the writer turns into comments.

Every reader (supervisord, Procfile, compose) fills a `Translation`; the writer renders it and
nothing else, so what a reader approximated or dropped cannot be lost on the way: a dropped
setting is both a comment in the output and a line on stderr (`Translation.dropped`).

Values are plain Python (str, int, float, bool, list, dict) in the key order they are written.
Strings that go into the output verbatim are already written in services.toml's own syntax
(`escape` for literal text: `$` and braces doubled where services.toml would read them).
"""

from __future__ import annotations

import os
import re
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from supervisor.config import limits
from supervisor.config.services import STOP_SIGNALS


class SourceError(Exception):
    """The input cannot be read as its format: file, line and key, as `check` reports a
    services file (exit status 2)."""

    def __init__(self, file: Path | str, line: int | None, key: str, message: str) -> None:
        where = f"{file}:{line}" if line else str(file)
        super().__init__(f"{where}: {key}: {message}" if key else f"{where}: {message}")


@dataclass(frozen=True)
class Dropped:
    """A setting of the input with no place in services.toml."""

    file: Path
    line: int | None
    key: str  # as the input names it: "[program:web] user", or a whole "[eventlistener:x]"
    value: Any  # None: a whole section or service
    why: str

    def render(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else str(self.file)
        return f"{where}: {_setting(self.key, self.value)}: not imported: {self.why}"


def _setting(key: str, value: Any) -> str:
    return key if value is None else f"{key} = {value!r}"


@dataclass
class Service:
    name: str
    values: dict[str, Any] = field(default_factory=dict)
    # Comments before a key ("" : at the top of the service's table).
    notes: dict[str, list[str]] = field(default_factory=dict)
    # Why the whole table is written commented out (it would not run as the input meant).
    disabled: str | None = None

    def set(self, key: str, value: Any, note: str | None = None) -> None:
        self.values[key] = value
        if note:
            self.note(key, note)

    def note(self, key: str, text: str) -> None:
        self.notes.setdefault(key, []).append(text)


@dataclass
class Translation:
    source: Path
    format: str
    notes: list[str] = field(default_factory=list)  # the header's
    supervisor: dict[str, Any] = field(default_factory=dict)  # [supervisor] keys, if any
    services: list[Service] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)
    taken: set[str] = field(default_factory=set)  # the service names given out

    def new_service(self, name: str) -> Service:
        """A service for the input's `name`: a valid name, unique in the translation (two names
        that differ only in characters a service name cannot hold get -2, -3...)."""
        fixed = service_name(name)
        if fixed in self.taken:
            fixed = next(
                f"{fixed[:60]}-{n}"
                for n in range(2, 10_000)
                if f"{fixed[:60]}-{n}" not in self.taken
            )
        self.taken.add(fixed)
        service = Service(fixed)
        if fixed != name:
            service.note(
                "", f"{name}: renamed {fixed}: a service name is 1 to 64 letters, digits, _ . -"
            )
        return service

    def drop(
        self,
        service: Service | None,
        line: int | None,
        key: str,
        value: Any,
        why: str,
        file: Path | None = None,
    ) -> None:
        """A setting that has no equivalent: a comment where it would have gone, and stderr
        (with `file` and `line`: an `[include]`d file, or the source)."""
        self.dropped.append(Dropped(file or self.source, line, key, value, why))
        if service is None:
            self.note(f"{_setting(key, value)}: not imported: {why}")
        else:
            service.note("", f"{_setting(key.split()[-1], value)}: not imported: {why}")

    def note(self, text: str) -> None:
        """A note of the header, once however many services it is about."""
        if text not in self.notes:
            self.notes.append(text)


_SPECIAL_DOLLAR = re.compile(r"\$(?=[${]|\Z)")  # at the end too: a variable may follow


def escape(text: str, *, braces: bool = True) -> str:
    """Literal text as a services.toml string: every `$` that services.toml would read as a
    variable doubled, and (`braces`: in keys with placeholders) every brace too."""
    text = _SPECIAL_DOLLAR.sub("$$", text)
    return text.replace("{", "{{").replace("}", "}}") if braces else text


_INVALID = re.compile(r"[^A-Za-z0-9_.-]+")


def service_name(name: str) -> str:
    """The input's name made a valid service name (letters, digits, `_`, `.`, `-`)."""
    fixed = _INVALID.sub("-", name).lstrip("._-")[:64] or "service"
    if fixed.endswith(limits.RESERVED_SUFFIX):
        fixed += "-"
    return fixed


def relative_path(path: Path, base: Path) -> str:
    """A path as services.toml keeps it: relative to the output's folder when inside it."""
    path, base = Path(os.path.abspath(path)), Path(os.path.abspath(base))
    if path == base:
        return "."
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(us|ms|s|m|h)")
_DURATION_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def seconds(text: str | float | int) -> float | None:
    """A duration as Go and compose write it (`1m30s`, `500ms`, `10`), in seconds; None if not."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        return float(text)
    text = str(text).strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return sum(float(number) * _DURATION_UNITS[unit] for number, unit in parts)


def signal_name(given: str) -> str | None:
    """A signal as supervisord and compose write it (`QUIT`, `SIGQUIT`, `3`), by the name
    `stop_signal` takes (`QUIT`); None for a number that is no signal."""
    name = given.upper().removeprefix("SIG")
    if not name.isdigit():
        return name
    try:
        return signal.Signals(int(name)).name.removeprefix("SIG")
    except ValueError:
        return None


def set_stop_signal(service: Service, name: str, given: str) -> None:
    """`stop_signal = name` where this project sends that signal; else TERM, with a note that
    names what was `given`."""
    if name in STOP_SIGNALS:
        service.set("stop_signal", name)
    else:
        choices = ", ".join(STOP_SIGNALS)
        service.set(
            "stop_signal",
            "TERM",
            f"{given}: not one this project sends ({choices}); TERM is sent instead.",
        )
