"""The service side of fault injection (the supervisor side is daemon/faultinjector.py).

Start faults come in the environment at spawn; live faults come as JSON datagrams on the
process's own socket, read by a daemon thread.  Faults act on the manager the way a real
failure would show: `init_host` raising or dragging, `is_working()` turning false, the workload
blocking (and with it the heartbeat, which asks `is_working()` first), the process dying.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Mapping
from typing import Any

import structlog

from supervisor.shared.faults import FAULT_SOCKET_ENV, START_FAULT_ENV

# The live `raise` fault reaches the main loop as this signal: the exception must be raised
# where the service loop runs, not in the listener's thread.
RAISE_SIGNAL = signal.SIGUSR2

log = structlog.get_logger()


class InjectedFault(RuntimeError):
    """An exception the supervisor asked for (`supervisor fault PROCESS raise`)."""


def apply_start_fault(manager: Any, environ: Mapping[str, str]) -> None:
    fault = environ.get(START_FAULT_ENV)
    if not fault:
        return
    init_host = manager.init_host
    if fault == "crash":

        def crashing_init_host(*args: Any, **kwargs: Any) -> None:
            raise InjectedFault("injected fault: crash on start")

        manager.init_host = crashing_init_host
    elif fault.startswith("slow:"):
        seconds = float(fault.removeprefix("slow:"))

        def slow_init_host(*args: Any, **kwargs: Any) -> None:
            log.warning("injected fault: slow start", seconds=seconds)
            time.sleep(seconds)
            init_host(*args, **kwargs)

        manager.init_host = slow_init_host


def _block_forever(*args: Any, **kwargs: Any) -> Any:
    threading.Event().wait()


class FaultListener:
    """Reads faults from the process's socket on a daemon thread and carries them out."""

    def __init__(self, address: str, manager: Any) -> None:
        self._manager = manager
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind("\0" + address.removeprefix("@"))
        threading.Thread(target=self._serve, name="fault-listener", daemon=True).start()

    @classmethod
    def from_environ(cls, manager: Any) -> FaultListener | None:
        address = os.environ.get(FAULT_SOCKET_ENV)
        if not address:
            return None
        try:
            return cls(address, manager)
        except OSError as error:
            # Fault injection is a testing aid: without it the service still serves.
            log.warning("cannot listen for injected faults", address=address, error=str(error))
            return None

    def _serve(self) -> None:
        while True:
            try:
                request = json.loads(self._sock.recv(4096))
            except (OSError, ValueError):
                return
            log.warning("injected fault", fault=request.get("fault"))
            self._apply(request)

    def _apply(self, request: dict[str, Any]) -> None:
        kind = request.get("fault")
        if kind == "exit":
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(int(request.get("code", 1)))
        elif kind == "raise":
            os.kill(os.getpid(), RAISE_SIGNAL)
        elif kind == "not-working":
            self._manager.is_working = lambda: False
        elif kind == "hang-heartbeat":
            self._manager.is_working = _block_forever
            self._manager.run_periodic_tasks = _block_forever
