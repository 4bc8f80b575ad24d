"""The event stream of the control socket: every event, as events.jsonl has it, to the clients
that asked for it with `subscribe`.

Each event gets a sequence number (`seq`, from 1 in each run of the supervisor); the last
`KEPT_EVENTS` are kept so that a client can ask for the events after the last one it saw.
An event is encoded once and queued on each subscriber's connection, which sends it without
blocking.  A subscriber whose unsent events pass `MAX_BACKLOG` is dropped, with a `control`
event saying so: a client that stops reading costs the supervisor a bounded buffer, never
its loop.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from supervisor.control.connection import Connection

MAX_BACKLOG = 1 << 20  # bytes of unsent events before a subscriber is dropped
KEPT_EVENTS = 10_000  # the events a `since` can go back to

Report = Callable[..., None]


@dataclass
class _Subscriber:
    connection: Connection
    names: frozenset[str]  # processes and services (and the group's events); empty: all

    def wants(self, record: dict[str, Any]) -> bool:
        if not self.names or record.get("event") == "group":
            return True  # the group's stop and end reach every subscriber
        unit = record.get("unit")
        if not isinstance(unit, str):
            return record.get("service") in self.names
        return unit in self.names or _service_of(unit) in self.names


def _service_of(process: str) -> str:
    """`api#2` -> `api`, `cinder-volume@lvm-1` -> `cinder-volume`."""
    for separator in ("#", "@"):
        process = process.partition(separator)[0]
    return process


class EventStream:
    def __init__(self, report: Report) -> None:
        self._report = report
        self._seq = 0
        self._kept: deque[tuple[int, bytes]] = deque(maxlen=KEPT_EVENTS)
        self._subscribers: list[_Subscriber] = []

    @property
    def seq(self) -> int:
        """The number of the latest event."""
        return self._seq

    @property
    def oldest(self) -> int:
        """The number of the oldest event still kept (seq + 1 when none is)."""
        return self._kept[0][0] if self._kept else self._seq + 1

    def subscribe(self, connection: Connection, names: frozenset[str], since: int | None) -> None:
        """Stream to this connection from the event after `since` (None: from now)."""
        subscriber = _Subscriber(connection, names)
        if since is not None:
            for seq, line in self._kept:
                if seq > since and subscriber.wants(json.loads(line)):
                    connection.send_line(line)
        self._subscribers.append(subscriber)
        self._drop_backlogged()

    def publish(self, record: dict[str, Any], text: str) -> None:
        """An event, and its JSON as the file has it (EventLog's listener): the line sent is
        that object with its `seq` last, spliced in rather than encoded again."""
        self._seq += 1
        line = f'{text[:-1]}, "seq": {self._seq}}}\n'.encode()
        self._kept.append((self._seq, line))
        if not self._subscribers:
            return
        for subscriber in self._subscribers:
            if not subscriber.connection.closed and subscriber.wants(record):
                subscriber.connection.send_line(line)
        self._drop_backlogged()

    def _drop_backlogged(self) -> None:
        dropped = [s for s in self._subscribers if s.connection.unsent > MAX_BACKLOG]
        self._subscribers = [
            s for s in self._subscribers if not s.connection.closed and s not in dropped
        ]
        for subscriber in dropped:
            unsent = subscriber.connection.unsent
            subscriber.connection.close()
            # After the subscriber is gone: this event reaches the others, not it.
            self._report(
                "control",
                action="dropped",
                cause=f"a subscriber did not read: {unsent} bytes of events unsent "
                f"(at most {MAX_BACKLOG})",
            )
