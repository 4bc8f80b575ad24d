"""The `subscribe` stream and `supervisor events`, against a live stack."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

from supervisor.control.address import SOCKET_NAME
from supervisor.control.stream import MAX_BACKLOG
from tests.support.stackcli import SLEEPERS, ReadyStack, cli

# A process that floods the event log: one ~1 KiB STATUS= notification after another.
FLOODER = r"""
import os, socket
address = os.environ["NOTIFY_SOCKET"].replace("@", "\0", 1)
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
padding = "x" * 1000
n = 0
while True:
    n += 1
    try:
        sock.sendto(f"STATUS={n} {padding}".encode(), address)
    except OSError:
        pass
"""


def _subscribe(state_dir: Path, **fields: object) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(str(state_dir / SOCKET_NAME))
    sock.sendall(json.dumps({"command": "subscribe", **fields}).encode() + b"\n")
    return sock


def _events(state_dir: Path) -> list[dict]:
    lines = (state_dir / "events.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_events_follow_streams_a_restart_and_ends_with_the_group(ready_stack: ReadyStack):
    stack = ready_stack(SLEEPERS)
    follower = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "supervisor",
            "events",
            "-f",
            "--json",
            "db",
            "-c",
            str(stack.config),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        first = json.loads(follower.stdout.readline())  # the run's past events come first
        assert first["seq"] >= 1
        assert cli(stack.config, "restart", "db").returncode == 0
        seen = []
        for line in follower.stdout:
            record = json.loads(line)
            assert record.get("unit", "db") == "db", record  # db's events and the group's only
            seen.append(record)
            if record["event"] == "state" and record["to"] == "running" and len(seen) > 2:
                break
        states = [r["to"] for r in seen if r["event"] == "state"]
        assert "stopping" in states and states[-1] == "running"
        assert all(r["seq"] > first["seq"] for r in seen)
        assert cli(stack.config, "shutdown", "--timeout", "20").returncode == 0
        assert follower.wait(timeout=20) == 0
    finally:
        follower.kill()
        follower.wait()
    past = cli(stack.config, "events", "db")
    assert past.returncode == 0
    assert "to=stopping" in past.stdout and "api" not in past.stdout


def test_a_subscriber_that_stops_reading_is_dropped_and_the_stack_goes_on(
    ready_stack: ReadyStack, tmp_path: Path
):
    flooder = tmp_path / "flooder.py"
    flooder.write_text(FLOODER)
    stack = ready_stack(
        SLEEPERS + f'\n[services.flood]\ncommand = ["{sys.executable}", "{flooder}"]\n'
        "start_seconds = 0\n"
    )
    state_dir = _state_dir(stack)
    stalled = _subscribe(state_dir, since="now")
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        deadline = time.monotonic() + 60
        dropped: list[dict] = []
        while not dropped:
            assert time.monotonic() < deadline, "the stalled subscriber was never dropped"
            dropped = [
                e
                for e in _events(state_dir)
                if e["event"] == "control" and e.get("action") == "dropped"
            ]
            time.sleep(0.05)
        assert str(MAX_BACKLOG) in dropped[0]["cause"]
        # The supervisor answers while the flood goes on.
        assert cli(stack.config, "status", "--json").returncode == 0
        # The stalled client gets what was sent before it was dropped, then the end.
        stalled.settimeout(20)
        total = 0
        while chunk := stalled.recv(1 << 16):
            total += len(chunk)
        assert total > 0
    finally:
        stalled.close()
        cli(stack.config, "stop", "flood")


def _state_dir(stack) -> Path:
    from supervisor import config

    return config.state_dir_of(str(stack.config))
