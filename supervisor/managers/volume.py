"""The volume manager: one backend, kept as a directory under the stack's state directory."""

from __future__ import annotations

import shutil
from typing import Any

import structlog

from supervisor.runtime.manager import Manager
from supervisor.runtime.periodic import periodic_task

log = structlog.get_logger()


class VolumeManager(Manager):
    def __init__(self, host: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(host, *args, **kwargs)
        self.backend = self.service_name or "default"
        self.backend_dir = self.state_dir / "volumes" / self.backend
        self.initialized = False

    def init_host(
        self, service_id: int | None = None, added_to_cluster: bool | None = None
    ) -> None:
        self.backend_dir.mkdir(parents=True, exist_ok=True)
        self.initialized = True
        log.info("backend initialized", backend=self.backend, path=str(self.backend_dir))

    def is_working(self) -> bool:
        return self.initialized

    @periodic_task(run_immediately=True)
    def _report_capacity(self, context: object) -> None:
        usage = shutil.disk_usage(self.backend_dir)
        gib = 1024**3
        log.info(
            "backend capacity",
            backend=self.backend,
            total_gib=round(usage.total / gib, 1),
            free_gib=round(usage.free / gib, 1),
        )
