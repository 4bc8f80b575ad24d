"""The pace of a periodic probe: after `initial_delay`, one run every `period` seconds.

Runs never overlap: the next one is scheduled only when the previous has ended, so a slow
service slows its checks down rather than piling them up.  A run still going at `timeout` is
aborted (its process killed, its socket closed) and counts as a failure.  Every run's result
goes to `on_pass` or `on_failure(why)`; the runner keeps going until it is cancelled, and it is
the caller that decides what a pass or a number of failures in a row means.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from supervisor.config.services import Probe
from supervisor.daemon.host import Cancellable, Timers

Done = Callable[[str | None], None]  # None: healthy; else why the run failed


class Check(Protocol):
    """One kind of run: `begin` starts one, which ends by calling `done` once, from the loop
    (or at once, from `begin`, when it cannot even start)."""

    def begin(self, done: Done) -> None: ...

    def abort(self) -> None:
        """End the run in progress, releasing what it holds; `done` is not called."""


class ProbeRunner:
    def __init__(
        self,
        loop: Timers,
        probe: Probe,
        check: Check,
        on_pass: Callable[[], None],
        on_failure: Callable[[str], None],
    ) -> None:
        self._loop = loop
        self._probe = probe
        self._check = check
        self._on_pass = on_pass
        self._on_failure = on_failure
        self._timer: Cancellable | None = None  # the next run, or the running one's timeout
        self._running = False
        self.runs = 0

    def start(self) -> None:
        # Even with no delay, the first run is the loop's next step: no result may reach the
        # owner before `start_probe` has handed it the runner (a refused connect is at once).
        self._timer = self._loop.call_later(self._probe.initial_delay, self._run)

    def cancel(self) -> None:
        """No further run; the one in progress is aborted."""
        self._cancel_timer()
        if self._running:
            self._running = False
            self._check.abort()

    def _run(self) -> None:
        self.runs += 1
        self._running = True
        self._timer = self._loop.call_later(self._probe.timeout, self._timed_out)
        self._check.begin(self._done)

    def _timed_out(self) -> None:
        self._timer = None
        if self._running:
            self._running = False
            self._check.abort()
            self._done(f"timed out after {self._probe.timeout:g}s")

    def _done(self, why: str | None) -> None:
        self._running = False
        self._cancel_timer()
        # Scheduled before the callback, which may cancel the runner (a passed readiness).
        self._timer = self._loop.call_later(self._probe.period, self._run)
        if why is None:
            self._on_pass()
        else:
            self._on_failure(why)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
