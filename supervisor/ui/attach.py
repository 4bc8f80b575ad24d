"""The UI's two connections to a supervisor: its event stream, read by a thread, and one for
requests, used by the screen's own thread.

The stream thread waits for a supervisor when none runs (trying the socket every
`RETRY_SECONDS`: there is nothing to be told by before one exists), subscribes from now on,
and hands every event to the screen through `deliver`, which must be safe to call from
another thread (the screen's is a pipe that wakes its loop).  It reads as fast as events
come, so the supervisor never holds a backlog for the UI.  What it delivers:

- `Waiting(message)`: no supervisor runs (yet); it keeps trying;
- `Attached()`: subscribed, events follow;
- `Event(record)`: one event, as events.jsonl has it (with `seq`);
- `Dropped(message)`: the supervisor cut the stream off (this side read too slowly) and
  runs on: subscribed again, `Attached` follows;
- `Ended(exit_status, reason)`: the stream ended; `exit_status` is the group's when its
  `exit` event came first (the supervisor stopped in order), else None (it went away).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from supervisor.control.client import ControlClient, LostSupervisor, NotRunning, Unreachable

RETRY_SECONDS = 0.5
REQUEST_TIMEOUT = 10.0  # a request the supervisor answers at once, even when loaded


@dataclass(frozen=True)
class Waiting:
    message: str


@dataclass(frozen=True)
class Attached:
    pass


@dataclass(frozen=True)
class Event:
    record: dict[str, Any]


@dataclass(frozen=True)
class Dropped:
    message: str


@dataclass(frozen=True)
class Ended:
    exit_status: int | None
    reason: str


Delivery = Waiting | Attached | Event | Dropped | Ended


class EventStream(threading.Thread):
    def __init__(self, state_dir: Path, deliver: Callable[[Delivery], None]) -> None:
        # A daemon thread: quitting the UI never waits for a read on the socket to end.
        super().__init__(name="supervisor-ui-events", daemon=True)
        self._state_dir = state_dir
        self._deliver = deliver
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        while True:
            client = self._connect()
            if client is None:
                return
            with client:
                try:
                    reply = client.request("subscribe", names=[], since="now")
                except (LostSupervisor, TimeoutError):
                    exit_status = None  # gone in between: told below, as a stream's end
                else:
                    if not reply.get("ok"):
                        error = str(reply.get("error", "subscribe was refused"))
                        self._deliver(Ended(None, error))
                        return
                    self._deliver(Attached())
                    exit_status = self._read(client)
            if exit_status is not None:
                reason = f"the supervisor stopped: the stack exited with status {exit_status}"
                self._deliver(Ended(exit_status, reason))
                return
            if self._stop.is_set() or not _answers(self._state_dir):
                self._deliver(Ended(None, "lost the supervisor: its event stream ended"))
                return
            # It runs on and dropped this stream: the UI read too slowly (stopped with
            # Ctrl-Z, starved of CPU).  The events in between are lost; the table is not.
            self._deliver(Dropped("the supervisor dropped this UI's events (read too slowly)"))

    def _connect(self) -> ControlClient | None:
        told = False
        while not self._stop.is_set():
            try:
                return ControlClient(self._state_dir)
            except NotRunning as error:
                if not told:
                    self._deliver(Waiting(f"{error}; waiting for one"))
                    told = True
            except Unreachable as error:
                self._deliver(Waiting(f"{error}; trying again"))
            self._stop.wait(RETRY_SECONDS)
        return None

    def _read(self, client: ControlClient) -> int | None:
        """Deliver every event until the stream ends; the group's exit status if its `exit`
        event came (the supervisor stopped in order), else None."""
        exit_status: int | None = None
        while line := client.next_line():
            if not line.endswith(b"\n"):
                break  # cut short: the supervisor went away mid-line
            record = _record(line)
            if record is None:
                continue
            if record.get("event") == "group" and record.get("action") == "exit":
                exit_status = record.get("status")
            self._deliver(Event(record))
        return exit_status


def _answers(state_dir: Path) -> bool:
    """Whether a supervisor still answers for `state_dir`."""
    try:
        with ControlClient(state_dir, timeout=REQUEST_TIMEOUT) as client:
            return bool(client.request("status", names=[]).get("ok"))
    except (NotRunning, Unreachable, LostSupervisor, TimeoutError):
        return False


class Requests:
    """The screen's requests (status, start, stop, ...), on a connection of their own, made
    when first needed and again after the supervisor dropped it."""

    def __init__(self, state_dir: Path) -> None:
        self._state_dir = state_dir
        self._client: ControlClient | None = None

    def ask(self, command: str, **fields: Any) -> dict[str, Any]:
        """The reply (its `ok` says whether it was done).  LostSupervisor, NotRunning when
        the supervisor is gone."""
        if self._client is None:
            self._client = ControlClient(self._state_dir, timeout=REQUEST_TIMEOUT)
        try:
            return self._client.request(command, **fields)
        except (LostSupervisor, TimeoutError):
            self.close()
            raise

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def past_events(state_dir: Path, names: list[str]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The events of these processes or services that the supervisor still keeps (this run's),
    and a `status` reply of them: a `subscribe` from the first event, then a `status` on the
    same connection, whose reply comes after every past event (the supervisor answers a
    connection's requests in order), so the reply marks where the past ends."""
    records: list[dict[str, Any]] = []
    with ControlClient(state_dir, timeout=REQUEST_TIMEOUT) as client:
        reply = client.request("subscribe", names=names, since=0)
        if not reply.get("ok"):
            return [], reply
        # `request` sends the status request and reads the next line: a past event, or,
        # with none, the reply itself.
        line: dict[str, Any] | None = client.request("status", names=names)
        while line is not None and "event" in line:
            records.append(line)
            line = _record(client.next_line())
        return records, line or {"ok": False, "error": "the supervisor went away"}


def _record(line: bytes) -> dict[str, Any] | None:
    if not line.endswith(b"\n"):
        return None
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None
