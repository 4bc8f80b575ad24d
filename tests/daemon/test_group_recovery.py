"""A process that failed for good and was started again by an operator no longer answers for
the group: the group ends once, with a `group exit` event, and judges what stands at its end.

Through real processes and the real command line, as an operator met it on the default stack.
"""

from __future__ import annotations

import signal

from supervisor.testing.harness import RunningStack
from tests.support.stackcli import ReadyStack, cli, status_of

BACKENDS = """
[options]
host = "node1"
volume_manager = "supervisor.managers.volume.VolumeManager"
report_interval = 0.2
periodic_interval = 0
[services.cinder-volume]
backends = ["lvm-1", "lvm-2"]
restart = { backoff = { initial = 0.0 }, start_limit = { burst = 2, interval = 600 } }
"""
LVM2 = "cinder-volume@lvm-2"


def make_fatal(stack: RunningStack) -> None:
    """Killed, then its next two starts crash: with a burst of 2 the third restart is one too
    many, so it is fatal with every injected fault used."""
    assert cli(stack.config, "fault", LVM2, "crash-on-start", "2").returncode == 0
    assert cli(stack.config, "fault", LVM2, "kill").returncode == 0
    waited = cli(stack.config, "wait", LVM2, "--timeout", "30")
    assert waited.returncode == 1, waited.stdout + waited.stderr
    assert "is fatal" in waited.stderr + waited.stdout
    stack.wait_event(event="state", unit=LVM2, to="fatal")


def test_a_fatal_process_started_again_then_a_shutdown_ends_the_group_cleanly(
    ready_stack: ReadyStack,
):
    stack = ready_stack(BACKENDS)
    make_fatal(stack)
    started = cli(stack.config, "start", LVM2, "--timeout", "30")
    assert started.returncode == 0, started.stdout + started.stderr
    assert status_of(stack.config, LVM2)[LVM2]["state"] == "running"

    shutdown = cli(stack.config, "shutdown")
    assert shutdown.returncode == 0, shutdown.stdout + shutdown.stderr
    assert stack.wait_exit() == 0
    exits = stack.select(event="group", action="exit")
    assert [(e["status"], e["cause"]) for e in exits] == [(0, "shutdown requested")]
    assert not stack.select(event="error")


def test_a_fatal_process_left_fatal_still_gives_the_group_its_status(ready_stack: ReadyStack):
    stack = ready_stack(BACKENDS)
    make_fatal(stack)
    fatal = stack.select(event="state", unit=LVM2, to="fatal")[-1]
    # Its sibling is started and stopped by the operator meanwhile: the failure stands.
    assert cli(stack.config, "restart", "cinder-volume@lvm-1", "--timeout", "30").returncode == 0
    assert cli(stack.config, "shutdown").returncode == 0
    assert stack.wait_exit() == fatal["exit_status"]
    (exit,) = stack.select(event="group", action="exit")
    assert exit["cause"] == f"{LVM2} failed: {fatal['cause']}"


STUBBORN = """
[services.stubborn]
command = ["sh", "-c", "trap '' TERM INT; exec sleep 1000"]
start_seconds = 0
stop_timeout = 600
"""


def test_a_first_ctrl_c_says_what_a_second_does_and_whom_the_stop_waits_for(
    ready_stack: ReadyStack,
):
    stack = ready_stack(STUBBORN)
    stack.signal(signal.SIGINT)
    stop = stack.wait_event(event="group", action="stop")
    assert stop["then"] == "a second SIGINT kills everything at once"
    waiting = stack.wait_event(event="group", action="waiting")
    (line,) = waiting["waiting_for"]
    assert line.startswith("stubborn (stopping, SIGKILL in ")
    assert "a second SIGINT kills everything at once" in stack.console()
    stack.signal(signal.SIGINT)
    assert stack.wait_exit() == 128 + signal.SIGINT
