"""The scheduler's manager: remembers what each volume backend last said it can do.

Reports arrive through the capabilities channel (`supervisor.managers.capabilities`): on each
periodic run the scheduler reads every backend's report file and keeps the newest report per
backend with its timestamp.  A report file that is missing or unreadable for a moment changes
nothing; a backend is forgotten only once it has sent no new report for `service_down_time`
seconds, measured on the scheduler's monotonic clock from when it first saw the last report.
A report that was already that old when this scheduler first saw it (left by a backend of an
earlier run) is not taken at all.  Whenever what the scheduler knows changes, it logs one line.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import structlog

from supervisor.managers import EVERY_TICK, capabilities
from supervisor.runtime.manager import Manager
from supervisor.runtime.periodic import periodic_task

DEFAULT_SERVICE_DOWN_TIME = 60

log = structlog.get_logger()


class SchedulerManager(Manager):
    def __init__(
        self, host: str, *args: Any, wall_clock: Callable[[], float] = time.time, **kwargs: Any
    ) -> None:
        super().__init__(host, *args, **kwargs)
        self.down_time: float = self.options.get("service_down_time", DEFAULT_SERVICE_DOWN_TIME)
        self.last_capabilities: dict[str, dict[str, Any]] = {}
        # The timestamp of the last report taken from each backend; kept after the backend is
        # forgotten, so that its last report, still on disk, is not taken again.
        self.report_timestamps: dict[str, float] = {}
        self._wall_clock = wall_clock
        self._reported_at: dict[str, float] = {}
        self._summarized: dict[str, dict[str, Any]] = {}

    def update_service_capabilities(
        self,
        service_name: str,
        host: str,
        capabilities: dict[str, Any],
        timestamp: float | None = None,
    ) -> None:
        """Remember what a backend reported; a later report replaces an earlier one.

        `timestamp` is when the backend made the report, on the wall clock; a report with the
        timestamp of the one already taken is the same report and changes nothing.
        """
        if timestamp is not None:
            if self.report_timestamps.get(host) == timestamp:
                return
            first_seen = host not in self.report_timestamps
            self.report_timestamps[host] = timestamp
            # Only a report that predates this scheduler is aged by the wall clock; after that
            # the monotonic clock alone says how long a backend has been silent.
            age = max(0.0, self._wall_clock() - timestamp) if first_seen else 0.0
            if age > self.down_time:
                return
        else:
            age = 0.0
        self.last_capabilities[host] = {**capabilities, "service_name": service_name}
        self._reported_at[host] = self.clock.now() - age

    @periodic_task(spacing=EVERY_TICK, run_immediately=True)
    def _refresh_capabilities(self, context: object) -> None:
        for report in capabilities.read_reports(self.state_dir):
            self.update_service_capabilities(
                report.service_name, report.host, report.capabilities, report.timestamp
            )
        self._forget_silent_backends()
        if self.last_capabilities != self._summarized:
            self._summarized = {host: dict(caps) for host, caps in self.last_capabilities.items()}
            log.info(
                "backend capabilities changed",
                count=len(self._summarized),
                backends=_summary(self._summarized),
            )

    def _forget_silent_backends(self) -> None:
        # A backend that stopped reporting may be down; scheduling onto it would fail.
        now = self.clock.now()
        silent = [host for host, at in self._reported_at.items() if now - at > self.down_time]
        for host in silent:
            del self.last_capabilities[host]
            del self._reported_at[host]
            log.info("forgot backend that stopped reporting", backend=host)


def _summary(known: dict[str, dict[str, Any]]) -> str:
    """`host free/total GB (allocated GB allocated)` per backend, on one line."""
    parts = []
    for host, caps in sorted(known.items()):
        free = caps.get("free_capacity_gb", "?")
        total = caps.get("total_capacity_gb", "?")
        allocated = caps.get("allocated_capacity_gb", "?")
        parts.append(f"{host} {free}/{total}GB free ({allocated}GB allocated)")
    return "; ".join(parts) or "none"
