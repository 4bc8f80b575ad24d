"""Fixtures for the whole suite: every process a test starts carries a marker, and none may
outlive the suite; services files, stacks, inboxes, service processes, databases, a clock."""

from __future__ import annotations

import os
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from supervisor.testing.harness import RunningStack, RunStack, WriteConfig
from tests.support.databases import BACKENDS, empty_database_url
from tests.support.datagrams import Inbox
from tests.support.manualclock import ManualClock
from tests.support.serviceprocesses import Children
from tests.support.stackcli import ReadyStack, cli

MARKER = "SUPERVISOR_TEST_RUN"


def _marked_processes(marker: str) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter():
        if process.pid == os.getpid():
            continue
        try:
            if process.environ().get(MARKER) == marker:
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


@pytest.fixture(scope="session", autouse=True)
def no_process_left_behind() -> Iterator[None]:
    marker = uuid.uuid4().hex
    os.environ[MARKER] = marker  # inherited by every supervisor and service the suite starts
    yield
    # A process still on its way out (its supervisor's sentinel is killing it) is not left
    # behind; one still running after a generous deadline is.
    _, left = psutil.wait_procs(_marked_processes(marker), timeout=5)
    left = [p for p in left if _alive(p)]
    names = [_describe(p) for p in left]
    for process in left:
        process.kill()
    assert not left, f"processes outlived the test suite: {names}"


def _alive(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _describe(process: psutil.Process) -> str:
    try:
        return f"{process.pid} {' '.join(process.cmdline())}"
    except psutil.Error:
        return str(process.pid)


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[[str], Path]:
    """Write a services file; without a [supervisor] table its state goes to tmp_path/state."""

    def write(text: str) -> Path:
        text = textwrap.dedent(text)
        if "[supervisor]" not in text:
            text = '[supervisor]\nstate_dir = "state"\n\n' + text
        path = tmp_path / "services.toml"
        path.write_text(text)
        return path

    return write


@pytest.fixture
def run_stack(tmp_path: Path) -> Iterator[Callable[..., RunningStack]]:
    """Start `supervisor run` on a config written by the test; kill it at teardown if needed."""
    started: list[RunningStack] = []

    def start(config: Path, *args: str) -> RunningStack:
        stack = RunningStack(config, tmp_path / "state", *args)
        started.append(stack)
        return stack

    yield start
    for stack in started:
        stack.close()


@pytest.fixture
def ready_stack(write_config: WriteConfig, run_stack: RunStack) -> ReadyStack:
    """Start `supervisor run` on a services file of this text; return once all are ready."""

    def start(text: str) -> RunningStack:
        stack = run_stack(write_config(text))
        result = cli(stack.config, "wait", "--ready", "--timeout", "20")
        assert result.returncode == 0, result.stderr + stack.console()
        return stack

    return start


def _opened_inbox() -> Iterator[Inbox]:
    inbox = Inbox()
    yield inbox
    inbox.close()


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    """A datagram socket a test reads, e.g. a recording manager's `record_socket`."""
    yield from _opened_inbox()


@pytest.fixture
def notify() -> Iterator[Inbox]:
    """A second inbox, for a service process's NOTIFY_SOCKET."""
    yield from _opened_inbox()


@pytest.fixture
def records() -> Iterator[Inbox]:
    """A third inbox, for what a test manager records."""
    yield from _opened_inbox()


@pytest.fixture
def children(tmp_path: Path) -> Iterator[Children]:
    """Service processes started as the supervisor would; killed at teardown."""
    started = Children(tmp_path)
    yield started
    started.kill_all()


@pytest.fixture
def clock() -> ManualClock:
    """Time that moves only when the test, or a wait nothing interrupts, moves it."""
    return ManualClock()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database on each backend: SQLite, and PostgreSQL when one is reachable."""
    yield from empty_database_url(request.param, tmp_path)
