"""A small reactor: file-descriptor readiness and timers on one thread, nothing else.

The supervisor sleeps in `select` until a child exits (its pidfd turns readable), a signal or a
notify datagram arrives, a socket can take more of a reply, or the next timer is due; it never
polls.  A callback that raises does not end the loop: the exception goes to `on_error`, and the
loop serves the next event.  Only an exception from `on_error` itself, or from `until`, leaves
`run`: that is how the owner says its own invariants no longer hold.
"""

from __future__ import annotations

import heapq
import itertools
import selectors
import time
from collections.abc import Callable

Callback = Callable[[], None]
ErrorHandler = Callable[[Exception, Callback], None]


class Timer:
    def __init__(self, when: float, callback: Callback) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


def _reraise(error: Exception, callback: Callback) -> None:
    raise error


class Loop:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._selector = selectors.DefaultSelector()
        self._timers: list[tuple[float, int, Timer]] = []
        self._order = itertools.count()
        # fd -> (on readable, on writable); the selector's mask follows which are set.
        self._watched: dict[int, tuple[Callback | None, Callback | None]] = {}

    def call_later(self, delay: float, callback: Callback) -> Timer:
        timer = Timer(self.clock() + delay, callback)
        heapq.heappush(self._timers, (timer.when, next(self._order), timer))
        return timer

    def add_reader(self, fd: int, callback: Callback) -> None:
        self._watch(fd, callback, self._watched.get(fd, (None, None))[1])

    def remove_reader(self, fd: int) -> None:
        self._watch(fd, None, self._watched.get(fd, (None, None))[1])

    def add_writer(self, fd: int, callback: Callback) -> None:
        self._watch(fd, self._watched.get(fd, (None, None))[0], callback)

    def remove_writer(self, fd: int) -> None:
        self._watch(fd, self._watched.get(fd, (None, None))[0], None)

    def _watch(self, fd: int, reader: Callback | None, writer: Callback | None) -> None:
        mask = (selectors.EVENT_READ if reader else 0) | (selectors.EVENT_WRITE if writer else 0)
        registered = fd in self._watched
        if not mask:
            if registered:
                del self._watched[fd]
                self._selector.unregister(fd)
            return
        self._watched[fd] = (reader, writer)
        if registered:
            self._selector.modify(fd, mask)
        else:
            self._selector.register(fd, mask)

    def run(self, until: Callable[[], bool], on_error: ErrorHandler = _reraise) -> None:
        """Serve events until `until()` holds, judged after each round, once all it did settled.

        Every callback's exception is handed to `on_error`; by default it ends the loop."""
        while not until():
            for key, events in self._selector.select(self._timeout()):
                # A callback may have stopped watching this fd (or a later one) meanwhile.
                reader, writer = self._watched.get(key.fd, (None, None))
                if events & selectors.EVENT_READ and reader:
                    self._call(reader, on_error)
                reader, writer = self._watched.get(key.fd, (None, None))
                if events & selectors.EVENT_WRITE and writer:
                    self._call(writer, on_error)
            self._run_due_timers(on_error)

    @staticmethod
    def _call(callback: Callback, on_error: ErrorHandler) -> None:
        try:
            callback()
        except Exception as error:
            on_error(error, callback)

    def _timeout(self) -> float | None:
        while self._timers and self._timers[0][2].cancelled:
            heapq.heappop(self._timers)
        if not self._timers:
            return None
        return max(0.0, self._timers[0][0] - self.clock())

    def _run_due_timers(self, on_error: ErrorHandler) -> None:
        now = self.clock()
        while self._timers and self._timers[0][0] <= now:
            _, _, timer = heapq.heappop(self._timers)
            if not timer.cancelled:
                self._call(timer.callback, on_error)

    def close(self) -> None:
        self._selector.close()
