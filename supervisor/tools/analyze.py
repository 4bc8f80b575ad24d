"""Why the stack was slow to come up: each process's bring-up, from one run's events.

As `systemd-analyze blame` and `critical-chain` (and process-compose's `analyze`), from the
`state` events alone, every time in seconds since the run's `supervisor start` event:

- waiting: from entering `waiting` until the dependency it waited for last became ready;
- spawn: from then (for a process that waited for nothing: from the supervisor's start, or the
  `reload` or `scale` that added it) to its `starting` event, which the supervisor writes once
  the process exists (fork and exec, and every spawn queued before it); 0 for a process an
  operator started (the request is no event of its own);
- ready: from `starting` to its first `running` (READY=1, the readiness probe passing, or
  start_seconds up); a one-shot job's successful end counts as ready.  Crashes before the
  first ready are inside it (`starts` counts the starts).

Only each process's first bring-up in the run is measured: a later restart is not bring-up.
Which dependency held a process is read from its `waiting` event's cause (`waiting for db,
cache to be ready`, the supervisor's own words): of those services, the one whose last process
became ready last released it.  The critical chain starts at the process that became ready
last and follows, for each, the process that released it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Event = dict[str, Any]

# arbiter.start_unit's cause for a process that waits: "waiting for db, cache to be ready".
_WAITING_FOR = re.compile(r"^waiting for (?P<services>.+) to be ready$")


@dataclass
class BringUp:
    """One process's first bring-up in the run; None where it never got that far."""

    name: str
    service: str
    waiting_since: float | None = None
    waited_for: tuple[str, ...] = ()
    spawned_at: float | None = None  # its first `starting`
    ready_at: float | None = None
    completed: bool = False  # ready by ending in success (a one-shot job)
    starts: int = 0
    state: str = ""  # the last state the run's events give it
    released_by: str | None = None  # the dependency's process that let it start
    # When it could start: the run's start, the reload or scale that added it, its release.
    queued_at: float | None = None

    @property
    def waiting(self) -> float | None:
        if self.waiting_since is None or self.queued_at is None:
            return None
        return self.queued_at - self.waiting_since

    @property
    def spawn(self) -> float | None:
        if self.spawned_at is None or self.queued_at is None:
            return None
        return self.spawned_at - self.queued_at

    @property
    def to_ready(self) -> float | None:
        if self.ready_at is None or self.spawned_at is None:
            return None
        return self.ready_at - self.spawned_at

    @property
    def own(self) -> float | None:
        """The time its own start took, spawn and ready: what `blame` sorts by."""
        if self.ready_at is None or self.queued_at is None:
            return None
        return self.ready_at - self.queued_at


@dataclass(frozen=True)
class Analysis:
    started: datetime | None  # the wall clock of the run's start, when the events have it
    processes: list[BringUp] = field(default_factory=list)  # in the order they first appear
    chain: list[BringUp] = field(default_factory=list)  # the last ready first

    @property
    def blame(self) -> list[BringUp]:
        """Slowest own start first; those that never got ready last, by name."""
        ready = [p for p in self.processes if p.own is not None]
        never = [p for p in self.processes if p.own is None]
        return sorted(ready, key=lambda p: -(p.own or 0.0)) + sorted(never, key=lambda p: p.name)


def service_of(process: str) -> str:
    """`web#2` -> `web`, `cinder-volume@lvm` -> `cinder-volume`: names hold neither otherwise."""
    return re.split(r"[#@]", process, maxsplit=1)[0]


def analyze(events: list[Event]) -> Analysis:
    """The bring-up of one run's events (as `report.timeline.split_runs` splits them)."""
    clock = _Clock(events)
    processes: dict[str, BringUp] = {}
    added_at: dict[str, float] = {}  # by a reload or a scale: when it could start
    for event in events:
        kind = event.get("event")
        if kind in ("reload", "scale") and event.get("action") == "applied":
            for added in event.get("added") or ():
                added_at.setdefault(str(added), clock.seconds(event))
        if kind != "state" or not event.get("unit"):
            continue
        now = clock.seconds(event)
        name = event["unit"]
        if name not in processes:
            booted = event.get("cause") == "supervisor started"
            queued = clock.start if booted else added_at.get(name, now)
            processes[name] = BringUp(name, service_of(name), queued_at=queued)
        unit = processes[name]
        to = event.get("to", "")
        unit.state = to
        if unit.ready_at is not None:
            continue  # brought up: what follows is not bring-up
        if to == "waiting" and unit.spawned_at is None:
            unit.waiting_since = now
            found = _WAITING_FOR.match(event.get("cause", ""))
            unit.waited_for = tuple(found["services"].split(", ")) if found else ()
        elif to == "starting":
            unit.starts += 1
            if unit.spawned_at is None:
                unit.spawned_at = now
        elif to == "running":
            unit.ready_at = now
        elif to == "exited" and event.get("exit_status") == 0 and unit.spawned_at is not None:
            unit.ready_at, unit.completed = now, True
    for unit in processes.values():
        _release(unit, processes)
    return Analysis(clock.started, list(processes.values()), _chain(processes))


def _release(unit: BringUp, processes: dict[str, BringUp]) -> None:
    """For a process that waited, when it could start and whose readiness let it: the
    dependency ready last before it spawned."""
    if unit.waiting_since is None:
        return
    if unit.spawned_at is None:  # still waiting, or blocked, when the events end
        unit.queued_at = None
        return
    candidates = [
        other
        for other in processes.values()
        if other.service in unit.waited_for
        and other.ready_at is not None
        and other.ready_at <= unit.spawned_at
    ]
    if not candidates:  # started by other means (an operator): no dependency to blame
        unit.queued_at = unit.spawned_at
        return
    last = max(candidates, key=lambda other: other.ready_at or 0.0)
    unit.released_by, unit.queued_at = last.name, max(last.ready_at or 0.0, unit.waiting_since)


def _chain(processes: dict[str, BringUp]) -> list[BringUp]:
    ready = [p for p in processes.values() if p.ready_at is not None]
    if not ready:
        return []
    chain = [max(ready, key=lambda p: p.ready_at or 0.0)]
    while (released_by := chain[-1].released_by) is not None and len(chain) <= len(processes):
        chain.append(processes[released_by])
    return chain


class _Clock:
    """Seconds since the run's start: its `supervisor start` event, else its first event.  An
    event has an ISO `timestamp` (the supervisor's) or `time` in seconds (the simulator's)."""

    def __init__(self, events: list[Event]) -> None:
        first = next((e for e in events if e.get("event") == "supervisor"), None)
        first = first or (events[0] if events else {})
        self.started = _timestamp(first)
        self._zero = self.started.timestamp() if self.started else float(first.get("time", 0.0))
        self.start = 0.0

    def seconds(self, event: Event) -> float:
        stamp = _timestamp(event)
        if stamp is not None:
            return stamp.timestamp() - self._zero
        return float(event.get("time", 0.0)) - self._zero


def _timestamp(event: Event) -> datetime | None:
    text = event.get("timestamp")
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
