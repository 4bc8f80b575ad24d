"""Cinder's volume API as a client sees it, and volume creates in flight across a broker kill.

Used by the real-Cinder tests and `scripts/measure-broker-kill`: both send creates to a
running example stack, SIGKILL RabbitMQ while they are on their way, and count how many reach
`available` once the broker is back.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# A request SQLite refused with "database is locked" is asked again, a little later each time:
# two senders that collided once would collide again in step.
SQLITE_ATTEMPTS = 5
SQLITE_PAUSE = 0.2  # seconds, times the attempt's number
REQUEST_TIMEOUT = 300  # a create waits in the API while its cast waits for the broker
SETTLED = ("available", "error")


class ApiError(AssertionError):
    pass


@dataclass(frozen=True)
class CinderApi:
    """Cinder's volume API with the noauth middleware: the token names user and project.

    SQLite, the example's database, refuses a write at once ("database is locked", HTTP 500)
    when two of Cinder's processes upgrade their transactions together; nothing is written
    then, and a client asks again, as it would of any 500 from a busy server. Any other error
    raises ApiError with the API's log."""

    port: int
    log: Path  # cinder-api's log, where the refusal is named
    token: str = "admin:admin"
    address: str = "127.0.0.1"
    attempts: int = SQLITE_ATTEMPTS  # tries of a request SQLite refused
    timeout: float = REQUEST_TIMEOUT  # seconds for one answer

    def request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        missing_ok: bool = False,
    ) -> Any:
        """The answer's JSON; {} for an action that answers 202 with no body, and with
        `missing_ok` for a 404 too."""
        for attempt in range(1, self.attempts + 1):
            seen = self.log.stat().st_size if self.log.exists() else 0
            request = urllib.request.Request(
                f"http://{self.address}:{self.port}/v3{path}",
                data=None if body is None else json.dumps(body).encode(),
                headers={"X-Auth-Token": self.token, "Content-Type": "application/json"},
                method=method,
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    answer = response.read()
                    return json.loads(answer) if answer else {}
            except urllib.error.HTTPError as error:
                if error.code == 404 and missing_ok:
                    return {}
                written = self.log.read_bytes() if self.log.exists() else b""
                locked = error.code == 500 and b"database is locked" in written[seen:]
                if locked and attempt < self.attempts:
                    time.sleep(SQLITE_PAUSE * attempt)
                    continue
                tail = "\n".join(written.decode(errors="replace").splitlines()[-40:])
                raise ApiError(
                    f"{method} {path}: HTTP {error.code}: {error.read()[:2000]!r}\n{tail}"
                ) from None
        raise AssertionError("unreachable")

    def create_volume(self, name: str) -> str:
        return self.request("POST", "/volumes", {"volume": {"size": 1, "name": name}})["volume"][
            "id"
        ]

    def volume(self, volume_id: str) -> dict[str, Any]:
        return self.request("GET", f"/volumes/{volume_id}")["volume"]


@dataclass
class BrokerKillTally:
    """What became of each create sent around a SIGKILL of the broker."""

    statuses: dict[str, str] = field(default_factory=dict)  # volume id -> its last status
    refused: list[str] = field(default_factory=list)  # creates the API did not accept
    settled_before_kill: int = 0  # already `available` or `error` when the broker died
    seconds: float = 0.0  # from the kill until every accepted create settled (or the deadline)
    longest_create: float = 0.0  # the slowest create's answer: one sent while the broker was away

    @property
    def available(self) -> int:
        return sum(status == "available" for status in self.statuses.values())

    def count(self, status: str) -> int:
        return sum(found == status for found in self.statuses.values())

    def summary(self) -> str:
        return (
            f"{self.available} available, {self.count('error')} error, "
            f"{self.count('creating')} still creating, {len(self.refused)} refused by the API "
            f"({self.settled_before_kill} settled before the kill; all settled "
            f"{self.seconds:.1f} s after it; the slowest create answered in "
            f"{self.longest_create:.1f} s)"
        )


def creates_across_a_broker_kill(
    api: CinderApi,
    kill_broker: Callable[[], None],
    creates: int,
    kill_after: int,
    settle_timeout: float,
    senders: int = 2,
) -> BrokerKillTally:
    """Send `creates` volume creates from `senders` threads; call `kill_broker` once
    `kill_after` of them have been accepted (HTTP 202), so the rest are sent while the broker
    is away and the accepted ones are on their way through the scheduler and the backends;
    then wait up to `settle_timeout` seconds for every accepted create to leave `creating`."""
    tally = BrokerKillTally()
    accepted: list[str] = []
    lock = threading.Lock()
    killed = threading.Event()
    killed_at = time.monotonic()
    killed_wall = datetime.now(UTC)  # the clock Cinder's updated_at is written in

    def kill_once() -> None:
        nonlocal killed_at, killed_wall
        with lock:
            if killed.is_set():
                return
            killed_at, killed_wall = time.monotonic(), datetime.now(UTC)
            kill_broker()
            killed.set()

    def send(number: int) -> None:
        sent = time.monotonic()
        try:
            volume_id = api.create_volume(f"in-flight-{number}")
        except (ApiError, OSError) as error:
            with lock:
                tally.refused.append(f"create {number}: {first_and_last_error(str(error))}")
            return
        with lock:
            tally.longest_create = max(tally.longest_create, time.monotonic() - sent)
            accepted.append(volume_id)
            enough = len(accepted) >= kill_after
        if enough:
            kill_once()

    with ThreadPoolExecutor(max_workers=senders) as pool:
        list(pool.map(send, range(creates)))
    kill_once()  # every create was refused before the kill: kill anyway, to report it
    deadline = time.monotonic() + settle_timeout
    pending = set(accepted)
    while pending:
        for volume_id in sorted(pending):
            try:
                volume = api.volume(volume_id)
            except (ApiError, OSError) as error:  # the API restarting: look again
                tally.statuses[volume_id] = f"unreadable: {error}".splitlines()[0]
                continue
            tally.statuses[volume_id] = volume["status"]
            if volume["status"] in SETTLED:
                pending.discard(volume_id)
                tally.seconds = time.monotonic() - killed_at
                if updated_before(volume, killed_wall):
                    tally.settled_before_kill += 1
        if not pending or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    if pending:
        tally.seconds = time.monotonic() - killed_at
    return tally


def first_and_last_error(text: str) -> str:
    """An ApiError's first line and the last error its log tail names: the cause, short."""
    lines = text.splitlines()
    named = [line.strip() for line in lines[1:] if "Error" in line or "Exception" in line]
    return lines[0] + (f" ({named[-1]})" if named else "")


def updated_before(volume: dict[str, Any], moment: datetime) -> bool:
    """Whether the volume's row last changed before `moment` (Cinder writes naive UTC)."""
    updated = datetime.fromisoformat(str(volume.get("updated_at")).rstrip("Z"))
    return updated.replace(tzinfo=UTC) < moment
