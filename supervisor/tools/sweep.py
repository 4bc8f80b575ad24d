"""What-if sweeps: one simulation per value of a crash period or a restart-policy parameter.

A sweep is `PARAMETER=RANGE` (`supervisor simulate --sweep`):

``crash_every=1s..10s:1s``
    The period of a periodic `--crashes` schedule (`every N [for M] [exit X]`): its N takes
    each value in turn.  Without `--crashes`, the schedule is `every N`.
``backoff.initial``, ``backoff.max``, ``backoff.factor``, ``backoff.jitter``,
``backoff.reset_after``, ``start_limit.burst``, ``start_limit.interval``
    That key of `[services.NAME.restart]`, for the simulated processes only.

A range is ``LOW..HIGH:STEP`` (both ends included; ``:STEP`` may be left out for
``start_limit.burst``, whose step is 1) or a list ``A,B,C`` (simulated in increasing
order).  Durations take the units of `crashschedule.parse_duration`.  Every value is checked
against what `services.toml` allows for the key, so a sweep never simulates a policy `check`
would refuse.

Each value's outcome: the automatic restarts, when the first simulated process went `fatal`
(or never), and the time the simulated processes spent not running, summed over them, from 0
to the end of the simulated duration (a process that has ended for good is down until then).
Every simulation uses the same seed, so the values differ by the parameter alone.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from supervisor.config import Plan, ProcessPlan, limits
from supervisor.policy.restart import ExitStatus
from supervisor.tools.crashschedule import Periodic, Schedule, ScheduleError, parse_duration
from supervisor.tools.simulate import Event, Simulation, SimulationResult

MAX_VALUES = 1000  # a sweep of an hour each takes about a second per hundred values


class SweepError(ValueError):
    pass


@dataclass(frozen=True)
class Parameter:
    name: str
    kind: str  # "seconds", "number" or "integer"
    minimum: float
    maximum: float
    above_minimum: bool = False  # the minimum itself is not allowed

    def allowed(self) -> str:
        low = f"above {self.minimum:g}" if self.above_minimum else f"from {self.minimum:g}"
        what = {"seconds": "a duration", "number": "a number", "integer": "a whole number"}
        return f"{what[self.kind]} {low} to {self.maximum:g}"


PARAMETERS = {
    p.name: p
    for p in (
        Parameter("crash_every", "seconds", 0.0, limits.MAX_SECONDS, above_minimum=True),
        Parameter("backoff.initial", "seconds", 0.0, limits.MAX_SECONDS),
        Parameter("backoff.max", "seconds", 0.0, limits.MAX_SECONDS),
        Parameter("backoff.factor", "number", 1.0, limits.MAX_FACTOR),
        Parameter("backoff.jitter", "number", 0.0, 1.0),
        Parameter("backoff.reset_after", "seconds", 0.0, limits.MAX_SECONDS),
        Parameter("start_limit.burst", "integer", 0, limits.MAX_BURST),
        Parameter("start_limit.interval", "seconds", 0.0, limits.MAX_SECONDS),
    )
}
_RANGE = re.compile(r"^(?P<low>[^.:,][^:,]*?)\.\.(?P<high>[^:,]+?)(?::(?P<step>[^:,]+))?$")


@dataclass(frozen=True)
class Sweep:
    parameter: Parameter
    values: tuple[float, ...]

    def typed(self, value: float) -> float | int:
        """The value as services.toml would hold it: a burst is a whole number."""
        return int(value) if self.parameter.kind == "integer" else value

    def format(self, value: float) -> str:
        return f"{value:g}s" if self.parameter.kind == "seconds" else f"{value:g}"


def parse_sweep(text: str) -> Sweep:
    """`PARAMETER=RANGE`, as this module's docstring says; a `SweepError` names what is wrong."""
    name, equals, values = (part.strip() for part in text.partition("="))
    if not equals or not name or not values:
        raise SweepError(
            f"--sweep {text!r}: expected PARAMETER=RANGE, like crash_every=1s..10s:1s"
            " or start_limit.burst=1,2,5"
        )
    parameter = PARAMETERS.get(name)
    if parameter is None:
        raise SweepError(f"--sweep: no parameter {name!r}; one of {', '.join(PARAMETERS)}")
    try:
        parsed = _values(parameter, values.replace(" ", ""))
    except ScheduleError as error:
        raise SweepError(f"--sweep {name}: {error}") from None
    for value in parsed:
        if not _within(parameter, value):
            raise SweepError(
                f"--sweep {name}: {value:g} is out of range; {name} is {parameter.allowed()}"
            )
    return Sweep(parameter, parsed)


def _values(parameter: Parameter, text: str) -> tuple[float, ...]:
    match = _RANGE.match(text)
    if match is None:
        return tuple(sorted({_number(parameter, item) for item in text.split(",")}))
    low, high = _number(parameter, match["low"]), _number(parameter, match["high"])
    if match["step"] is None and parameter.kind != "integer":
        raise ScheduleError(f"the range {text!r} needs a step, like {text}:1")
    step = _number(parameter, match["step"]) if match["step"] else 1.0
    if step <= 0:
        raise ScheduleError(f"the step of {text!r} must be above 0")
    if high < low:
        raise ScheduleError(f"the range {text!r} runs backwards: give LOW..HIGH")
    count = math.floor((high - low) / step + 1e-9) + 1
    if count > MAX_VALUES:
        raise ScheduleError(f"the range {text!r} has {count} values; at most {MAX_VALUES}")
    # Multiplying rather than adding keeps 0.1 steps from drifting (0.30000000000000004).
    return tuple(round(low + i * step, 9) for i in range(count))


def _number(parameter: Parameter, text: str) -> float:
    if parameter.kind == "seconds":
        return parse_duration(text)
    try:
        value = float(text)
    except ValueError:
        raise ScheduleError(f"{text!r} is not a number") from None
    if parameter.kind == "integer" and not value.is_integer():
        raise ScheduleError(f"{text!r} is not a whole number")
    return value


def _within(parameter: Parameter, value: float) -> bool:
    if not math.isfinite(value) or value > parameter.maximum:
        return False
    return value > parameter.minimum if parameter.above_minimum else value >= parameter.minimum


# -- running it ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    value: float
    schedule: Schedule
    result: SimulationResult
    restarts: int  # automatic restarts (backoff -> starting) of the simulated processes
    fatal_at: float | None  # when the first simulated process went fatal
    down: float  # seconds not running, summed over the simulated processes
    down_fraction: float  # of the simulated processes' time

    @property
    def fatal(self) -> bool:
        return self.fatal_at is not None


@dataclass(frozen=True)
class FatalEdge:
    """Two neighbouring values of which one ends in `fatal` and the other does not."""

    fatal: float
    not_fatal: float


def run_sweep(
    plan: Plan,
    names: list[str],
    sweep: Sweep,
    schedule: Schedule | None,
    *,
    uniform: Callable[[], Callable[[float, float], float]],
    duration: float,
    ready_after: float = 0.0,
) -> list[Outcome]:
    """One simulation per value; `uniform()` gives each its own, identically seeded, draw."""
    if sweep.parameter.name == "crash_every":
        if schedule is not None and not isinstance(schedule, Periodic):
            raise SweepError(
                "--sweep crash_every varies the N of --crashes 'every N [for M] [exit X]';"
                " a list of exit times has no period"
            )
    elif schedule is None:
        raise SweepError(f"--sweep {sweep.parameter.name} needs --crashes: what happens to them")
    outcomes = []
    for value in sweep.values:
        swept_plan, swept_schedule = _apply(plan, names, sweep.parameter, value, schedule)
        result = Simulation(
            swept_plan,
            names,
            swept_schedule,
            uniform=uniform(),
            duration=duration,
            ready_after=ready_after,
        ).run()
        outcomes.append(_outcome(value, swept_schedule, result, duration))
    return outcomes


def _apply(
    plan: Plan, names: list[str], parameter: Parameter, value: float, schedule: Schedule | None
) -> tuple[Plan, Schedule]:
    if parameter.name == "crash_every":
        base = (
            schedule if isinstance(schedule, Periodic) else Periodic(1.0, None, ExitStatus(code=1))
        )
        return plan, dataclasses.replace(base, every=value)
    assert schedule is not None
    table, key = parameter.name.split(".")
    typed = int(value) if parameter.kind == "integer" else value  # as Sweep.typed
    processes = []
    for process in plan.processes:
        if process.name in names:
            process = _with_restart_key(process, table, key, typed)
        processes.append(process)
    return dataclasses.replace(plan, processes=tuple(processes)), schedule


def _with_restart_key(process: ProcessPlan, table: str, key: str, value: float) -> ProcessPlan:
    restart = process.settings.restart
    changed = dataclasses.replace(getattr(restart, table), **{key: value})
    if table == "backoff" and changed.max < changed.initial:
        raise SweepError(
            f"--sweep backoff.{key}={value:g}: {process.name}'s backoff.max ({changed.max:g}s)"
            f" would be below backoff.initial ({changed.initial:g}s), which services.toml refuses"
        )
    settings = dataclasses.replace(
        process.settings, restart=dataclasses.replace(restart, **{table: changed})
    )
    return dataclasses.replace(process, settings=settings)


def _outcome(value: float, schedule: Schedule, result: SimulationResult, horizon: float) -> Outcome:
    restarts = sum(
        1 for name in result.simulated for e in result.of(name) if e["from"] == "backoff"
    )
    fatal_times = [
        e["time"] for name in result.simulated for e in result.of(name) if e["to"] == "fatal"
    ]
    down = sum(horizon - _time_running(result.of(name), horizon) for name in result.simulated)
    return Outcome(
        value=value,
        schedule=schedule,
        result=result,
        restarts=restarts,
        fatal_at=min(fatal_times, default=None),
        down=round(down, 6),
        down_fraction=round(down / (horizon * len(result.simulated)), 6),
    )


def _time_running(events: list[Event], horizon: float) -> float:
    running, since = 0.0, None
    for event in events:
        if event["to"] == "running" and since is None:
            since = event["time"]
        elif event["to"] != "running" and since is not None:
            running += event["time"] - since
            since = None
    if since is not None:
        running += horizon - since
    return running


def fatal_edges(outcomes: list[Outcome]) -> list[FatalEdge]:
    """Where, in the order of the values, the outcome turns from fatal to not or back."""
    ordered = sorted(outcomes, key=lambda outcome: outcome.value)
    return [
        FatalEdge(fatal=a.value, not_fatal=b.value) if a.fatal else FatalEdge(b.value, a.value)
        for a, b in itertools.pairwise(ordered)
        if a.fatal != b.fatal
    ]
