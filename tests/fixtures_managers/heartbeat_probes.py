"""Managers that let a test watch and steer what a service's heartbeat sees.

Each reports to the datagram socket named by the option `record_socket`, as RecordingManager
does, so the test waits on events rather than on time.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from supervisor.runtime import Manager, periodic_task


class _Reporting(Manager):
    def __init__(self, host: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(host, *args, **kwargs)
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._address = "\0" + self.options["record_socket"].removeprefix("@")

    def record(self, message: str) -> None:
        self._socket.sendto(message.encode(), self._address)


class SwitchableManager(_Reporting):
    """Not working while the file named by the option `not_working_flag` exists."""

    def init_host(
        self, service_id: int | None = None, added_to_cluster: bool | None = None
    ) -> None:
        self.record(f"init_host service_id={service_id} added_to_cluster={added_to_cluster}")

    def is_working(self) -> bool:
        working = not Path(self.options["not_working_flag"]).exists()
        self.record(f"is_working {working}")
        return working


class StuckPeriodicManager(_Reporting):
    """Its periodic task blocks until the test sends a datagram to the option `periodic_gate`."""

    @periodic_task(run_immediately=True)
    def _stuck(self, context: object) -> None:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as gate:
            gate.bind("\0" + self.options["periodic_gate"].removeprefix("@"))
            self.record("periodic task blocked")
            gate.recv(16)
        self.record("periodic task released")
