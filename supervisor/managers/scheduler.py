"""The scheduler's manager: remembers what each volume backend last said it can do."""

from __future__ import annotations

from typing import Any

import structlog

from supervisor.runtime.manager import Manager
from supervisor.runtime.periodic import periodic_task

DEFAULT_SERVICE_DOWN_TIME = 60

log = structlog.get_logger()


class SchedulerManager(Manager):
    def __init__(self, host: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(host, *args, **kwargs)
        self.last_capabilities: dict[str, dict[str, Any]] = {}
        self._reported_at: dict[str, float] = {}

    def update_service_capabilities(
        self, service_name: str, host: str, capabilities: dict[str, Any]
    ) -> None:
        """Remember what a backend reported; a later report replaces an earlier one."""
        self.last_capabilities[host] = {**capabilities, "service_name": service_name}
        self._reported_at[host] = self.clock.now()

    @periodic_task(run_immediately=True)
    def _forget_silent_backends(self, context: object) -> None:
        # A backend that stopped reporting may be down; scheduling onto it would fail.
        down_time = self.options.get("service_down_time", DEFAULT_SERVICE_DOWN_TIME)
        now = self.clock.now()
        silent = [host for host, at in self._reported_at.items() if now - at > down_time]
        for host in silent:
            del self.last_capabilities[host]
            del self._reported_at[host]
            log.info("forgot backend that stopped reporting", backend=host)
        log.info("known backends", count=len(self.last_capabilities))
