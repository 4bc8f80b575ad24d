"""Crash schedules as properties: hypothesis strategies that draw schedules within stated bounds,
and the simulator to run them through (fast: thousands of examples a minute).

    from hypothesis import given
    from supervisor.testing.schedules import crash_times, simulate

    @given(crash_times(horizon=120, max_crashes=1, per=10))
    def test_the_api_never_goes_fatal(schedule):
        assert simulate("services.toml", {"api": schedule}).states["api"] != "fatal"

Two kinds of schedule:
  * `crash_times`: exits at absolute times (an `ExitList`), at most `max_crashes` in any window
    of `per` seconds: the bound a property states ("at most one crash per 10 s");
  * `run_lengths`: how long each run lasts and how it ends (a `RunList`): no exit can miss its
    run, so a real process can follow it exactly (`supervisor.testing.realrun`), and the
    simulator and a real stack can be compared on it.

Both shrink towards fewer crashes, packed as densely as the bounds allow, and earlier: a failing
property ends on the smallest schedule that still breaks the policy.  This module needs
hypothesis (the `test` extra); the rest of `supervisor.testing` does not.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from pathlib import Path

try:
    from hypothesis import strategies as st
except ImportError as missing:  # pragma: no cover - the suite always has it
    raise ImportError(
        "supervisor.testing.schedules needs hypothesis: pip install hypothesis"
        " (or the project's 'test' extra)"
    ) from missing

from supervisor import config
from supervisor.policy.restart import ExitStatus
from supervisor.tools.crashschedule import ExitList, RunList, Schedule
from supervisor.tools.simulate import Simulation, SimulationResult, processes_named

FAILURE = ExitStatus(code=1)


def _exits(exits: Sequence[ExitStatus]) -> st.SearchStrategy[ExitStatus]:
    if not exits:
        raise ValueError("exits: give at least one ExitStatus")
    return st.sampled_from(list(exits))  # shrinks towards the first


def crash_times(
    *,
    horizon: float,
    max_crashes: int,
    per: float,
    exits: Sequence[ExitStatus] = (FAILURE,),
    resolution: float = 0.01,
    most: int | None = None,
) -> st.SearchStrategy[ExitList]:
    """Exit times in (0, horizon], no more than `max_crashes` within any `per` seconds.

    Each crash is drawn as a gap after the one before; a crash that would make `max_crashes + 1`
    within `per` seconds moves to just outside the window instead.  Times are multiples of
    `resolution`, so shrinking lands on round numbers.  `most` caps the number of crashes
    (default: as many as the bound allows before the horizon).
    """
    if horizon <= 0 or per <= 0 or max_crashes < 1 or resolution <= 0:
        raise ValueError("crash_times: horizon, per and resolution above 0, max_crashes from 1")
    ticks = round(horizon / resolution)
    window = round(per / resolution)
    allowed = max_crashes * (ticks // window + 1)
    count = allowed if most is None else min(most, allowed)

    def build(draw: st.DrawFn) -> ExitList:
        gaps = draw(st.lists(st.integers(0, ticks), max_size=count))
        times: list[int] = []
        for gap in gaps:
            at = (times[-1] if times else 0) + 1 + gap  # times increase, as an ExitList's must
            if len(times) >= max_crashes:
                at = max(at, times[-max_crashes] + window)
            if at > ticks:
                break
            times.append(at)
        return ExitList(tuple((round(t * resolution, 9), draw(_exits(exits))) for t in times))

    return st.composite(build)()


def run_lengths(
    *,
    most: int,
    shortest: float,
    longest: float,
    exits: Sequence[ExitStatus] = (FAILURE,),
    avoid: Sequence[float] = (),
    margin: float = 0.0,
    resolution: float = 0.01,
) -> st.SearchStrategy[RunList]:
    """Up to `most` runs, each `shortest`..`longest` seconds long, none within `margin` of a
    length in `avoid` (a `reset_after`: a real run a few milliseconds longer or shorter than the
    simulated one would decide differently there)."""
    if not 0 < shortest <= longest or most < 0:
        raise ValueError("run_lengths: 0 < shortest <= longest, most from 0")
    low, high = round(shortest / resolution), round(longest / resolution)

    def clear(ticks: int) -> bool:
        return all(abs(ticks * resolution - length) > margin for length in avoid)

    allowed = [ticks for ticks in range(low, high + 1) if clear(ticks)]
    if not allowed:
        raise ValueError("run_lengths: `avoid` and `margin` leave no length between the bounds")
    # Drawn from the allowed lengths themselves (not filtered), so no draw is ever thrown away.
    run = st.tuples(st.sampled_from(allowed), _exits(exits)).map(
        lambda pair: (round(pair[0] * resolution, 9), pair[1])
    )
    return st.lists(run, max_size=most).map(lambda runs: RunList(tuple(runs)))


def simulate(
    services: str | Path | config.Plan,
    schedules: Mapping[str, Schedule],
    *,
    duration: float = 3600.0,
    seed: int | None = 0,
    ready_after: float = 0.0,
) -> SimulationResult:
    """Each named service or process follows its schedule in the simulator.

    `seed=None` takes no jitter at all (each backoff delay at its centre): what a comparison
    with a real run wants, whose jitter is drawn anew.
    """
    plan = services if isinstance(services, config.Plan) else config.load(Path(services))
    per_process: dict[str, Schedule] = {}
    for name, schedule in schedules.items():
        for process in processes_named(plan, [name]):
            per_process[process] = schedule
    uniform = random.Random(seed).uniform if seed is not None else _centre
    return Simulation(
        plan,
        list(per_process),
        per_process,
        uniform=uniform,
        duration=duration,
        ready_after=ready_after,
    ).run()


def _centre(low: float, high: float) -> float:
    return (low + high) / 2
