"""The policy simulator: what the supervisor would do with a crash schedule, without a process.

It runs the real restart policy (`policy.decide`, with each process's `RestartPolicy` and start
settings from the loaded plan) against a simulated clock that jumps from one event to the next,
so an hour of simulated time takes milliseconds.  The events it produces have the shape of
`events.jsonl` (`state` and `group` events with `unit`, `from`, `to`, `cause`, `exit_status`,
`delay`), with `time` in simulated seconds since the group started instead of a timestamp.

What it assumes, since it runs nothing:
  * every simulated process starts at time 0 (dependencies are not waited for);
  * a process without `notify` is running once it has been up `start_seconds`, as the
    supervisor's timer says; one with `notify` sends READY=1 `ready_after` seconds after it
    started;
  * an exit and a readiness due at the same moment: the exit wins (the supervisor's loop
    handles exited children before due timers);
  * processes not named for simulation run steadily and never exit; when the group stops, every
    process honours its stop signal at once.

The group follows README's "The group and its exit status": a critical process that fails for
good stops the group; the group ends by itself once every process is final; its status is that of
the first process that failed for good, else 0.  See `supervisor/tools/crashschedule.py` for
the schedules.
"""

from __future__ import annotations

import heapq
import itertools
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from supervisor.config import Plan, ProcessPlan
from supervisor.policy.restart import Action, ExitStatus, History, decide, is_success
from supervisor.policy.states import FINAL_STATES
from supervisor.tools.crashschedule import Schedule

Event = dict[str, Any]


class _Step(IntEnum):
    """What a queued moment does; at equal times the lower value goes first."""

    EXIT = 0
    READY = 1
    SPAWN = 2


@dataclass
class _SimulatedUnit:
    plan: ProcessPlan
    scheduled: bool  # False: a process of the group that runs steadily
    state: str = "stopped"
    history: History = field(default_factory=History)
    started_at: float = 0.0
    generation: int = 0  # bumped on every spawn and stop, so stale queued steps are dropped
    failure_status: int | None = None
    consumed: set[float] = field(default_factory=set)  # exit times a run of this unit took


@dataclass(frozen=True)
class SimulationResult:
    events: list[Event]
    end: float  # simulated time at which the simulation stopped
    finished: str  # why it stopped
    simulated: tuple[str, ...]
    steady: tuple[str, ...]  # the rest of the group, assumed to keep running
    states: dict[str, str]  # the final state of every simulated process
    group_status: int | None  # the group's exit status, if it ended
    would_exit_with: int  # the status the group would end with if it ended now
    first_failure: str | None

    def starts(self, unit: str) -> int:
        return sum(1 for e in self.of(unit) if e["to"] == "starting")

    def of(self, unit: str) -> list[Event]:
        return [e for e in self.events if e["event"] == "state" and e.get("unit") == unit]


class Simulation:
    def __init__(
        self,
        plan: Plan,
        names: list[str],
        schedule: Schedule,
        *,
        uniform: Callable[[float, float], float],
        duration: float,
        ready_after: float = 0.0,
    ) -> None:
        self._plan = plan
        self._schedule = schedule
        self._uniform = uniform
        self._duration = duration
        self._ready_after = ready_after
        self._units = {p.name: _SimulatedUnit(p, p.name in names) for p in plan.processes}
        self._queue: list[tuple[float, _Step, int, str, int]] = []
        self._order = itertools.count()
        self._events: list[Event] = []
        self._now = 0.0
        self._stopping = False
        self._first_failure: _SimulatedUnit | None = None
        self._group_status: int | None = None

    def run(self) -> SimulationResult:
        for unit in self._units.values():
            if unit.scheduled:
                self._spawn(unit, "supervisor started")
            else:
                unit.state = "running"
        out_of_time = False
        while self._queue and self._group_status is None:
            when, step, _, name, generation = heapq.heappop(self._queue)
            unit = self._units[name]
            if generation != unit.generation:
                continue  # a step of a run that is already over
            if when > self._duration:
                out_of_time = True
                self._now = self._duration
                break
            self._now = when
            self._do(unit, step)
            self._judge_end()
        if self._group_status is not None:
            finished = "the group ended"
        elif out_of_time:
            finished = f"the duration ({self._duration:g}s) was reached"
        elif all(u.state in FINAL_STATES for u in self._units.values() if u.scheduled):
            finished = "nothing more happens: every simulated process has ended"
        else:
            finished = "nothing more happens: no exit is scheduled any more"
        self._note_ignored_exits()
        simulated = tuple(name for name, unit in self._units.items() if unit.scheduled)
        first = self._first_failure
        return SimulationResult(
            events=sorted(self._events, key=lambda event: event["time"]),
            end=self._now,
            finished=finished,
            simulated=simulated,
            steady=tuple(name for name in self._units if name not in simulated),
            states={name: self._units[name].state for name in simulated},
            group_status=self._group_status,
            would_exit_with=first.failure_status or 0 if first else 0,
            first_failure=first.plan.name if first else None,
        )

    # -- one process ---------------------------------------------------------------------------

    def _at(self, when: float, unit: _SimulatedUnit, step: _Step) -> None:
        entry = (when, step, next(self._order), unit.plan.name, unit.generation)
        heapq.heappush(self._queue, entry)

    def _transition(self, unit: _SimulatedUnit, state: str, cause: str, **details: Any) -> None:
        previous, unit.state = unit.state, state
        event = {"event": "state", "time": round(self._now, 6), "unit": unit.plan.name}
        event |= {"from": previous, "to": state, "cause": cause, **details}
        self._events.append(event)
        if state in FINAL_STATES and unit.failure_status is not None:
            self._first_failure = self._first_failure or unit
            if unit.plan.settings.critical and not self._stopping:
                self._begin_stop(f"critical unit {unit.plan.name} failed for good")

    def _spawn(self, unit: _SimulatedUnit, cause: str) -> None:
        unit.generation += 1
        unit.started_at = self._now
        self._transition(unit, "starting", cause)
        planned = self._schedule.next_exit(self._now)
        if planned is not None:
            self._at(planned[0], unit, _Step.EXIT)
        settings = unit.plan.settings
        if settings.notify:
            self._at(self._now + self._ready_after, unit, _Step.READY)
        elif settings.start_seconds:
            self._at(self._now + settings.start_seconds, unit, _Step.READY)
        else:
            self._transition(unit, "running", "started")

    def _do(self, unit: _SimulatedUnit, step: _Step) -> None:
        if step is _Step.READY and unit.state == "starting":
            settings = unit.plan.settings
            cause = "READY=1" if settings.notify else f"up for {settings.start_seconds:g}s"
            self._transition(unit, "running", cause)
        elif step is _Step.SPAWN and unit.state == "backoff":
            self._spawn(unit, "backoff elapsed")
        elif step is _Step.EXIT and unit.state in ("starting", "running"):
            planned = self._schedule.next_exit(unit.started_at)
            assert planned is not None and planned[0] == self._now
            unit.consumed.add(self._now)
            self._crash(unit, planned[1])

    def _crash(self, unit: _SimulatedUnit, exit: ExitStatus) -> None:
        unit.generation += 1  # the run is over: its readiness will never come
        policy = unit.plan.settings.restart
        decision = decide(
            policy,
            unit.history,
            exit,
            ran_for=self._now - unit.started_at,
            now=self._now,
            uniform=self._uniform,
        )
        unit.history = decision.history
        if decision.action is Action.RESTART:
            delay = round(decision.delay, 6)
            self._transition(unit, "backoff", decision.reason, exit_status=exit.status, delay=delay)
            if decision.delay:
                self._at(self._now + decision.delay, unit, _Step.SPAWN)
            else:
                self._spawn(unit, "restarting at once")
            return
        if decision.action is Action.FATAL:
            unit.failure_status = exit.status or 1
        elif not is_success(policy, exit):
            unit.failure_status = exit.status
        final = "fatal" if decision.action is Action.FATAL else "exited"
        self._transition(unit, final, decision.reason, exit_status=exit.status)

    # -- the group -----------------------------------------------------------------------------

    def _begin_stop(self, cause: str) -> None:
        """Stop every process in reverse start order; each honours its stop signal at once."""
        self._stopping = True
        self._events.append({"event": "group", "time": round(self._now, 6), "action": "stop"})
        self._events[-1]["cause"] = cause
        for service in reversed(self._plan.services):
            for unit in self._units.values():
                if unit.plan.service != service or unit.state in FINAL_STATES:
                    continue
                unit.generation += 1
                if unit.state == "backoff":
                    self._transition(unit, "stopped", cause)
                    continue
                stop_signal = signal.Signals(unit.plan.settings.stop_signal).name
                self._transition(unit, "stopping", cause)
                self._transition(unit, "exited", f"stopped cleanly: killed by {stop_signal}")

    def _judge_end(self) -> None:
        if not all(unit.state in FINAL_STATES for unit in self._units.values()):
            return
        first = self._first_failure
        self._group_status = first.failure_status or 0 if first else 0
        cause = (
            f"{first.plan.name} failed: {self._last_cause(first)}" if first else "every unit ended"
        )
        self._events.append(
            {
                "event": "group",
                "time": round(self._now, 6),
                "action": "exit",
                "status": self._group_status,
                "cause": cause,
            }
        )

    def _last_cause(self, unit: _SimulatedUnit) -> str:
        mine = [e for e in self._events if e.get("unit") == unit.plan.name]
        return str(mine[-1]["cause"]) if mine else ""

    def _note_ignored_exits(self) -> None:
        for unit in self._units.values():
            if not unit.scheduled:
                continue
            for when, exit in self._schedule.ignored(unit.consumed, self._now):
                self._events.append(
                    {
                        "event": "ignored",
                        "time": when,
                        "unit": unit.plan.name,
                        "cause": f"no process was running to {exit.describe()}",
                    }
                )


def processes_named(plan: Plan, names: list[str]) -> list[str]:
    """Each name is a service (all its processes) or one process; unknown names raise."""
    chosen: list[str] = []
    for name in names:
        matched = [p.name for p in plan.processes if name in (p.name, p.service)]
        if not matched:
            known = ", ".join(dict.fromkeys([*plan.services, *(p.name for p in plan.processes)]))
            raise KeyError(f"no service or process {name!r}; known: {known}")
        chosen += [m for m in matched if m not in chosen]
    return chosen
