"""The verbs that read the stack and change nothing: `status`, `logs`, `subscribe`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from supervisor.control import fields as check
from supervisor.control.daemonview import Refused
from supervisor.control.fields import Field, Message
from supervisor.control.verbs.base import NAMES, OK, Plane, Verb

if TYPE_CHECKING:
    from supervisor.control.connection import Connection


@dataclass(frozen=True)
class Status:
    command: ClassVar[str] = "status"
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Logs:
    command: ClassVar[str] = "logs"
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Subscribe:
    """Stream events from the one after `since` (a `seq`), or from now when it is None."""

    command: ClassVar[str] = "subscribe"
    names: tuple[str, ...] = ()
    since: int | None = None


class StatusVerb(Verb):
    name = "status"
    summary = "the supervisor, and every process named (none: every one), as `status --json`"
    fields = (NAMES,)
    replies = (
        OK,
        Field("containment", "string", '"cgroup" or "process-group"'),
        Field(
            "supervisor",
            "object",
            "`pid`, `config`, `uptime` (seconds), `stopping`, `waiting_clients`",
        ),
        Field("processes", "list of objects", "one per process named, with `attached`"),
        Field("scaled", "object", "service: `workers`, `file`, where `scale` changed the count"),
        Field("templates", "list of objects", "the preload templates"),
        Field(
            "groups",
            "list of objects",
            "the `[groups]` tables: strategy, members, intensity, restarts, end, last action",
        ),
    )

    def request(self, fields: Mapping[str, Any]) -> Status:
        return Status(check.names(fields.get("names", [])))

    def execute(self, plane: Plane, connection: Connection, request: Status) -> Message:
        daemon = plane.daemon
        now = daemon.clock()
        units = plane.resolve(request.names)
        return {
            "ok": True,
            "containment": daemon.containment,
            "supervisor": {
                "pid": os.getpid(),
                "config": str(daemon.config_path),
                "uptime": round(now - daemon.started_at, 3),
                "stopping": daemon.stopping,
                "waiting_clients": plane.waiting_clients,
            },
            "processes": [
                {**unit.snapshot(now), "attached": daemon.attachment(unit.name)} for unit in units
            ],
            "scaled": {service: dict(counts) for service, counts in daemon.scaled.items()},
            "templates": daemon.templates,
            "groups": daemon.groups,
        }


class LogsVerb(Verb):
    name = "logs"
    summary = "where the log file of every process named (none: every one) is"
    fields = (NAMES,)
    replies = (OK, Field("logs", "list of objects", "`name` and `path` of each process's log"))

    def request(self, fields: Mapping[str, Any]) -> Logs:
        return Logs(check.names(fields.get("names", [])))

    def execute(self, plane: Plane, connection: Connection, request: Logs) -> Message:
        units = plane.resolve(request.names)
        path = plane.daemon.log_path
        return {"ok": True, "logs": [{"name": u.name, "path": str(path(u.name))} for u in units]}


class SubscribeVerb(Verb):
    name = "subscribe"
    summary = (
        "one reply, then every event as a JSON line until the supervisor ends (a client that"
        " lags too far is dropped)"
    )
    fields = (
        Field("names", "list of strings", "only the events of these processes; none: all"),
        Field("since", 'integer or "now"', 'from the event after this `seq` (default "now")'),
    )
    replies = (
        OK,
        Field("seq", "integer", "the latest event's number"),
        Field("oldest", "integer", "the oldest event still kept, for `since`"),
    )

    def request(self, fields: Mapping[str, Any]) -> Subscribe:
        since = fields.get("since", "now")
        number = None if since == "now" else check.integer("since", since, 0, 2**63 - 1)
        return Subscribe(check.names(fields.get("names", [])), number)

    def execute(self, plane: Plane, connection: Connection, request: Subscribe) -> None:
        stream = plane.stream
        if stream is None:
            raise Refused("this supervisor streams no events")
        names = frozenset(request.names)
        if names:
            plane.resolve(request.names)  # an unknown name is refused, as everywhere
        connection.reply({"ok": True, "seq": stream.seq, "oldest": stream.oldest})
        stream.subscribe(connection, names, request.since)
