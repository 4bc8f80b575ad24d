"""The unit's state machine without a process: starts, exits, restarts, the start limit, stops.

Each test drives the real `Unit` on the virtual loop and host of `supervisor.tools.virtualhost`
(see conftest.py): processes exit when told, time passes when the test says, nothing sleeps.
"""

from __future__ import annotations

import signal
from typing import TYPE_CHECKING

import pytest

from supervisor.policy.restart import Backoff, StartLimit
from supervisor.policy.states import State

if TYPE_CHECKING:
    from tests.daemon.conftest import UnitBench

# -- starting ------------------------------------------------------------------------------------


def test_a_plain_command_is_running_as_soon_as_it_started(bench: UnitBench):
    unit = bench.unit()
    assert (unit.state, unit.cause) == (State.STOPPED, "not started yet")
    unit.start("supervisor started")
    assert bench.states() == [("stopped", "starting"), ("starting", "running")]
    assert bench.last()["cause"] == "started"
    assert unit.ready and unit.has_run
    assert unit.pid == bench.process().pid
    assert bench.last()["pid"] == unit.pid


def test_start_seconds_keep_it_starting_until_they_have_passed(bench: UnitBench):
    unit = bench.unit(start_seconds=2.0)
    unit.start("supervisor started")
    bench.advance(1.999)
    assert unit.state is State.STARTING and not unit.ready
    bench.advance(0.001)
    assert (unit.state, unit.cause) == (State.RUNNING, "up for 2s")


def test_an_exit_before_start_seconds_is_a_crash_and_the_timer_is_dropped(bench: UnitBench):
    unit = bench.unit(start_seconds=2.0)
    unit.start("supervisor started")
    bench.advance(1.0)
    bench.process().exit(1)
    bench.settle()
    assert bench.states()[-1] == ("starting", "backoff")
    bench.advance(1.5)  # the old run's start_seconds pass while the new one is starting
    assert (unit.state, unit.cause) == (State.STARTING, "backoff elapsed")
    bench.advance(1.5)
    assert (unit.state, unit.cause) == (State.RUNNING, "up for 2s")


@pytest.mark.parametrize(
    ("error", "status", "cause"),
    [
        (FileNotFoundError(2, "No such file or directory", "svc"), 127, "cannot execute svc"),
        (PermissionError(13, "Permission denied", "svc"), 126, "cannot execute svc"),
        (FileNotFoundError(2, "No such file or directory", "/gone"), 127, "cannot enter /gone"),
    ],
)
def test_a_start_that_cannot_exec_is_fatal_with_a_shells_status(
    bench: UnitBench, error: OSError, status: int, cause: str
):
    unit = bench.unit(directory="/gone")
    bench.host.refusals["svc"] = error
    unit.start("supervisor started")
    assert bench.states() == [("stopped", "fatal")]
    assert unit.cause == f"{cause}: {error.strerror}"
    assert unit.failure_status == status
    assert bench.host.ended == ["svc"]


# -- exits and the restart policy ----------------------------------------------------------------


def test_a_failure_backs_off_then_starts_again(bench: UnitBench):
    unit = bench.unit()
    unit.start("supervisor started")
    bench.advance(5.0)
    bench.process().exit(3)
    bench.settle()
    backoff = bench.last()
    assert (backoff["from"], backoff["to"]) == ("running", "backoff")
    assert (backoff["exit_status"], backoff["delay"]) == (3, 1.0)
    assert backoff["cause"] == "exit status 3; restart 1 in a row, in 1.000s"
    assert unit.restarts == 1 and not unit.ready
    bench.advance(0.999)
    assert unit.state is State.BACKOFF and bench.runs() == 1
    bench.advance(0.001)
    assert (unit.state, bench.runs()) == (State.RUNNING, 2)
    assert bench.states()[-2:] == [("backoff", "starting"), ("starting", "running")]


def test_backoff_grows_and_a_long_run_starts_it_afresh(bench: UnitBench):
    unit = bench.unit()
    unit.start("supervisor started")
    delays = []
    for ran_for in (1.0, 1.0, 1.0, 11.0):
        bench.advance(ran_for)
        bench.process().exit(1)
        bench.settle()
        delays.append(bench.last()["delay"])
        bench.advance(bench.last()["delay"])
    assert delays == [1.0, 2.0, 4.0, 1.0]
    assert unit.state is State.RUNNING


def test_a_zero_delay_restarts_at_once(bench: UnitBench):
    unit = bench.unit(backoff=Backoff(initial=0.0, max=0.0, jitter=0.0))
    unit.start("supervisor started")
    bench.process().exit(1)
    bench.settle()
    assert bench.states()[-3:] == [
        ("running", "backoff"),
        ("backoff", "starting"),
        ("starting", "running"),
    ]
    assert [e["cause"] for e in bench.events if e["event"] == "state"][-2] == "restarting at once"


@pytest.mark.parametrize(
    ("policy", "exit", "state", "failure_status", "completed"),
    [
        ("on-failure", 0, State.EXITED, None, True),
        ("never", 0, State.EXITED, None, True),
        ("never", 2, State.EXITED, 2, False),
        ("always", 0, State.BACKOFF, None, False),
        ("on-failure", -signal.SIGKILL, State.BACKOFF, None, False),
    ],
)
def test_an_exit_ends_or_restarts_the_unit_as_its_policy_says(
    bench: UnitBench,
    policy: str,
    exit: int,
    state: State,
    failure_status: int | None,
    completed: bool,
):
    unit = bench.unit(policy=policy)
    unit.start("supervisor started")
    if exit < 0:
        bench.process().signal(-exit)
    else:
        bench.process().exit(exit)
    bench.settle()
    assert unit.state is state
    assert (unit.failure_status, unit.completed) == (failure_status, completed)
    assert unit.last_exit is not None and unit.last_exit.status == (exit if exit >= 0 else 137)


def test_an_exit_no_restart_can_heal_is_fatal_at_once(bench: UnitBench):
    unit = bench.unit(prevent_exit_codes=frozenset({78}))
    unit.start("supervisor started")
    bench.process().exit(78)
    bench.settle()
    assert bench.states()[-1] == ("running", "fatal")
    assert unit.cause == "exit status 78: a restart cannot heal this"
    assert unit.failure_status == 78


def test_the_start_limit_makes_a_crash_loop_fatal(bench: UnitBench):
    unit = bench.unit(start_limit=StartLimit(burst=2, interval=60.0))
    unit.start("supervisor started")
    for _ in range(3):
        bench.process().exit(4)
        bench.settle()
        bench.advance(10.0)
    assert unit.state is State.FATAL
    assert unit.cause == "exit status 4; start limit hit: 2 restarts within 60s"
    assert (unit.failure_status, unit.restarts, bench.runs()) == (4, 2, 3)


def test_giving_up_after_clean_exits_is_still_a_failure(bench: UnitBench):
    unit = bench.unit(policy="always", start_limit=StartLimit(burst=0, interval=60.0))
    unit.start("supervisor started")
    bench.process().exit(0)
    bench.settle()
    assert (unit.state, unit.failure_status) == (State.FATAL, 1)


def test_an_operator_start_after_fatal_gets_a_fresh_history(bench: UnitBench):
    unit = bench.unit(start_limit=StartLimit(burst=0, interval=60.0))
    unit.start("supervisor started")
    bench.process().exit(1)
    bench.settle()
    assert unit.state is State.FATAL
    unit.start("started by operator")
    assert (unit.state, unit.failure_status) == (State.RUNNING, None)
    bench.process().exit(1)
    bench.settle()
    assert unit.state is State.FATAL  # burst 0: the fresh history allows no restart either


# -- stopping ------------------------------------------------------------------------------------


def test_a_stop_sends_the_stop_signal_and_ends_cleanly(bench: UnitBench):
    unit = bench.unit(stop_signal=signal.SIGINT)
    unit.start("supervisor started")
    unit.stop("shutdown requested")
    assert unit.state is State.STOPPING
    assert bench.process().signals == [signal.SIGINT]
    bench.settle()
    assert bench.states()[-1] == ("stopping", "exited")
    assert unit.cause == "stopped cleanly: killed by SIGINT"
    assert unit.failure_status is None


def test_an_operators_stop_holds_the_unit_stopped(bench: UnitBench):
    unit = bench.unit()
    unit.start("supervisor started")
    unit.stop("stopped by operator", hold=True)
    bench.settle()
    assert (unit.state, unit.failure_status) == (State.STOPPED, None)


def test_exit_143_on_sigterm_is_a_clean_stop(bench: UnitBench):
    unit = bench.unit()
    unit.start("supervisor started")
    bench.process().ignored.add(signal.SIGTERM)
    unit.stop("shutdown requested")
    bench.process().exit(143)
    bench.settle()
    assert (unit.cause, unit.failure_status) == ("stopped cleanly: exit status 143", None)


def test_a_stop_that_is_ignored_escalates_to_sigkill_after_stop_timeout(bench: UnitBench):
    unit = bench.unit(stop_timeout=3.0)
    unit.start("supervisor started")
    bench.process().ignored.add(signal.SIGTERM)
    unit.stop("shutdown requested")
    bench.advance(2.999)
    assert unit.state is State.STOPPING and bench.process().alive
    bench.advance(0.001)
    kill = bench.last("kill")
    assert kill["cause"] == "still running 3s after the stop signal"
    assert bench.process().signals == [signal.SIGTERM, signal.SIGKILL]
    assert unit.state is State.EXITED
    assert unit.cause == "stopped after SIGKILL: killed by SIGKILL"
    assert unit.failure_status == 137  # a stop that needed SIGKILL was not clean


def test_a_stop_in_backoff_or_waiting_cancels_the_wait(bench: UnitBench):
    unit = bench.unit()
    unit.start("supervisor started")
    bench.process().exit(1)
    bench.settle()
    unit.stop("shutdown requested")
    assert bench.states()[-1] == ("backoff", "stopped")
    bench.advance(60.0)
    assert bench.runs() == 1  # the backoff timer was cancelled
    waiting = bench.unit("other")
    waiting.wait_for_dependencies("waiting for svc to be ready")
    waiting.stop("shutdown requested")
    assert bench.states("other") == [("stopped", "waiting"), ("waiting", "stopped")]


def test_kill_sigkills_at_once(bench: UnitBench):
    unit = bench.unit()
    unit.start("supervisor started")
    unit.kill("second SIGTERM: killing everything at once")
    assert unit.state is State.STOPPING
    assert bench.process().signals == [signal.SIGKILL]
    bench.settle()
    assert (unit.state, unit.failure_status) == (State.EXITED, 137)


def test_a_crash_while_the_group_shuts_down_is_not_restarted(bench: UnitBench):
    unit = bench.unit()
    unit.start("supervisor started")
    bench.context.shutting_down = True
    bench.process().exit(1)
    bench.settle()
    assert (unit.state, unit.cause) == (State.EXITED, "stopped uncleanly: exit status 1")
    assert unit.failure_status == 1


def test_restart_stops_then_starts_with_a_fresh_history(bench: UnitBench):
    unit = bench.unit()
    unit.start("supervisor started")
    bench.process().exit(1)
    bench.settle()
    bench.advance(1.0)
    unit.restart("restarted by operator")
    assert unit.state is State.STOPPING
    bench.settle()
    assert bench.states()[-4:] == [
        ("running", "stopping"),
        ("stopping", "exited"),
        ("exited", "starting"),
        ("starting", "running"),
    ]
    assert bench.last()["cause"] == "started"
    bench.process().exit(1)
    bench.settle()
    assert bench.last()["cause"].startswith("exit status 1; restart 1 in a row")


def test_restart_in_backoff_starts_at_once(bench: UnitBench):
    unit = bench.unit()
    unit.start("supervisor started")
    bench.process().exit(1)
    bench.settle()
    unit.restart("restarted by operator")
    assert (unit.state, bench.runs()) == (State.RUNNING, 2)
    bench.advance(5.0)
    assert bench.runs() == 2  # the backoff's timer does not start a third


def test_send_forwards_a_signal_the_service_lives_through(bench: UnitBench):
    unit = bench.unit()
    unit.start("supervisor started")
    unit.send(signal.SIGHUP)
    assert bench.process().signals == [signal.SIGHUP] and bench.process().alive
    assert unit.state is State.RUNNING


def test_the_snapshot_shows_the_run_and_its_last_exit(bench: UnitBench):
    unit = bench.unit()
    unit.start("supervisor started")
    bench.advance(2.0)
    bench.process().signal(signal.SIGKILL)
    bench.settle()
    bench.advance(1.0)
    snapshot = unit.snapshot(bench.loop.now)
    assert snapshot["state"] == "running" and snapshot["restarts"] == 1
    assert snapshot["pid"] == bench.process().pid and snapshot["uptime"] == 0.0
    assert snapshot["last_exit"] == {
        "code": None,
        "signal": "SIGKILL",
        "status": 137,
        "description": "killed by SIGKILL",
        "status_text": None,
    }
    assert snapshot["memory"] is None and snapshot["cpu"] is None
