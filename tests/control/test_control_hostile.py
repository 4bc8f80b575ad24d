"""Clients that misbehave, on purpose or not, against a real supervisor: wrong types, over-long
lines, too many connections, and a supervisor that vanishes mid-reply under the CLI."""

from __future__ import annotations

import json
import os
import resource
import signal
import socket
import struct
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from supervisor.control.address import SOCKET_NAME
from supervisor.control.server import MAX_REQUEST
from supervisor.testing.harness import RunningStack, RunStack, WriteConfig
from tests.support.controlserver import read_to_end
from tests.support.stackcli import SLEEPERS, ReadyStack, cli, status_of, supervisor_status


def control_socket(stack: RunningStack) -> Path:
    return stack.config.parent / "state" / SOCKET_NAME


def connect(stack: RunningStack, timeout: float = 20.0) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.connect(str(control_socket(stack)))
    return sock


def exchange(stack: RunningStack, payload: bytes) -> list[dict]:
    """Send raw bytes, say we are done, and return every reply line."""
    with connect(stack) as sock:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        answer = read_to_end(sock)
    assert answer.endswith(b"\n") or not answer, answer
    return [json.loads(line) for line in answer.splitlines()]


def ask(stack: RunningStack, request: object) -> dict:
    (reply,) = exchange(stack, json.dumps(request).encode() + b"\n")
    return reply


HOSTILE_REQUESTS = [
    ({"command": "status", "names": 5}, "names = 5: expected a list of names"),
    ({"command": "status", "names": [5]}, "names = 5: expected a service or process name"),
    ({"command": "status", "names": "db"}, "expected a list of names"),
    ({"command": "stop", "names": ["db"], "all": "yes"}, "all = 'yes': expected true or false"),
    ({"command": "wait", "condition": ["ready"]}, "condition"),
    ({"command": "logs", "names": [None]}, "expected a service or process name"),
    ({"command": "status", "verbose": True}, "'verbose': 'status' takes names"),
    ({"command": "reload", "names": []}, "'reload' takes no fields"),
    ({"command": 7}, "expected a string 'command'"),
    ({"command": "explode"}, "unknown command 'explode'; known: status, start"),
    ([1, 2, 3], "expected an object"),
    ({"command": "fault", "name": "db", "kind": "exit", "arguments": 5}, "expected an object"),
    ({"command": "fault", "name": "db", "kind": "exit", "arguments": []}, "expected an object"),
    (
        {"command": "fault", "name": "db", "kind": "exit", "arguments": {"code": "x"}},
        "arguments.code = 'x': expected a whole number from 0 to 255",
    ),
    (
        {"command": "fault", "name": "db", "kind": "exit", "arguments": {"code": 1e300}},
        "expected a whole number",
    ),
    (
        {"command": "fault", "name": "db", "kind": "slow-start", "arguments": {"seconds": -1}},
        "expected seconds from 0 to 3600",
    ),
    # Keys of the fault event itself: never passed on to become its fields.
    (
        {"command": "fault", "name": "db", "kind": "kill", "arguments": {"event": "x"}},
        "fault 'kill' takes signal",
    ),
    (
        {"command": "fault", "name": "db", "kind": "kill", "arguments": {"unit": "api"}},
        "fault 'kill' takes signal",
    ),
    (
        {"command": "fault", "name": "db", "kind": "stop", "arguments": {"timestamp": 1}},
        "fault 'stop' takes no arguments",
    ),
    ({"command": "fault", "name": {}, "kind": "kill"}, "name = {}: expected a service"),
    ({"command": "fault", "name": "db", "kind": "melt"}, "kind = 'melt': expected one of kill"),
    ({"command": "fault", "name": "db"}, "'fault' needs a name and a kind"),
    ({"command": "signal", "signal": "HUP"}, "'signal' needs at least one name"),
    ({"command": "signal", "names": ["db"], "signal": "BOGUS"}, "signal = 'BOGUS': expected"),
    ({"command": "signal", "names": ["db"], "signal": 1}, "signal = 1: expected a signal"),
    ({"command": "signal", "names": ["db"], "signal": "99"}, "signal = '99': expected"),
    ({"command": "signal", "names": ["db"], "signal": "x" * 10**5}, "expected a signal"),
    ({"command": "signal", "names": ["db"], "signal": "HUP", "group": 1}, "group = 1"),
]


def test_every_malformed_field_is_answered_and_the_supervisor_goes_on(ready_stack: ReadyStack):
    stack = ready_stack(SLEEPERS)
    before = status_of(stack.config)
    for request, expected in HOSTILE_REQUESTS:
        reply = ask(stack, request)
        assert set(reply) == {"ok", "error"}, (request, reply)
        assert reply["ok"] is False
        assert reply["error"].startswith("bad request: "), reply
        assert expected in reply["error"], (request, reply["error"])
    for garbage in (b"{", b"\xff\xfe\n", b"[" * 100_000 + b"\n", b"nan\n", b'"status"\n'):
        (reply,) = exchange(stack, garbage + b"\n")
        assert reply["ok"] is False and reply["error"].startswith("bad request: ")

    after = status_of(stack.config)
    assert {n: (p["pid"], p["state"]) for n, p in after.items()} == {
        n: (p["pid"], p["state"]) for n, p in before.items()
    }
    assert stack.process.poll() is None
    assert not stack.select(event="error"), "a checked request never reaches a handler's bug"


def test_well_formed_requests_still_work_with_every_field(ready_stack: ReadyStack):
    stack = ready_stack(SLEEPERS)
    assert ask(stack, {"command": "status", "names": ["api"]})["ok"] is True
    assert ask(stack, {"command": "wait", "condition": "ready", "names": []}) == {
        "ok": True,
        "met": True,
    }
    reply = ask(stack, {"command": "fault", "name": "db", "kind": "stop", "arguments": {}})
    assert reply["ok"] is True, reply
    assert ask(stack, {"command": "fault", "name": "db", "kind": "cont"})["ok"] is True
    unknown = ask(stack, {"command": "stop", "names": ["nope"]})
    assert unknown["ok"] is False
    assert unknown["error"].startswith("unknown name 'nope'")


def test_an_over_long_line_is_refused_and_its_connection_closed(ready_stack: ReadyStack):
    stack = ready_stack(SLEEPERS)
    with connect(stack) as sock:
        # No newline ever comes: the supervisor must not buffer without end.
        chunk = b"x" * 65536
        try:
            for _ in range(MAX_REQUEST // len(chunk) + 4):
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # closed while we were still sending, as it should be
        answer = read_to_end(sock, reset_is_end=True)
    reply = json.loads(answer)
    assert reply == {"ok": False, "error": f"bad request: longer than {MAX_REQUEST} bytes"}
    assert supervisor_status(stack.config)["pid"] == stack.process.pid


def test_a_client_that_sends_requests_without_reading_is_only_slowed(ready_stack: ReadyStack):
    stack = ready_stack(SLEEPERS)
    count = 2000  # status replies of about 1 KB each: more than the socket buffers hold
    with connect(stack) as sock:
        sender = threading.Thread(
            target=sock.sendall, args=(b'{"command": "status"}\n' * count,), daemon=True
        )
        sender.start()
        # Another client is served meanwhile.
        assert supervisor_status(stack.config)["pid"] == stack.process.pid
        lines = sock.makefile("rb")
        replies = [json.loads(lines.readline()) for _ in range(count)]
        sender.join(timeout=20)
    assert all(reply["ok"] for reply in replies)


def test_descriptor_exhaustion_pauses_accepting_instead_of_ending_the_supervisor(
    ready_stack: ReadyStack,
):
    stack = ready_stack(SLEEPERS)
    pid = stack.process.pid
    soft, hard = resource.prlimit(pid, resource.RLIMIT_NOFILE)
    assert soft == hard, "the supervisor raised its own soft limit to the hard one"
    in_use = len(os.listdir(f"/proc/{pid}/fd"))
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (in_use + 8, in_use + 8))
    idle: list[socket.socket] = []
    try:
        # More than the limit leaves room for; the rest wait in the listen backlog (64).
        for _ in range(40):
            idle.append(connect(stack))
        paused = stack.wait_event(30, event="control", action="paused")
        assert "Too many open files" in paused["cause"]
        assert stack.process.poll() is None
    finally:
        for sock in idle:
            sock.close()
    assert supervisor_status(stack.config)["pid"] == pid
    assert stack.wait_event(30, event="control", action="resumed")
    assert not stack.select(event="error")


class HalfAnswer:
    """A stand-in supervisor socket that answers the first request with part of a line and
    then resets the connection, as a supervisor killed mid-reply would."""

    def __init__(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(str(state_dir / SOCKET_NAME))
        self._listener.listen(1)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        sock, _ = self._listener.accept()
        with sock:
            sock.recv(65536)
            sock.sendall(b'{"ok": true, "processes": [')
            # Linger 0: close sends a reset rather than an orderly end.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def close(self) -> None:
        self._thread.join(timeout=20)
        self._listener.close()


def test_a_supervisor_lost_mid_reply_is_one_line_and_exit_3(
    write_config: WriteConfig, tmp_path: Path
):
    config = write_config(SLEEPERS)
    stand_in = HalfAnswer(tmp_path / "state")
    try:
        result = cli(config, "status", "--json")
    finally:
        stand_in.close()
    assert result.returncode == 3, result.stderr
    assert result.stderr.startswith("supervisor: lost the supervisor: "), result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert json.loads(result.stdout)["exit_status"] == 3  # --json: the error as JSON too


def into_a_closed_pipe(config: Path, *command: str) -> subprocess.CompletedProcess[str]:
    reader, writer = os.pipe()
    os.close(reader)  # as `| head -c 10` after its ten bytes
    try:
        result = subprocess.run(
            [sys.executable, "-m", "supervisor", *command, "-c", str(config)],
            stdout=writer,
            stderr=subprocess.PIPE,
            text=True,
            timeout=30,
        )
    finally:
        os.close(writer)
    return result


@pytest.mark.parametrize("command", [["check", "--json"], ["check"]])
def test_output_into_a_closed_pipe_ends_quietly(write_config: WriteConfig, command: list[str]):
    result = into_a_closed_pipe(write_config(SLEEPERS), *command)
    assert (result.returncode, result.stderr) == (141, "")


def test_status_into_a_closed_pipe_ends_quietly(ready_stack: ReadyStack):
    stack = ready_stack(SLEEPERS)
    for command in (["status", "--json"], ["status"]):
        result = into_a_closed_pipe(stack.config, *command)
        assert (result.returncode, result.stderr) == (141, "")
    assert supervisor_status(stack.config)["pid"] == stack.process.pid


def waiting_clients(stack: RunningStack) -> int | None:
    """How many clients wait, or None while the supervisor is not answering yet."""
    result = cli(stack.config, "status", "--json")
    answered = result.returncode == 0
    return json.loads(result.stdout)["supervisor"]["waiting_clients"] if answered else None


def test_ctrl_c_on_wait_is_one_line_and_exit_130(write_config: WriteConfig, run_stack: RunStack):
    stack = run_stack(write_config('[services.slow]\ncommand = ["sleep", "1000"]\nnotify = true\n'))
    stack.wait_until(lambda: waiting_clients(stack) == 0, 20, "the supervisor to answer")
    waiter = subprocess.Popen(
        [sys.executable, "-m", "supervisor", "wait", "--ready", "-c", str(stack.config)],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stack.wait_until(lambda: waiting_clients(stack) == 1, 20, "the waiter")
        waiter.send_signal(signal.SIGINT)
        _, stderr = waiter.communicate(timeout=20)
    finally:
        waiter.kill()
        waiter.wait()
    assert waiter.returncode == 130
    assert stderr == "supervisor: interrupted\n"


# Sends a datagram whose lower-case lines would collide with the notify event's own fields.
COLLIDING_NOTIFY = (
    "import os, socket, time; "
    "address = os.environ['NOTIFY_SOCKET'].replace('@', '\\0', 1); "
    "datagram = b'unit=evil\\nevent=x\\npid=1\\ntimestamp=0\\nSTATUS=up\\nREADY=1'; "
    "socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(datagram, address); "
    "time.sleep(1000)"
)


def test_a_notify_datagram_cannot_forge_event_fields(ready_stack: ReadyStack):
    stack = ready_stack(
        f"""
        [services.forger]
        command = {json.dumps([sys.executable, "-c", COLLIDING_NOTIFY])}
        notify = true
        """,
    )
    notified = stack.wait_event(30, event="notify", unit="forger")
    assert notified["READY"] == "1" and notified["STATUS"] == "up"
    assert notified["pid"] == status_of(stack.config)["forger"]["pid"]
    assert notified["event"] == "notify" and notified["timestamp"] != "0"
    assert not stack.select(event="error")
