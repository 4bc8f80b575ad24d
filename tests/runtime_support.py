"""Helpers for the runtime tests: datagram inboxes and service processes started for real."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from supervisor.shared.servicespec import ENV_VAR, ServiceSpec

TESTS_DIR = Path(__file__).parent
TIMEOUT = 10.0


class ManualClock:
    """Time stands still until someone waits; a wait that nothing interrupts takes no time."""

    def __init__(self) -> None:
        self.time = 0.0

    def now(self) -> float:
        return self.time

    def wait(self, event: threading.Event, timeout: float) -> bool:
        if not event.is_set():
            self.time += timeout
        return event.is_set()

    def advance(self, seconds: float) -> None:
        self.time += seconds


class Inbox:
    """A datagram socket in the abstract namespace; `address` is its '@name' spelling."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        name = f"runtime-test/{uuid.uuid4().hex}"
        self.sock.bind("\0" + name)
        self.address = "@" + name
        self.seen: list[str] = []

    def expect(self, wanted: str, timeout: float = TIMEOUT) -> list[str]:
        """Receive until a message holding the line `wanted`; return the messages up to it."""
        deadline = time.monotonic() + timeout
        start = len(self.seen)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {wanted!r} within {timeout}s; received: {self.seen}")
            self.sock.settimeout(remaining)
            try:
                message = self.sock.recv(4096).decode()
            except TimeoutError:
                continue
            self.seen.append(message)
            if wanted in message.splitlines():
                return self.seen[start:]

    def pending(self) -> list[str]:
        """Every message already delivered; local datagrams arrive as `sendto` returns."""
        messages = []
        self.sock.setblocking(False)
        try:
            while True:
                messages.append(self.sock.recv(4096).decode())
        except BlockingIOError:
            pass
        self.seen.extend(messages)
        return messages

    def close(self) -> None:
        self.sock.close()


@dataclass
class Child:
    process: subprocess.Popen[bytes]
    stderr_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def send(self, signum: int) -> None:
        self.process.send_signal(signum)

    def wait(self, timeout: float = TIMEOUT) -> int:
        return self.process.wait(timeout)

    def stop(self) -> int:
        self.send(signal.SIGTERM)
        return self.wait()

    def stderr(self) -> str:
        return self.stderr_path.read_text()

    def title(self) -> str:
        return Path(f"/proc/{self.pid}/cmdline").read_bytes().rstrip(b"\0").decode()

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.pid, signal.SIGKILL)
            self.process.wait()


def binary_argv(binary: str) -> list[str]:
    """How the supervisor execs a manager service: always through the package's own module."""
    return [sys.executable, "-m", "supervisor.cmd", "--binary", binary]


class Children:
    """Service processes a test starts, each in its own process group, all killed at the end."""

    def __init__(self, log_dir: Path) -> None:
        self._log_dir = log_dir
        self._started: list[Child] = []

    def start(
        self,
        argv: list[str],
        *,
        spec: ServiceSpec | None = None,
        notify: Inbox | None = None,
        cwd: Path | None = None,
    ) -> Child:
        env = {k: v for k, v in os.environ.items() if k not in (ENV_VAR, "NOTIFY_SOCKET")}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS_DIR), env.get("PYTHONPATH")]))
        if spec is not None:
            env[ENV_VAR] = spec.to_env()
        if notify is not None:
            env["NOTIFY_SOCKET"] = notify.address
        stderr_path = self._log_dir / f"stderr-{len(self._started)}.log"
        with stderr_path.open("wb") as stderr:
            process = subprocess.Popen(
                argv,
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                process_group=0,
            )
        child = Child(process, stderr_path)
        self._started.append(child)
        return child

    def kill_all(self) -> None:
        for child in self._started:
            child.kill()


def volume_spec(state_dir: Path, **changes: Any) -> ServiceSpec:
    base = ServiceSpec(
        process="cinder-volume@lvm-1",
        service="cinder-volume",
        binary="cinder-volume",
        host="node1@lvm-1",
        backend="lvm-1",
        # periodic_interval 0: no timer, unless a test asks for one.
        options={
            "volume_manager": "supervisor.managers.volume.VolumeManager",
            "periodic_interval": 0,
        },
        state_dir=str(state_dir),
    )
    return replace(base, **changes)
