"""Signals as a queue the main loop reads, so service code never runs inside a handler."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from types import TracebackType


class SignalQueue:
    """Delivers the given signals, in arrival order, as numbers read from a pipe.

    The interpreter's C-level handler writes each signal's number to the wakeup fd whatever
    thread the kernel picked, which wakes the main thread blocked in `os.read`; the Python-level
    handler only has to exist.  Unlike blocking the signals and calling sigwait, this leaves the
    signal mask alone, and programs the manager runs would inherit that mask.
    """

    def __init__(self, *signums: int) -> None:
        self._signums = frozenset(signums)
        self._read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._write_fd, False)
        self._previous_wakeup_fd = signal.set_wakeup_fd(self._write_fd, warn_on_full_buffer=False)
        self._previous_handlers = {
            signum: signal.signal(signum, _ignore_in_handler) for signum in signums
        }

    def __iter__(self) -> Iterator[int]:
        while True:
            for signum in os.read(self._read_fd, 64):
                if signum in self._signums:
                    yield signum

    def close(self) -> None:
        for signum, handler in self._previous_handlers.items():
            signal.signal(signum, handler)
        signal.set_wakeup_fd(self._previous_wakeup_fd)
        os.close(self._read_fd)
        os.close(self._write_fd)

    def __enter__(self) -> SignalQueue:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _ignore_in_handler(signum: int, frame: object) -> None:
    """The work happens where the queue is read."""
