"""What the state-machine fuzzing found, each kept as a plain test of the same machine: the
steps hypothesis shrank it to, then every invariant (tests/support/stackmachine.py) after each.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest

from supervisor.control.protocol import Act
from supervisor.policy.restart import ExitStatus
from supervisor.policy.states import State
from tests.support.stackmachine import StackMachine


@pytest.fixture
def machine() -> Iterator[StackMachine]:
    machine = StackMachine()
    yield machine
    machine.teardown()  # also: a shutdown ends the group, whatever came before
    machine_checks(machine)


def machine_checks(machine: StackMachine) -> None:
    machine.transitions_are_documented()
    machine.status_shows_only_live_processes_as_current()
    machine.the_group_ends_once_with_a_documented_status()
    machine.every_wait_is_answered_at_most_once()


def ignore_the_stop_signal(machine: StackMachine, service: str) -> None:
    """Its processes handle SIGTERM and live on: only the SIGKILL after stop_timeout ends them."""
    for name, unit in machine.supervisor.units.items():
        process = machine.host.current(name) if unit.service == service and unit.pid else None
        if process is not None:
            process.ignored.update({signal.SIGTERM, signal.SIGINT})


def states(machine: StackMachine) -> dict[str, State]:
    return {name: unit.state for name, unit in machine.supervisor.units.items()}


def test_a_reload_keeps_supervising_what_an_earlier_reload_is_still_stopping(
    machine: StackMachine,
):
    machine.boot({"api"}, seed=0)  # api and its dependency db
    machine.time_passes(1.1)  # db up for start_seconds: running; api starts
    ignore_the_stop_signal(machine, "api")
    assert machine.reload_to({"db"})["ok"]
    assert states(machine)["api#1"] is State.STOPPING
    # A second reload while api is still stopping: api's units were dropped from the
    # supervisor, their processes left running with nobody watching them.
    assert machine.reload_to({"db"}, changed=True)["ok"]
    machine_checks(machine)
    assert {"api#1", "api#2"} <= states(machine).keys()
    machine.time_passes(5.0)  # stop_timeout: SIGKILL, then they leave
    machine_checks(machine)
    assert "api#1" not in states(machine)


def test_a_service_back_before_its_removed_processes_are_down_starts_again_after_them(
    machine: StackMachine,
):
    machine.boot({"api"}, seed=0)
    machine.time_passes(1.1)
    ignore_the_stop_signal(machine, "api")
    assert machine.reload_to({"db"})["ok"]
    assert machine.reload_to({"db", "api"})["ok"]
    machine_checks(machine)
    assert states(machine)["api#1"] is State.STOPPING
    machine.time_passes(5.0)
    machine_checks(machine)
    assert states(machine)["api#1"] in (State.STARTING, State.RUNNING, State.WAITING)


def test_a_reload_that_removes_a_settled_process_and_changes_another(machine: StackMachine):
    machine.boot({"db", "migrate"}, seed=0)
    machine.crash(("migrate", -1), ExitStatus(code=0))  # the job is done: exited
    assert states(machine)["migrate"] is State.EXITED
    # db's change restarts it, which settles the group (and lets migrate leave) before the
    # removed processes were stopped: a KeyError on the way out of the reload.
    assert machine.reload_to({"db"}, changed=True)["ok"]
    machine_checks(machine)
    assert "migrate" not in states(machine)


def test_a_process_in_backoff_is_not_restarted_while_the_group_stops(machine: StackMachine):
    machine.boot({"api"}, seed=0)
    machine.time_passes(1.1)  # db up for start_seconds: running; api starts
    machine.crash(("db", -1), ExitStatus(code=1))
    assert states(machine)["db"] is State.BACKOFF
    ignore_the_stop_signal(machine, "api")  # so api, db's dependant, is slow to go down
    machine.shutdown()
    machine_checks(machine)
    assert states(machine)["db"] is State.STOPPED  # at once: it has no process to wait for
    machine.time_passes(2.5)  # beyond db's backoff delay, and api's stop_timeout
    machine_checks(machine)
    # api needed SIGKILL to stop: the group says so with its status (docs/guides/lifecycle.md).
    assert machine.finished and machine.status == 128 + signal.SIGKILL


def test_a_stop_overrides_a_restart_in_progress(machine: StackMachine):
    machine.boot({"db", "migrate"}, seed=0)
    ignore_the_stop_signal(machine, "db")
    machine.operate("restart", ("db", -1), every=False)
    assert states(machine)["db"] is State.STOPPING
    assert machine.reload_to({"migrate"})["ok"]  # removed while its restart is under way
    machine.time_passes(5.0)
    machine_checks(machine)
    assert "db" not in states(machine)  # it left, and was never started again
    starts = [e for e in machine.events.all if e.get("unit") == "db" and e.get("to") == "starting"]
    assert len(starts) == 1


def test_an_operator_start_of_a_fatal_process_then_a_shutdown(machine: StackMachine):
    """The session that crashed the supervisor, on the virtual host (and through real
    processes in test_group_recovery.py)."""
    machine.boot({"cinder-volume"}, seed=0)
    lvm_b = ("cinder-volume", 1)
    machine.fault(lvm_b, "crash-on-start", 2)  # with the kill: one restart too many
    machine.crash(lvm_b, ExitStatus(signal=signal.SIGKILL))
    machine.time_passes(5.0)
    assert states(machine)["cinder-volume@b"] is State.FATAL
    machine.operate("start", lvm_b, every=False)
    machine.notify(lvm_b, {"READY": "1"})
    assert states(machine)["cinder-volume@b"] is State.RUNNING
    machine.shutdown()
    machine_checks(machine)
    assert machine.finished and machine.status == 0


def test_a_disabled_service_waits_for_its_operator_and_keeps_the_group_up(
    machine: StackMachine,
):
    machine.boot({"tool", "db"}, seed=0)
    tool = machine.supervisor.units["tool"]
    assert (tool.state, tool.held) == (State.STOPPED, True)
    assert "autostart = false" in tool.cause
    machine.wait("ready", ("tool", -1), every=False)  # named: fails at once (held)
    machine.wait("ready", ("db", -1), every=True)  # every process: tool is left out
    machine.time_passes(1.1)
    assert machine.waits[1][0].replies == [{"ok": True, "met": True}]
    machine.crash(("db", -1), ExitStatus(code=0))
    machine.time_passes(1.0)
    assert not machine.finished  # tool waits for its operator, so the group does too
    machine.operate("start", ("tool", -1), every=False)
    assert tool.state is State.RUNNING


def test_a_process_removed_by_a_reload_is_never_started_again(machine: StackMachine):
    machine.boot({"db", "cinder-backup"}, seed=0)
    machine.time_passes(1.1)
    ignore_the_stop_signal(machine, "db")
    assert machine.reload_to({"cinder-backup", "cinder-volume"})["ok"]
    assert states(machine)["db"] is State.STOPPING
    # `restart --all` while db is on its way out: it restarted once its stop was done, as a
    # process no unit of the supervisor knew any more.
    machine.operate("restart", ("api", 0), every=True)
    named = machine._send(Act("start", ("db",))).replies
    assert named == [
        {"ok": False, "error": "db: removed from the configuration by a reload, stopping"}
    ]
    machine.time_passes(5.0)
    machine_checks(machine)
    assert "db" not in states(machine)
