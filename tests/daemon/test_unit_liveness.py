"""Liveness probes and readiness failure thresholds, without a process: when a liveness probe
is armed, how its failures count, and how its verdict fails the run (see test_unit_readiness.py;
test_probes.py runs the same with real processes and servers)."""

from __future__ import annotations

import signal
from typing import TYPE_CHECKING

from supervisor.config.services import Probe
from supervisor.policy.states import State

if TYPE_CHECKING:
    from supervisor.daemon.unit import Unit
    from supervisor.tools.virtualhost import VirtualProbe
    from tests.daemon.conftest import UnitBench

LIVENESS = Probe(http="http://127.0.0.1:8776/health", failure_threshold=3)
READINESS = Probe(tcp="127.0.0.1:5672")
VERDICT = "liveness http http://127.0.0.1:8776/health: status 500 (3 failures in a row)"


def running(bench: UnitBench, **settings: object) -> tuple[Unit, VirtualProbe]:
    unit = bench.unit(liveness=LIVENESS, **settings)
    unit.start("supervisor started")
    assert unit.state is State.RUNNING
    return unit, bench.host.probes["svc"][-1]


def test_liveness_is_armed_only_once_readiness_has_passed(bench: UnitBench):
    unit = bench.unit(readiness=READINESS, liveness=LIVENESS)
    unit.start("supervisor started")
    (readiness,) = bench.host.probes["svc"]
    assert readiness.probe == READINESS  # starting: no liveness probe yet
    readiness.succeed()
    bench.settle()
    assert unit.state is State.RUNNING and readiness.cancelled
    assert [probe.probe for probe in bench.host.probes["svc"]] == [READINESS, LIVENESS]


def test_failures_below_the_threshold_are_events_and_a_pass_resets_the_count(bench: UnitBench):
    unit, probe = running(bench)
    probe.fail("status 500")
    probe.fail("connection refused", after=1.0)
    bench.advance(1.0)
    assert unit.state is State.RUNNING and unit.liveness.failures == 2
    failed = [e for e in bench.events if e["event"] == "probe"]
    assert [(e["cause"], e["failures"], e["pid"]) for e in failed] == [
        ("liveness http http://127.0.0.1:8776/health: status 500", 1, unit.pid),
        ("liveness http http://127.0.0.1:8776/health: connection refused", 2, unit.pid),
    ]
    probe.succeed()
    probe.fail("status 500", after=1.0)
    probe.fail("status 500", after=2.0)
    bench.advance(2.0)
    assert unit.state is State.RUNNING and unit.liveness.failures == 2


def test_the_threshold_fails_the_run_like_the_watchdog_and_the_policy_restarts_it(
    bench: UnitBench,
):
    unit, probe = running(bench)
    for _ in range(3):
        probe.fail("status 500")
    bench.settle()
    assert bench.last("kill")["cause"] == VERDICT
    assert probe.cancelled  # no run after the verdict
    assert bench.host.runs["svc"][0].signals == [signal.SIGABRT]
    assert bench.states()[-1] == ("running", "backoff")
    assert unit.cause == f"{VERDICT}; killed by SIGABRT; restart 1 in a row, in 1.000s"
    bench.advance(1.0)
    assert unit.state is State.RUNNING and bench.runs() == 2
    fresh = bench.host.probes["svc"][-1]
    assert fresh is not probe and not fresh.cancelled and unit.liveness.failures == 0


def test_a_single_failure_is_the_verdict_at_threshold_one(bench: UnitBench):
    unit = bench.unit(liveness=Probe(exec=("check",), failure_threshold=1))
    unit.start("supervisor started")
    bench.host.probes["svc"][-1].fail("timed out after 5s")
    bench.settle()
    assert bench.last("kill")["cause"] == "liveness exec check: timed out after 5s"


def test_a_stop_disarms_liveness_and_a_late_failure_changes_nothing(bench: UnitBench):
    unit, probe = running(bench)
    unit.stop("shutdown requested", hold=True)
    assert probe.cancelled
    probe.fail("status 500")  # a result that was already on its way
    bench.settle()
    assert [e for e in bench.events if e["event"] in ("probe", "kill")] == []
    assert unit.state is State.STOPPED


def test_an_exit_disarms_liveness(bench: UnitBench):
    unit, probe = running(bench, policy="never")
    bench.process().exit(0)
    bench.settle()
    assert probe.cancelled and unit.state is State.EXITED


def test_a_readiness_failure_threshold_ends_the_start_as_a_failure(bench: UnitBench):
    unit = bench.unit(readiness=Probe(tcp="127.0.0.1:5672", failure_threshold=2))
    unit.start("supervisor started")
    probe = bench.host.probes["svc"][-1]
    probe.fail("connection refused")
    bench.settle()
    assert (unit.state, unit.cause) == (State.STARTING, "readiness probe: connection refused")
    probe.fail("connection refused")
    bench.settle()
    assert bench.last("kill")["cause"] == (
        "readiness tcp 127.0.0.1:5672: connection refused (2 failures in a row)"
    )
    assert probe.cancelled and bench.states()[-1] == ("starting", "backoff")
