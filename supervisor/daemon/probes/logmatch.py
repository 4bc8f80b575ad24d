"""A `log` probe: ready once a line of the run's output matches a regular expression.

The output pump's thread hands every chunk of whole lines it reads from the run's pipes to
`LogMatch.feed` (see `output.OutputPump.attach`): one regex search per chunk, only for runs
whose unit has a log probe; after the first match, or once the probe is cancelled, feeding
costs one attribute read.  The match
reaches the supervisor's loop through a pipe the loop watches, written once.  `close` may race
a late chunk on the pump's thread: the lock keeps a write from reaching a closed descriptor.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable

from supervisor.daemon.loop import Loop


class LogMatch:
    """One run's matcher, shared by the pump's thread (`feed`) and the loop (the rest)."""

    def __init__(self, pattern: str) -> None:
        self._regex = re.compile(pattern.encode(), re.MULTILINE)
        self.fileno, self._wake = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
        self._lock = threading.Lock()
        self._finished = False  # matched, or closed: nothing more to search for
        self._closed = False

    def feed(self, lines: bytes) -> None:
        if self._finished or not self._regex.search(lines):
            return
        with self._lock:
            if not self._closed and not self._finished:
                os.write(self._wake, b"!")
            self._finished = True

    def close(self) -> None:
        with self._lock:
            self._finished = True
            if not self._closed:
                self._closed = True
                os.close(self.fileno)
                os.close(self._wake)


class LogProbe:
    """Calls `on_pass` once the run's output matched; cancelling releases the matcher."""

    def __init__(self, loop: Loop, match: LogMatch, on_pass: Callable[[], None]) -> None:
        self._loop = loop
        self._match = match
        self._on_pass = on_pass
        self._watching = False

    def start(self) -> None:
        self._watching = True
        self._loop.add_reader(self._match.fileno, self._matched)

    def cancel(self) -> None:
        if self._watching:
            self._watching = False
            self._loop.remove_reader(self._match.fileno)
        self._match.close()

    def _matched(self) -> None:
        self.cancel()
        self._on_pass()
