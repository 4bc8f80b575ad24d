"""`supervisor scale`: a service's count of workers changed at runtime, and how reloads keep it.

What is decided here, apart from the loop (the arbiter applies the result through the same path
a reload takes, so a scaled-up worker starts as one a reload adds, after its dependencies, and a
surplus one stops as one a reload removes):

- Only a service of numbered workers (`NAME#1..NAME#N`: one that sets `workers`, or Cinder's
  backup with `backup_workers`) scales, from 1 to the most the file itself may ask for
  (`limits.MAX_PROCESSES`); a service of one unnumbered process or of backends does not.
- The new workers are built by the loader from the file, with the count overridden, so each is
  exactly what a reload to that count would run (its `{port}`, `{process_number}`, env files).
  Only the scaled service is taken from that load: the rest of the stack stays as it runs, and
  a service whose table was edited since it was loaded is refused (reload first), so that no
  two workers of one service run different settings.
- A scale holds while the file's own `workers` for that service is what it was when the scale
  was made: a reload then keeps the scaled count.  An edit of that value is newer than the
  scale, so the file wins and the scale is forgotten (circus's `incr` and process-compose's
  `scale` are likewise kept until the configuration says otherwise).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from supervisor.config import Plan, ProcessPlan
from supervisor.config.limits import MAX_PROCESSES

MIN_WORKERS = 1
MAX_WORKERS = MAX_PROCESSES  # the most `workers` a file may set


class ScaleRefused(Exception):
    """The scale cannot be made; the message says why."""


@dataclass(frozen=True)
class Scaled:
    """A service run with `workers` processes while the file says `file`."""

    workers: int
    file: int


def current_workers(plan: Plan, service: str) -> int:
    """How many workers the service runs now; refused for one that has no numbered workers."""
    if service not in plan.services:
        known = ", ".join(s for s in plan.services if s in plan.workers) or "none"
        raise ScaleRefused(f"unknown name {service!r}; services with workers: {known}")
    if service not in plan.workers:
        raise ScaleRefused(
            f"{service} has no numbered workers to scale (a service scales when it sets"
            " workers = N, its processes NAME#1..NAME#N)"
        )
    return sum(1 for process in plan.processes if process.service == service)


def check_count(workers: int) -> None:
    if not MIN_WORKERS <= workers <= MAX_WORKERS:
        raise ScaleRefused(
            f"{workers} workers: a service scales from {MIN_WORKERS} to {MAX_WORKERS} workers"
        )


def splice(running: Plan, loaded: Plan, service: str, workers: int) -> Plan:
    """The running plan with `service`'s processes as `loaded` (the file, scaled) has them."""
    old = [p for p in running.processes if p.service == service]
    new = [p for p in loaded.processes if p.service == service]
    if service not in loaded.workers:
        raise ScaleRefused(f"{service} has no numbered workers in the file any more: reload first")
    if len(new) != workers:  # `run --only NAME#2` keeps one worker of the service
        raise ScaleRefused(f"{service}: this supervisor runs only some of its workers (run --only)")
    edited = [a.name for a, b in zip(old, new, strict=False) if a != b]
    if edited:
        raise ScaleRefused(
            f"{service}'s table in the file changed since it was loaded ({', '.join(edited)}"
            " would run differently): reload first, then scale"
        )
    processes: list[ProcessPlan] = []
    for process in running.processes:
        if process.service != service:
            processes.append(process)
        elif process is old[0]:
            processes.extend(new)  # where the service's block was, in start order
    return dataclasses.replace(running, processes=tuple(processes))


def overridden_by_file(scaled: Mapping[str, Scaled], file_workers: Mapping[str, int]) -> list[str]:
    """The services whose scale a reload drops: the file's `workers` changed (or is gone)."""
    return [service for service, s in scaled.items() if file_workers.get(service) != s.file]


def counts(scaled: Mapping[str, Scaled]) -> dict[str, int]:
    return {service: s.workers for service, s in scaled.items()}
