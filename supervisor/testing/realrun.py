"""Run-length schedules against a real stack: `supervisor run` on a copy of the services file in
which each scheduled service's command is a stand-in that follows its `RunList`.

The stand-in is a shell script: each run counts itself in a file beside the copy, sleeps its
run's length and exits as the schedule says (`kill -KILL $$` for a signal); runs after the last
`exec sleep` until stopped.  The supervisor, its restart policy, its processes and signals are
the real ones, so what the stack does can be compared with the simulator on the same schedule
(`supervisor.testing.schedules.simulate`, tests/tools/test_agreement.py, `scripts/agree`).

A run is over when every scheduled process has ended for good or has run its last scheduled run,
and `quiet` seconds have passed since; a group stopping by itself is waited for (its exit status
is the run's), else the stack is stopped, and only the `state` and `strategy` events before that
stop are kept, with `time` in seconds since the group's first start.

`disagreements` compares such a run with the simulator's on the same schedules: per process,
the same transitions in the same order for the same causes, the same `[groups]` strategy
actions (members and causes), and each real time within stated bounds of the simulated one.
A group's members are best all scheduled (`RunList(())` for one that never exits): each then
runs the stand-in, with its file's start settings, on both sides.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from supervisor import config
from supervisor.tools.crashschedule import RunList
from supervisor.tools.simulate import SimulationResult
from supervisor.tools.stackdriver.running import Event, RunningStack
from supervisor.tools.stackdriver.stack import write_test_config

FINAL = ("fatal", "exited", "stopped")  # stopped: a group's end took it out of its backoff
_TRANSIENT = ("starting", "stopping", "waiting", "backoff")


def crasher_command(schedule: RunList, counter: Path) -> list[str]:
    """The stand-in's argv: a `sh -c` script that follows `schedule`, counting runs in `counter`."""
    cases = []
    for run, (length, exit) in enumerate(schedule.runs):
        end = f"kill -{int(exit.signal)} $$" if exit.signal is not None else f"exit {exit.code}"
        cases.append(f"{run}) sleep {length:g}; {end};;")
    file = shlex.quote(str(counter))
    script = (
        f"n=$(cat {file} 2>/dev/null || echo 0); echo $((n + 1)) > {file}; "
        f"case $n in {' '.join(cases)} *) exec sleep 100000;; esac"
    )
    # services.toml interpolates `$`: `$$` is how a file says `$` (docs/guides/configuration.md).
    return ["sh", "-c", script.replace("$", "$$")]


@dataclass(frozen=True)
class RealRun:
    events: list[Event]  # `state` and `strategy` events before the stop, `time` since the start
    states: dict[str, str]  # each scheduled process's state when the stop began
    group_status: int | None  # the supervisor's exit status if the group ended by itself

    def of(self, unit: str) -> list[Event]:
        return [e for e in self.events if e["event"] == "state" and e.get("unit") == unit]

    @property
    def strategy_events(self) -> list[Event]:
        return [event for event in self.events if event["event"] == "strategy"]


@dataclass(frozen=True)
class Lateness:
    """How much later than the simulated time a real event may come: `at_once` for the
    start-up, `per_start` more for each start (a fork, an exec and its report) so far; `early`
    for clocks read on either side of a write."""

    at_once: float = 0.5
    per_start: float = 0.15
    early: float = 0.02


def disagreements(
    real: RealRun, simulated: SimulationResult, units: Iterable[str], late: Lateness = Lateness()
) -> list[str]:
    """Where the real run and the simulation differ, each said in a line; empty when they
    agree.  The order of transitions of different processes at one moment is not compared
    (the real loop may hear two exits of one instant in either order)."""
    found: list[str] = []
    for unit in units:
        real_steps, sim_steps = _steps(real.of(unit)), _steps(simulated.of(unit))
        if real_steps != sim_steps:
            found.append(f"{unit}: real {real_steps} != simulated {sim_steps}")
    real_actions = [_action(event) for event in real.strategy_events]
    sim_actions = [_action(event) for event in simulated.strategy_events]
    if real_actions != sim_actions:
        found.append(f"strategy: real {real_actions} != simulated {sim_actions}")
    if real.group_status != simulated.group_status:
        found.append(f"group status: real {real.group_status} != {simulated.group_status}")
    if found:
        return found
    starts = sorted(e["time"] for e in simulated.events if e.get("to") == "starting")
    for unit in units:
        for real_event, sim_event in zip(real.of(unit), simulated.of(unit), strict=True):
            before = sum(1 for t in starts if t <= sim_event["time"])
            lateness = real_event["time"] - sim_event["time"]
            if not -late.early <= lateness <= late.at_once + late.per_start * before:
                found.append(f"{unit}: {lateness:.3f}s late: {real_event} vs {sim_event}")
    return found


def _steps(events: list[Event]) -> list[tuple[str, str, str]]:
    return [(event["from"], event["to"], event["cause"]) for event in events]


def _action(event: Event) -> tuple[object, ...]:
    return (event["action"], event["group"], tuple(event["members"]), event["cause"])


def run_for_real(
    services: Path,
    schedules: Mapping[str, RunList],
    workdir: Path,
    *,
    quiet: float = 0.5,
    timeout: float = 60.0,
) -> RealRun:
    """Run `services` (each of `schedules`' services following its schedule) until it is over.

    Each scheduled service must have one process: the stand-in counts the runs of one.
    """
    plan = config.load(services)
    overrides: dict[str, Any] = {}
    for name, schedule in schedules.items():
        processes = [p.name for p in plan.processes if p.service == name]
        if processes != [name]:
            raise ValueError(f"run_for_real: {name!r} must be a service of one process")
        overrides[f"{name}.command"] = crasher_command(schedule, workdir / f"{name}.runs")
    workdir.mkdir(parents=True, exist_ok=True)
    copy = write_test_config(services, workdir / "services.toml", workdir / "state", overrides)
    stack = RunningStack(copy, workdir / "state")
    try:
        stack.wait_until(
            lambda: _over(stack, schedules, quiet), timeout, "the scheduled runs to be over"
        )
        states = {name: _state(stack, name) for name in schedules}
        # The group stopping by itself is left to end by itself, so its own status is seen.
        ended = bool(stack.select(event="group", action="stop")) or stack.process.poll() is not None
        stopped_at = time.time()
        status = stack.wait_exit(timeout) if ended else stack.stop()
        kept = [e for e in stack.select() if e.get("event") in ("state", "strategy")]
        events = _relative(kept, stopped_at)
        return RealRun(events, states, status if ended else None)
    finally:
        stack.close()


def _state(stack: RunningStack, unit: str) -> str:
    changes = stack.select(event="state", unit=unit)
    return str(changes[-1]["to"]) if changes else "stopped"


def _over(stack: RunningStack, schedules: Mapping[str, RunList], quiet: float) -> bool:
    if stack.process.poll() is not None:
        return True  # the group ended by itself
    now = time.time()
    changes = stack.select(event="state")
    if changes and now - _seconds(changes[-1]) < quiet:
        return False  # a sibling restarted by a strategy may still be on its way
    last: dict[str, str] = {str(change["unit"]): str(change["to"]) for change in changes}
    if any(state in _TRANSIENT for state in last.values()):
        return False
    for name, schedule in schedules.items():
        changes = stack.select(event="state", unit=name)
        if changes and changes[-1]["to"] in FINAL:
            if now - _seconds(changes[-1]) < quiet:
                return False  # the group's judgement of it follows at once: let it be seen
            continue
        starts = sum(1 for change in changes if change["to"] == "starting")
        if starts <= len(schedule.runs) or changes[-1]["to"] != "running":
            return False  # a scheduled run is still to come, or this one is not up yet
        if now - _seconds(changes[-1]) < quiet:
            return False
    return True


def _seconds(event: Event) -> float:
    return datetime.fromisoformat(str(event["timestamp"])).timestamp()


def _relative(events: list[Event], stopped_at: float) -> list[Event]:
    if not events:
        return []
    zero = _seconds(events[0])
    kept = []
    for event in events:
        at = _seconds(event)
        if at >= stopped_at:
            break  # the stop's own changes: the schedule says nothing about them
        kept.append({**event, "time": round(at - zero, 6)})
    return kept
