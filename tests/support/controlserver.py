"""A control server in the test's own process, and reading what a supervisor's socket sends."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from supervisor.control.protocol import Request
from supervisor.control.server import ControlServer
from supervisor.daemon.loop import Loop

Handle = Callable[[Any, Request], None]
# What the `serve` fixture (tests/control/conftest.py) hands a test.
Serve = Callable[[Handle], "Served"]


class Served:
    """A ControlServer on its own loop in a background thread, stopped at teardown."""

    def __init__(self, state_dir: Path, handle: Handle) -> None:
        self.loop = Loop()
        self.reports: list[tuple[str, dict[str, Any]]] = []
        self.server = ControlServer(state_dir, handle, self.loop, self._report)
        self._stop_read, self._stop_write = socket.socketpair()
        self._stopped = False
        self.loop.add_reader(self._stop_read.fileno(), self._on_stop)
        self._thread = threading.Thread(target=self.loop.run, args=(lambda: self._stopped,))
        self._thread.start()

    def _report(self, event: str, **fields: Any) -> None:
        self.reports.append((event, fields))

    def _on_stop(self) -> None:
        self._stopped = True

    def close(self) -> None:
        self._stop_write.send(b"x")
        self._thread.join(timeout=20)
        self.server.close()
        self.loop.close()
        self._stop_read.close()
        self._stop_write.close()


def read_to_end(sock: socket.socket, reset_is_end: bool = False) -> bytes:
    """Everything the supervisor sends until it closes the connection.  A connection closed
    on data it never read ends with a reset, after what was sent (`reset_is_end`)."""
    received = bytearray()
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:
        if not reset_is_end:
            raise
    return bytes(received)
