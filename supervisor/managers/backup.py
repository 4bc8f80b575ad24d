"""The backup manager: copies volumes to backups, at most `backup_max_operations` at a time
across all the backup workers of the host (Cinder's semaphore shared by its backup processes).

- A backup is asked for with a request file in the inbox (`supervisor.managers.backup_requests`).
- On each periodic run a worker takes a free slot of the shared limit (`runtime.oplimit`) and a
  waiting request, as long as there are both, and backs each volume up on a thread of its own.
  When a backup ends, its thread takes the next waiting request with the slot it still holds, so
  a freed slot does not wait for the next periodic run while there is work.
- A backup of `<state_dir>/volumes/<backend>/<volume>` is written to
  `<state_dir>/backups/<backup_id>.partial`, renamed to `<backup_id>` once complete, and then
  described by `<backup_id>.json`: status `available` with its size and sha256, or status
  `error` with the reason.
- At start-up worker 1 alone removes the partial copies that a crash left behind (a partial copy
  whose request no live worker holds); two cleaners would race each other.
- On stop a worker takes no new request and lets the backups it runs finish.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import structlog

from supervisor.managers import EVERY_TICK
from supervisor.managers.backup_requests import (
    REQUESTS_DIR,
    BackupInbox,
    BackupRequest,
    InvalidBackupRequest,
)
from supervisor.managers.jsonfile import write_json_atomically
from supervisor.runtime.manager import Manager
from supervisor.runtime.oplimit import OperationLimit, Slot
from supervisor.runtime.periodic import periodic_task

DEFAULT_MAX_OPERATIONS = 15
SLOTS_DIR = "backup-slots"
PARTIAL_SUFFIX = ".partial"
COPY_CHUNK = 1 << 20

log = structlog.get_logger()


class BackupManager(Manager):
    def __init__(self, host: str, *args: Any, process_number: int = 1, **kwargs: Any) -> None:
        super().__init__(host, *args, **kwargs)
        self.process_number = process_number
        self.volumes_dir = self.state_dir / "volumes"
        self.backups_dir = self.state_dir / "backups"
        self.inbox = BackupInbox(self.state_dir / REQUESTS_DIR)
        self.operations = OperationLimit(self.state_dir / SLOTS_DIR, max_operations(self.options))
        self.is_initialized = False
        self._stopping = threading.Event()
        self._running_lock = threading.Lock()
        self._running: set[threading.Thread] = set()
        self._reported_queue: tuple[int, int] | None = None

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

    def cleanup_host(self) -> None:
        self._stopping.set()
        with self._running_lock:
            running = list(self._running)
        for thread in running:
            thread.join()

    @periodic_task(spacing=EVERY_TICK, run_immediately=True)
    def _take_backup_requests(self, context: object) -> None:
        self._start_waiting_backups()
        self._report_queue()

    def _start_waiting_backups(self) -> None:
        while not self._stopping.is_set() and self._start_next_backup():
            pass

    def _start_next_backup(self) -> bool:
        """Start backing up the oldest waiting request if a slot is free; whether it did."""
        # The slot first: a request taken without one would be kept from other workers that
        # may have a slot free.
        slot = self.operations.try_acquire()
        if slot is None:
            return False
        request = self.inbox.take_next()
        if request is None:
            slot.release()
            return False
        thread = threading.Thread(
            target=self._run_backups,
            args=(slot, request),
            name=f"backup-{request.backup_id}",
            daemon=True,
        )
        with self._running_lock:
            self._running.add(thread)
        thread.start()
        return True

    def _run_backups(self, slot: Slot, request: BackupRequest | None) -> None:
        """Back `request` up, then every next waiting one, all under the same slot."""
        try:
            while request is not None:
                slot.describe(f"{os.getpid()} {request.backup_id}")
                self._run_backup(request)
                request = None if self._stopping.is_set() else self.inbox.take_next()
        finally:
            slot.release()
            with self._running_lock:
                self._running.discard(threading.current_thread())

    def _run_backup(self, request: BackupRequest) -> None:
        backup_id = request.backup_id
        log.info("backup started", backup=backup_id, worker=self.process_number)
        try:
            try:
                outcome = {"status": "available", **self._back_up(request)}
            except (OSError, InvalidBackupRequest) as error:
                log.error("backup failed", backup=backup_id, error=str(error))
                outcome = {"status": "error", "error": str(error)}
            except Exception as error:
                log.exception("backup failed", backup=backup_id)
                outcome = {"status": "error", "error": repr(error)}
            record = {
                "backup_id": backup_id,
                "host": self.host,
                "worker": self.process_number,
                "finished_at": time.time(),
                **outcome,
            }
            write_json_atomically(self.backups_dir / f"{backup_id}.json", record)
            request.finish()
        finally:
            # Unless finished, the request goes back to the inbox for another try.
            request.close()
        log.info("backup finished", backup=backup_id, status=outcome["status"])

    def _back_up(self, request: BackupRequest) -> dict[str, Any]:
        """Copy the request's volume to the backups; its size and checksum."""
        volume = request.read_volume()
        source = self._volume_path(volume)
        partial = self.backups_dir / f"{request.backup_id}{PARTIAL_SUFFIX}"
        digest = hashlib.sha256()
        size = 0
        try:
            with source.open("rb") as reader, partial.open("wb") as writer:
                while chunk := reader.read(COPY_CHUNK):
                    digest.update(chunk)
                    writer.write(chunk)
                    size += len(chunk)
                writer.flush()
                os.fsync(writer.fileno())
            os.replace(partial, self.backups_dir / request.backup_id)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return {"volume": volume, "size": size, "sha256": digest.hexdigest()}

    def _volume_path(self, volume: str) -> Path:
        volumes_dir = self.volumes_dir.resolve()
        path = (volumes_dir / volume).resolve()
        if not path.is_relative_to(volumes_dir) or path == volumes_dir:
            raise InvalidBackupRequest(f"volume {volume!r} is not in {self.volumes_dir}")
        return path

    def _report_queue(self) -> None:
        # Requests not yet done on the whole host, and the backups this worker runs now.
        queue = (self.inbox.count(), len(self._running))
        if queue != self._reported_queue:
            self._reported_queue = queue
            log.info(
                "backup queue", worker=self.process_number, requests=queue[0], running=queue[1]
            )

    def _remove_incomplete_backups(self) -> None:
        for partial in self.backups_dir.glob(f"*{PARTIAL_SUFFIX}"):
            request_path = self.inbox.path_of(partial.name.removesuffix(PARTIAL_SUFFIX))
            # Holding the request keeps any worker from starting its backup while we remove it;
            # a request we cannot take is being backed up right now.
            request = self.inbox.take(request_path)
            if request is None and request_path.exists():
                continue
            try:
                partial.unlink(missing_ok=True)
                log.info("removed incomplete backup", path=str(partial))
            finally:
                if request is not None:
                    request.close()


def max_operations(options: Mapping[str, Any]) -> int:
    """The option `backup_max_operations`: a whole number, 0 for no limit."""
    value = options.get("backup_max_operations", DEFAULT_MAX_OPERATIONS)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(
            f"option backup_max_operations must be a whole number, 0 for no limit; got {value!r}"
        )
    return value
