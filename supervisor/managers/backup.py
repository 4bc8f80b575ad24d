"""The backup manager: a queue of backup requests; worker 1 clears what a crash left behind."""

from __future__ import annotations

from collections import deque
from typing import Any

import structlog

from supervisor.runtime.manager import Manager
from supervisor.runtime.periodic import periodic_task

PARTIAL_SUFFIX = ".partial"

log = structlog.get_logger()


class BackupManager(Manager):
    def __init__(self, host: str, *args: Any, process_number: int = 1, **kwargs: Any) -> None:
        super().__init__(host, *args, **kwargs)
        self.process_number = process_number
        self.backups_dir = self.state_dir / "backups"
        self.queue: deque[str] = deque()
        self.is_initialized = False

    def init_host(
        self, service_id: int | None = None, added_to_cluster: bool | None = None
    ) -> None:
        self.backups_dir.mkdir(parents=True, exist_ok=True)
        # All workers share the directory; one cleaner is enough, and two would race.
        if self.process_number == 1:
            self._remove_incomplete_backups()
        self.is_initialized = True

    def is_working(self) -> bool:
        return self.is_initialized

    def create_backup(self, volume_id: str) -> None:
        self.queue.append(volume_id)

    @periodic_task(run_immediately=True)
    def _report_queue(self, context: object) -> None:
        log.info("backup queue", worker=self.process_number, length=len(self.queue))

    def _remove_incomplete_backups(self) -> None:
        for leftover in self.backups_dir.glob(f"*{PARTIAL_SUFFIX}"):
            leftover.unlink(missing_ok=True)
            log.info("removed incomplete backup", path=str(leftover))
