"""The event log: every state change is one structlog event, written twice.

Once as a JSON line to `<state_dir>/events.jsonl` (what tests, `status` and the timeline read),
once as a readable line on the console of `supervisor run`.

Writing an event never fails the caller.  Before each line the file at the path is compared
with the one held open: when it was removed or replaced (an operator cleaning up), the file and
its directory are created again and the first line in the new file says so.  A line that cannot
be written (a full disk) still reaches the console, and the file is reopened for the next one.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any, TextIO

import structlog

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


class _JsonLinesTee:
    """A processor that appends each event to the JSON-lines file and passes it on unchanged."""

    def __init__(self, file: _EventFile) -> None:
        self._file = file
        self._render = structlog.processors.JSONRenderer(sort_keys=False)

    def __call__(self, logger: Any, method: str, event: MutableMapping[str, Any]) -> Any:
        self._file.write(self._render(logger, method, dict(event)) + "\n")
        return event


class EventLog:
    def __init__(self, state_dir: Path, console: TextIO | None = None) -> None:
        self.path = state_dir / EVENTS_FILE
        self._file = _EventFile(self.path)
        console = console or sys.stderr
        self.log = structlog.wrap_logger(
            structlog.PrintLogger(console),
            processors=[
                structlog.processors.TimeStamper(fmt="iso", utc=True),
                _JsonLinesTee(self._file),
                structlog.dev.ConsoleRenderer(colors=console.isatty(), sort_keys=False),
            ],
        )

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
        # A console that is gone (a closed terminal) loses the line; the file has it.
        with contextlib.suppress(OSError):
            self.log.info(event, **present)

    def close(self) -> None:
        self._file.close()
