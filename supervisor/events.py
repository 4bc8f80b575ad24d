"""The event log: every state change is one structlog event, written twice.

Once as a JSON line to `<state_dir>/events.jsonl` (what tests, `status` and the timeline read),
once as a readable line on the console of `supervisor run`.
"""

from __future__ import annotations

import sys
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any, TextIO

import structlog

EVENTS_FILE = "events.jsonl"


class _JsonLinesTee:
    """A processor that appends each event to a JSON-lines file and passes it on unchanged."""

    def __init__(self, file: TextIO) -> None:
        self._file = file
        self._render = structlog.processors.JSONRenderer(sort_keys=False)

    def __call__(self, logger: Any, method: str, event: MutableMapping[str, Any]) -> Any:
        self._file.write(self._render(logger, method, dict(event)) + "\n")
        self._file.flush()
        return event


class EventLog:
    def __init__(self, state_dir: Path, console: TextIO | None = None) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self.path = state_dir / EVENTS_FILE
        self._file = self.path.open("a", encoding="utf-8")
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
        self.log.info(event, **{key: value for key, value in fields.items() if value is not None})

    def close(self) -> None:
        self._file.close()
