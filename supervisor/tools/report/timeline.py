"""From `events.jsonl` to a timeline: per process, its state spans and its markers over time.

Times are seconds since the run's first event.  An event carries either an ISO `timestamp` (the
supervisor's log) or `time` in seconds (the policy simulator's events), so both can be drawn.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from supervisor.policy.states import FINAL_STATES

Event = dict[str, Any]

_TICK_STEPS = sorted(
    [m * 10.0**k for k in range(-3, 2) for m in (1, 2, 5)]
    + [15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200]
)


@dataclass(frozen=True)
class Span:
    state: str
    start: float
    end: float
    cause: str
    open: bool = False  # the log ends while the process is still in this state


@dataclass(frozen=True)
class Marker:
    """Something that happened to one process at one moment."""

    kind: str  # restart, fatal, exit (ended by itself), kill, fault, operator
    time: float
    unit: str
    cause: str
    exit_status: int | None = None
    delay: float | None = None
    action: str | None = None  # an operator's: start, stop, restart or signal

    def describe(self) -> str:
        if self.kind == "operator":
            return f"operator {self.action}"
        return {"exit": "ended by itself", "fault": "fault injected"}.get(self.kind, self.kind)


@dataclass(frozen=True)
class GroupMark:
    """Something that concerns the whole group: a signal, a reload, its stop, its end."""

    kind: str  # signal, reload, stop, exit
    time: float
    cause: str
    status: int | None = None

    def describe(self) -> str:
        return f"exit with status {self.status}" if self.kind == "exit" else self.kind


@dataclass(frozen=True)
class StrategyMark:
    """One action of a `[groups]` strategy: the crashed member's siblings restarted with it
    ("restart"), or the group ended ("end"); one mark across every member it concerns."""

    action: str  # restart, end
    time: float
    group: str
    strategy: str
    members: tuple[str, ...]
    cause: str
    result: str | None = None  # an end's: success or failure

    def describe(self) -> str:
        if self.action == "end":
            return f"group {self.group} ended ({self.result})"
        return f"group {self.group} restart ({self.strategy}): {', '.join(self.members)}"


@dataclass
class Row:
    unit: str
    spans: list[Span] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)

    @property
    def last_state(self) -> str | None:
        return self.spans[-1].state if self.spans else None


@dataclass(frozen=True)
class Timeline:
    source: str
    started: datetime | None  # the wall clock at time 0, when the log has timestamps
    end: float
    rows: list[Row]
    group: list[GroupMark]
    run: int  # which run of the log this is (1-based)
    runs: int  # how many runs the log holds (the file is appended to by every run)
    strategies: list[StrategyMark] = field(default_factory=list)  # `[groups]` actions

    @property
    def exit(self) -> GroupMark | None:
        return next((mark for mark in self.group if mark.kind == "exit"), None)

    @property
    def markers(self) -> list[Marker]:
        return sorted((m for row in self.rows for m in row.markers), key=lambda m: m.time)


def read_events(path: Path) -> list[Event]:
    """Every complete line; a line still being written by a live supervisor is left out."""
    events = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return events


def split_runs(events: list[Event]) -> list[list[Event]]:
    """One list per `supervisor run`: each begins with its `supervisor` start event."""
    runs: list[list[Event]] = []
    for event in events:
        if (event.get("event") == "supervisor" and event.get("action") == "start") or not runs:
            runs.append([])
        runs[-1].append(event)
    return runs


def build_timeline(events: list[Event], source: str, run: int = 1, runs: int = 1) -> Timeline:
    started = _timestamp(events[0]) if events else None
    clock = _Clock(started)
    rows: dict[str, Row] = {}
    open_spans: dict[str, tuple[str, float, str]] = {}
    group: list[GroupMark] = []
    strategies: list[StrategyMark] = []
    operator = _OperatorActions()
    for event in events:
        now = clock.seconds(event)
        kind = event.get("event")
        unit = event.get("unit")
        if kind == "state" and unit:
            row = rows.setdefault(unit, Row(unit))
            if unit in open_spans:
                state, since, cause = open_spans[unit]
                row.spans.append(Span(state, since, now, cause))
            open_spans[unit] = (event["to"], now, event.get("cause", ""))
            for marker in (operator.marker(event, now), _state_marker(event, now)):
                if marker is not None:
                    row.markers.append(marker)
        elif kind in ("kill", "fault", "signal") and unit:  # `signal` with a unit: an operator's
            rows.setdefault(unit, Row(unit)).markers.append(_process_mark(kind, event, now))
        elif kind in ("signal", "reload", "group"):
            group.append(_group_mark(event, now))
        elif kind == "strategy":
            strategies.append(_strategy_mark(event, now))
    end = max((clock.seconds(event) for event in events), default=0.0)
    for unit, (state, since, cause) in open_spans.items():
        rows[unit].spans.append(Span(state, since, end, cause, open=state not in FINAL_STATES))
    return Timeline(source, started, end, list(rows.values()), group, run, runs, strategies)


def _process_mark(kind: str, event: dict, now: float) -> Marker:
    """What was done to one process: a SIGKILL, an injected fault, `supervisor signal`."""
    unit, cause = event["unit"], event.get("cause", "")
    if kind == "signal":
        return Marker(
            "operator",
            now,
            unit,
            f"SIG{str(event.get('signal', '?')).removeprefix('SIG')} {cause}",
            action="signal",
        )
    if kind == "fault" and "kind" in event:
        cause = f"{event['kind']}: {cause}"
    return Marker(kind, now, unit, cause)


def load_timeline(path: Path, run: int | None = None) -> Timeline:
    """The timeline of one run of the log: by default the last one."""
    runs = split_runs(read_events(path))
    if not runs:
        return build_timeline([], str(path))
    index = len(runs) if run is None else run
    if not 1 <= index <= len(runs):
        raise IndexError(f"{path} holds {len(runs)} runs; there is no run {run}")
    return build_timeline(runs[index - 1], str(path), index, len(runs))


def tick_step(end: float, ticks: int) -> float:
    """A round step (1, 2, 5 times a power of ten; whole minutes later) giving at most `ticks`."""
    wanted = end / max(ticks, 1)
    return next((step for step in _TICK_STEPS if step >= wanted), _TICK_STEPS[-1])


def format_offset(seconds: float) -> str:
    """`12.5s`, or `2m05s` from a minute on: short enough for an axis label."""
    if seconds < 60:
        return f"{seconds:.3f}".rstrip("0").rstrip(".") + "s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest:02d}s"


class _Clock:
    """Seconds since the run started; an event without a time is taken as the one before."""

    def __init__(self, started: datetime | None) -> None:
        self._started = started
        self._last = 0.0

    def seconds(self, event: Event) -> float:
        stamp = _timestamp(event)
        if "time" in event:
            self._last = float(event["time"])
        elif stamp is not None and self._started is not None:
            self._last = max(0.0, (stamp - self._started).total_seconds())
        return self._last


def _timestamp(event: Event) -> datetime | None:
    text = event.get("timestamp")
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _state_marker(event: Event, now: float) -> Marker | None:
    to, previous = event["to"], event.get("from")
    kind = {"backoff": "restart", "fatal": "fatal"}.get(to)
    if to == "exited" and previous in ("starting", "running"):
        kind = "exit"  # it ended by itself; a stop on request shows as its stopping span
    if kind is None:
        return None
    return Marker(
        kind,
        now,
        event["unit"],
        event.get("cause", ""),
        exit_status=event.get("exit_status"),
        delay=event.get("delay"),
    )


# The causes the control socket's handler gives the state changes it makes, and the action each.
_OPERATOR_CAUSES = {
    "started by operator": "start",
    "stopped by operator": "stop",
    "restarted by operator": "restart",
}


class _OperatorActions:
    """Which state changes an operator's `start`, `stop` or `restart` made: one marker each.

    The control socket's handler gives them its own causes.  A restart of a live process shows
    twice, to `stopping` and, once it has exited, to `starting`: the second is the same action.
    """

    def __init__(self) -> None:
        self._restarting: set[str] = set()  # stopped by a restart, not started again yet

    def marker(self, event: Event, now: float) -> Marker | None:
        unit, to = event["unit"], event["to"]
        action = _OPERATOR_CAUSES.get(event.get("cause", ""))
        if action == "restart" and to == "starting" and unit in self._restarting:
            self._restarting.discard(unit)
            return None
        if action is None:
            return None
        if action == "restart" and to != "starting":
            self._restarting.add(unit)
        return Marker("operator", now, unit, f"{event.get('from')} → {to}", action=action)


def _group_mark(event: Event, now: float) -> GroupMark:
    kind = event["event"]
    if kind == "signal":
        return GroupMark("signal", now, f"{event.get('signal', '?')} received")
    if kind == "reload":
        if event.get("action") == "rejected":
            return GroupMark("reload", now, "rejected: " + str(event.get("error", "")))
        changes = [
            f"{what}: {', '.join(event[what])}"
            for what in ("added", "removed", "changed")
            if event.get(what)
        ]
        return GroupMark("reload", now, "; ".join(changes) or "nothing changed")
    action = event.get("action", "")
    return GroupMark(action, now, event.get("cause", ""), event.get("status"))


def _strategy_mark(event: Event, now: float) -> StrategyMark:
    return StrategyMark(
        str(event.get("action", "")),
        now,
        str(event.get("group", "")),
        str(event.get("strategy", "")),
        tuple(str(member) for member in event.get("members", ())),
        str(event.get("cause", "")),
        event.get("result"),
    )
