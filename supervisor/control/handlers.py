"""What each control-socket request does to the running supervisor, and what it answers.

Requests arrive checked and typed (`protocol.parse`); a handler refuses what the running stack
cannot do (an unknown name, a stop in progress) by raising `Refused`.  `wait` and `shutdown` are
answered later: they stay registered until their condition is decided by a unit's change or by
the group's end.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from supervisor.config.diff import ReloadRejected
from supervisor.control.protocol import Act, Fault, Logs, Reload, Request, Shutdown, Status, Wait
from supervisor.control.server import Connection, Message
from supervisor.daemon import faultinjector as faults
from supervisor.daemon.output import LOGS_DIR
from supervisor.daemon.unit import Unit
from supervisor.policy.states import FINAL_STATES, State

if TYPE_CHECKING:
    from supervisor.daemon.arbiter import Supervisor


class Refused(Exception):
    """The request cannot be carried out; the message says why."""


@dataclass
class _Waiter:
    connection: Connection
    condition: str
    names: list[str]


def _is_ready(unit: Unit) -> bool:
    return (unit.state is State.RUNNING and unit.ready) or unit.completed


def _failed(unit: Unit) -> bool:
    return unit.failure_status is not None or unit.state in (State.FATAL, State.BLOCKED)


class CommandHandler:
    def __init__(self, supervisor: Supervisor) -> None:
        self._supervisor = supervisor
        self._waiters: list[_Waiter] = []
        self._handlers: dict[type, Callable[[Connection, Any], Message | None]] = {
            Status: self._status,
            Act: self._act,
            Reload: self._reload,
            Wait: self._wait,
            Logs: self._logs,
            Shutdown: self._shutdown,
            Fault: self._fault,
        }

    def handle(self, connection: Connection, request: Request) -> None:
        """Carry out a checked request; anything but `Refused` is the control server's to
        report."""
        try:
            reply = self._handlers[type(request)](connection, request)
        except Refused as error:
            reply = {"ok": False, "error": str(error)}
        if reply is not None:
            connection.reply(reply)

    # -- names ---------------------------------------------------------------------------------

    def resolve(self, names: tuple[str, ...] | list[str], everything: bool = False) -> list[Unit]:
        """A service name means all its processes; a process name means that one."""
        units = self._supervisor.units
        if everything or not names:
            return list(units.values())
        chosen: dict[str, Unit] = {}
        for name in names:
            matching = [u for u in units.values() if name in (u.name, u.service)]
            if not matching:
                services = ", ".join(dict.fromkeys(u.service for u in units.values()))
                processes = ", ".join(units)
                raise Refused(
                    f"unknown name {name!r}; services: {services}; processes: {processes}"
                )
            chosen.update((unit.name, unit) for unit in matching)
        return list(chosen.values())

    def _targets(self, request: Act) -> list[Unit]:
        if not request.names and not request.all:
            raise Refused("name at least one service or process, or use --all")
        return self.resolve(request.names, request.all)

    # -- commands ------------------------------------------------------------------------------

    def _status(self, connection: Connection, request: Status) -> Message:
        supervisor = self._supervisor
        now = supervisor.clock()
        units = self.resolve(request.names)
        return {
            "ok": True,
            "containment": supervisor.containment,
            "supervisor": {
                "pid": os.getpid(),
                "config": str(supervisor.plan.path),
                "uptime": round(now - supervisor.started_at, 3),
                "stopping": supervisor.stopping,
                "waiting_clients": len(self._waiters),
            },
            "processes": [unit.snapshot(now) for unit in units],
        }

    def _refuse_while_stopping(self) -> None:
        if self._supervisor.stopping:
            raise Refused("the supervisor is shutting down")

    def _act(self, connection: Connection, request: Act) -> Message:
        if request.command != "stop":
            self._refuse_while_stopping()
        units = self._targets(request)
        for unit in units:
            if request.command == "start":
                self._supervisor.start_unit(unit, "started by operator")
            elif request.command == "stop":
                unit.stop("stopped by operator", hold=True)
            else:
                unit.restart("restarted by operator")
        return {"ok": True, "processes": [unit.name for unit in units]}

    def _reload(self, connection: Connection, request: Reload) -> Message:
        self._refuse_while_stopping()
        try:
            changes = self._supervisor.reload()
        except ReloadRejected as error:
            message = f"reload rejected, nothing changed:\n{error}"
            return {"ok": False, "error": message, "invalid_config": True}
        return {"ok": True, **changes.summary()}

    def _logs(self, connection: Connection, request: Logs) -> Message:
        logs_dir = self._supervisor.plan.state_dir / LOGS_DIR
        units = self.resolve(request.names)
        return {
            "ok": True,
            "logs": [{"name": u.name, "path": str(logs_dir / f"{u.name}.log")} for u in units],
        }

    def _fault(self, connection: Connection, request: Fault) -> Message:
        units = self.resolve([request.name])
        if len(units) != 1:
            names = ", ".join(unit.name for unit in units)
            raise Refused(f"a fault goes to one process; pick one of {names}")
        (unit,) = units
        kind, arguments = request.kind, request.arguments
        pid = unit.pid
        try:
            done = faults.inject(unit, kind, arguments)
        except faults.FaultRefused as error:
            raise Refused(f"{unit.name}: {error}") from None
        # The arguments' keys are the few `protocol` allows, none of them an event's own field.
        self._supervisor.events.emit(
            "fault", unit=unit.name, kind=kind, cause=done, pid=pid, **arguments
        )
        return {"ok": True, "process": unit.name, "done": done, "pid": pid}

    def _shutdown(self, connection: Connection, request: Shutdown) -> None:
        self._waiters.append(_Waiter(connection, "exit", []))
        self._supervisor.begin_stop("shutdown requested")

    def _wait(self, connection: Connection, request: Wait) -> None:
        names = [unit.name for unit in self.resolve(request.names)]
        waiter = _Waiter(connection, request.condition, names)
        if not self._decide(waiter):
            self._waiters.append(waiter)
        return None

    # -- deciding waits ------------------------------------------------------------------------

    def _decide(self, waiter: _Waiter) -> bool:
        """Answer the waiter if its condition is settled either way; say whether it was."""
        if waiter.connection.closed:
            return True
        if waiter.condition == "exit":
            return False  # answered only by group_ended
        units = [self._supervisor.units[n] for n in waiter.names if n in self._supervisor.units]
        if waiter.condition == "stopped":
            if all(unit.state in FINAL_STATES for unit in units):
                waiter.connection.reply({"ok": True, "met": True})
                return True
            return False
        failed = [unit for unit in units if _failed(unit)]
        if failed:
            reason = "; ".join(f"{unit.name} is {unit.state}: {unit.cause}" for unit in failed)
            waiter.connection.reply({"ok": True, "met": False, "reason": reason})
            return True
        if all(_is_ready(unit) for unit in units):
            waiter.connection.reply({"ok": True, "met": True})
            return True
        return False

    def units_changed(self) -> None:
        self._waiters = [waiter for waiter in self._waiters if not self._decide(waiter)]

    def group_ended(self, status: int) -> None:
        """The supervisor is about to exit: settle every waiter for good."""
        for waiter in self._waiters:
            if waiter.condition == "exit":
                waiter.connection.reply({"ok": True, "met": True, "status": status})
            elif not self._decide(waiter):
                reason = f"the supervisor exited with status {status}"
                waiter.connection.reply({"ok": True, "met": False, "reason": reason})
        self._waiters.clear()
