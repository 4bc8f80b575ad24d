"""A copy of a running stack (chaos, the pytest plugin) is refused when it would bind the
original's ports again, naming the service and the port; a copy that runs the service
differently is not."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from supervisor.testing.harness import RunningStack
from supervisor.tools.chaos import Verdict
from tests.support.stackcli import ReadyStack

pytest_plugins = ["pytester"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        return True
    return False


def serving_stack(ready_stack: ReadyStack) -> tuple[RunningStack, int]:
    port = free_port()
    stack = ready_stack(
        f"""
        [services.db]
        command = ["sleep", "1000"]
        start_seconds = 0

        [services.web]
        command = ["{sys.executable}", "-m", "http.server", "{port}", "--bind", "127.0.0.1"]
        start_seconds = 0
        """,
    )
    stack.wait_until(lambda: listening(port), 20, f"web to listen on {port}")
    return stack, port


def test_chaos_refuses_a_copy_that_would_take_the_running_stacks_port(
    ready_stack: ReadyStack, tmp_path: Path
):
    stack, port = serving_stack(ready_stack)
    result = subprocess.run(
        [sys.executable, "-m", "supervisor", "chaos", "-c", str(stack.config), "--duration", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "TMPDIR": str(tmp_path)},  # where the copy lives
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "chaos: refused: a stack from" in result.stderr
    assert f"web (pid {stack_pid(stack, 'web')}) listens on 127.0.0.1:{port}" in result.stderr
    assert "db (pid" not in result.stderr, "db listens on nothing"
    assert "Traceback" not in result.stderr
    assert listening(port), "the original keeps serving"


def stack_pid(stack: RunningStack, name: str) -> int:
    (event,) = stack.select(event="state", unit=name, to="starting")
    return event["pid"]


PLUGIN_TESTS = """
def test_the_same_stack(stack):
    stack({config!r})


def test_web_on_another_command(stack):
    s = stack({config!r}, overrides={{"web.command": ["sleep", "1000"]}})
    s.wait_ready(timeout=30)
"""


def test_the_plugin_refuses_the_same_copy_and_allows_an_overridden_one(
    ready_stack: ReadyStack, pytester: pytest.Pytester
):
    stack, port = serving_stack(ready_stack)
    pytester.makepyfile(PLUGIN_TESTS.format(config=str(stack.config)))
    result = pytester.runpytest_subprocess("-p", "no:randomly")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([f"*web (pid *) listens on 127.0.0.1:{port}*"])


def test_a_nonzero_group_status_fails_the_chaos_verdict():
    verdict = Verdict()
    verdict.judge_exit(137)
    assert not verdict.passed
    assert verdict.violations[0].startswith("the group exited with status 137, not 0")
    clean = Verdict()
    clean.judge_exit(0)
    assert clean.passed
