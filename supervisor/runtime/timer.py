"""A fixed-interval timer on its own thread: how the service runs its periodic work."""

from __future__ import annotations

import threading
from collections.abc import Callable

import structlog

from supervisor.runtime.clock import SYSTEM_CLOCK, Clock

log = structlog.get_logger()


class FixedIntervalTimer:
    """Calls `func` every `interval` seconds, measured start to start, until stopped.

    A run that outlasts the interval is followed at once by the next one, with a warning, so a
    slow run delays the schedule rather than piling calls up.  An exception is logged and the
    timer goes on: one bad run must not silence the work for good.
    """

    def __init__(
        self,
        name: str,
        func: Callable[[], object],
        interval: float,
        *,
        initial_delay: float = 0.0,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        if interval <= 0:
            raise ValueError(f"timer {name!r}: interval must be positive, got {interval}")
        self.name = name
        self._func = func
        self._interval = interval
        self._initial_delay = initial_delay
        self._clock = clock
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ask the timer to end; a run in progress finishes first (see `wait`)."""
        self._stopped.set()

    def wait(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self) -> None:
        """The timer loop; `start` runs it on a thread, tests call it directly."""
        if self._clock.wait(self._stopped, self._initial_delay):
            return
        while True:
            started = self._clock.now()
            try:
                self._func()
            except Exception:
                log.exception("timer run failed", timer=self.name)
            delay = self._interval - (self._clock.now() - started)
            if delay < 0:
                log.warning("run outlasted interval", timer=self.name, by=f"{-delay:.2f}s")
                delay = 0.0
            if self._clock.wait(self._stopped, delay):
                return
