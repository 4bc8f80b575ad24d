"""When the supervisor's own bookkeeping fails, the group ends at once and says why.

Run in this process, so that the failure can be planted: no request or signal from outside can
reach it, which is the point of the checks at the edges.
"""

from __future__ import annotations

import json
from pathlib import Path

import psutil
import pytest

from supervisor import config
from supervisor.daemon.arbiter import EXIT_INTERNAL_ERROR, Supervisor
from supervisor.daemon.events import EVENTS_FILE
from supervisor.daemon.failures import ERROR_STORM, ERROR_WINDOW, FailureReporter, LoopFailing
from supervisor.policy.states import State
from supervisor.testing.harness import WriteConfig

STACK = """
[services.sleeper]
command = ["sleep", "1000"]
start_seconds = 0
workers = 2
"""


def test_a_broken_invariant_ends_the_group_with_status_70_and_no_process_left(
    write_config: WriteConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    plan = config.load(write_config(STACK))
    seen_pids: list[int] = []
    has_ended = Supervisor.has_ended

    def broken(self: Supervisor) -> bool:
        units = list(self.units.values())
        if units and all(unit.state is State.RUNNING for unit in units):
            seen_pids.extend(unit.pid for unit in units if unit.pid is not None)
            raise AssertionError("a unit is in two places at once")
        return has_ended(self)

    monkeypatch.setattr(Supervisor, "has_ended", broken)
    with (tmp_path / "console.log").open("w") as console:
        status = Supervisor(plan, console=console).run()

    assert status == EXIT_INTERNAL_ERROR
    events = [json.loads(line) for line in (plan.state_dir / EVENTS_FILE).read_text().splitlines()]
    error, group_exit = events[-2:]
    assert (error["event"], error["where"]) == ("error", "the supervisor's loop")
    assert "a unit is in two places at once" in error["traceback"]
    assert group_exit["event"] == "group" and group_exit["action"] == "exit"
    assert group_exit["status"] == EXIT_INTERNAL_ERROR
    assert group_exit["cause"] == (
        "internal error, every process killed: AssertionError: a unit is in two places at once"
    )
    # The sentinel kills them on the way out; waiting for them here also reaps them, as they
    # were spawned by this process.
    processes = [psutil.Process(pid) for pid in seen_pids if psutil.pid_exists(pid)]
    _, alive = psutil.wait_procs(processes, timeout=20)
    assert not alive


def test_failing_callbacks_are_survived_until_they_come_in_a_storm():
    emitted: list[dict] = []
    now = [0.0]
    reporter = FailureReporter(lambda event, **fields: emitted.append(fields), lambda: now[0])

    def callback() -> None:
        """Stands for any callback of the loop."""

    for _ in range(ERROR_STORM):
        reporter.on_loop_error(ValueError("one fault"), callback)
    now[0] += ERROR_WINDOW  # the earlier failures leave the window
    for _ in range(ERROR_STORM):
        reporter.on_loop_error(ValueError("one fault"), callback)
    with pytest.raises(LoopFailing, match=f"{ERROR_STORM + 1} failures within 1s"):
        reporter.on_loop_error(ValueError("one fault"), callback)
    assert len(emitted) == 2 * ERROR_STORM + 1
    assert emitted[0]["where"].endswith("<locals>.callback")
    assert emitted[0]["error"] == "ValueError: one fault"
