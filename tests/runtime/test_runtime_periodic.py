"""The fixed-interval timer and periodic tasks, driven by a clock the test moves."""

from __future__ import annotations

import threading
from itertools import pairwise

import pytest
from structlog.testing import capture_logs

from supervisor.runtime import Manager, periodic_task
from supervisor.runtime.periodic import DEFAULT_SPACING, MAX_JITTER
from supervisor.runtime.timer import FixedIntervalTimer
from tests.support.manualclock import ManualClock


def run_timer(
    clock: ManualClock, durations: list[float], interval: float, *, initial_delay: float = 0.0
) -> list[float]:
    """Run a timer synchronously whose calls take `durations`; return when each call started."""
    starts: list[float] = []
    timer: FixedIntervalTimer

    def call() -> None:
        starts.append(clock.now())
        clock.advance(durations[len(starts) - 1])
        if len(starts) == len(durations):
            timer.stop()

    timer = FixedIntervalTimer("test", call, interval, initial_delay=initial_delay, clock=clock)
    timer.run()
    return starts


def test_timer_keeps_a_fixed_start_to_start_interval(clock: ManualClock):
    assert run_timer(clock, [3, 0, 9.5], 10, initial_delay=5) == [5, 15, 25]


def test_a_run_that_outlasts_the_interval_is_followed_at_once_with_a_warning(clock: ManualClock):
    with capture_logs() as logs:
        starts = run_timer(clock, [25, 1, 1], 10)
    assert starts == [0, 25, 35]
    warnings = [entry for entry in logs if entry["log_level"] == "warning"]
    assert warnings == [
        {"event": "run outlasted interval", "timer": "test", "by": "15.00s", "log_level": "warning"}
    ]


def test_an_exception_is_logged_and_the_timer_goes_on(clock: ManualClock):
    calls: list[float] = []
    timer: FixedIntervalTimer

    def call() -> None:
        calls.append(clock.now())
        if len(calls) == 3:
            timer.stop()
        if len(calls) == 1:
            raise OSError("disk gone")

    timer = FixedIntervalTimer("flaky", call, 10, clock=clock)
    with capture_logs() as logs:
        timer.run()
    assert calls == [0, 10, 20]
    assert [entry["event"] for entry in logs] == ["timer run failed"]


def test_stopping_wakes_a_waiting_timer_at_once():
    started = threading.Event()
    timer = FixedIntervalTimer("idle", started.set, 3600)
    timer.start()
    assert started.wait(10)
    timer.stop()
    timer.wait(10)
    assert "idle" not in [thread.name for thread in threading.enumerate()]


def test_the_interval_must_be_positive():
    with pytest.raises(ValueError, match="interval must be positive"):
        FixedIntervalTimer("bad", lambda: None, 0)


class Tasks(Manager):
    def __init__(self, clock: ManualClock) -> None:
        super().__init__("node1", clock=clock)
        self.runs: dict[str, list[float]] = {}

    def _note(self, name: str) -> None:
        self.runs.setdefault(name, []).append(self.clock.now())

    @periodic_task(spacing=10)
    def every_ten(self, context: object) -> None:
        self._note("every_ten")

    @periodic_task(spacing=10, run_immediately=True)
    def at_once_then_every_ten(self, context: object) -> None:
        self._note("at_once_then_every_ten")

    @periodic_task
    def default_spacing(self, context: object) -> None:
        self._note("default_spacing")

    @periodic_task(spacing=-1)
    def disabled(self, context: object) -> None:
        self._note("disabled")


def tick(manager: Manager, clock: ManualClock, until: float, step: float = 0.1) -> None:
    """What the service's timer does: run the due tasks every `step` seconds."""
    for n in range(round(until / step) + 1):
        clock.time = n * step
        manager.run_periodic_tasks()


def spaced_with_jitter(times: list[float], first: float, spacing: float) -> bool:
    """Each run comes `spacing` after the previous one, plus up to MAX_JITTER of it (the
    booking of a run includes its jitter, so the grid drifts later by up to that much) plus the
    tick that notices it is due."""
    slack = spacing * MAX_JITTER + 0.1 + 1e-9
    gaps = [later - earlier for earlier, later in pairwise([first - spacing, *times])]
    return all(spacing - 1e-9 <= gap <= spacing + slack for gap in gaps)


def test_a_task_runs_every_spacing_seconds_with_at_most_five_percent_jitter(clock: ManualClock):
    manager = Tasks(clock)
    tick(manager, clock, until=35)
    runs = manager.runs["every_ten"]
    assert len(runs) == 3 and spaced_with_jitter(runs, first=10, spacing=10)


def test_run_immediately_runs_on_the_first_tick(clock: ManualClock):
    manager = Tasks(clock)
    tick(manager, clock, until=25)
    runs = manager.runs["at_once_then_every_ten"]
    assert runs[0] == 0
    assert len(runs) == 3 and spaced_with_jitter(runs, first=0, spacing=10)


def test_spacing_zero_means_the_default_and_negative_disables(clock: ManualClock):
    manager = Tasks(clock)
    tick(manager, clock, until=59.9)
    assert "default_spacing" not in manager.runs
    tick(manager, clock, until=DEFAULT_SPACING, step=DEFAULT_SPACING)
    assert manager.runs["default_spacing"] == [DEFAULT_SPACING]
    assert "disabled" not in manager.runs


def test_run_periodic_tasks_says_how_long_until_the_next_is_due(clock: ManualClock):
    manager = Tasks(clock)
    assert manager.run_periodic_tasks() == pytest.approx(10, abs=10 * MAX_JITTER)
    clock.time = 4
    assert manager.run_periodic_tasks() == pytest.approx(6, abs=10 * MAX_JITTER)
    assert Manager("node1", clock=clock).run_periodic_tasks() == DEFAULT_SPACING


class Failing(Manager):
    def __init__(self, clock: ManualClock) -> None:
        super().__init__("node1", clock=clock)
        self.healthy_runs = 0

    @periodic_task(spacing=10, run_immediately=True)
    def a_broken_task(self, context: object) -> None:
        raise RuntimeError("broken")

    @periodic_task(spacing=10, run_immediately=True)
    def b_healthy_task(self, context: object) -> None:
        self.healthy_runs += 1


def test_a_failing_task_is_logged_and_the_others_still_run(clock: ManualClock):
    manager = Failing(clock)
    with capture_logs() as logs:
        tick(manager, clock, until=10, step=10)
    assert manager.healthy_runs == 2
    failures = [entry for entry in logs if entry["event"] == "periodic task failed"]
    assert [entry["task"] for entry in failures] == ["Failing.a_broken_task"] * 2
    assert all(entry["exc_info"] for entry in failures)


def test_raise_on_error_lets_the_failure_out(clock: ManualClock):
    manager = Failing(clock)
    with pytest.raises(RuntimeError, match="broken"):
        manager.run_periodic_tasks(raise_on_error=True)


def test_tasks_are_inherited_and_an_override_replaces_its_schedule(clock: ManualClock):
    class Override(Tasks):
        @periodic_task(spacing=-1)
        def every_ten(self, context: object) -> None:
            self._note("overridden")

    manager = Override(clock)
    tick(manager, clock, until=10, step=10)
    assert "every_ten" not in manager.runs and "overridden" not in manager.runs
    assert manager.runs["at_once_then_every_ten"] == [0, 10]
