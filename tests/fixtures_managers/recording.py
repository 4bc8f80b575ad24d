"""A manager that reports each hook it runs as a datagram to the test that started it.

The test binds a datagram socket and passes its address as the option `record_socket`; waiting
on that socket, with a deadline, is how a test sees inside the service process.
"""

from __future__ import annotations

import os
import socket
from typing import Any

from supervisor.runtime import Manager, periodic_task


class RecordingManager(Manager):
    def __init__(self, host: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(host, *args, **kwargs)
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._address = "\0" + self.options["record_socket"].removeprefix("@")
        self.record(f"constructed host={host} service_name={self.service_name}")

    def record(self, message: str) -> None:
        self._socket.sendto(message.encode(), self._address)

    def init_host(
        self, service_id: int | None = None, added_to_cluster: bool | None = None
    ) -> None:
        self.record(f"init_host notify_socket={os.environ.get('NOTIFY_SOCKET', '-')}")
        gate = self.options.get("init_host_gate")
        if gate:
            self._wait_for_gate(gate)

    def init_host_with_rpc(self) -> None:
        self.record("init_host_with_rpc")

    def reset(self) -> None:
        self.record("reset")

    def cleanup_host(self) -> None:
        self.record("cleanup_host")

    @periodic_task(spacing=0.001, run_immediately=True)
    def _tick(self, context: object) -> None:
        self.record("tick")

    def _wait_for_gate(self, address: str) -> None:
        """Block init_host until the test sends a datagram: a start-up that takes a while."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as gate:
            gate.bind("\0" + address.removeprefix("@"))
            self.record("init_host waiting")
            gate.recv(16)


class FailingInitManager(Manager):
    def init_host(
        self, service_id: int | None = None, added_to_cluster: bool | None = None
    ) -> None:
        raise RuntimeError("backend unreachable")


class FailingConstructorManager(Manager):
    def __init__(self, host: str, *args: Any, **kwargs: Any) -> None:
        raise ValueError("bad driver settings")


def not_a_class() -> None:
    """Named where a manager class is expected."""
