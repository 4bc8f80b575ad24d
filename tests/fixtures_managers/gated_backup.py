"""A backup manager that holds each backup, slot taken, until the test opens its gate.

Options: `record_socket`, the test's datagram socket, as for RecordingManager; `gate_prefix`:
backup `<id>` waits for one datagram on the abstract socket `<gate_prefix>/<id>`;
`one_backup_per_worker`: a worker that runs a backup takes no other at once, so that backups
running together run in different processes.  It reports:

  started <id> pid=<pid>                      holds a slot and waits at its gate
  finished <id>                               recorded; the slot is released right after
  looked pid=<pid> requests=<n> running=<m>   after each look at the inbox, what it saw
                                              (dropped when the test's socket is full)
"""

from __future__ import annotations

import contextlib
import os
import socket
from typing import Any

from supervisor.managers.backup import BackupManager
from supervisor.managers.backup_requests import BackupRequest


class GatedBackupManager(BackupManager):
    def __init__(self, host: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(host, *args, **kwargs)
        self._records = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._records_address = "\0" + self.options["record_socket"].removeprefix("@")
        self._gate_prefix = self.options["gate_prefix"].removeprefix("@")

    def record(self, message: str, *, droppable: bool = False) -> None:
        # A look is dropped rather than waited on when the test is not reading: the timer
        # thread must not block on it, or the worker could not stop.
        flags = socket.MSG_DONTWAIT if droppable else 0
        with contextlib.suppress(BlockingIOError):
            self._records.sendto(message.encode(), flags, self._records_address)

    def _back_up(self, request: BackupRequest) -> dict[str, Any]:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as gate:
            gate.bind(f"\0{self._gate_prefix}/{request.backup_id}")
            self.record(f"started {request.backup_id} pid={os.getpid()}")
            gate.recv(16)
        return super()._back_up(request)

    def _run_backup(self, request: BackupRequest) -> None:
        super()._run_backup(request)
        self.record(f"finished {request.backup_id}")

    def _start_waiting_backups(self) -> None:
        if not self.options.get("one_backup_per_worker"):
            super()._start_waiting_backups()
        elif not self._running:
            self._start_next_backup()
        self.record(
            f"looked pid={os.getpid()} requests={self.inbox.count()} running={len(self._running)}",
            droppable=True,
        )
