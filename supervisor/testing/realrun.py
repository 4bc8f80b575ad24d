"""Run-length schedules against a real stack: `supervisor run` on a copy of the services file in
which each scheduled service's command is a stand-in that follows its `RunList`.

The stand-in is a shell script: each run counts itself in a file beside the copy, sleeps its
run's length and exits as the schedule says (`kill -KILL $$` for a signal); runs after the last
`exec sleep` until stopped.  The supervisor, its restart policy, its processes and signals are
the real ones, so what the stack does can be compared with the simulator on the same schedule
(`supervisor.testing.schedules.simulate`, tests/tools/test_agreement.py, `scripts/agree`).

A run is over when every scheduled process has ended for good or has run its last scheduled run,
and `quiet` seconds have passed since; a group stopping by itself is waited for (its exit status
is the run's), else the stack is stopped, and only the `state` events before that stop are kept,
with `time` in seconds since the group's first start.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from supervisor import config
from supervisor.tools.crashschedule import RunList
from supervisor.tools.stackdriver.running import Event, RunningStack
from supervisor.tools.stackdriver.stack import write_test_config

FINAL = ("fatal", "exited")


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
    events: list[Event]  # the `state` events before the stop, `time` since the first start
    states: dict[str, str]  # each scheduled process's state when the stop began
    group_status: int | None  # the supervisor's exit status if the group ended by itself

    def of(self, unit: str) -> list[Event]:
        return [event for event in self.events if event.get("unit") == unit]


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
        events = _relative(stack.select(event="state"), stopped_at)
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
