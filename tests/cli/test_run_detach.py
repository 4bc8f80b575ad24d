"""`supervisor run --detach` with real supervisors: it returns once the supervisor answers, the
supervisor runs in a session of its own with its console in `<state_dir>/supervisor.log`, a
second one is refused, a start that fails is told in the foreground, `shutdown` ends it."""

from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from supervisor.testing.harness import WriteConfig
from tests.support.stackcli import SLEEPERS, cli, status_of

ALREADY_RUNNING = 1
CONFIG_INVALID = 2
DEADLINE = 30.0


def run_detach(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "supervisor", "run", "--detach", "-c", str(config), *args],
        capture_output=True,
        text=True,
        timeout=90,
        stdin=subprocess.DEVNULL,
    )


def wait_gone(pid: int, timeout: float = DEADLINE) -> bool:
    """Whether process `pid` (not a child of this one) ended before the deadline."""
    try:
        ended = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        return bool(select.select([ended], [], [], timeout)[0])
    finally:
        os.close(ended)


Detach = Callable[..., tuple[int, subprocess.CompletedProcess[str]]]


@pytest.fixture
def detach() -> Iterator[Detach]:
    """`run --detach`: the supervisor's pid and the command's result; every supervisor it
    started is shut down at teardown (killed if it will not go, its sentinel then ends its
    services)."""
    started: list[tuple[Path, int]] = []

    def start(config: Path, *args: str) -> tuple[int, subprocess.CompletedProcess[str]]:
        result = run_detach(config, *args)
        assert result.returncode == 0, result.stderr
        pid = int(re.search(r"pid (\d+)", result.stdout)[1])  # type: ignore[index]
        started.append((config, pid))
        return pid, result

    yield start
    for config, pid in started:
        if not wait_gone(pid, 0):
            cli(config, "shutdown", "--timeout", "20")
        if not wait_gone(pid):
            os.kill(pid, signal.SIGKILL)
            wait_gone(pid)


def test_it_returns_once_the_supervisor_answers_and_shutdown_ends_it(
    write_config: WriteConfig, detach: Detach
):
    config = write_config(SLEEPERS)
    log = config.parent / "state" / "supervisor.log"
    pid, result = detach(config)
    assert result.stdout == (
        f"supervisor: running in the background, pid {pid}; its console goes to {log}; "
        "`supervisor shutdown` ends it\n"
    )
    assert result.stderr == ""
    # It answered before the command returned: no wait needed to ask it.
    assert cli(config, "status").returncode == 0
    assert os.getsid(pid) == pid  # a session (and a process group) of its own: no terminal
    assert os.readlink(f"/proc/{pid}/fd/0") == os.devnull
    assert os.readlink(f"/proc/{pid}/fd/1") == str(log)
    assert os.readlink(f"/proc/{pid}/fd/2") == str(log)
    waited = cli(config, "wait", "--ready", "--timeout", "20")
    assert waited.returncode == 0, waited.stderr + log.read_text()
    assert set(status_of(config)) == {"db", "api#1", "api#2"}

    shut = cli(config, "shutdown")
    assert shut.returncode == 0, shut.stderr
    assert wait_gone(pid)
    console = log.read_text()
    assert f"supervisor                     action=start pid={pid}" in console
    assert "action=exit status=0 cause='shutdown requested'" in console


def test_a_second_one_is_refused_while_one_runs(write_config: WriteConfig, detach: Detach):
    config = write_config(SLEEPERS)
    pid, _ = detach(config, "--only", "db")
    state_dir = config.parent / "state"
    for again in (run_detach(config), run_detach(config, "--only", "api")):
        assert again.returncode == ALREADY_RUNNING, again.stderr
        assert again.stdout == ""
        assert again.stderr == (
            f"supervisor: a supervisor is already running for {state_dir} (pid {pid})\n"
        )
    assert list(status_of(config)) == ["db"]  # the first one, untouched, with its --only


def test_an_invalid_file_fails_in_the_foreground_and_starts_nothing(write_config: WriteConfig):
    config = write_config('[services.web]\ncommand = ["sleep", "1000"]\nworkers = "two"\n')
    result = run_detach(config)
    assert result.returncode == CONFIG_INVALID
    assert "workers" in result.stderr and result.stdout == ""
    assert not (config.parent / "state" / "supervisor.log").exists()
    unknown = run_detach(write_config(SLEEPERS), "--only", "nope")
    assert unknown.returncode == 2 and "--only 'nope'" in unknown.stderr


def test_a_start_that_fails_in_the_background_is_told_in_the_foreground(
    write_config: WriteConfig,
):
    """The lock held by a process that answers no socket: the check before the start lets it
    through, and the supervisor started in the background is the one that finds the lock."""
    config = write_config(SLEEPERS)
    state_dir = config.parent / "state"
    state_dir.mkdir()
    held = os.open(state_dir / "supervisor.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(held, fcntl.LOCK_EX)
        os.write(held, f"{os.getpid()}\n".encode())
        result = run_detach(config)
    finally:
        os.close(held)
    assert result.returncode == ALREADY_RUNNING, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == (
        f"supervisor: a supervisor is already running for {state_dir} (pid {os.getpid()})"
    )
    assert lines[1].startswith(
        "supervisor: the detached supervisor ended at its start with exit status 1"
    )


TALKER = """
[services.talker]
command = ["sh", "-c", "echo said-once; exec sleep 1000"]
start_seconds = 0
"""


def test_its_console_has_the_events_and_the_processes_output_stays_in_their_logs(
    write_config: WriteConfig, detach: Detach
):
    config = write_config(TALKER)
    state_dir = config.parent / "state"
    pid, _ = detach(config)
    assert cli(config, "wait", "--ready", "--timeout", "20").returncode == 0
    process_log = state_dir / "logs" / "talker.log"
    deadline = time.monotonic() + DEADLINE
    while "said-once" not in cli(config, "logs", "talker", "-n", "all").stdout:
        assert time.monotonic() < deadline, "talker's line never reached its log"
    assert cli(config, "shutdown").returncode == 0
    assert wait_gone(pid)
    console = (state_dir / "supervisor.log").read_text()
    assert "unit=talker from=starting to=running" in console
    assert "said-once" not in console  # one copy only, in the process's own log
    assert "said-once" in process_log.read_text()
