"""Operating a live stack through the control socket, with the real CLI as the client."""

from __future__ import annotations

import json
import os
import pwd
import select
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from supervisor.control.address import SOCKET_NAME
from supervisor.shared.logstamp import STAMP_BYTES
from supervisor.testing.harness import RunStack, WriteConfig
from tests.support.configtext import at
from tests.support.stackcli import SLEEPERS, ReadyStack, cli, status_of, supervisor_status


def test_every_command_says_so_when_no_supervisor_runs(write_config: WriteConfig):
    config = write_config(SLEEPERS)
    for command in (["status"], ["wait"], ["stop", "db"], ["reload"], ["logs", "db"]):
        result = cli(config, *command)
        assert result.returncode == 3, command
        assert "no supervisor is running" in result.stderr


def test_status_json_schema_and_table(ready_stack: ReadyStack):
    stack = ready_stack(SLEEPERS)
    document = json.loads(cli(stack.config, "status", "--json").stdout)
    keys = {"containment", "supervisor", "processes", "templates", "scaled", "groups"}
    assert set(document) == keys
    assert document["templates"] == []  # no service preloads
    assert document["groups"] == []  # no [groups] table
    assert document["scaled"] == {}  # no `supervisor scale`
    assert set(document["supervisor"]) == {"pid", "config", "uptime", "stopping", "waiting_clients"}
    assert document["supervisor"]["pid"] == stack.process.pid
    db = document["processes"][0]
    assert set(db) == {
        "name",
        "service",
        "state",
        "pid",
        "ready",
        "age",
        "uptime",
        "restarts",
        "last_exit",
        "cause",
        "critical",
        "autostart",
        "held",
        "heartbeat_age",
        "status_text",
        "memory",
        "cpu",
        "attached",
    }
    assert (db["name"], db["state"], db["ready"], db["last_exit"]) == ("db", "running", True, None)
    assert [p["name"] for p in document["processes"]] == ["db", "api#1", "api#2"]

    table = cli(stack.config, "status", "api").stdout.splitlines()
    assert table[0].split() == [
        "NAME",
        "STATE",
        "AGE",
        "PID",
        "UPTIME",
        "RESTARTS",
        "LAST",
        "EXIT",
        "READY",
        "HEARTBEAT",
        "CPU",
        "MEMORY",
        "CAUSE",
    ]
    assert [line.split()[:2] for line in table[1:]] == [["api#1", "running"], ["api#2", "running"]]
    assert "\x1b[" not in "\n".join(table), "no colour when stdout is not a terminal"


def test_unknown_names_list_the_known_ones(ready_stack: ReadyStack):
    stack = ready_stack(SLEEPERS)
    result = cli(stack.config, "stop", "nope")
    assert result.returncode == 1
    assert "unknown name 'nope'; services: db, api; processes: db, api#1, api#2" in result.stderr


def test_stop_start_restart_by_service_and_by_process(ready_stack: ReadyStack):
    stack = ready_stack(SLEEPERS)
    before = status_of(stack.config)

    assert cli(stack.config, "stop", "api").returncode == 0
    stopped = status_of(stack.config)
    assert [stopped[n]["state"] for n in ("db", "api#1", "api#2")] == [
        "running",
        "stopped",
        "stopped",
    ]
    assert stopped["api#1"]["cause"] == "stopped cleanly: killed by SIGTERM"
    assert stack.process.poll() is None, "an operator's stop never ends the group"

    assert cli(stack.config, "start", "api#2").returncode == 0
    assert status_of(stack.config, "api#2")["api#2"]["state"] == "running"

    assert cli(stack.config, "restart", "db").returncode == 0
    after = status_of(stack.config)
    assert after["db"]["pid"] != before["db"]["pid"]
    assert after["db"]["state"] == "running"
    assert stack.wait_event(event="state", unit="db", cause="restarted by operator")

    assert cli(stack.config, "stop", "--all").returncode == 0
    assert {p["state"] for p in status_of(stack.config).values()} == {"stopped"}
    assert stack.process.poll() is None
    assert cli(stack.config, "start", "--all").returncode == 0
    assert {p["state"] for p in status_of(stack.config).values()} == {"running"}


def test_wait_conditions_timeout_and_early_failure(write_config: WriteConfig, run_stack: RunStack):
    stack = run_stack(
        write_config(
            SLEEPERS
            + """
            [services.slow]
            command = ["sleep", "1000"]
            notify = true

            [services.broken]
            command = ["sh", "-c", "exit 4"]
            restart = { backoff = { initial = 0.05 }, start_limit = { burst = 2 } }
            """
        )
    )
    assert cli(stack.config, "wait", "--ready", "db", "api", "--timeout", "20").returncode == 0
    timed_out = cli(stack.config, "wait", "--ready", "slow", "--timeout", "0.3")
    assert timed_out.returncode == 124
    failed = cli(stack.config, "wait", "--ready", "--timeout", "20")
    assert failed.returncode == 1
    assert "broken is fatal" in failed.stderr

    assert cli(stack.config, "stop", "api", "--no-block").returncode == 0
    assert cli(stack.config, "wait", "--stopped", "api", "--timeout", "20").returncode == 0

    waiter = subprocess.Popen(
        [sys.executable, "-m", "supervisor", "wait", "--exit", "-c", str(stack.config)],
        stderr=subprocess.PIPE,
        text=True,
    )
    stack.wait_until(
        lambda: supervisor_status(stack.config)["waiting_clients"] == 1, 20, "the waiter"
    )
    assert cli(stack.config, "shutdown").returncode == 0
    assert waiter.wait(timeout=20) == 4, waiter.stderr
    assert stack.wait_exit() == 4


def test_dependencies_start_after_ready_and_stop_before(ready_stack: ReadyStack):
    stack = ready_stack(SLEEPERS.replace("start_seconds = 0", "start_seconds = 0.2", 1))
    events = [(e["unit"], e["to"]) for e in stack.select(event="state")]
    assert events.index(("db", "running")) < events.index(("api#1", "starting"))
    assert stack.select(event="state", unit="api#1")[0]["to"] == "waiting"
    assert stack.stop() == 0
    events = [(e["unit"], e["to"]) for e in stack.select(event="state")]
    assert events.index(("api#2", "exited")) < events.index(("db", "stopping"))


def test_a_failed_dependency_leaves_its_dependents_blocked(
    write_config: WriteConfig, run_stack: RunStack
):
    stack = run_stack(
        write_config(
            """
            [services.db]
            command = ["sh", "-c", "exit 6"]
            restart.policy = "never"

            [services.api]
            command = ["sleep", "1000"]
            depends_on = ["db"]
            """
        )
    )
    assert stack.wait_exit() == 6
    assert [e["to"] for e in stack.select(event="state", unit="api")] == ["waiting", "blocked"]
    blocked = stack.wait_event(event="state", unit="api", to="blocked")
    assert blocked["cause"] == "dependency db failed for good"


CYCLE_START = 'depends_on = ["b"]'


def test_check_rejects_cycles_and_unknown_dependencies(write_config: WriteConfig):
    config = write_config(
        """
        [services.a]
        command = ["true"]
        depends_on = ["b"]
        [services.b]
        command = ["true"]
        depends_on = ["a", "ghost"]
        """
    )
    result = cli(config, "check")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{at(config, CYCLE_START)}: services.a.depends_on: dependency cycle: a -> b -> a",
        f"{at(config, 'ghost')}: services.b.depends_on = 'ghost': no such service; known: a, b",
    ]


def test_reload_adds_removes_changes_and_keeps_untouched_pids(
    write_config: WriteConfig, ready_stack: ReadyStack
):
    stack = ready_stack(SLEEPERS + '[services.old]\ncommand = "sleep 999"\n')
    before = status_of(stack.config)
    write_config(
        SLEEPERS.replace("workers = 2", 'workers = 2\nenv = { CHANGED = "1" }')
        + '[services.new]\ncommand = "sleep 998"\nstart_seconds = 0\n'
    )
    result = cli(stack.config, "reload")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:4] == [
        "added      new",
        "removed    old",
        "changed    api#1, api#2",
        "unchanged  db",
    ]
    assert cli(stack.config, "wait", "--ready", "--timeout", "20").returncode == 0
    after = status_of(stack.config)
    assert set(after) == {"db", "api#1", "api#2", "new"}
    assert after["db"]["pid"] == before["db"]["pid"]
    assert after["api#1"]["pid"] != before["api#1"]["pid"]
    assert stack.wait_event(event="state", unit="old", to="exited")


def test_a_reloaded_service_still_waiting_for_its_dependencies_keeps_waiting(
    write_config: WriteConfig, run_stack: RunStack, tmp_path
):
    flag = tmp_path / "db-ready"
    text = f"""
[services.db]
command = "sleep 1000"
[services.db.readiness]
exec = ["test", "-f", "{flag}"]
period = 0.05
[services.api]
command = "sleep 1000"
start_seconds = 0
depends_on = ["db"]
"""
    stack = run_stack(write_config(text))
    stack.wait_event(event="state", unit="api", to="waiting")
    write_config(text.replace('depends_on = ["db"]', 'depends_on = ["db"]\nenv = { NEW = "1" }'))
    result = cli(stack.config, "reload")
    assert result.returncode == 0, result.stderr
    assert "changed    api" in result.stdout
    # The reload is applied before its reply: a start it caused would show now.
    assert status_of(stack.config)["api"]["state"] == "waiting"
    flag.touch()
    running = stack.wait_event(event="state", unit="api", to="running")
    environ = Path(f"/proc/{running['pid']}/environ").read_bytes().split(b"\0")
    assert b"NEW=1" in environ  # started with the reloaded plan


def test_a_broken_reload_changes_nothing(write_config: WriteConfig, ready_stack: ReadyStack):
    stack = ready_stack(SLEEPERS)
    before = status_of(stack.config)
    write_config(SLEEPERS.replace("start_seconds = 0", 'start_seconds = "soon"', 1))
    result = cli(stack.config, "reload")
    assert result.returncode == 2
    assert "reload rejected, nothing changed" in result.stderr
    assert "services.db.start_seconds = 'soon': expected a number" in result.stderr
    assert stack.wait_event(event="reload", action="rejected")
    after = status_of(stack.config)
    assert {n: p["pid"] for n, p in after.items()} == {n: p["pid"] for n, p in before.items()}
    assert {p["state"] for p in after.values()} == {"running"}


def test_the_socket_is_private_to_its_user(ready_stack: ReadyStack):
    stack = ready_stack(SLEEPERS)
    path = stack.config.parent / "state" / SOCKET_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    if os.getuid() != 0:
        pytest.skip("needs root to act as a second user")
    nobody = pwd.getpwnam("nobody").pw_uid
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the forked child
        os.close(reader)
        os.setuid(nobody)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(str(path))
            outcome = b"connected"
        except PermissionError:
            outcome = b"refused"
        os.write(writer, outcome)
        os._exit(0)
    os.close(writer)
    with os.fdopen(reader, "rb") as answer:
        assert answer.read() == b"refused"
    os.waitpid(child, 0)


class LineReader:
    """Whole lines from a pipe, each read bounded by a deadline."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._buffer = b""

    def read(self, count: int, timeout: float = 20.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while self._buffer.count(b"\n") < count:
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([self._fd], [], [], max(remaining, 0))
            if not ready:
                raise AssertionError(f"only {self._buffer!r} within {timeout}s")
            chunk = os.read(self._fd, 65536)
            if not chunk:
                raise AssertionError(f"the stream ended after {self._buffer!r}")
            self._buffer += chunk
        *lines, self._buffer = self._buffer.split(b"\n", count)
        return [line.decode() for line in lines]


TALKER = """
[services.talker]
command = ["sh", "-c", "for i in $(seq 1 30); do echo line $i; done; exec sleep 1000"]
start_seconds = 0
log_max_bytes = 1000
log_backups = 2
"""


def unstamped(lines: list[str]) -> list[str]:
    """Log lines without the timestamp each starts with."""
    return [line[STAMP_BYTES:] for line in lines]


def test_logs_are_rotated_tailed_and_followed_across_restarts(ready_stack: ReadyStack):
    stack = ready_stack(TALKER)
    logs = stack.config.parent / "state" / "logs"
    stack.wait_until(lambda: "line 30" in (logs / "talker.log").read_text(), 20, "line 30")
    assert sorted(p.name for p in logs.iterdir()) == ["talker.log", "talker.log.1"]
    tail = cli(stack.config, "logs", "talker", "-n", "3")
    assert unstamped(tail.stdout.splitlines()) == ["line 28", "line 29", "line 30"]
    assert "talker | line 1\n" in stack.console()

    follower = subprocess.Popen(
        [sys.executable, "-m", "supervisor", "logs", "talker", "-f", "-n", "1"],
        cwd=stack.config.parent,
        stdout=subprocess.PIPE,
    )
    try:
        assert follower.stdout is not None
        lines = LineReader(follower.stdout.fileno())
        assert unstamped(lines.read(1)) == ["line 30"]
        assert cli(stack.config, "restart", "talker").returncode == 0
        # The second run rotates the file again; following loses nothing and keeps order.
        assert unstamped(lines.read(30)) == [f"line {n}" for n in range(1, 31)]
    finally:
        follower.kill()
        follower.wait()
    assert sorted(p.name for p in logs.iterdir()) == [
        "talker.log",
        "talker.log.1",
        "talker.log.2",
    ]


def test_a_second_supervisor_on_the_same_state_refuses_to_start(ready_stack: ReadyStack):
    stack = ready_stack(SLEEPERS)
    before = status_of(stack.config)
    second = subprocess.run(
        [sys.executable, "-m", "supervisor", "run", "-c", str(stack.config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode == 1
    assert "a supervisor is already running for" in second.stderr
    after = status_of(stack.config)
    assert {n: (p["pid"], p["state"]) for n, p in after.items()} == {
        n: (p["pid"], p["state"]) for n, p in before.items()
    }


def test_a_socket_left_by_a_killed_supervisor_is_taken_over(ready_stack: ReadyStack):
    first = ready_stack(SLEEPERS)
    first.signal(signal.SIGKILL)
    first.wait_exit()
    assert (first.config.parent / "state" / SOCKET_NAME).exists()
    second = ready_stack(SLEEPERS)
    assert supervisor_status(second.config)["pid"] == second.process.pid
    assert second.stop() == 0
