"""The example OpenStack stack, copied for a test onto free loopback ports; skipped (failed in
CI) where Cinder or RabbitMQ is not installed."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
import tomlkit

from supervisor.testing.cinderapi import CinderApi
from supervisor.testing.harness import RunningStack
from supervisor.testing.openstack import copy_example as copy_example_files

T = TypeVar("T")

RABBITMQ_SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
STOP_TIMEOUT = 240
BIN_DIR = str(Path(sys.executable).parent)  # cinder-manage and cinder-api live beside python


def require_openstack() -> None:
    """Skip (fail in CI, where .ci/run installs everything) when Cinder or RabbitMQ is absent."""
    reason = None
    if importlib.util.find_spec("cinder") is None:
        reason = "the openstack extra is not installed: pip install -e '.[openstack]'"
    elif importlib.util.find_spec("fixtures") is None:
        reason = "the fake volume driver needs `fixtures`: pip install -e '.[openstack]'"
    elif not RABBITMQ_SERVER.exists() or shutil.which("epmd") is None:
        reason = "RabbitMQ is not installed: apt-get install rabbitmq-server"
    if reason is None:
        return
    if os.environ.get("SUPERVISOR_REQUIRE_OPENSTACK"):
        pytest.fail(f"SUPERVISOR_REQUIRE_OPENSTACK is set but {reason}")
    pytest.skip(reason)


@dataclass
class CinderStack:
    directory: Path
    ports: dict[str, int]
    running: RunningStack | None = None

    @property
    def config(self) -> Path:
        return self.directory / "services.toml"

    @property
    def state_dir(self) -> Path:
        return self.directory / ".supervisor"

    @property
    def environment(self) -> dict[str, str]:
        return {"PATH": f"{BIN_DIR}:{os.environ.get('PATH', '')}"}

    def start(self, *args: str) -> RunningStack:
        self.running = RunningStack(
            self.config, self.state_dir, *args, environment=self.environment
        )
        return self.running

    def wait_until(self, condition: Callable[[], T], timeout: float, what: str) -> T:
        """The running stack's wait: on the deadline it fails with the stack's timeline."""
        assert self.running is not None, "start the stack first"
        return self.running.wait_until(condition, timeout, what)

    def cli(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "supervisor", *args, "-c", str(self.config)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **self.environment},
        )

    def status(self) -> dict[str, dict[str, Any]]:
        """Every process by name; empty while the supervisor is not answering yet."""
        result = self.cli("status", "--json")
        if result.returncode == 3:
            return {}
        assert result.returncode in (0, 1), result.stderr
        return {process["name"]: process for process in json.loads(result.stdout)["processes"]}

    def service_rows(self) -> list[dict[str, Any]]:
        result = self.cli("service", "list", "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def api(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        missing_ok: bool = False,
    ) -> dict[str, Any]:
        """Cinder's volume API with the noauth middleware (supervisor.testing.cinderapi:
        SQLite's "database is locked" asked again, any other error fails the test with the
        API's log); {} for a 202 without a body, and with `missing_ok` for a 404."""
        log = self.state_dir / "logs" / "cinder-api.log"
        client = CinderApi(self.ports["api"], log, timeout=30)
        return client.request(method, path, body, missing_ok=missing_ok)


def copy_example(destination: Path) -> CinderStack:
    """The example stack in `destination`, on free ports."""
    return CinderStack(destination, copy_example_files(destination))


def stop(stack: RunningStack) -> int:
    """SIGTERM, then wait for every service's orderly stop (Cinder's take seconds each)."""
    stack.signal(signal.SIGTERM)
    status = stack.wait_exit(timeout=STOP_TIMEOUT)
    stack.close()
    return status


def drop_services(stack: CinderStack, *names: str) -> None:
    """A smaller stack for a test that needs only part of the example."""
    document = tomlkit.parse(stack.config.read_text())
    for name in names:
        del document["services"][name]  # type: ignore[union-attr]
    stack.config.write_text(tomlkit.dumps(document))
