"""Fault injection into live processes, through the real CLI."""

from __future__ import annotations

import psutil

from supervisor.testing.harness import RunningStack
from tests.support.stackcli import ReadyStack, cli

PLAIN = """
[services.plain]
command = ["sleep", "1000"]
start_seconds = 0
restart = { backoff = { initial = 0.0 } }
"""


def test_kill_fails_the_process_and_the_policy_restarts_it(ready_stack: ReadyStack):
    stack = ready_stack(PLAIN)
    before = stack.wait_event(event="state", unit="plain", to="running")["pid"]
    result = cli(stack.config, "fault", "plain", "kill", "--signal", "TERM")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "plain: sent SIGTERM\n"
    fault = stack.wait_event(event="fault", unit="plain", kind="kill")
    assert (fault["pid"], fault["signal"], fault["cause"]) == (before, "TERM", "sent SIGTERM")
    backoff = stack.wait_event(event="state", unit="plain", to="backoff")
    assert backoff["cause"].startswith("killed by SIGTERM; restart 1 in a row")
    again = stack.wait_event(event="state", unit="plain", to="starting", cause="restarting at once")
    assert again["pid"] != before


def test_stop_hangs_the_whole_group_and_cont_resumes_it(ready_stack: ReadyStack):
    stack = ready_stack(PLAIN)
    process = psutil.Process(stack.wait_event(event="state", unit="plain", to="running")["pid"])
    assert cli(stack.config, "fault", "plain", "stop").returncode == 0
    stack.wait_until(lambda: process.status() == psutil.STATUS_STOPPED, 10, "SIGSTOP")
    assert cli(stack.config, "fault", "plain", "cont").returncode == 0
    stack.wait_until(lambda: process.status() != psutil.STATUS_STOPPED, 10, "SIGCONT")
    kinds = [event["kind"] for event in stack.select(event="fault")]
    assert kinds == ["stop", "cont"]
    assert stack.stop() == 0


def test_service_faults_are_refused_for_a_plain_command(ready_stack: ReadyStack):
    stack = ready_stack(PLAIN)
    for kind in (["exit", "3"], ["crash-on-start", "2"], ["not-working"]):
        result = cli(stack.config, "fault", "plain", *kind)
        assert result.returncode == 1
        assert "needs a manager service; plain is a plain command" in result.stderr
    assert not stack.select(event="fault")
    assert cli(stack.config, "fault", "plain", "explode").returncode == 2


MANAGER = """
[options]
host = "node1"
volume_manager = "supervisor.managers.volume.VolumeManager"
report_interval = 0.2
periodic_interval = 0
[services.cinder-volume]
backends = ["lvm-1"]
restart = { backoff = { initial = 0.0 }, start_limit = { burst = 10 } }
"""


def run_manager(ready_stack: ReadyStack) -> RunningStack:
    return ready_stack(MANAGER)


def crash_after(stack: RunningStack, *fault: str) -> dict:
    result = cli(stack.config, "fault", "cinder-volume@lvm-1", *fault)
    assert result.returncode == 0, result.stderr
    return stack.wait_event(event="state", unit="cinder-volume@lvm-1", to="backoff")


def test_exit_and_raise_end_the_service_with_their_status(ready_stack: ReadyStack):
    stack = run_manager(ready_stack)
    assert crash_after(stack, "exit", "7")["exit_status"] == 7
    stack.wait_event(event="state", unit="cinder-volume@lvm-1", to="running", cause="READY=1")
    assert cli(stack.config, "wait", "--ready", "--timeout", "20").returncode == 0
    raised = cli(stack.config, "fault", "cinder-volume@lvm-1", "raise")
    assert raised.returncode == 0
    backoffs = stack.select(event="state", unit="cinder-volume@lvm-1", to="backoff")
    stack.wait_until(
        lambda: len(stack.select(event="state", unit="cinder-volume@lvm-1", to="backoff")) == 2,
        20,
        "the second crash",
    )
    assert backoffs[0]["exit_status"] == 7
    second = stack.select(event="state", unit="cinder-volume@lvm-1", to="backoff")[1]
    assert second["exit_status"] == 2
    assert "injected fault: an exception in the service loop" in stack.console()


def test_not_working_and_a_hung_workload_stop_the_keepalives(ready_stack: ReadyStack):
    config_text = MANAGER.replace("backends", "watchdog = 1.0\nbackends")
    stack = ready_stack(config_text)
    for number, kind in enumerate(("not-working", "hang-heartbeat"), start=1):
        assert cli(stack.config, "wait", "--ready", "--timeout", "20").returncode == 0
        assert cli(stack.config, "fault", "cinder-volume@lvm-1", kind).returncode == 0

        def killed(count: int = number) -> bool:
            return len(stack.select(event="kill", unit="cinder-volume@lvm-1")) == count

        stack.wait_until(killed, 20, f"the watchdog after {kind}")
        kill = stack.select(event="kill", unit="cinder-volume@lvm-1")[-1]
        assert kill["cause"] == "watchdog: no keep-alive (WATCHDOG=1) for 1s"


def test_start_faults_apply_to_the_next_starts(ready_stack: ReadyStack):
    stack = run_manager(ready_stack)
    assert cli(stack.config, "fault", "cinder-volume", "crash-on-start", "2").returncode == 0
    assert cli(stack.config, "fault", "cinder-volume", "kill").returncode == 0
    stack.wait_until(
        lambda: len(stack.select(event="state", unit="cinder-volume@lvm-1", to="backoff")) == 3,
        20,
        "two failed starts after the kill",
    )
    exits = [
        e["exit_status"]
        for e in stack.select(event="state", unit="cinder-volume@lvm-1", to="backoff")
    ]
    assert exits == [137, 1, 1]
    stack.wait_event(event="state", unit="cinder-volume@lvm-1", to="running", cause="READY=1")
    assert "injected fault: crash on start" in stack.console()
