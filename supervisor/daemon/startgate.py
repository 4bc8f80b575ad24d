"""When a starting process counts as running: the start gate of one unit.

A plain command is running at once, or once it has been up `start_seconds`.  A `notify` service
is running on READY=1; one with a readiness probe once the probe passes (and READY=1 came, when
it is both); a `oneshot` never is: its exit ends the start.  Those three wait at most
`start_timeout` (0: forever).  READY=1 from any service that has no probe still running opens
the gate at once.  A probe with a `failure_threshold` ends the start as a failure after that
many failed runs in a row, as an expired start timeout does.  The gate only says so: the unit
decides what an opened gate or an expired start timeout means for its state.
"""

from __future__ import annotations

from collections.abc import Callable

from supervisor.config.services import ServiceSettings
from supervisor.daemon.host import Cancellable, ProcessHost, Timers


class StartGate:
    def __init__(
        self,
        unit: str,
        timers: Timers,
        host: ProcessHost,
        *,
        on_open: Callable[[str], None],
        on_timeout: Callable[[str], None],
        on_probe_failed: Callable[[str], None],
    ) -> None:
        self._unit = unit
        self._timers = timers
        self._host = host
        self._on_open = on_open
        self._on_timeout = on_timeout
        self._on_probe_failed = on_probe_failed
        self._settings = ServiceSettings()
        self._timer: Cancellable | None = None
        self._probe: Cancellable | None = None  # the readiness probe while starting
        self._notified_ready = False  # READY=1 came (what a notify service must send)
        self._probe_failures = 0  # failed readiness runs in a row

    def begin(self, settings: ServiceSettings, env: dict[str, str]) -> None:
        """A run has started: watch for what makes it running, by its settings."""
        self.close()
        self._settings = settings
        self._notified_ready = False
        self._probe_failures = 0
        if settings.readiness is not None:
            self._probe = self._host.start_probe(
                self._unit,
                settings.readiness,
                env,
                settings.directory,
                self._on_probe_passed,
                self._on_probe_run_failed,
            )
        if settings.oneshot or settings.notify or settings.readiness is not None:
            if settings.start_timeout:
                self._timer = self._timers.call_later(settings.start_timeout, self._expire)
        elif settings.start_seconds:
            self._timer = self._timers.call_later(settings.start_seconds, self._up_long_enough)
        else:
            self._on_open("started")

    def ready_notified(self) -> None:
        """READY=1 came from the process."""
        self._notified_ready = True
        if self._probe is None:
            self._on_open("READY=1")

    def close(self) -> None:
        """Stop watching: no timer, no probe (the one running is killed)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._probe is not None:
            self._probe.cancel()
            self._probe = None

    def _up_long_enough(self) -> None:
        self._timer = None
        self._on_open(f"up for {self._settings.start_seconds:g}s")

    def _expire(self) -> None:
        self._timer = None
        settings = self._settings
        waited_for = (
            "exit"
            if settings.oneshot
            else "READY=1"
            if settings.notify
            else "passing readiness probe"
        )
        self._on_timeout(f"start timeout: no {waited_for} within {settings.start_timeout:g}s")

    def _on_probe_run_failed(self, why: str) -> None:
        self._on_probe_failed(why)
        self._probe_failures += 1
        probe = self._settings.readiness
        assert probe is not None
        if probe.failure_threshold and self._probe_failures >= probe.failure_threshold:
            self.close()
            in_a_row = f" ({self._probe_failures} failures in a row)"
            self._on_timeout(f"readiness {probe.kind} {probe.target}: {why}{in_a_row}")

    def _on_probe_passed(self) -> None:
        if self._probe is not None:
            self._probe.cancel()  # ready once is enough: no further run
        self._probe = None
        if not self._settings.notify or self._notified_ready:
            self._on_open("readiness probe passed")
