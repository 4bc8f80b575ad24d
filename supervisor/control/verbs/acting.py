"""The verbs that act on processes: `start`, `stop`, `restart`, `signal`, `fault`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from supervisor.control import fields as check
from supervisor.control.daemonview import Refused
from supervisor.control.fields import BadRequest, Field, Message
from supervisor.control.verbs.base import OK, Plane, Verb
from supervisor.shared.faults import KINDS
from supervisor.shared.signalnames import signal_number

if TYPE_CHECKING:
    from supervisor.control.connection import Connection
    from supervisor.control.daemonview import UnitView


@dataclass(frozen=True)
class Act:
    """start, stop or restart: named processes, or every one."""

    command: str
    names: tuple[str, ...] = ()
    all: bool = False
    fresh: bool = False  # restart only: replace the preload templates they fork from first


@dataclass(frozen=True)
class Signal:
    """Send a signal to named processes (their main process, or with `group` their whole
    process group), as `supervisorctl signal` and `systemctl kill` do."""

    command: ClassVar[str] = "signal"
    names: tuple[str, ...]
    signal: int
    group: bool = False


@dataclass(frozen=True)
class Fault:
    command: ClassVar[str] = "fault"
    name: str
    kind: str
    # Only the keys the kind takes, each of its own type: `code`, `count`, `seconds`, `signal`.
    arguments: dict[str, int | float | str] = field(default_factory=dict)


_NAMES = Field("names", "list of strings", "services (every process of each) or processes")
_ALL = Field("all", "boolean", "every process (instead of `names`; one of the two is needed)")
_ACTED = Field("processes", "list of strings", "the processes acted on")


class StartVerb(Verb):
    """start, and the verbs like it: act on the processes named, or on every one with `all`."""

    name = "start"
    summary = "start the processes named, once their dependencies are ready"
    cause = "started by operator"
    fields = (_NAMES, _ALL)
    replies = (OK, _ACTED)
    starts = True  # refused while the supervisor stops; leaves out what cannot start here

    def request(self, fields: Mapping[str, Any]) -> Act:
        return Act(
            self.name,
            check.names(fields.get("names", [])),
            check.flag("all", fields.get("all", False)),
            check.flag("fresh", fields.get("fresh", False)),
        )

    def execute(self, plane: Plane, connection: Connection, request: Act) -> Message:
        if self.starts:
            plane.refuse_while_stopping()
        if not request.names and not request.all:
            raise Refused("name at least one service or process, or use --all")
        units = plane.resolve(request.names, request.all)
        if self.starts:
            units = _startable(plane, units, every=request.all)
        templates = []
        if request.fresh:
            names = [unit.name for unit in units]
            templates = plane.daemon.refresh_templates(names, "restart --fresh")
        act = self.act(plane)
        for unit in units:
            act(unit.name, self.cause)
        reply: Message = {"ok": True, "processes": [unit.name for unit in units]}
        if request.fresh:
            reply["templates"] = templates
        return reply

    def act(self, plane: Plane) -> Callable[[str, str], None]:
        return plane.daemon.start_process


def _startable(plane: Plane, units: list[UnitView], *, every: bool) -> list[UnitView]:
    """The units a start may reach; one named that cannot is refused, `all` leaves it out."""
    # Removed by a reload and on their way out: nothing starts them again.
    leaving = [unit.name for unit in units if unit.retiring]
    if leaving and not every:
        raise Refused(f"{', '.join(leaving)}: removed from the configuration by a reload, stopping")
    units = [unit for unit in units if not unit.retiring]
    # Run by `supervisor attach` in a terminal: a second run here would overlap it.
    lent = [unit.name for unit in units if plane.daemon.attachment(unit.name) is not None]
    if lent and not every:
        raise Refused(
            f"{', '.join(lent)}: attached to a terminal; it is started again here when"
            " its run there ends"
        )
    return [unit for unit in units if unit.name not in lent]


class StopVerb(StartVerb):
    name = "stop"
    summary = "stop the processes named and hold them stopped until started"
    cause = "stopped by operator"
    starts = False

    def act(self, plane: Plane) -> Callable[[str, str], None]:
        return plane.daemon.stop_process


class RestartVerb(StartVerb):
    name = "restart"
    summary = "stop the processes named if they run, then start them again"
    cause = "restarted by operator"
    fields = (
        _NAMES,
        _ALL,
        Field("fresh", "boolean", "replace the preload templates they fork from first"),
    )
    replies = (
        OK,
        _ACTED,
        Field("templates", "list of strings", "with `fresh`: the templates replaced"),
    )

    def act(self, plane: Plane) -> Callable[[str, str], None]:
        return plane.daemon.restart_process


class SignalVerb(Verb):
    name = "signal"
    summary = "send a signal to the main process (or the process group) of each process named"
    fields = (
        Field("names", "list of strings", "services or processes, at least one (needed)"),
        Field("signal", "string", "a signal name or number, as TERM, SIGHUP or 15 (needed)"),
        Field("group", "boolean", "the whole process group, not only the main process"),
    )
    replies = (
        OK,
        Field("processes", "list of strings", "the processes signalled"),
        Field("not_running", "list of strings", "the processes named that had no process"),
    )

    def request(self, fields: Mapping[str, Any]) -> Signal:
        names = check.names(fields.get("names", []))
        if not names:
            raise BadRequest("'signal' needs at least one name")
        value = fields.get("signal")
        number = signal_number(value) if isinstance(value, str) and len(value) <= 16 else None
        if number is None:
            raise BadRequest(
                f"signal = {check.show(value)}: expected a signal name or number, as TERM"
            )
        return Signal(names, number, check.flag("group", fields.get("group", False)))

    def execute(self, plane: Plane, connection: Connection, request: Signal) -> Message:
        units = plane.resolve(request.names)
        sent = [u.name for u in units if u.pid is not None]
        idle = [u for u in units if u.pid is None]
        if not sent:
            reason = "; ".join(f"{unit.name} is {unit.state}" for unit in idle)
            raise Refused(f"no process to signal: {reason}")
        for name in sent:
            plane.daemon.signal_process(name, request.signal, whole_group=request.group)
        return {"ok": True, "processes": sent, "not_running": [unit.name for unit in idle]}


# The arguments each fault kind takes, and how each is checked.
_FAULT_ARGUMENTS: dict[str, dict[str, Callable[[str, Any], int | float | str]]] = {
    "exit": {"code": lambda k, v: check.integer(k, v, 0, check.MAX_EXIT_CODE)},
    "crash-on-start": {"count": lambda k, v: check.integer(k, v, 1, check.MAX_START_FAULTS)},
    "slow-start": {"seconds": lambda k, v: check.seconds(k, v, check.MAX_SLOW_START_SECONDS)},
    "kill": {"signal": check.signal_name},
}


class FaultVerb(Verb):
    name = "fault"
    summary = "inject a fault into one live process"
    fields = (
        Field("name", "string", "a process, or a service of one process"),
        Field("kind", "string", ", ".join(KINDS)),
        Field(
            "arguments",
            "object",
            "exit: `code`; crash-on-start: `count`; slow-start: `seconds`; kill: `signal`",
        ),
    )
    replies = (
        OK,
        Field("process", "string", "the process the fault went to"),
        Field("done", "string", "what was done"),
        Field("pid", "integer or null", "the process it reached"),
    )
    required = ("name", "kind")
    missing = "'fault' needs a name and a kind"

    def request(self, fields: Mapping[str, Any]) -> Fault:
        kind = check.choice("kind", fields["kind"], KINDS)
        name = check.name("name", fields["name"])
        return Fault(name, kind, _fault_arguments(kind, fields.get("arguments", {})))

    def execute(self, plane: Plane, connection: Connection, request: Fault) -> Message:
        units = plane.resolve([request.name])
        if len(units) != 1:
            names = ", ".join(unit.name for unit in units)
            raise Refused(f"a fault goes to one process; pick one of {names}")
        (unit,) = units
        pid = unit.pid  # the process the fault reached, even if it ends the process
        done = plane.daemon.inject_fault(unit.name, request.kind, request.arguments)
        return {"ok": True, "process": unit.name, "done": done, "pid": pid}


def _fault_arguments(kind: str, value: Any) -> dict[str, int | float | str]:
    if not isinstance(value, dict):
        raise BadRequest(f"arguments = {check.show(value)}: expected an object")
    checks = _FAULT_ARGUMENTS.get(kind, {})
    unknown = [key for key in value if key not in checks]
    if unknown:
        takes = ", ".join(checks) or "no arguments"
        raise BadRequest(f"arguments.{check.show(unknown[0])}: fault {kind!r} takes {takes}")
    return {key: checks[key](f"arguments.{key}", item) for key, item in value.items()}
