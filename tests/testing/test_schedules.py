"""Crash schedules as properties: the strategies keep their bounds, and the documented example
(docs/guides/testing-restart-policies.md) finds and shrinks a real counter-example."""

from __future__ import annotations

import itertools
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supervisor import config
from supervisor.policy.restart import ExitStatus
from supervisor.testing.harness import WriteConfig
from supervisor.testing.schedules import FAILURE, crash_times, run_lengths, simulate
from supervisor.tools.crashschedule import ExitList, RunList, ScheduleError, parse_schedule

# A deterministic search, none of it kept between runs: the test says the same each time.
QUICK = settings(max_examples=200, database=None, derandomize=True, deadline=None)


@QUICK
@given(
    st.integers(1, 3).flatmap(
        lambda k: st.tuples(st.just(k), crash_times(horizon=60, max_crashes=k, per=5))
    )
)
def test_crash_times_never_exceed_their_rate(drawn: tuple[int, ExitList]):
    most, schedule = drawn
    times = [when for when, _ in schedule.exits]
    assert all(0 < when <= 60 for when in times)
    assert times == sorted(set(times))
    for first, last in zip(times, times[most:], strict=False):
        assert last - first >= 5 - 1e-9, times  # so no 5 s window holds more than `most`


@QUICK
@given(run_lengths(most=4, shortest=0.2, longest=2, avoid=[1.0], margin=0.2))
def test_run_lengths_keep_clear_of_what_they_avoid(schedule: RunList):
    assert len(schedule.runs) <= 4
    assert all(0.2 <= length <= 2 and abs(length - 1.0) > 0.2 for length, _ in schedule.runs)


# -- the documented example ----------------------------------------------------------------------

API = """
[services.api]
command = ["sleep", "1000"]
start_seconds = 0
restart = {{ backoff = {{ initial = 0.5, max = 0.5, jitter = 0 }},
             start_limit = {{ burst = {burst}, interval = 30 }} }}
"""
STATED_RATE = crash_times(horizon=120, max_crashes=1, per=10)  # at most one crash per 10 s


def test_a_start_limit_too_low_for_the_stated_rate_is_found_and_shrunk(
    write_config: WriteConfig,
):
    plan = config.load(write_config(API.format(burst=2)))  # 2 restarts in 30 s: too few
    failing: list[ExitList] = []

    @QUICK
    @given(STATED_RATE)
    def api_never_goes_fatal(schedule: ExitList) -> None:
        result = simulate(plan, {"api": schedule}, duration=120)
        if result.states["api"] == "fatal":
            failing.append(schedule)
        assert result.states["api"] != "fatal"

    with pytest.raises(AssertionError):
        api_never_goes_fatal()
    # Hypothesis replays the smallest failing example last: three crashes, as close together
    # as the stated rate allows, as early as possible.
    assert failing[-1] == ExitList(((0.01, FAILURE), (10.01, FAILURE), (20.01, FAILURE)))
    assert len(failing) > 1  # it did shrink from a larger first failure


def test_a_start_limit_that_fits_the_stated_rate_holds(write_config: WriteConfig):
    # 3 in 30 s: a restart exactly 30 s old is out of the window (float error or not).
    plan = config.load(write_config(API.format(burst=3)))

    @QUICK
    @given(STATED_RATE)
    def api_never_goes_fatal(schedule: ExitList) -> None:
        assert simulate(plan, {"api": schedule}, duration=120).states["api"] != "fatal"

    api_never_goes_fatal()


def test_each_service_follows_its_own_schedule(write_config: WriteConfig):
    path = write_config(API.format(burst=2) + API.replace("api", "worker").format(burst=5))
    crashes = ExitList(tuple((t, ExitStatus(code=3)) for t in (1.0, 2.0, 3.0)))
    result = simulate(path, {"api": crashes, "worker": RunList(((0.5, FAILURE),))}, seed=None)
    assert result.states == {"api": "fatal", "worker": "running"}
    assert [e["time"] for e in result.of("worker") if e["to"] == "backoff"] == [0.5]
    assert list(itertools.chain(result.simulated)) == ["api", "worker"]


def test_run_lengths_have_a_form_of_their_own_on_the_command_line():
    assert parse_schedule("runs 0.3:1, 1s:KILL") == RunList(
        ((0.3, FAILURE), (1.0, ExitStatus(signal=9)))
    )
    with pytest.raises(ScheduleError, match="needs a length above 0"):
        parse_schedule("runs 0:1")


def test_the_plugin_works_without_hypothesis_and_the_strategies_say_what_they_need():
    script = (
        "import sys; sys.modules['hypothesis'] = None\n"  # as if it were not installed
        "import supervisor.testing.plugin, supervisor.testing.realrun\n"
        "try:\n    import supervisor.testing.schedules\n"
        "except ImportError as error:\n    print(error)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.startswith("supervisor.testing.schedules needs hypothesis: pip install")
