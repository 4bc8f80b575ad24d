"""Fault injection: what `supervisor fault PROCESS KIND` does to a live process.

Three families, by where the fault has to happen:
- signals the supervisor sends itself, to any process, plain commands included: `kill`
  (SIGKILL, or `--signal`), `stop` (SIGSTOP to the process group: a hang) and `cont`;
- faults inside a manager process, sent as a JSON datagram to the socket the child runtime
  listens on (`SUPERVISOR_FAULT_SOCKET`): `exit CODE`, `raise`, `hang-heartbeat`, `not-working`;
- faults of the next starts, handed to the child in its environment at spawn
  (`SUPERVISOR_START_FAULT`): `crash-on-start N` (the next N starts fail in init_host) and
  `slow-start SECONDS` (the next start's init_host takes that much longer).
Every injected fault is a `fault` event, so the timeline shows what was done and what followed.
"""

from __future__ import annotations

import json
import os
import signal
import socket
from dataclasses import dataclass
from typing import Any, Protocol

from supervisor.shared.faults import (
    SIGNAL_FAULTS,
    START_FAULT_ENV,
    START_FAULTS,
)
from supervisor.shared.signalnames import signal_number


class FaultRefused(ValueError):
    """The fault does not apply to that process in its present state."""


@dataclass
class StartFaults:
    """Faults waiting for the next starts of one process."""

    crashes: int = 0
    slow_seconds: float = 0.0

    def take(self) -> dict[str, str]:
        """The environment for the next start, consuming the fault it carries."""
        if self.crashes:
            self.crashes -= 1
            return {START_FAULT_ENV: "crash"}
        if self.slow_seconds:
            seconds, self.slow_seconds = self.slow_seconds, 0.0
            return {START_FAULT_ENV: f"slow:{seconds}"}
        return {}


def signal_for(kind: str, requested: str | None) -> int:
    """The signal a signal fault sends: `--signal` in the same words `supervisor signal` takes
    (KILL, SIGKILL, kill, 9), SIGKILL without it."""
    if kind == "stop":
        return signal.SIGSTOP
    if kind == "cont":
        return signal.SIGCONT
    number = signal_number(requested or "KILL")
    if number is None:
        raise FaultRefused(f"no such signal: {requested}")
    return number


def send_to_child(address: str, kind: str, arguments: dict[str, Any]) -> None:
    message = json.dumps({"fault": kind, **arguments}).encode()
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        try:
            sock.sendto(message, "\0" + address.removeprefix("@"))
        except (ConnectionRefusedError, FileNotFoundError):
            raise FaultRefused("the process is not listening for faults (yet)") from None


def signal_process(pid: int, signum: int, whole_group: bool) -> None:
    if whole_group:
        os.killpg(pid, signum)
    else:
        os.kill(pid, signum)


class FaultTarget(Protocol):
    """What a fault needs of a unit: its name, its process, and its pending start faults."""

    name: str
    start_faults: StartFaults
    fault_address: str

    @property
    def pid(self) -> int | None: ...

    @property
    def state(self) -> Any: ...

    @property
    def is_manager(self) -> bool: ...


def inject(unit: FaultTarget, kind: str, arguments: dict[str, Any]) -> str:
    """Inject one fault into `unit`; return what was done, for the event log."""
    if kind not in SIGNAL_FAULTS and not unit.is_manager:
        raise FaultRefused(f"{kind!r} needs a manager service; {unit.name} is a plain command")
    if kind in START_FAULTS:
        if kind == "crash-on-start":
            count = int(arguments.get("count", 1))
            unit.start_faults.crashes += count
            return f"the next {count} start(s) fail in init_host"
        seconds = float(arguments.get("seconds", 1.0))
        unit.start_faults.slow_seconds = seconds
        return f"the next start takes {seconds:g}s longer in init_host"
    pid = unit.pid
    if pid is None:
        raise FaultRefused(f"{unit.name} has no running process ({unit.state})")
    if kind in SIGNAL_FAULTS:
        signum = signal_for(kind, arguments.get("signal"))
        signal_process(pid, signum, whole_group=kind != "kill")
        return f"sent {signal.Signals(signum).name}"
    send_to_child(unit.fault_address, kind, arguments)
    return f"asked the service runtime for {kind}"
