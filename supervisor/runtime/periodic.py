"""Periodic tasks on manager methods: the decorator, and the mixin that runs those due.

Semantics follow oslo's periodic tasks as Cinder uses them: a task is due `spacing` seconds
after its last run (spacing 0 means the 60 s default, a negative spacing disables it),
`run_immediately` makes it due on the first tick, each run is booked on the task's own grid plus
0-5% jitter so that many services do not fire in lockstep, and a failing task is logged without
keeping the others from running.  The service calls `run_periodic_tasks` from its timer, so no
task runs more often than the service's `periodic_interval`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import structlog

from supervisor.runtime.clock import SYSTEM_CLOCK, Clock

DEFAULT_SPACING = 60.0
MAX_JITTER = 0.05  # fraction of the spacing

_MARK = "_periodic_task"

log = structlog.get_logger()

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class PeriodicTask:
    name: str
    spacing: float
    run_immediately: bool


def periodic_task(
    func: F | None = None, *, spacing: float = 0, run_immediately: bool = False
) -> Any:
    """Mark a manager method `method(self, context)` to run every `spacing` seconds.

    Usable bare (`@periodic_task`) or with arguments (`@periodic_task(spacing=30)`).
    """

    def mark(method: F) -> F:
        setattr(method, _MARK, (spacing, run_immediately))
        return method

    return mark if func is None else mark(func)


def _tasks_of(cls: type) -> tuple[PeriodicTask, ...]:
    tasks = []
    for name in dir(cls):
        marked = getattr(getattr(cls, name, None), _MARK, None)
        if marked is None:
            continue
        spacing, run_immediately = marked
        if spacing < 0:
            continue
        tasks.append(PeriodicTask(name, spacing or DEFAULT_SPACING, run_immediately))
    return tuple(tasks)


class PeriodicTasks:
    def __init__(self, clock: Clock = SYSTEM_CLOCK) -> None:
        self._periodic_clock = clock
        self._periodic_tasks = _tasks_of(type(self))
        now = clock.now()
        # None: due on the first tick.
        self._periodic_last_run: dict[str, float | None] = {
            task.name: None if task.run_immediately else now for task in self._periodic_tasks
        }

    def run_periodic_tasks(self, context: object = None, raise_on_error: bool = False) -> float:
        """Run every task that is due; return the seconds until the next one will be."""
        for task in self._periodic_tasks:
            now = self._periodic_clock.now()
            last_run = self._periodic_last_run[task.name]
            if last_run is not None and last_run + task.spacing > now:
                continue
            self._periodic_last_run[task.name] = _booked_start(last_run, task.spacing, now)
            full_name = f"{type(self).__name__}.{task.name}"
            log.debug("running periodic task", task=full_name)
            try:
                getattr(self, task.name)(context)
            except Exception:
                if raise_on_error:
                    raise
                log.exception("periodic task failed", task=full_name)
        return self._seconds_until_next_task()

    def _seconds_until_next_task(self) -> float:
        now = self._periodic_clock.now()
        waits = [DEFAULT_SPACING]
        for task in self._periodic_tasks:
            last_run = self._periodic_last_run[task.name]
            waits.append(0.0 if last_run is None else last_run + task.spacing - now)
        return max(0.0, min(waits))


def _booked_start(last_run: float | None, spacing: float, now: float) -> float:
    """The start this run is booked at: on the task's grid, so timer drift does not accumulate."""
    if last_run is None:
        return now
    behind_grid = (now - last_run) % spacing
    return now - behind_grid + spacing * MAX_JITTER * random.random()
