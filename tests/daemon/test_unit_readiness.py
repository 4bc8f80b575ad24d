"""The unit's start gate and its run-time health, without a process: READY=1, STATUS=,
readiness probes, start timeouts, one-shot jobs and the watchdog (see test_unit_states.py)."""

from __future__ import annotations

import signal
from typing import TYPE_CHECKING

from supervisor.config.services import Probe
from supervisor.policy.states import State

if TYPE_CHECKING:
    from tests.daemon.conftest import UnitBench

PROBE = Probe(exec=("probe",), period=1.0, timeout=5.0)

# -- sd_notify -------------------------------------------------------------------------------------


def test_a_notify_service_is_running_on_ready(bench: UnitBench):
    unit = bench.unit(notify=True, start_timeout=30.0)
    unit.start("supervisor started")
    bench.advance(10.0)
    assert unit.state is State.STARTING
    bench.process().send({"READY": "1", "STATUS": "serving"})
    bench.settle()
    assert (unit.state, unit.cause) == (State.RUNNING, "READY=1")
    assert unit.status_text == "serving"
    notify = bench.last("notify")
    assert (notify["READY"], notify["STATUS"], notify["pid"]) == ("1", "serving", unit.pid)
    bench.advance(60.0)
    assert unit.state is State.RUNNING  # the start timeout was cancelled


def test_a_notify_service_without_ready_is_killed_at_its_start_timeout(bench: UnitBench):
    unit = bench.unit(notify=True, start_timeout=5.0)
    unit.start("supervisor started")
    bench.advance(5.0)
    assert bench.last("kill")["cause"] == "start timeout: no READY=1 within 5s"
    assert bench.runs() == 1 and bench.host.runs["svc"][0].signals == [signal.SIGABRT]
    assert bench.states()[-1] == ("starting", "backoff")
    assert unit.cause == (
        "start timeout: no READY=1 within 5s; killed by SIGABRT; restart 1 in a row, in 1.000s"
    )


def test_a_start_timeout_of_zero_waits_forever(bench: UnitBench):
    unit = bench.unit(notify=True, start_timeout=0.0)
    unit.start("supervisor started")
    bench.advance(3600.0)
    assert unit.state is State.STARTING


def test_status_alone_changes_no_state(bench: UnitBench):
    unit = bench.unit(notify=True)
    unit.start("supervisor started")
    unit.on_notify({"STATUS": "migrating"})
    assert (unit.state, unit.status_text) == (State.STARTING, "migrating")


def test_ready_from_a_plain_command_ends_its_start_seconds_early(bench: UnitBench):
    unit = bench.unit(start_seconds=10.0)
    unit.start("supervisor started")
    unit.on_notify({"READY": "1"})
    assert (unit.state, unit.cause) == (State.RUNNING, "READY=1")


# -- readiness probes ------------------------------------------------------------------------------


def test_a_probe_keeps_the_unit_starting_until_it_passes(bench: UnitBench):
    unit = bench.unit(readiness=PROBE, start_timeout=30.0)
    unit.start("supervisor started")
    (probe,) = bench.host.probes["svc"]
    assert probe.probe == PROBE
    probe.fail("exit status 69")
    bench.settle()
    assert (unit.state, unit.cause) == (State.STARTING, "readiness probe: exit status 69")
    assert bench.states() == [("stopped", "starting")]  # a failed run is no event
    probe.succeed(after=2.0)
    bench.advance(2.0)
    assert (unit.state, unit.cause) == (State.RUNNING, "readiness probe passed")


def test_a_probe_that_never_passes_meets_the_start_timeout(bench: UnitBench):
    unit = bench.unit(readiness=PROBE, start_timeout=4.0)
    unit.start("supervisor started")
    bench.advance(4.0)
    assert bench.last("kill")["cause"] == "start timeout: no passing readiness probe within 4s"
    assert bench.host.probes["svc"][0].cancelled


def test_a_notify_service_with_a_probe_needs_both(bench: UnitBench):
    unit = bench.unit(notify=True, readiness=PROBE)
    unit.start("supervisor started")
    probe = bench.host.probes["svc"][-1]
    unit.on_notify({"READY": "1"})
    assert unit.state is State.STARTING  # the probe has not passed yet
    probe.succeed()
    bench.settle()
    assert (unit.state, unit.cause) == (State.RUNNING, "readiness probe passed")


def test_a_probe_passing_before_ready_still_waits_for_ready(bench: UnitBench):
    unit = bench.unit(notify=True, readiness=PROBE)
    unit.start("supervisor started")
    bench.host.probes["svc"][-1].succeed()
    bench.settle()
    assert unit.state is State.STARTING
    unit.on_notify({"READY": "1"})
    assert (unit.state, unit.cause) == (State.RUNNING, "READY=1")


def test_the_probe_is_cancelled_when_the_process_exits_or_is_stopped(bench: UnitBench):
    unit = bench.unit(readiness=PROBE)
    unit.start("supervisor started")
    bench.process().exit(1)
    bench.settle()
    assert bench.host.probes["svc"][0].cancelled
    bench.advance(1.0)  # the backoff: a new run, a new probe
    assert len(bench.host.probes["svc"]) == 2
    unit.stop("shutdown requested")
    assert bench.host.probes["svc"][1].cancelled


# -- one-shot jobs ---------------------------------------------------------------------------------


def test_a_oneshot_job_starts_until_it_exits_and_completes_on_success(bench: UnitBench):
    unit = bench.unit(oneshot=True, start_seconds=1.0)
    unit.start("supervisor started")
    bench.advance(100.0)
    assert unit.state is State.STARTING and not unit.ready
    bench.process().exit(0)
    bench.settle()
    assert bench.states()[-1] == ("starting", "exited")
    assert unit.completed and unit.failure_status is None and not unit.has_run


def test_a_oneshot_job_that_fails_is_restarted_by_its_policy(bench: UnitBench):
    unit = bench.unit(oneshot=True)
    unit.start("supervisor started")
    bench.process().exit(1)
    bench.settle()
    assert (unit.state, unit.completed) == (State.BACKOFF, False)


def test_a_oneshot_job_that_runs_too_long_meets_its_start_timeout(bench: UnitBench):
    unit = bench.unit(oneshot=True, start_timeout=60.0)
    unit.start("supervisor started")
    bench.advance(60.0)
    assert bench.last("kill")["cause"] == "start timeout: no exit within 60s"


# -- the watchdog ----------------------------------------------------------------------------------


def test_keepalives_hold_the_watchdog_off(bench: UnitBench):
    unit = bench.unit(watchdog=2.0)
    assert unit._env["WATCHDOG_USEC"] == "2000000"
    unit.start("supervisor started")
    for _ in range(5):
        bench.advance(1.5)
        unit.on_notify({"WATCHDOG": "1"})
    assert unit.state is State.RUNNING
    assert not [e for e in bench.events if e["event"] == "notify"]  # a keep-alive is not news
    assert unit.watchdog.age() == 0.0


def test_a_silent_watchdog_kills_the_run_and_the_policy_restarts_it(bench: UnitBench):
    unit = bench.unit(watchdog=2.0)
    unit.start("supervisor started")
    bench.advance(2.0)
    assert bench.last("kill")["cause"] == "watchdog: no keep-alive (WATCHDOG=1) for 2s"
    assert bench.states()[-1] == ("running", "backoff")
    assert unit.cause.startswith("watchdog: no keep-alive (WATCHDOG=1) for 2s; killed by SIGABRT")


def test_a_run_that_survives_sigabrt_is_sigkilled_after_stop_timeout(bench: UnitBench):
    unit = bench.unit(watchdog=2.0, stop_timeout=5.0)
    unit.start("supervisor started")
    bench.process().ignored.add(signal.SIGABRT)
    bench.advance(2.0)
    assert unit.state is State.RUNNING  # still: the verdict waits for the exit
    bench.advance(5.0)
    assert bench.process().signals == [signal.SIGABRT, signal.SIGKILL]
    assert bench.states()[-1] == ("running", "backoff")


def test_a_clean_exit_after_our_verdict_still_counts_as_a_failure(bench: UnitBench):
    unit = bench.unit(watchdog=2.0)
    unit.start("supervisor started")
    bench.process().ignored.add(signal.SIGABRT)
    bench.advance(2.0)
    bench.process().exit(0)  # it handled SIGABRT and exited 0
    bench.settle()
    assert unit.state is State.BACKOFF
    assert unit.last_exit is not None and unit.last_exit.code == 0
    assert bench.last()["exit_status"] == 128 + signal.SIGABRT


def test_a_service_may_trigger_its_own_watchdog(bench: UnitBench):
    unit = bench.unit()
    unit.start("supervisor started")
    unit.on_notify({"WATCHDOG": "trigger"})
    assert bench.last("kill")["cause"] == "watchdog: the service asked for it (WATCHDOG=trigger)"
    bench.settle()
    assert unit.state is State.BACKOFF
