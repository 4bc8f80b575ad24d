"""Waiting for dependencies and taking a reloaded plan, in every state, without a process (see
test_unit_states.py)."""

from __future__ import annotations

import dataclasses
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from supervisor.daemon.unit import Unit
from supervisor.policy.restart import StartLimit
from supervisor.policy.states import FINAL_STATES, State

if TYPE_CHECKING:
    from tests.daemon.conftest import UnitBench

NEW_ARGV = ("svc", "--reloaded")

# -- dependencies ----------------------------------------------------------------------------------


def test_a_unit_waits_for_its_dependencies_then_starts(bench: UnitBench):
    unit = bench.unit()
    unit.wait_for_dependencies("waiting for db to be ready")
    assert (unit.state, unit.cause, bench.runs()) == (
        State.WAITING,
        "waiting for db to be ready",
        0,
    )
    assert not unit.is_final
    unit.start("dependencies ready")
    assert bench.states() == [
        ("stopped", "waiting"),
        ("waiting", "starting"),
        ("starting", "running"),
    ]


def test_a_unit_whose_dependency_failed_is_blocked_for_good(bench: UnitBench):
    unit = bench.unit()
    unit.wait_for_dependencies("waiting for db to be ready")
    unit.block("dependency db failed for good")
    assert (unit.state, unit.is_final, bench.runs()) == (State.BLOCKED, True, 0)
    assert bench.host.ended == ["svc"]
    unit.wait_for_dependencies("started by operator")  # an operator tries again
    assert unit.state is State.WAITING


def test_only_a_final_unit_waits_and_only_a_waiting_one_is_blocked(bench: UnitBench):
    unit = bench.unit()
    unit.block("dependency db failed for good")
    assert unit.state is State.STOPPED
    unit.start("supervisor started")
    unit.wait_for_dependencies("waiting for db to be ready")
    unit.block("dependency db failed for good")
    assert unit.state is State.RUNNING


def test_waiting_again_forgets_an_old_failure(bench: UnitBench):
    unit = bench.unit(start_limit=StartLimit(burst=0, interval=60.0))
    unit.start("supervisor started")
    bench.process().exit(2)
    bench.settle()
    assert unit.failure_status == 2
    unit.wait_for_dependencies("waiting for db to be ready")
    assert unit.failure_status is None


# -- a reloaded plan, in each state ----------------------------------------------------------------


def _running(bench: UnitBench, unit: Unit) -> None:
    unit.start("supervisor started")


def _starting(bench: UnitBench, unit: Unit) -> None:
    unit.start("supervisor started")
    bench.advance(0.5)  # start_seconds is 1


def _stopping(bench: UnitBench, unit: Unit) -> None:
    _running(bench, unit)
    bench.advance(1.0)
    bench.process().ignored.add(signal.SIGTERM)
    unit.stop("shutdown requested")


def _backoff(bench: UnitBench, unit: Unit) -> None:
    _running(bench, unit)
    bench.advance(1.0)
    bench.process().exit(1)
    bench.settle()


def _exited(bench: UnitBench, unit: Unit) -> None:
    _running(bench, unit)
    bench.process().exit(0)
    bench.settle()


def _fatal(bench: UnitBench, unit: Unit) -> None:
    bench.host.refusals["svc"] = FileNotFoundError(2, "No such file or directory", "svc")
    unit.start("supervisor started")


def _waiting(bench: UnitBench, unit: Unit) -> None:
    unit.wait_for_dependencies("waiting for db to be ready")


def _blocked(bench: UnitBench, unit: Unit) -> None:
    _waiting(bench, unit)
    unit.block("dependency db failed for good")


REACH: dict[State, Callable[[UnitBench, Unit], None]] = {
    State.STOPPED: lambda bench, unit: None,
    State.WAITING: _waiting,
    State.STARTING: _starting,
    State.RUNNING: _running,
    State.STOPPING: _stopping,
    State.BACKOFF: _backoff,
    State.EXITED: _exited,
    State.FATAL: _fatal,
    State.BLOCKED: _blocked,
}


def _reloaded(unit: Unit) -> None:
    plan = unit.plan
    env = (*plan.settings.env, ("RELOADED", "yes"))
    settings = dataclasses.replace(plan.settings, env=env)
    unit.replace_plan(dataclasses.replace(plan, argv=NEW_ARGV, settings=settings))


@pytest.mark.parametrize("state", list(REACH))
def test_a_reloaded_plan_changes_nothing_until_the_next_start(bench: UnitBench, state: State):
    unit = bench.unit(start_seconds=1.0 if state is State.STARTING else 0.0)
    REACH[state](bench, unit)
    assert unit.state is state
    runs, events = bench.runs(), len(bench.events)
    _reloaded(unit)
    assert (unit.state, bench.runs(), len(bench.events)) == (state, runs, events)
    if runs:
        assert bench.process().argv == ("svc",)  # the run in progress keeps its command


@pytest.mark.parametrize("state", [s for s in REACH if s is not State.WAITING])
def test_after_a_reload_the_supervisor_restarts_what_is_not_final(bench: UnitBench, state: State):
    # What the supervisor does with a changed unit that has a process or is about to have one:
    # restart it; a final one takes the new plan at its next start.
    unit = bench.unit(start_seconds=1.0 if state is State.STARTING else 0.0)
    REACH[state](bench, unit)
    _reloaded(unit)
    if not unit.is_final:
        unit.restart("configuration changed")
        if state is State.STOPPING:
            bench.process().exit(143)  # the stop in progress ends; then the new plan starts
        bench.advance(1.0)
        assert unit.state is State.RUNNING
        assert bench.process().argv == NEW_ARGV
        assert bench.process().env["RELOADED"] == "yes"
        restarted = [e for e in bench.events if e.get("cause") == "configuration changed"]
        assert restarted[-1]["to"] == "starting"
    else:
        assert state in FINAL_STATES
        bench.host.refusals.pop("svc", None)
        unit.start("started by operator")
        assert (unit.state, bench.process().argv) == (State.RUNNING, NEW_ARGV)
