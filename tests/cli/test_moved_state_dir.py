"""A `state_dir` edited under a running stack: the client finds the supervisor of the same file
where it runs, through the per-user record of which state directory each supervisor runs with
(`control.registry`), and says in one line that state_dir cannot change while it runs."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from supervisor.control import registry
from supervisor.control.address import LOCK_NAME
from supervisor.testing.harness import RunningStack, WriteConfig
from tests.support.stackcli import SLEEPERS


@pytest.fixture
def runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The records' directory, in a runtime directory of the test's own."""
    xdg = tmp_path / "xdg"
    xdg.mkdir(mode=0o700)
    monkeypatch.setenv(registry.RUNTIME_VARIABLE, str(xdg))
    return xdg / "cinder-stack-supervisor"


@pytest.fixture
def recording_stack(
    write_config: WriteConfig, tmp_path: Path, runtime: Path
) -> Iterator[RunningStack]:
    config = write_config(SLEEPERS)
    stack = RunningStack(
        config,
        tmp_path / "state",
        environment={registry.RUNTIME_VARIABLE: str(runtime.parent)},
    )
    try:
        ready = supervisor(config, "wait", "--ready", "--timeout", "20")
        assert ready.returncode == 0, ready.stderr + stack.console()
        yield stack
    finally:
        stack.close()


def supervisor(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "supervisor", *args, "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
        env=dict(os.environ),  # with the test's XDG_RUNTIME_DIR
    )


def test_an_edited_state_dir_still_reaches_the_running_supervisor_and_says_why(
    recording_stack: RunningStack, tmp_path: Path, runtime: Path
):
    config = recording_stack.config
    config.write_text(config.read_text().replace('state_dir = "state"', 'state_dir = "moved"'))
    line = (
        f"supervisor: no supervisor at {tmp_path / 'moved'}; the supervisor of this file"
        f" (pid {recording_stack.process.pid}) runs with state_dir {tmp_path / 'state'}, and"
        " state_dir cannot change while it runs (restore it in the file, or shut that"
        " supervisor down and run again): asking it\n"
    )
    status = supervisor(config, "status", "--json")
    assert status.returncode == 0 and status.stderr == line
    assert '"name": "api#2"' in status.stdout
    stop = supervisor(config, "stop", "db")
    assert (stop.returncode, stop.stderr, stop.stdout) == (0, line, "stop: db\n")
    reload = supervisor(config, "reload")  # the running one refuses the change itself
    assert reload.returncode == 2  # as `check` refuses an invalid file
    assert "state_dir cannot change while the supervisor runs" in reload.stderr

    assert supervisor(config, "shutdown").returncode == 0
    recording_stack.wait_exit()
    assert list(runtime.iterdir()) == []  # removed at exit
    gone = supervisor(config, "status")
    assert gone.returncode == 3
    assert gone.stderr == f"supervisor: no supervisor is running for {tmp_path / 'moved'}\n"


def test_an_unchanged_state_dir_says_nothing_more(recording_stack: RunningStack):
    status = supervisor(recording_stack.config, "status")
    assert status.returncode == 0 and status.stderr == ""


# -- the record itself ----------------------------------------------------------------------------


def _hold_lock(state_dir: Path, pid: int) -> None:
    state_dir.mkdir(exist_ok=True)
    (state_dir / LOCK_NAME).write_text(f"{pid}\n")


def test_a_record_is_believed_only_while_its_pid_holds_the_lock_it_names(
    tmp_path: Path, runtime: Path
):
    config = tmp_path / "services.toml"
    config.write_text("")
    old, new = tmp_path / "old", tmp_path / "new"
    registration = registry.record(config, old)
    assert registration.path is not None
    assert registry.running_supervisors(config) == []  # no lock names this process yet
    _hold_lock(old, os.getpid())
    assert registry.running_supervisors(config) == [registry.Record(config, old, os.getpid())]
    state_dir, line = registry.where_it_runs(config, new)
    assert state_dir == old and line is not None and line.startswith(f"no supervisor at {new};")
    assert registry.where_it_runs(config, old) == (old, None)
    # Another file's client never reads it.
    assert registry.running_supervisors(tmp_path / "other.toml") == []
    _hold_lock(new, os.getpid())  # something holds the file's own state_dir: that one is asked
    assert registry.where_it_runs(config, new) == (new, None)
    registration.close()
    assert list(runtime.iterdir()) == []


def test_records_of_dead_supervisors_are_ignored_and_then_removed(tmp_path: Path, runtime: Path):
    config = tmp_path / "services.toml"
    config.write_text("")
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    pid = int(dead.stdout)  # a pid that has exited (reused only after the whole pid space)
    registration = registry.record(config, tmp_path / "old")
    assert registration.path is not None
    stale = registration.path.with_name(registration.path.name.replace(str(os.getpid()), str(pid)))
    registration.path.rename(stale)
    _hold_lock(tmp_path / "old", pid)
    assert registry.running_supervisors(config) == []
    assert registry.where_it_runs(config, tmp_path / "new") == (tmp_path / "new", None)
    fresh = registry.record(config, tmp_path / "old")
    assert fresh.path is not None and not stale.exists()
    fresh.close()


def test_no_record_in_a_directory_another_user_could_write(tmp_path: Path, runtime: Path):
    assert registry.runtime_directory(create=True) == runtime
    assert (runtime.stat().st_mode & 0o777) == 0o700
    runtime.chmod(0o777)
    assert registry.runtime_directory() is None
    assert registry.record(tmp_path / "services.toml", tmp_path / "state").path is None
    runtime.chmod(0o700)
    runtime.rename(tmp_path / "elsewhere")
    runtime.symlink_to(tmp_path / "elsewhere")  # a link is not this user's own directory
    assert registry.runtime_directory(create=True) is None
    assert registry.record(tmp_path / "services.toml", tmp_path / "state").path is None
