"""The verbs answered later, once the stack has settled: `wait`, `shutdown`.

Each registers its connection with the plane, which answers it when a change the daemon reports
decides the condition, or when the group ends."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from supervisor.control import fields as check
from supervisor.control.fields import Field
from supervisor.control.verbs.base import NAMES, OK, Plane, Verb

if TYPE_CHECKING:
    from supervisor.control.connection import Connection

WAIT_CONDITIONS = ("ready", "stopped", "exit")
_MET = Field("met", "boolean", "whether the condition holds; if not, `reason` says why")


@dataclass(frozen=True)
class Wait:
    command: ClassVar[str] = "wait"
    condition: str = "ready"
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Shutdown:
    command: ClassVar[str] = "shutdown"


class WaitVerb(Verb):
    name = "wait"
    summary = (
        "answered once the condition holds for the processes named (none: every one), or"
        " cannot hold"
    )
    fields = (
        Field("condition", "string", f"{', '.join(WAIT_CONDITIONS)} (default ready)"),
        NAMES,
    )
    replies = (
        OK,
        _MET,
        Field("reason", "string", "when not met: which process is in which state, and why"),
        Field("status", "integer", "exit: the group's exit status"),
    )

    def request(self, fields: Mapping[str, Any]) -> Wait:
        condition = check.choice("condition", fields.get("condition", "ready"), WAIT_CONDITIONS)
        return Wait(condition, check.names(fields.get("names", [])))

    def execute(self, plane: Plane, connection: Connection, request: Wait) -> None:
        names = [unit.name for unit in plane.resolve(request.names)]
        plane.wait_for(connection, request.condition, names, named=bool(request.names))


class ShutdownVerb(Verb):
    name = "shutdown"
    summary = "stop every service, dependants first, then the supervisor; answered at its end"
    replies = (OK, _MET, Field("status", "integer", "the supervisor's exit status"))

    def request(self, fields: Mapping[str, Any]) -> Shutdown:
        return Shutdown()

    def execute(self, plane: Plane, connection: Connection, request: Shutdown) -> None:
        plane.wait_for(connection, "exit", [], named=False)
        plane.daemon.begin_stop("shutdown requested")
