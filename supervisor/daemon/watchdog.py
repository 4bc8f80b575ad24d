"""Per-process watchdog: a deadline that every `WATCHDOG=1` keep-alive pushes back.

Armed once the process is running; when the deadline passes without a keep-alive the unit is
told, and it treats the process as failed (as systemd's WatchdogSec= does).
"""

from __future__ import annotations

from collections.abc import Callable

from supervisor.daemon.host import Cancellable, Timers


class Watchdog:
    def __init__(self, loop: Timers, on_expiry: Callable[[str], None]) -> None:
        self._loop = loop
        self._on_expiry = on_expiry
        self._limit = 0.0
        self._timer: Cancellable | None = None
        self.last_keepalive: float | None = None  # loop time of the last WATCHDOG=1

    def arm(self, limit: float) -> None:
        """Start watching with `limit` seconds between keep-alives; 0 only records them."""
        self.disarm()
        self._limit = limit
        self._schedule()

    def keepalive(self) -> None:
        self.last_keepalive = self._loop.clock()
        if self._timer is not None:
            self._schedule()

    def disarm(self) -> None:
        """Stop watching: the process is gone (so no keep-alive of it is news any more), or is
        about to be watched afresh."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.last_keepalive = None

    def age(self) -> float | None:
        if self.last_keepalive is None:
            return None
        return self._loop.clock() - self.last_keepalive

    def _schedule(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._loop.call_later(self._limit, self._expire) if self._limit else None

    def _expire(self) -> None:
        self._timer = None
        self._on_expiry(f"watchdog: no keep-alive (WATCHDOG=1) for {self._limit:g}s")
