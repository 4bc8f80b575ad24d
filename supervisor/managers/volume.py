"""The volume manager: one backend, kept as a directory under the stack's state directory.

A volume is a regular file in `<state_dir>/volumes/<backend>/`; its size is the file's size.  On
every periodic run the manager logs the backend's capacity and publishes it to the scheduler
through the capabilities channel (see `supervisor.managers.capabilities`), with the keys of a
Cinder driver's stats.
"""

from __future__ import annotations

import os
import shutil
import time
from typing import Any

import structlog

from supervisor.managers import EVERY_TICK, capabilities
from supervisor.runtime.manager import Manager
from supervisor.runtime.periodic import periodic_task

GIB = 1024**3

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

    def get_volume_stats(self) -> dict[str, Any]:
        """The backend's capacity, in GiB as Cinder drivers report it; one pool, the backend."""
        usage = shutil.disk_usage(self.backend_dir)
        return {
            "volume_backend_name": self.backend,
            "pool_name": self.backend,
            "total_capacity_gb": _gib(usage.total),
            "free_capacity_gb": _gib(usage.free),
            "allocated_capacity_gb": _gib(self._bytes_allocated_to_volumes()),
        }

    @periodic_task(spacing=EVERY_TICK, run_immediately=True)
    def _report_driver_status(self, context: object) -> None:
        stats = self.get_volume_stats()
        log.info("backend capacity", **stats)
        report = capabilities.CapabilityReport(
            host=self.host, service_name=self.backend, timestamp=time.time(), capabilities=stats
        )
        capabilities.publish(self.state_dir, report)

    def _bytes_allocated_to_volumes(self) -> int:
        allocated = 0
        with os.scandir(self.backend_dir) as entries:
            for entry in entries:
                try:
                    if entry.is_file() and not entry.name.startswith("."):
                        allocated += entry.stat().st_size
                except FileNotFoundError:
                    continue  # deleted while we counted
        return allocated


def _gib(size: int) -> float:
    return round(size / GIB, 2)
