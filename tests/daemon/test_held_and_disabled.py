"""Processes an operator holds stopped, and services that do not start with the stack
(`autostart = false`), through real processes and the real command line."""

from __future__ import annotations

from tests.support.stackcli import ReadyStack, cli, status_of

STACK = """
[services.db]
command = ["sleep", "1000"]
start_seconds = 0

[services.tool]
command = ["sleep", "1000"]
start_seconds = 0
autostart = false
"""


def test_a_disabled_service_is_shown_as_such_and_starts_when_asked(ready_stack: ReadyStack):
    stack = ready_stack(STACK)  # `wait --ready` with no names: tool is left out
    tool = status_of(stack.config)["tool"]
    assert (tool["state"], tool["held"], tool["autostart"], tool["pid"]) == (
        "stopped",
        True,
        False,
        None,
    )
    assert tool["cause"] == "disabled (autostart = false): start it with `supervisor start tool`"
    assert not stack.select(event="state", unit="tool")  # never started
    named = cli(stack.config, "wait", "--ready", "tool", "--timeout", "30")
    assert named.returncode == 1  # at once: nothing will start it but an operator
    assert "tool is stopped: disabled (autostart = false)" in named.stderr + named.stdout
    started = cli(stack.config, "start", "tool", "--timeout", "30")
    assert started.returncode == 0, started.stderr
    assert status_of(stack.config, "tool")["tool"]["state"] == "running"
    assert cli(stack.config, "shutdown").returncode == 0
    assert stack.wait_exit() == 0


def test_wait_ready_on_a_process_the_operator_stopped_fails_at_once(ready_stack: ReadyStack):
    stack = ready_stack(STACK)
    assert cli(stack.config, "stop", "db", "--timeout", "30").returncode == 0
    waited = cli(stack.config, "wait", "--ready", "db", "--timeout", "600")
    assert waited.returncode == 1
    assert "db is stopped: stopped cleanly" in waited.stderr + waited.stdout
    every = cli(stack.config, "wait", "--ready", "--timeout", "30")
    assert every.returncode == 0  # every process meant to run is ready: db is held, left out


REPORTER = """
[services.reporter]
command = ["python3", "-c", '''
import os, socket, time
address = os.environ["NOTIFY_SOCKET"]
address = "\\0" + address[1:] if address.startswith("@") else address
socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"STATUS=warming up", address)
time.sleep(1000)
''']
start_seconds = 0
restart = { backoff = { initial = 600.0 } }
"""


def test_a_dead_process_s_status_text_is_not_shown_as_current(ready_stack: ReadyStack):
    stack = ready_stack(REPORTER)
    stack.wait_event(event="notify", unit="reporter", STATUS="warming up")
    assert status_of(stack.config)["reporter"]["status_text"] == "warming up"
    assert cli(stack.config, "fault", "reporter", "kill").returncode == 0
    stack.wait_event(event="state", unit="reporter", to="backoff")
    row = status_of(stack.config)["reporter"]
    assert (row["state"], row["pid"], row["status_text"], row["heartbeat_age"]) == (
        "backoff",
        None,
        None,
        None,
    )
