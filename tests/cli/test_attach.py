"""`supervisor attach NAME` in a real terminal (tmux): a manager stops at its `breakpoint()`
while its siblings and dependants run on, and the supervisor runs it again as its own child
once its run in the terminal ends, however it ends."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from supervisor.control.client import ControlClient
from supervisor.testing.harness import RunningStack
from tests.support.configtext import OPTIONS
from tests.support.serviceprocesses import FIXTURE_MANAGERS_PATH
from tests.support.stackcli import ReadyStack, cli

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")

DEBUGGED = "cinder-debugged"
STACK = (
    OPTIONS
    + f"""
periodic_interval = 0
report_interval = 0.2

[services.{DEBUGGED}]
manager = "fixtures_managers.debugged.DebuggedManager"
env = {{ PYTHONPATH = "{FIXTURE_MANAGERS_PATH}" }}

[services.sibling]
command = ["sleep", "1000"]
start_seconds = 0

[services.dependant]
command = ["sleep", "1000"]
start_seconds = 0
depends_on = ["{DEBUGGED}"]
"""
)


class Terminal:
    """One tmux pane on a server of its own (so no other tmux user is touched)."""

    def __init__(self, command: list[str]) -> None:
        self.socket = f"attach-test-{uuid.uuid4().hex[:8]}"
        line = f"{shlex.join(command)}; echo EXIT=$?"
        self._tmux(
            "-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", "120", "-y", "40",
            "sh", "-c", line, ";", "set-option", "-t", "t", "remain-on-exit", "on",
        )  # fmt: skip

    def _tmux(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=10
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-J", "-S", "-200", "-t", "t")

    def keys(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", "t", *keys)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


@pytest.fixture
def terminals() -> Iterator[list[Terminal]]:
    opened: list[Terminal] = []
    yield opened
    for terminal in opened:
        terminal.close()


def _attach_in_terminal(stack: RunningStack, terminals: list[Terminal]) -> Terminal:
    command = [sys.executable, "-m", "supervisor", "attach", DEBUGGED, "-c", str(stack.config)]
    terminal = Terminal(command)
    terminals.append(terminal)
    return terminal


def _shows(stack: RunningStack, terminal: Terminal, text: str, count: int = 1) -> str:
    return stack.wait_until(
        lambda: (screen := terminal.screen()).count(text) >= count and screen,
        30,
        f"the terminal to show {text!r} {count} time(s)",
    )


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()


def _parent(pid: int) -> int:
    return int(_stat(pid)[1])


def _gone(pid: int) -> bool:
    """Ended: no such process, or a zombie nobody has reaped yet (the reaper is init's)."""
    try:
        return _stat(pid)[0] == "Z"
    except FileNotFoundError:
        return True


def _status(stack: RunningStack) -> dict[str, dict]:
    """`status --json` by process name (its exit status says whether all run: not asked)."""
    document = json.loads(cli(stack.config, "status", "--json").stdout)
    return {process["name"]: process for process in document["processes"]}


def _pids(stack: RunningStack) -> dict[str, int | None]:
    return {name: process["pid"] for name, process in _status(stack).items()}


def _attached_pid(stack: RunningStack) -> int:
    """Once the terminal runs it: the pid of the attached process, as `status` says."""
    event = stack.wait_event(event="attach", action="start", unit=DEBUGGED)
    return event["pid"]


def _running_again(stack: RunningStack) -> int:
    """The supervisor's own run of the process after its run in the terminal: its pid, once
    it is running (READY=1)."""
    started = stack.wait_until(
        lambda: next(
            (e for e in stack.select(event="state", unit=DEBUGGED, to="starting")
             if e["cause"].startswith("taken back from the terminal")),
            None,
        ),
        30,
        f"{DEBUGGED} to be taken back",
    )  # fmt: skip
    stack.wait_event(event="state", unit=DEBUGGED, to="running", pid=started["pid"])
    return started["pid"]


def _supervisor_pid(stack: RunningStack) -> int:
    return stack.wait_event(event="supervisor", action="start")["pid"]


def test_attach_stops_at_the_breakpoint_siblings_run_on_and_it_is_taken_back(
    ready_stack: ReadyStack, terminals: list[Terminal]
):
    stack = ready_stack(STACK)
    before = _pids(stack)
    terminal = _attach_in_terminal(stack, terminals)
    screen = _shows(stack, terminal, "(Pdb)")
    attached = _attached_pid(stack)

    process = _status(stack)[DEBUGGED]
    assert (process["state"], process["held"], process["pid"]) == ("stopped", True, None)
    assert process["cause"] == f"attached to a terminal (pid {attached})"
    assert process["attached"] == {"pid": attached, "ready": False}
    # Its run's own spec: the process reads its name from what the supervisor gives it
    # (SUPERVISOR_PROCESS, the service spec), its NOTIFY_SOCKET below; the terminal is stdin.
    assert f"topic={DEBUGGED} host=node1 process={DEBUGGED}" in screen
    assert os.readlink(f"/proc/{attached}/fd/0").startswith("/dev/pts/")
    if json.loads(cli(stack.config, "status", "--json").stdout)["containment"] == "cgroup":
        cgroup = Path(f"/proc/{attached}/cgroup").read_text().splitlines()
        assert any(line.startswith("0::/") and line.endswith(f"/{DEBUGGED}") for line in cgroup)
    # Its sibling and its dependant were left alone.
    now = _pids(stack)
    assert now["sibling"] == before["sibling"] and now["dependant"] == before["dependant"]

    refused = cli(stack.config, "start", DEBUGGED, "--no-block")
    assert refused.returncode == 1 and "attached to a terminal" in refused.stderr

    terminal.keys("continue", "Enter")
    _shows(stack, terminal, "init_host goes on past the breakpoint")
    stack.wait_event(event="notify", unit=DEBUGGED, pid=attached, READY="1")
    assert _status(stack)[DEBUGGED]["attached"] == {
        "pid": attached,
        "ready": True,
    }

    os.kill(attached, signal.SIGTERM)  # it ends as a service does
    screen = _shows(stack, terminal, "EXIT=")
    assert "EXIT=0" in screen, screen
    again = _running_again(stack)
    assert again != attached
    assert _parent(again) == _supervisor_pid(stack)  # the supervisor's own child again
    process = _status(stack)[DEBUGGED]
    assert (process["state"], process["pid"], process["attached"]) == ("running", again, None)
    assert f"the supervisor has it again (pid {again})" in screen
    now = _pids(stack)
    assert now["sibling"] == before["sibling"] and now["dependant"] == before["dependant"]
    assert stack.stop() == 0


def test_quitting_the_debugger_with_ctrl_d_hands_it_back(
    ready_stack: ReadyStack, terminals: list[Terminal]
):
    stack = ready_stack(STACK)
    terminal = _attach_in_terminal(stack, terminals)
    _shows(stack, terminal, "(Pdb)")
    attached = _attached_pid(stack)
    terminal.keys("C-d")  # EOF at the prompt: pdb quits, and the process with it
    screen = _shows(stack, terminal, "EXIT=")
    assert "BdbQuit" in screen and "EXIT=0" not in screen
    ended = stack.wait_event(event="attach", action="end", unit=DEBUGGED)
    assert ended["pid"] == attached and ended["exit_status"] != 0
    again = _running_again(stack)
    assert _parent(again) == _supervisor_pid(stack)
    assert stack.stop() == 0


def test_a_killed_attach_client_hands_it_back_and_its_process_dies_with_it(
    ready_stack: ReadyStack, terminals: list[Terminal]
):
    stack = ready_stack(STACK)
    before = _pids(stack)
    terminal = _attach_in_terminal(stack, terminals)
    _shows(stack, terminal, "(Pdb)")
    attached = _attached_pid(stack)
    client = _parent(attached)
    os.kill(client, signal.SIGKILL)
    _shows(stack, terminal, "EXIT=137")
    ended = stack.wait_event(event="attach", action="end", unit=DEBUGGED)
    assert ended["cause"] == "the attach client went away"
    again = _running_again(stack)
    assert _gone(attached)  # never two runs at once
    assert _parent(again) == _supervisor_pid(stack)
    assert _pids(stack)["sibling"] == before["sibling"]
    assert stack.stop() == 0


def test_attach_refuses_what_it_cannot_lend(ready_stack: ReadyStack):
    stack = ready_stack(
        """
        [services.migrate]
        command = ["true"]
        oneshot = true
        restart = { policy = "never" }

        [services.api]
        command = ["sleep", "1000"]
        workers = 2
        start_seconds = 0
        """
    )
    unknown = cli(stack.config, "attach", "nope")
    assert unknown.returncode == 1
    assert "unknown name 'nope'" in unknown.stderr

    done = cli(stack.config, "attach", "migrate")
    assert done.returncode == 1
    assert "migrate is a one-shot that has done its work" in done.stderr

    several = cli(stack.config, "attach", "api")
    assert several.returncode == 1
    assert "attach takes one process; api has several: api#1, api#2" in several.stderr

    raw = json.loads(cli(stack.config, "status", "--json").stdout)
    assert all(process["attached"] is None for process in raw["processes"])

    # The requests behind it, checked at the edge; only the attaching connection may follow up.
    with ControlClient(stack.config.parent / "state", timeout=10) as client:
        for request, error in (
            ({}, "bad request: 'attach' needs the name of one process"),
            ({"name": "api#1", "pid": 0}, "bad request: pid = 0: expected a whole number"),
            ({"name": "api#1", "exit_status": 300}, "bad request: exit_status = 300"),
        ):
            command = "attached" if "pid" in request else "detach" if request else "attach"
            reply = client.request(command, **request)
            assert not reply["ok"] and reply["error"].startswith(error), reply
        reply = client.request("detach", name="api#1")
        assert reply == {
            "ok": False,
            "error": "api#1 is not attached to a terminal through this connection",
        }
        reply = client.request("attached", name="api#1", pid=os.getpid())
        assert not reply["ok"] and "not attached to a terminal" in reply["error"]
    assert _status(stack)["api#1"]["state"] == "running"
    assert stack.stop() == 0


def test_a_preloaded_manager_runs_exec_d_in_the_terminal_and_is_forked_again_after(
    ready_stack: ReadyStack, terminals: list[Terminal]
):
    stack = ready_stack(
        STACK.replace(f"[services.{DEBUGGED}]\n", f"[services.{DEBUGGED}]\npreload = true\n")
    )
    template = stack.wait_event(event="preload", action="ready")["pid"]
    terminal = _attach_in_terminal(stack, terminals)
    _shows(stack, terminal, "(Pdb)")
    attached = _attached_pid(stack)
    # Exec'd by the attach command (its child), not forked from the template.
    assert _parent(attached) != template
    assert "attach" in Path(f"/proc/{_parent(attached)}/cmdline").read_text().split("\0")
    assert not stack.select(event="preload", action="forked", pid=attached)
    terminal.keys("continue", "Enter")
    stack.wait_event(event="notify", unit=DEBUGGED, pid=attached, READY="1")
    os.kill(attached, signal.SIGTERM)
    again = _running_again(stack)
    stack.wait_event(event="preload", action="forked", pid=again)  # from its template again
    assert _parent(again) == _supervisor_pid(stack)
    assert stack.stop() == 0


def test_a_shutdown_while_attached_stops_the_process_in_the_terminal_too(
    ready_stack: ReadyStack, terminals: list[Terminal]
):
    # At a (Pdb) prompt the runtime's SIGTERM handler only sets a flag: SIGKILL follows.
    stack = ready_stack(
        STACK.replace(f"[services.{DEBUGGED}]\n", f"[services.{DEBUGGED}]\nstop_timeout = 1\n")
    )
    terminal = _attach_in_terminal(stack, terminals)
    _shows(stack, terminal, "(Pdb)")
    attached = _attached_pid(stack)
    result = cli(stack.config, "shutdown")
    assert result.returncode == 0, result.stderr
    assert stack.wait_exit() == 0
    screen = _shows(stack, terminal, "EXIT=")
    assert "EXIT=3" in screen and "the supervisor went away" in screen, screen
    assert _gone(attached)


def test_a_client_gone_before_the_stop_is_done_still_gets_it_started_again(
    ready_stack: ReadyStack,
):
    # A second's stop: the attach client is killed while it waits for the spec.
    stack = ready_stack(
        """
        [services.stubborn]
        command = ["sh", "-c", "trap 'sleep 1; exit 0' TERM; sleep 1000 & wait"]
        start_seconds = 0
        """
    )
    first = _pids(stack)["stubborn"]
    command = [sys.executable, "-m", "supervisor", "attach", "stubborn", "-c", str(stack.config)]
    client = subprocess.Popen(command, stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        stack.wait_event(event="state", unit="stubborn", to="stopping")
    finally:
        client.kill()
        client.wait()
    cause = "taken back from the terminal (the attach client went away)"
    started = stack.wait_event(event="state", unit="stubborn", to="starting", cause=cause)
    assert started["pid"] != first
    assert _parent(started["pid"]) == _supervisor_pid(stack)
    assert stack.stop() == 0
