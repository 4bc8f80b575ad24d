"""Per-process liveness: a probe run while the process is running, whose failures fail it.

Armed once the process is running (readiness, when it has a probe, has passed by then), as the
watchdog is.  Each failed run is a `probe` event with its cause and the count so far; a pass
sets the count back to zero.  At `failure_threshold` failed runs in a row the unit is told, and
it treats the process as failed, exactly as an expired watchdog.  Disarmed when the run leaves
`running` (stopping, failing, exiting): the probe in progress is aborted.
"""

from __future__ import annotations

from collections.abc import Callable

from supervisor.config.services import Probe
from supervisor.daemon.host import Cancellable, EventSink, ProcessHost


class LivenessWatch:
    def __init__(
        self, unit: str, host: ProcessHost, events: EventSink, on_verdict: Callable[[str], None]
    ) -> None:
        self._unit = unit
        self._host = host
        self._events = events
        self._on_verdict = on_verdict
        self._probe: Probe | None = None
        self._running: Cancellable | None = None
        self._pid: int | None = None
        self.failures = 0  # failed runs in a row

    def arm(
        self, probe: Probe | None, pid: int | None, env: dict[str, str], directory: str | None
    ) -> None:
        self.disarm()
        if probe is None:
            return
        self._probe, self._pid, self.failures = probe, pid, 0
        self._running = self._host.start_probe(
            self._unit, probe, env, directory, self._passed, self._failed
        )

    def disarm(self) -> None:
        if self._running is not None:
            self._running.cancel()
            self._running = None

    def _passed(self) -> None:
        self.failures = 0

    def _failed(self, why: str) -> None:
        probe = self._probe
        if self._running is None or probe is None:
            return  # a result that raced the disarming
        self.failures += 1
        cause = f"liveness {probe.kind} {probe.target}: {why}"
        # One event per failed run: rare while healthy, and the countdown to the verdict.
        self._events.emit(
            "probe", unit=self._unit, pid=self._pid, cause=cause, failures=self.failures
        )
        if self.failures >= probe.failure_threshold:
            self.disarm()
            in_a_row = f" ({self.failures} failures in a row)" if self.failures > 1 else ""
            self._on_verdict(cause + in_a_row)
