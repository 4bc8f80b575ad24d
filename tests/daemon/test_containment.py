"""Containment: a process that leaves its group and clears its environment still cannot escape.

Where cgroup v2 is writable each unit has a cgroup of its own, and a stop, a second SIGINT, or
the sentinel after a SIGKILL of the supervisor ends everything in it.  The process-level tests
skip, saying why, where no writable cgroup v2 is mounted.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from supervisor.control.client import ControlClient
from supervisor.daemon.cgroup import (
    CgroupStack,
    _enable_controllers,
    dir_name,
    find_mount,
    own_cgroup,
)
from supervisor.daemon.sentinel import CONTAINMENT_VARIABLE
from supervisor.testing.harness import RunningStack, RunStack, WriteConfig

# The one way out a process group and the sentinel's marker leave open: a new session and an
# empty environment.  The shell records the escapee's pid, then waits as the unit's process.
ESCAPING = """["sh", "-c", "env -i setsid sleep 1000 & echo $! > {pidfile}; {main}"]"""


@pytest.fixture(scope="module")
def cgroups_writable() -> None:
    stack = CgroupStack.create(f"supervisor-test-{uuid.uuid4().hex}")
    if stack is None:
        pytest.skip("cgroup v2 is not mounted writable here: process groups are the containment")
    stack.close()


@pytest.fixture
def escapees() -> Iterator[list[int]]:
    """Pidfds of the processes a test's services let escape; killed at teardown should the test
    have failed, since with an empty environment the suite's own leftover check cannot see
    them (a pidfd, so a reused pid is never hit)."""
    pidfds: list[int] = []
    yield pidfds
    for pidfd in pidfds:
        with contextlib.suppress(ProcessLookupError):
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
        os.close(pidfd)


def _config(write_config: WriteConfig, tmp_path: Path, main: str = "exec sleep 1000") -> Path:
    command = ESCAPING.format(pidfile=tmp_path / "escaped.pid", main=main)
    return write_config(
        f"""
        [services.escaping]
        command = {command}
        start_seconds = 0
        [services.plain]
        command = ["sleep", "1000"]
        start_seconds = 0
        """
    )


def _escaped(stack: RunningStack, tmp_path: Path, escapees: list[int]) -> int:
    """The escapee's pid, once it has left the unit's session and dropped its environment."""
    pidfile = tmp_path / "escaped.pid"
    stack.wait_until(lambda: pidfile.exists() and pidfile.read_text().strip() != "", 10, "pid")
    pid = int(pidfile.read_text())
    escapees.append(os.pidfd_open(pid))
    stack.wait_until(lambda: _session(pid) == pid, 10, "the escapee in a session of its own")
    assert Path(f"/proc/{pid}/environ").read_bytes() == b""
    return pid


def _session(pid: int) -> int | None:
    try:
        return os.getsid(pid)
    except ProcessLookupError:
        return None


def _cgroup_of(pid: int) -> str:
    text = Path(f"/proc/{pid}/cgroup").read_text()
    path = own_cgroup(text)
    assert path is not None
    return path


def _status(state_dir: Path) -> dict[str, Any]:
    with ControlClient(state_dir, timeout=10, patience=10) as client:
        reply = client.request("status", names=[])
    assert reply["ok"], reply
    return reply


def assert_ends(pid: int, timeout: float = 10.0) -> None:
    """The process ends before the deadline: its pidfd turns readable when it exits (a zombie
    waiting for its reaper counts as ended), so this waits on the kernel, not on a poll."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        readable, _, _ = select.select([fd], [], [], timeout)
    finally:
        os.close(fd)
    assert readable, f"process {pid} still running {timeout}s after it should have been killed"


# -- the pieces, pure ----------------------------------------------------------------------------


def test_the_cgroup2_mount_is_found_among_v1_mounts_and_unescaped():
    mountinfo = (
        "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
        "41 31 0:38 / /sys/fs/cgroup/un\\040ified rw,relatime - cgroup2 cgroup2 rw\n"
    )
    assert find_mount(mountinfo) == Path("/sys/fs/cgroup/un ified")
    assert find_mount("32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n") is None


def test_the_own_cgroup_is_the_v2_line():
    assert own_cgroup("4:memory:/a/b\n0::/user.slice/x.scope\n") == "/user.slice/x.scope"
    assert own_cgroup("4:memory:/a/b\n") is None


def test_unit_names_become_cgroup_names_that_cannot_be_control_files_or_paths():
    assert dir_name("cinder-volume@lvm-1") == "cinder-volume@lvm-1"
    assert dir_name("cinder-backup#2") == "cinder-backup#2"
    assert dir_name("memory.stat") == "memory%2Estat"
    assert dir_name("a/b") == "a%2Fb"


def test_a_directory_that_is_not_a_cgroup_is_not_taken_for_one(tmp_path: Path):
    mountinfo = f"41 31 0:38 / {tmp_path} rw,relatime - cgroup2 cgroup2 rw\n"
    assert CgroupStack.create("stack", mountinfo=mountinfo, proc_cgroup="0::/\n") is None
    assert list(tmp_path.iterdir()) == []  # the probe left nothing behind
    assert CgroupStack.create("stack", mountinfo="", proc_cgroup="0::/\n") is None


def test_memory_and_cpu_come_from_the_units_cgroup_files(tmp_path: Path):
    # A stand-in tree: this host's cgroup2 may offer no memory controller to try it on.
    (tmp_path / "cgroup.controllers").write_text("cpu io memory pids\n")
    (tmp_path / "cgroup.subtree_control").write_text("")
    assert _enable_controllers(tmp_path)
    assert (tmp_path / "cgroup.subtree_control").read_text() == "+memory"
    unit = CgroupStack(tmp_path, tmp_path, memory=True).unit("web#1")
    with unit.hosting():  # no cgroup.procs to write: the child would start outside, not fail
        pass
    (unit.path / "memory.current").write_text("4096\n")
    (unit.path / "cpu.stat").write_text("usage_usec 1500000\nuser_usec 1000000\n")
    assert (unit.memory(), unit.cpu()) == (4096, 1.5)
    (unit.path / "memory.current").write_text("8192\n")  # read again, not remembered
    (unit.path / "cpu.stat").write_text("usage_usec 2500000\n")
    assert (unit.memory(), unit.cpu()) == (8192, 2.5)
    assert CgroupStack(tmp_path, tmp_path, memory=False).unit("web#1").memory() is None


def test_a_units_cgroup_and_the_cgroups_it_made_are_removed_when_it_ends(
    cgroups_writable: None,
):
    stack = CgroupStack.create(f"supervisor-test-{uuid.uuid4().hex}")
    assert stack is not None
    try:
        unit = stack.unit("nested")
        with unit.hosting():  # made, as at a spawn
            pass
        (unit.path / "inner" / "deeper").mkdir(parents=True)  # a supervisor run as a service
        unit.remove()
        assert not unit.path.exists()
        unit.remove()  # gone already: nothing to do, no error
    finally:
        stack.close()


# -- real processes ------------------------------------------------------------------------------


def test_an_escapee_is_in_its_units_cgroup_and_killed_on_stop(
    cgroups_writable: None,
    write_config: WriteConfig,
    run_stack: RunStack,
    tmp_path: Path,
    escapees: list[int],
):
    stack = run_stack(_config(write_config, tmp_path))
    escapee = _escaped(stack, tmp_path, escapees)
    main = stack.wait_event(event="state", unit="escaping", to="running")["pid"]
    unit_cgroup = _cgroup_of(main)
    assert unit_cgroup.endswith("/escaping")
    assert _cgroup_of(escapee) == unit_cgroup

    status = _status(tmp_path / "state")
    assert status["containment"] == "cgroup"
    for process in status["processes"]:
        assert isinstance(process["cpu"], float)
        assert process["memory"] is None or process["memory"] > 0

    with ControlClient(tmp_path / "state", timeout=30) as client:
        assert client.request("stop", names=["escaping"], all=False)["ok"]
    assert_ends(escapee)
    stack.wait_event(event="state", unit="escaping", to="stopped")
    assert stack.stop() == 0
    # The supervisor removes its cgroups before it exits.
    assert not (_mount() / unit_cgroup.lstrip("/")).parent.exists()


def test_a_second_sigint_kills_an_escapee(
    cgroups_writable: None,
    write_config: WriteConfig,
    run_stack: RunStack,
    tmp_path: Path,
    escapees: list[int],
):
    # The unit's shell ignores SIGTERM and SIGINT, so only the second SIGINT ends the stack.
    config = _config(write_config, tmp_path, main="trap '' TERM INT; sleep 1000 & wait")
    stack = run_stack(config)
    escapee = _escaped(stack, tmp_path, escapees)
    stack.wait_event(event="state", unit="escaping", to="running")
    stack.signal(signal.SIGINT)
    stack.wait_event(event="state", unit="escaping", to="stopping")
    stack.signal(signal.SIGINT)
    assert stack.wait_exit() == 128 + signal.SIGINT
    assert_ends(escapee)


def test_an_escapee_dies_with_a_sigkilled_supervisor_and_the_cgroups_go(
    cgroups_writable: None,
    write_config: WriteConfig,
    run_stack: RunStack,
    tmp_path: Path,
    escapees: list[int],
):
    stack = run_stack(_config(write_config, tmp_path))
    escapee = _escaped(stack, tmp_path, escapees)
    stack_cgroup = (_mount() / _cgroup_of(escapee).lstrip("/")).parent
    assert stack_cgroup.name.startswith("supervisor-")
    stack.signal(signal.SIGKILL)
    stack.wait_exit()
    assert_ends(escapee)
    stack.wait_until(lambda: not stack_cgroup.exists(), 10, "the sentinel to remove the cgroups")


def test_a_supervisor_run_as_a_service_is_contained_with_all_it_made(
    cgroups_writable: None,
    write_config: WriteConfig,
    run_stack: RunStack,
    tmp_path: Path,
    escapees: list[int],
):
    inner_dir = tmp_path / "inner"
    inner_dir.mkdir()
    command = ESCAPING.format(pidfile=tmp_path / "escaped.pid", main="exec sleep 1000")
    (inner_dir / "services.toml").write_text(
        f'[supervisor]\nstate_dir = "state"\n[services.escaping]\ncommand = {command}\n'
        "start_seconds = 0\n"
    )
    inner = [sys.executable, "-m", "supervisor", "run", "-c", str(inner_dir / "services.toml")]
    stack = run_stack(
        write_config(
            f"""
            [services.inner]
            command = {json.dumps(inner)}
            start_seconds = 0
            """
        )
    )
    escapee = _escaped(stack, tmp_path, escapees)
    inner_stack = (_mount() / _cgroup_of(escapee).lstrip("/")).parent
    outer_unit = inner_stack.parent
    assert outer_unit.name == "inner" and inner_stack.name.startswith("supervisor-")
    # SIGKILL, so the inner supervisor cannot tidy up after itself: the outer one must.
    with ControlClient(tmp_path / "state", timeout=30) as client:
        assert client.request("fault", name="inner", kind="kill", arguments={})["ok"]
    assert_ends(escapee)
    stack.wait_event(event="state", unit="inner", to="backoff")
    assert stack.stop() == 0
    assert not outer_unit.parent.exists()


def test_without_cgroups_status_says_process_groups_hold_the_services(
    write_config: WriteConfig, tmp_path: Path
):
    config = write_config(
        """
        [services.plain]
        command = ["sleep", "1000"]
        start_seconds = 0
        """
    )
    stack = RunningStack(
        config, tmp_path / "state", environment={CONTAINMENT_VARIABLE: "process-group"}
    )
    try:
        main = stack.wait_event(event="state", unit="plain", to="running")["pid"]
        status = _status(tmp_path / "state")
        assert status["containment"] == "process-group"
        (process,) = status["processes"]
        assert process["memory"] is None and process["cpu"] is None
        assert not _cgroup_of(main).endswith("/plain")
        assert stack.stop() == 0
    finally:
        stack.close()


def test_spawning_through_the_units_cgroup_returns_the_supervisor_to_its_own(
    cgroups_writable: None,
):
    stack = CgroupStack.create(f"supervisor-test-{uuid.uuid4().hex}")
    assert stack is not None
    before = _cgroup_of(os.getpid())
    unit = stack.unit("one")
    try:
        with unit.hosting():
            assert _cgroup_of(os.getpid()).endswith("/one")
        assert _cgroup_of(os.getpid()) == before
        assert isinstance(unit.cpu(), float)
    finally:
        stack.close()
    assert not stack.path.exists()


def _mount() -> Path:
    mount = find_mount(Path("/proc/self/mountinfo").read_text())
    assert mount is not None
    return mount
