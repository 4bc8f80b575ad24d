"""The state directory: one supervisor per directory for certain, and what an operator removes
from it while the stack runs comes back."""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import psutil

from supervisor.control.address import SOCKET_NAME
from supervisor.daemon.events import EVENTS_FILE
from supervisor.daemon.statelock import LOCK_NAME
from supervisor.testing.harness import RunningStack, WriteConfig
from tests.support.stackcli import SLEEPERS, ReadyStack, cli, status_of

DEADLINE = 20.0
TALKER = """
[services.talker]
command = ["sh", "-c", "echo hello; exec sleep 1000"]
start_seconds = 0
"""


def events_in(path: Path) -> list[dict]:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in text.splitlines() if line.endswith("}")]


def wait_for_event(stack: RunningStack, path: Path, **fields: object) -> dict:
    """The first event with these fields in the file at `path`, which may be re-created (the
    harness's reader keeps an offset into the old file, so it cannot follow)."""
    found: list[dict] = []

    def seen() -> bool:
        found[:] = [e for e in events_in(path) if all(e.get(k) == v for k, v in fields.items())]
        return bool(found)

    stack.wait_until(seen, DEADLINE, f"an event with {fields} in {path}")
    return found[0]


def pids(config: Path) -> dict[str, int]:
    return {name: process["pid"] for name, process in status_of(config).items()}


def test_two_supervisors_started_at_once_run_one_stack(write_config: WriteConfig, tmp_path: Path):
    config = write_config(SLEEPERS)
    command = [sys.executable, "-m", "supervisor", "run", "-c", str(config)]
    consoles = [tmp_path / f"console-{n}.log" for n in range(2)]
    runs = []
    for console in consoles:
        with console.open("w") as output:
            runs.append(subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT))
    finished: queue.Queue[int] = queue.Queue()
    for index, run in enumerate(runs):
        threading.Thread(target=lambda i=index, r=run: (r.wait(), finished.put(i))).start()
    try:
        # One refuses at once, the other runs until told to stop.
        refused = finished.get(timeout=DEADLINE)
        assert runs[refused].returncode == 1
        assert "a supervisor is already running for" in consoles[refused].read_text()
        winner = runs[1 - refused]
        assert cli(config, "wait", "--ready", "--timeout", "20").returncode == 0
        assert (tmp_path / "state" / LOCK_NAME).read_text() == f"{winner.pid}\n"
        commands = [" ".join(p.cmdline()) for p in psutil.Process(winner.pid).children()]
        assert len([c for c in commands if c.startswith("sleep")]) == 3, "one copy of the stack"
        assert cli(config, "shutdown").returncode == 0
        assert finished.get(timeout=DEADLINE) == 1 - refused
        assert winner.returncode == 0
    finally:
        for run in runs:
            if run.poll() is None:
                run.kill()
            run.wait()
    assert not (tmp_path / "state" / LOCK_NAME).exists(), "an orderly exit removes the lock"


def test_a_removed_event_log_is_recreated_and_says_so(ready_stack: ReadyStack):
    stack = ready_stack(SLEEPERS)
    log = stack.config.parent / "state" / EVENTS_FILE
    log.unlink()
    # The periodic check puts it back even when nothing else happens.
    first = wait_for_event(stack, log, event="state_dir", file=EVENTS_FILE)
    assert first == events_in(log)[0]
    assert (first["action"], first["cause"]) == ("recreated", "removed while running")
    assert cli(stack.config, "restart", "db").returncode == 0
    assert wait_for_event(stack, log, event="state", unit="db", cause="restarted by operator")


def test_a_removed_socket_is_recreated(ready_stack: ReadyStack):
    stack = ready_stack(SLEEPERS)
    before = pids(stack.config)
    (stack.config.parent / "state" / SOCKET_NAME).unlink()
    # The client waits for the socket of a supervisor whose lock names a live process.
    assert pids(stack.config) == before
    log = stack.config.parent / "state" / EVENTS_FILE
    assert wait_for_event(stack, log, event="state_dir", action="recreated", file=SOCKET_NAME)


def test_a_removed_state_dir_is_rebuilt_and_still_guarded(ready_stack: ReadyStack):
    stack = ready_stack(SLEEPERS + TALKER)
    before = pids(stack.config)
    state = stack.config.parent / "state"
    shutil.rmtree(state)

    stack.wait_until(lambda: cli(stack.config, "status").returncode == 0, DEADLINE, "status")
    assert pids(stack.config) == before, "the stack ran on untouched"
    log = state / EVENTS_FILE
    for name in (EVENTS_FILE, LOCK_NAME, SOCKET_NAME, "logs"):
        assert wait_for_event(stack, log, event="state_dir", action="recreated", file=name)
    assert (state / LOCK_NAME).read_text() == f"{stack.process.pid}\n"

    second = subprocess.run(
        [sys.executable, "-m", "supervisor", "run", "-c", str(stack.config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode == 1
    assert "a supervisor is already running for" in second.stderr
    assert pids(stack.config) == before

    # A process's log goes on in a new file rather than into the removed one.
    assert cli(stack.config, "restart", "talker").returncode == 0
    talker_log = state / "logs" / "talker.log"
    stack.wait_until(
        lambda: talker_log.exists() and "hello" in talker_log.read_text(), DEADLINE, "the log"
    )
    assert stack.stop() == 0
    group_exit = wait_for_event(stack, log, event="group", action="exit")
    assert group_exit["status"] == 0
