"""The verbs of `supervisor attach`: lend one process to a terminal and take it back.

`attach` stops the process and answers with its spec once it is down; the client runs it and
says so with `attached`, then hands it back with `detach`.  Only the connection that attached a
process may report on it or hand it back (`daemon.attach` checks)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from supervisor.control import fields as check
from supervisor.control.fields import Field, Message
from supervisor.control.verbs.base import OK, Plane, Verb

if TYPE_CHECKING:
    from supervisor.control.connection import Connection

_PROCESS = Field("name", "string", "a process, or a service of one process")
_PROCESS_NAME = Field("process", "string", "the process")


@dataclass(frozen=True)
class Attach:
    """Stop one process and answer with its spec, for the client to run it in a terminal."""

    command: ClassVar[str] = "attach"
    name: str


@dataclass(frozen=True)
class Attached:
    """The attach client runs the process as `pid`."""

    command: ClassVar[str] = "attached"
    name: str
    pid: int


@dataclass(frozen=True)
class Detach:
    """The attached process ended (with `exit_status`, if known): the supervisor takes it back."""

    command: ClassVar[str] = "detach"
    name: str
    exit_status: int | None = None


class AttachVerb(Verb):
    name = "attach"
    summary = "stop one process and answer, once it is down, with what runs it"
    fields = (_PROCESS,)
    replies = (
        OK,
        _PROCESS_NAME,
        Field("argv", "list of strings", "what runs it"),
        Field("env", "object", "its environment"),
        Field("directory", "string or null", "its working directory"),
        Field("cgroup", "string or null", "the cgroup to run it in"),
        Field("identity", "object or null", "`uid`, `gid`, `groups` to run it as"),
        Field("stop_signal", "integer", "the signal that stops it"),
        Field("stop_timeout", "number", "seconds it has to stop"),
    )
    required = ("name",)
    missing = "'attach' needs the name of one process"

    def request(self, fields: Mapping[str, Any]) -> Attach:
        return Attach(check.name("name", fields["name"]))

    def execute(self, plane: Plane, connection: Connection, request: Attach) -> None:
        """Answered once the process is down: its spec (argv, env, directory, cgroup)."""
        unit = plane.one_process(request.name, "attach")
        plane.daemon.attach_process(unit.name, connection)


class AttachedVerb(Verb):
    name = "attached"
    summary = "the attaching client runs the process now, as this pid"
    fields = (_PROCESS, Field("pid", "integer", "the process the client started"))
    replies = (OK, _PROCESS_NAME, Field("pid", "integer", "the pid it runs as"))
    required = ("name", "pid")
    missing = "'attached' needs a name and a pid"

    def request(self, fields: Mapping[str, Any]) -> Attached:
        name = check.name("name", fields["name"])
        return Attached(name, check.integer("pid", fields["pid"], 1, 2**22))

    def execute(self, plane: Plane, connection: Connection, request: Attached) -> Message:
        unit = plane.one_process(request.name, "attached")
        return plane.daemon.attached_process(unit.name, connection, request.pid)


class DetachVerb(Verb):
    name = "detach"
    summary = "the attached process ended: the supervisor takes it back under its policy"
    fields = (
        _PROCESS,
        Field("exit_status", "integer or null", "how its run in the terminal ended, if known"),
    )
    replies = (
        OK,
        _PROCESS_NAME,
        Field("state", "string or null", "its state, back under the supervisor"),
        Field("pid", "integer or null", "its new process, if it started"),
    )
    required = ("name",)
    missing = "'detach' needs the name of the attached process"

    def request(self, fields: Mapping[str, Any]) -> Detach:
        status = fields.get("exit_status")
        highest = check.MAX_EXIT_CODE
        number = None if status is None else check.integer("exit_status", status, 0, highest)
        return Detach(check.name("name", fields["name"]), number)

    def execute(self, plane: Plane, connection: Connection, request: Detach) -> Message:
        unit = plane.one_process(request.name, "detach")
        return plane.daemon.detach_process(unit.name, connection, request.exit_status)
