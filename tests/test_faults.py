"""Fault injection into live processes, through the real CLI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psutil
from test_control import cli, ready_stack

from supervisor.testing.harness import RunningStack

WriteConfig = Callable[[str], Path]
RunStack = Callable[..., RunningStack]

PLAIN = """
[services.plain]
command = ["sleep", "1000"]
start_seconds = 0
restart = { backoff = { initial = 0.0 } }
"""


def test_kill_fails_the_process_and_the_policy_restarts_it(
    write_config: WriteConfig, run_stack: RunStack
):
    stack = ready_stack(write_config, run_stack, PLAIN)
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


def test_stop_hangs_the_whole_group_and_cont_resumes_it(
    write_config: WriteConfig, run_stack: RunStack
):
    stack = ready_stack(write_config, run_stack, PLAIN)
    process = psutil.Process(stack.wait_event(event="state", unit="plain", to="running")["pid"])
    assert cli(stack.config, "fault", "plain", "stop").returncode == 0
    stack.wait_until(lambda: process.status() == psutil.STATUS_STOPPED, 10, "SIGSTOP")
    assert cli(stack.config, "fault", "plain", "cont").returncode == 0
    stack.wait_until(lambda: process.status() != psutil.STATUS_STOPPED, 10, "SIGCONT")
    kinds = [event["kind"] for event in stack.select(event="fault")]
    assert kinds == ["stop", "cont"]
    assert stack.stop() == 0


def test_service_faults_are_refused_for_a_plain_command(
    write_config: WriteConfig, run_stack: RunStack
):
    stack = ready_stack(write_config, run_stack, PLAIN)
    for kind in (["exit", "3"], ["crash-on-start", "2"], ["not-working"]):
        result = cli(stack.config, "fault", "plain", *kind)
        assert result.returncode == 1
        assert "needs a manager service; plain is a plain command" in result.stderr
    assert not stack.select(event="fault")
    assert cli(stack.config, "fault", "plain", "explode").returncode == 2
