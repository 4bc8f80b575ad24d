"""The control plane behind the socket: each checked request goes to its verb, and the clients
waiting for an answer are answered when the stack settles.

Requests arrive checked and typed (`protocol.parse`); what each does is its verb's
(`control.verbs`), which refuses what the running stack cannot do (an unknown name, a stop in
progress) by raising `Refused`.  The supervisor is seen only through `DaemonView`.  `wait` and
`shutdown` are answered later: they stay registered here until their condition is decided by a
change the daemon reports to its subscribers, or by the group's end.
"""

from __future__ import annotations

from dataclasses import dataclass

from supervisor.control.connection import Connection
from supervisor.control.daemonview import DaemonView, Refused, UnitView
from supervisor.control.protocol import Request
from supervisor.control.stream import EventStream
from supervisor.control.verbs import BY_NAME
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
        daemon.subscribe(self)

    def handle(self, connection: Connection, request: Request) -> None:
        """Carry out a checked request; anything but `Refused` is the control server's to
        report."""
        try:
            reply = BY_NAME[request.command].execute(self, connection, request)
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

    def one_process(self, name: str, verb: str) -> UnitView:
        units = self.resolve([name])
        if len(units) != 1:
            names = ", ".join(unit.name for unit in units)
            raise Refused(f"{verb} takes one process; {name} has several: {names}")
        return units[0]

    def refuse_while_stopping(self) -> None:
        if self._daemon.stopping:
            raise Refused("the supervisor is shutting down")

    # -- what the verbs see of this plane (`verbs.base.Plane`) -----------------------------------

    @property
    def daemon(self) -> DaemonView:
        return self._daemon

    @property
    def stream(self) -> EventStream | None:
        return self._stream

    @property
    def waiting_clients(self) -> int:
        return len(self._waiters)

    def wait_for(
        self, connection: Connection, condition: str, names: list[str], *, named: bool
    ) -> None:
        waiter = _Waiter(connection, condition, names, named=named)
        if not self._decide(waiter):
            self._waiters.append(waiter)

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
