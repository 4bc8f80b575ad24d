"""Drive `supervisor run` as a real process and wait on what its event log says.

Every wait has a deadline and, when it runs out, fails with the events seen so far, so a
failing test shows the timeline instead of a bare timeout.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from supervisor.daemon.events import EVENTS_FILE

T = TypeVar("T")

Event = dict[str, Any]
_POLL_INTERVAL = 0.005


class WaitTimeout(AssertionError):
    pass


class EventTail:
    """Reads `events.jsonl` as it grows."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seen: list[Event] = []
        self._offset = 0
        self._partial = b""

    def read(self) -> list[Event]:
        try:
            with self.path.open("rb") as file:
                file.seek(self._offset)
                chunk = file.read()
        except FileNotFoundError:
            return []
        self._offset += len(chunk)
        *lines, self._partial = (self._partial + chunk).split(b"\n")
        fresh = [json.loads(line) for line in lines if line]
        self.seen.extend(fresh)
        return fresh

    def timeline(self) -> str:
        self.read()
        return "\n".join(json.dumps(event) for event in self.seen)


def matches(candidate: Event, /, **fields: Any) -> bool:
    return all(candidate.get(key) == value for key, value in fields.items())


class RunningStack:
    """`supervisor run -c CONFIG` in a child process, with its console captured to a file."""

    def __init__(
        self,
        config: Path,
        state_dir: Path,
        *args: str,
        environment: dict[str, str] | None = None,
        interpreter: Sequence[str] = ("-m", "supervisor"),
    ) -> None:
        """`interpreter`: what follows python in the command line, up to `run`."""
        self.config = config
        self.console_path = config.parent / "console.log"
        self.events = EventTail(state_dir / EVENTS_FILE)
        with self.console_path.open("wb") as console:
            self.process = subprocess.Popen(
                [sys.executable, *interpreter, "run", "-c", str(config), *args],
                stdout=console,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **(environment or {})},
            )

    def wait_until(self, condition: Callable[[], T], timeout: float, what: str) -> T:
        """The condition's first true value, or WaitTimeout with the timeline at the deadline."""
        deadline = time.monotonic() + timeout
        while not (value := condition()):
            if time.monotonic() > deadline:
                raise WaitTimeout(
                    f"timed out after {timeout}s waiting for {what}; events so far:\n"
                    f"{self.events.timeline()}\nconsole:\n{self.console()}"
                )
            time.sleep(_POLL_INTERVAL)
        return value

    def wait_event(self, timeout: float = 30.0, **fields: Any) -> Event:
        """The first event, seen so far or arriving before the deadline, with these fields."""
        found: list[Event] = []

        def seen() -> bool:
            self.events.read()
            found.extend(e for e in self.events.seen if matches(e, **fields))
            return bool(found)

        self.wait_until(seen, timeout, f"an event with {fields}")
        return found[0]

    def select(self, **fields: Any) -> list[Event]:
        self.events.read()
        return [event for event in self.events.seen if matches(event, **fields)]

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def wait_exit(self, timeout: float = 20.0) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise WaitTimeout(
                f"supervisor still running after {timeout}s; events so far:\n"
                f"{self.events.timeline()}\nconsole:\n{self.console()}"
            ) from None

    def stop(self) -> int:
        if self.process.poll() is None:
            self.signal(signal.SIGTERM)
        return self.wait_exit()

    def console(self) -> str:
        return self.console_path.read_text(errors="replace")

    def close(self) -> None:
        """Make sure nothing is left running, whatever state the test left the stack in."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
