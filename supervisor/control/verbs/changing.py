"""The verbs that change what the stack runs: `reload`, `scale`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from supervisor.config.diff import ReloadRejected
from supervisor.control import fields as check
from supervisor.control.fields import Field, Message
from supervisor.control.verbs.base import OK, Plane, Verb

if TYPE_CHECKING:
    from supervisor.control.connection import Connection


@dataclass(frozen=True)
class Reload:
    command: ClassVar[str] = "reload"


@dataclass(frozen=True)
class Scale:
    """Run `workers` processes of a service of numbered workers from now on."""

    command: ClassVar[str] = "scale"
    name: str
    workers: int


_NAMES_CHANGED = tuple(
    Field(key, "list of strings", f"the processes {key}")
    for key in ("added", "removed", "changed", "unchanged")
)


class ReloadVerb(Verb):
    name = "reload"
    summary = "re-read the services file and apply only what changed"
    replies = (
        OK,
        *_NAMES_CHANGED,
        Field("invalid_config", "boolean", "with ok false: the file was rejected, nothing changed"),
    )

    def request(self, fields: Mapping[str, Any]) -> Reload:
        return Reload()

    def execute(self, plane: Plane, connection: Connection, request: Reload) -> Message:
        plane.refuse_while_stopping()
        try:
            changes = plane.daemon.reload()
        except ReloadRejected as error:
            message = f"reload rejected, nothing changed:\n{error}"
            return {"ok": False, "error": message, "invalid_config": True}
        return {"ok": True, **changes.summary()}


class ScaleVerb(Verb):
    name = "scale"
    summary = "run this many workers of a service of numbered workers from now on"
    fields = (
        Field("name", "string", "a service with `workers`"),
        Field("workers", "integer", "the count to run"),
    )
    replies = (
        OK,
        Field("service", "string", "the service"),
        Field("workers", "integer", "the count it runs now"),
        Field("was", "integer", "the count it ran before"),
        Field("file", "integer", "the file's count"),
        Field("added", "list of strings", "the workers started"),
        Field("removed", "list of strings", "the workers stopped, in the order they stop"),
    )
    required = ("name", "workers")
    missing = "'scale' needs a name and a count of workers"

    def request(self, fields: Mapping[str, Any]) -> Scale:
        # The range is the daemon's to judge (`daemon.scaling`): here only its type and size.
        name = check.name("name", fields["name"])
        return Scale(name, check.integer("workers", fields["workers"], 0, 2**31))

    def execute(self, plane: Plane, connection: Connection, request: Scale) -> Message:
        plane.refuse_while_stopping()
        return {"ok": True, **plane.daemon.scale(request.name, request.workers)}
