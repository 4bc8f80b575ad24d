"""Service processes started for real, as the supervisor starts them, without a supervisor."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from supervisor.shared.servicespec import ENV_VAR, ServiceSpec
from tests.support.datagrams import Inbox
from tests.support.waiting import TIMEOUT

# Service processes import the test managers (tests/fixtures_managers) by module path, as
# `fixtures_managers.recording.RecordingManager`: this directory goes on their PYTHONPATH.
FIXTURE_MANAGERS_PATH = Path(__file__).resolve().parents[1]


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
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(FIXTURE_MANAGERS_PATH), env.get("PYTHONPATH")])
        )
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


class ServiceProcesses:
    """Service processes a test starts, each awaited until ready; all killed by `close`."""

    def __init__(self, log_dir: Path) -> None:
        self._notify = Inbox()
        self._children = Children(log_dir)

    def start(self, spec: ServiceSpec) -> Child:
        child = self._children.start(binary_argv(spec.binary), spec=spec, notify=self._notify)
        self._notify.expect("READY=1")
        return child

    def close(self) -> None:
        self._children.kill_all()
        self._notify.close()


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
