"""The event log: every state change is one event, written twice.

Once as a JSON line to `<state_dir>/events.jsonl` (what tests, `status` and the timeline read),
once as a readable line on the console of `supervisor run`.

Writing an event never fails the caller.  Before each line the file at the path is compared
with the one held open: when it was removed or replaced (an operator cleaning up), the file and
its directory are created again and the first line in the new file says so.  A line that cannot
be written (a full disk) still reaches the console, and the file is reopened for the next one.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from supervisor.shared.logfiles import colour_refused

EVENTS_FILE = "events.jsonl"


class _EventFile:
    """The open event log, reopened whenever the path no longer leads to it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: TextIO | None = None
        self._identity: tuple[int, int] | None = None
        self._failed = False
        self._open()

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("a", encoding="utf-8")
        stat = os.fstat(self._file.fileno())
        self._identity = (stat.st_dev, stat.st_ino)

    def reopen_if_gone(self) -> str | None:
        """Open the file again if it is not the one at the path; why it had to be, if it did."""
        cause = "a write failed" if self._failed else "removed while running"
        try:
            stat = os.stat(self.path)
            if (stat.st_dev, stat.st_ino) == self._identity:
                return None
        except OSError:
            pass
        self.close()
        try:
            self._open()
        except OSError:
            self._failed = True
            return None  # the next event tries again; the console still has every line
        self._failed = False
        return cause

    def write(self, line: str) -> None:
        if self._file is None:
            return
        try:
            self._file.write(line)
            self._file.flush()
        except (OSError, ValueError):
            self._failed = True
            self.close()  # reopened, and the loss noticed, on the next event

    def close(self) -> None:
        if self._file is not None:
            # What a full disk kept from the file is on the console already.
            with contextlib.suppress(OSError):
                self._file.close()
            self._file, self._identity = None, None


def _colour_wanted_on(console: TextIO) -> bool:
    """Colour on a terminal, unless NO_COLOR refuses it."""
    try:
        return not colour_refused() and console.isatty()
    except (OSError, ValueError):
        return False


def _utc_stamp() -> str:
    """Now as RFC 3339 in UTC with microseconds, always the same width."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _console_value(value: Any) -> str:
    """A value as the console shows it: a string bare unless it holds blanks, anything else
    as Python writes it, so a line reads the same as the dev consoles of logging libraries."""
    if isinstance(value, str) and value and not any(c.isspace() for c in value):
        return value
    return repr(value)


class _ConsoleLine:
    """`<stamp> <event, padded> key=value ...`, coloured only where colour is wanted."""

    EVENT_WIDTH = 30

    def __init__(self, colour: bool) -> None:
        self._colour = colour

    def __call__(self, stamp: str, event: str, fields: dict[str, Any]) -> str:
        pairs = [(key, _console_value(value)) for key, value in fields.items()]
        if not self._colour:
            text = " ".join(f"{key}={value}" for key, value in pairs)
            return f"{stamp} {event:<{self.EVENT_WIDTH}} {text}".rstrip() + "\n"
        text = " ".join(f"\x1b[36m{key}\x1b[0m=\x1b[35m{value}\x1b[0m" for key, value in pairs)
        padded = f"\x1b[1m{event:<{self.EVENT_WIDTH}}\x1b[0m"
        return f"\x1b[2m{stamp}\x1b[0m {padded} {text}".rstrip() + "\n"


class EventLog:
    """The supervisor's event log.  Plain `json` and string formatting, not a logging library:
    the daemon writes a handful of fixed-shape events, and structlog's import chain (asyncio,
    and rich where installed) cost the daemon more memory and start-up than everything else
    it loads (see docs/benchmarks/index.md); structlog keeps its place in the service
    processes, where logging is their job."""

    def __init__(self, state_dir: Path, console: TextIO | None = None) -> None:
        self.path = state_dir / EVENTS_FILE
        self._file = _EventFile(self.path)
        self._console = console or sys.stderr
        self._console_line = _ConsoleLine(_colour_wanted_on(self._console))
        # Told of every record, and of its JSON as the file has it (the control socket's event
        # stream), so that no listener encodes an event a second time.
        self._listeners: list[Callable[[dict[str, Any], str], None]] = []

    def add_listener(self, listener: Callable[[dict[str, Any], str], None]) -> None:
        self._listeners.append(listener)

    def emit(self, event: str, **fields: Any) -> None:
        self.check()
        self._write(event, fields)

    def check(self) -> None:
        """Re-create the file if it was removed, with an event saying so."""
        cause = self._file.reopen_if_gone()
        if cause is not None:
            self._write("state_dir", {"action": "recreated", "file": EVENTS_FILE, "cause": cause})

    def _write(self, event: str, fields: dict[str, Any]) -> None:
        present = {key: value for key, value in fields.items() if value is not None}
        stamp = _utc_stamp()
        # The file's line: the fields, then the event's name and its time, as readers expect.
        record = {**present, "event": event, "timestamp": stamp}
        text = json.dumps(record, default=repr)
        self._file.write(text + "\n")
        for listener in self._listeners:
            listener(record, text)
        # A console that is gone (a closed terminal) loses the line; the file has it.
        with contextlib.suppress(OSError, ValueError):
            self._console.write(self._console_line(stamp, event, present))
            self._console.flush()

    def close(self) -> None:
        self._file.close()
