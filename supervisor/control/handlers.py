"""What each control-socket request does to the running supervisor, and what it answers.

Requests arrive checked and typed (`protocol.parse`); a handler refuses what the running stack
cannot do (an unknown name, a stop in progress) by raising `Refused`.  The supervisor is seen
only through `DaemonView`.  `wait` and `shutdown` are answered later: they stay registered until
their condition is decided by a change the daemon reports to its subscribers, or by the group's
end.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from supervisor.config.diff import ReloadRejected
from supervisor.control.daemonview import DaemonView, Refused, UnitView
from supervisor.control.protocol import (
    Act,
    Attach,
    Attached,
    Detach,
    Fault,
    Logs,
    Message,
    Reload,
    Request,
    Scale,
    Shutdown,
    Signal,
    Status,
    Subscribe,
    Wait,
)
from supervisor.control.server import Connection
from supervisor.control.stream import EventStream
from supervisor.policy.names import UnknownName, resolve_names
from supervisor.policy.states import FINAL_STATES, State


@dataclass
class _Waiter:
    connection: Connection
    condition: str
    names: list[str]
    named: bool = False  # the client named these; else "every process"


def _is_ready(unit: UnitView) -> bool:
    return (unit.state is State.RUNNING and unit.ready) or unit.completed


def _failed(unit: UnitView) -> bool:
    """It will not become ready unless somebody acts: failed, blocked, or held stopped."""
    return (
        unit.failure_status is not None or unit.state in (State.FATAL, State.BLOCKED) or unit.held
    )


class CommandHandler:
    def __init__(self, daemon: DaemonView, stream: EventStream | None = None) -> None:
        self._daemon = daemon
        self._stream = stream
        self._waiters: list[_Waiter] = []
        self._handlers: dict[type, Callable[[Connection, Any], Message | None]] = {
            Status: self._status,
            Act: self._act,
            Reload: self._reload,
            Wait: self._wait,
            Logs: self._logs,
            Shutdown: self._shutdown,
            Fault: self._fault,
            Signal: self._signal,
            Subscribe: self._subscribe,
            Scale: self._scale,
            Attach: self._attach,
            Attached: self._attached,
            Detach: self._detach,
        }
        daemon.subscribe(self)

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

    def resolve(
        self, names: tuple[str, ...] | list[str], everything: bool = False
    ) -> list[UnitView]:
        """A service name means all its processes; a process name means that one."""
        units = self._daemon.units
        if everything or not names:
            return list(units.values())
        try:
            return resolve_names(units.values(), names)
        except UnknownName as unknown:
            services = ", ".join(dict.fromkeys(u.service for u in units.values()))
            processes = ", ".join(units)
            raise Refused(
                f"unknown name {unknown.name!r}; services: {services}; processes: {processes}"
            ) from None

    def _targets(self, request: Act) -> list[UnitView]:
        if not request.names and not request.all:
            raise Refused("name at least one service or process, or use --all")
        return self.resolve(request.names, request.all)

    # -- commands ------------------------------------------------------------------------------

    def _status(self, connection: Connection, request: Status) -> Message:
        daemon = self._daemon
        now = daemon.clock()
        units = self.resolve(request.names)
        return {
            "ok": True,
            "containment": daemon.containment,
            "supervisor": {
                "pid": os.getpid(),
                "config": str(daemon.config_path),
                "uptime": round(now - daemon.started_at, 3),
                "stopping": daemon.stopping,
                "waiting_clients": len(self._waiters),
            },
            "processes": [
                {**unit.snapshot(now), "attached": daemon.attachment(unit.name)} for unit in units
            ],
            "scaled": {service: dict(counts) for service, counts in daemon.scaled.items()},
            "templates": daemon.templates,
            "groups": daemon.groups,
        }

    def _refuse_while_stopping(self) -> None:
        if self._daemon.stopping:
            raise Refused("the supervisor is shutting down")

    def _act(self, connection: Connection, request: Act) -> Message:
        starts = request.command != "stop"
        if starts:
            self._refuse_while_stopping()
        units = self._targets(request)
        if starts:
            # Removed by a reload and on their way out: nothing starts them again.
            leaving = [unit.name for unit in units if unit.retiring]
            if leaving and not request.all:
                raise Refused(
                    f"{', '.join(leaving)}: removed from the configuration by a reload, stopping"
                )
            units = [unit for unit in units if not unit.retiring]
            # Run by `supervisor attach` in a terminal: a second run here would overlap it.
            lent = [unit.name for unit in units if self._daemon.attachment(unit.name) is not None]
            if lent and not request.all:
                raise Refused(
                    f"{', '.join(lent)}: attached to a terminal; it is started again here when"
                    " its run there ends"
                )
            units = [unit for unit in units if unit.name not in lent]
        templates = []
        if request.fresh:
            cause = "restart --fresh"
            templates = self._daemon.refresh_templates([unit.name for unit in units], cause)
        for unit in units:
            if request.command == "start":
                self._daemon.start_process(unit.name, "started by operator")
            elif request.command == "stop":
                self._daemon.stop_process(unit.name, "stopped by operator")
            else:
                self._daemon.restart_process(unit.name, "restarted by operator")
        reply: Message = {"ok": True, "processes": [unit.name for unit in units]}
        if request.fresh:
            reply["templates"] = templates
        return reply

    def _reload(self, connection: Connection, request: Reload) -> Message:
        self._refuse_while_stopping()
        try:
            changes = self._daemon.reload()
        except ReloadRejected as error:
            message = f"reload rejected, nothing changed:\n{error}"
            return {"ok": False, "error": message, "invalid_config": True}
        return {"ok": True, **changes.summary()}

    def _scale(self, connection: Connection, request: Scale) -> Message:
        self._refuse_while_stopping()
        return {"ok": True, **self._daemon.scale(request.name, request.workers)}

    def _one_process(self, name: str, verb: str) -> UnitView:
        units = self.resolve([name])
        if len(units) != 1:
            names = ", ".join(unit.name for unit in units)
            raise Refused(f"{verb} takes one process; {name} has several: {names}")
        return units[0]

    def _attach(self, connection: Connection, request: Attach) -> None:
        """Answered once the process is down: its spec (argv, env, directory, cgroup)."""
        self._daemon.attach_process(self._one_process(request.name, "attach").name, connection)

    def _attached(self, connection: Connection, request: Attached) -> Message:
        unit = self._one_process(request.name, "attached")
        return self._daemon.attached_process(unit.name, connection, request.pid)

    def _detach(self, connection: Connection, request: Detach) -> Message:
        unit = self._one_process(request.name, "detach")
        return self._daemon.detach_process(unit.name, connection, request.exit_status)

    def _logs(self, connection: Connection, request: Logs) -> Message:
        units = self.resolve(request.names)
        return {
            "ok": True,
            "logs": [{"name": u.name, "path": str(self._daemon.log_path(u.name))} for u in units],
        }

    def _fault(self, connection: Connection, request: Fault) -> Message:
        units = self.resolve([request.name])
        if len(units) != 1:
            names = ", ".join(unit.name for unit in units)
            raise Refused(f"a fault goes to one process; pick one of {names}")
        (unit,) = units
        pid = unit.pid  # the process the fault reached, even if it ends the process
        done = self._daemon.inject_fault(unit.name, request.kind, request.arguments)
        return {"ok": True, "process": unit.name, "done": done, "pid": pid}

    def _signal(self, connection: Connection, request: Signal) -> Message:
        units = self.resolve(request.names)
        sent = [u.name for u in units if u.pid is not None]
        idle = [u for u in units if u.pid is None]
        if not sent:
            reason = "; ".join(f"{unit.name} is {unit.state}" for unit in idle)
            raise Refused(f"no process to signal: {reason}")
        for name in sent:
            self._daemon.signal_process(name, request.signal, whole_group=request.group)
        return {"ok": True, "processes": sent, "not_running": [unit.name for unit in idle]}

    def _subscribe(self, connection: Connection, request: Subscribe) -> None:
        """One reply line (`seq`: the latest event's number, `oldest`: the oldest kept), then
        every event as a JSON line until the supervisor ends or drops a client that lags."""
        if self._stream is None:
            raise Refused("this supervisor streams no events")
        names = frozenset(request.names)
        if names:
            self.resolve(request.names)  # an unknown name is refused, as everywhere
        stream = self._stream
        connection.reply({"ok": True, "seq": stream.seq, "oldest": stream.oldest})
        stream.subscribe(connection, names, request.since)

    def _shutdown(self, connection: Connection, request: Shutdown) -> None:
        self._waiters.append(_Waiter(connection, "exit", []))
        self._daemon.begin_stop("shutdown requested")

    def _wait(self, connection: Connection, request: Wait) -> None:
        names = [unit.name for unit in self.resolve(request.names)]
        waiter = _Waiter(connection, request.condition, names, named=bool(request.names))
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
        known = self._daemon.units
        units = [known[name] for name in waiter.names if name in known]
        if waiter.condition == "ready" and not waiter.named:
            # "Every process" means every one meant to run: not those held stopped.
            units = [unit for unit in units if not unit.held]
        removed = [name for name in waiter.names if name not in known]
        if waiter.named and removed and waiter.condition == "ready":
            reason = "; ".join(f"{name} was removed by a reload" for name in removed)
            waiter.connection.reply({"ok": True, "met": False, "reason": reason})
            return True
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

    # -- what the daemon tells its subscribers -------------------------------------------------

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
