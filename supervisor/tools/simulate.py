"""The policy simulator: what the supervisor would do with a crash schedule, without a process.

It drives the supervisor itself (`daemon.arbiter.Supervisor`: its units, which ask
`policy.decide` with each process's restart policy and start settings from the loaded plan, its
dependencies, its settle loop and the group's judgement in `policy.group`) on a virtual loop and
virtual processes (`tools.virtualhost`), on a clock that jumps from one event to the next, so an
hour of simulated time takes milliseconds.
The events it produces are those of `events.jsonl` (`state` and `group` events with `unit`,
`from`, `to`, `cause`, `exit_status`, `delay`, and the `strategy` events of `[groups]` tables),
without pids, and with `time` in simulated seconds since the group started instead of a
timestamp.

What it assumes, since it runs nothing:
  * every process is started at time 0, the steady ones first; a simulated process whose
    dependency is simulated too waits for it to be ready, as under the supervisor;
  * a process is running as the supervisor's start gate says: at once, or once it has been up
    `start_seconds`; one with `notify` sends READY=1, and a readiness probe passes,
    `ready_after` seconds after it started; a `oneshot` one runs until its exit;
  * an exit and a readiness due at the same moment: the exit wins (the supervisor's loop
    handles exited children before due timers);
  * processes never hang: no watchdog expires;
  * processes not named for simulation run steadily and never exit; when the group stops, every
    process honours its stop signal at once;
  * the other members of a named process's `[groups]` table are simulated too, with their own
    start settings, and never exit by themselves: a strategy may stop and start them.

The group follows docs/guides/lifecycle.md: a critical process that fails for
good stops the group; the group ends by itself once every process is final; its status is that of
the first process that failed for good, else 0.  See `supervisor/tools/crashschedule.py` for
the schedules.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from supervisor.config import Plan, ProcessPlan
from supervisor.daemon.arbiter import Supervisor
from supervisor.policy.names import UnknownName, resolve_names
from supervisor.tools.crashschedule import RunList, Schedule
from supervisor.tools.virtualhost import VirtualHost, VirtualLoop, VirtualProbe, VirtualProcess

Event = dict[str, Any]
_TIMELINE_EVENTS = ("state", "group", "strategy")


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
    # Simulated as members of a named process's `[groups]` table, on no schedule of their own.
    group_members: tuple[str, ...] = ()

    def starts(self, unit: str) -> int:
        return sum(1 for e in self.of(unit) if e["to"] == "starting")

    def of(self, unit: str) -> list[Event]:
        return [e for e in self.events if e["event"] == "state" and e.get("unit") == unit]

    @property
    def strategy_events(self) -> list[Event]:
        """What `[groups]` strategies did: each restart of siblings, each end of a group."""
        return [e for e in self.events if e["event"] == "strategy"]


class _Timeline:
    """The supervisor's event sink: the `state` events and the group's stop and exit, on the
    simulated clock."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.events: list[Event] = []
        self.recording = False

    def emit(self, event: str, **fields: Any) -> None:
        if not self.recording or event not in _TIMELINE_EVENTS:
            return
        if event == "group" and fields.get("action") not in ("stop", "exit"):
            return  # a stop's progress lines: for an operator, not for a timeline
        fields.pop("pid", None)  # a simulated process has none worth showing
        present = {key: value for key, value in fields.items() if value is not None}
        self.events.append({"event": event, "time": round(self._clock(), 6), **present})


class Simulation:
    def __init__(
        self,
        plan: Plan,
        names: list[str],
        schedule: Schedule | Mapping[str, Schedule],
        *,
        uniform: Callable[[float, float], float],
        duration: float,
        ready_after: float = 0.0,
    ) -> None:
        # One schedule for every named process, or each its own.
        self._schedules = (
            dict(schedule) if isinstance(schedule, Mapping) else dict.fromkeys(names, schedule)
        )
        # The members of a named process's `[groups]` table are simulated too, never exiting:
        # a strategy restarts them, so their own start settings and their timeline count.
        self._members = [m for m in group_members(plan, self._schedules) if m not in names]
        for member in self._members:
            self._schedules[member] = RunList(())
        self._scheduled = set(self._schedules)
        self._duration = duration
        self._ready_after = ready_after
        self._loop = VirtualLoop()
        self._timeline = _Timeline(self._loop.clock)
        self._host = VirtualHost(
            self._loop,
            on_start=self._script_run,
            on_probe=self._script_probe,
            on_message=lambda unit, fields: self._units[unit].on_notify(fields),
        )
        simulated = dataclasses.replace(
            plan, processes=tuple(self._simulated(p) for p in plan.processes)
        )
        self._supervisor = Supervisor(simulated, clock=self._loop.clock, uniform=uniform)
        self._supervisor.attach(self._loop, self._timeline, self._host, "")
        self._units = self._supervisor.units

    def _simulated(self, process: ProcessPlan) -> ProcessPlan:
        """The plan a simulated unit runs: no watchdog (nothing hangs); a steady one runs at
        once, since it was running before the simulated time began."""
        settings = dataclasses.replace(process.settings, watchdog=0.0)
        if process.name not in self._scheduled:
            settings = dataclasses.replace(
                settings, notify=False, readiness=None, oneshot=False, start_seconds=0.0
            )
        return dataclasses.replace(process, settings=settings)

    def run(self) -> SimulationResult:
        units = self._units.values()
        supervisor = self._supervisor
        for unit in list(units):
            if unit.name not in self._scheduled:
                supervisor.start_unit(unit, "supervisor started")
        self._timeline.recording = True
        for unit in list(units):
            if unit.name in self._scheduled:
                supervisor.start_unit(unit, "supervisor started")
        outcome = self._loop.run(until=supervisor.has_ended, deadline=self._duration)
        group_status: int | None = None
        would_exit_with, _ = supervisor.outcome()
        first = supervisor.first_failure
        if outcome == "until":
            group_status = supervisor.finish(*supervisor.outcome())
            finished = "the group ended"
        elif outcome == "deadline":
            finished = f"the duration ({self._duration:g}s) was reached"
        elif all(unit.is_final for unit in units if unit.name in self._scheduled):
            finished = "nothing more happens: every simulated process has ended"
        else:
            finished = "nothing more happens: no exit is scheduled any more"
        simulated = tuple(name for name in self._units if name in self._scheduled)
        events = self._timeline.events + self._ignored_exits(simulated)
        return SimulationResult(
            events=sorted(events, key=lambda event: event["time"]),
            end=self._loop.now,
            finished=finished,
            simulated=simulated,
            steady=tuple(name for name in self._units if name not in simulated),
            states={name: str(self._units[name].state) for name in simulated},
            group_status=group_status,
            would_exit_with=would_exit_with,
            first_failure=first.name if first else None,
            group_members=tuple(self._members),
        )

    # -- the virtual processes, scripted ------------------------------------------------------

    def _script_run(self, process: VirtualProcess) -> None:
        if process.unit not in self._scheduled:
            return  # runs steadily
        earlier = len(self._host.runs.get(process.unit, [])) - 1  # this run is listed too
        planned = self._schedules[process.unit].next_exit(process.started_at, earlier)
        if planned is not None:
            process.exit_at(*planned)
        if self._units[process.unit].plan.settings.notify:
            process.send({"READY": "1"}, after=self._ready_after)

    def _script_probe(self, probe: VirtualProbe) -> None:
        probe.succeed(after=self._ready_after)

    def _ignored_exits(self, simulated: tuple[str, ...]) -> list[Event]:
        ignored: list[Event] = []
        for name in simulated:
            hit = {
                run.ended_at
                for run in self._host.runs.get(name, [])
                if run.ended_as_planned and run.ended_at is not None
            }
            for when, exit in self._schedules[name].ignored(hit, self._loop.now):
                cause = f"no process was running to {exit.describe()}"
                ignored.append({"event": "ignored", "time": when, "unit": name, "cause": cause})
        return ignored


def group_members(plan: Plan, names: Iterable[str]) -> list[str]:
    """Every process of the `[groups]` tables that hold one of the named processes."""
    by_name = {process.name: process for process in plan.processes}
    groups = {plan.group_of(by_name[name].service) for name in names if name in by_name}
    services = {service for group in groups if group is not None for service in group.services}
    return [process.name for process in plan.processes if process.service in services]


def processes_named(plan: Plan, names: list[str]) -> list[str]:
    """Each name is a service (all its processes) or one process; unknown names raise."""
    try:
        return [process.name for process in resolve_names(plan.processes, names)]
    except UnknownName as unknown:
        known = ", ".join(dict.fromkeys([*plan.services, *(p.name for p in plan.processes)]))
        raise KeyError(f"no service or process {unknown.name!r}; known: {known}") from None
