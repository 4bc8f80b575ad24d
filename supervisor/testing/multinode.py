"""examples/multinode on this machine: four hosts as network namespaces, one supervisor each.

Used by the multinode tests and `scripts/bench multinode`.  `scripts/netns-hosts up` makes the
hosts; every supervisor runs as `ip netns exec HOST supervisor run --host HOST` in a copy of
the example (beside a copy of examples/openstack, whose scripts it uses), so the hosts reach
each other over the bridge only.  `lose` is a host switched off: every process in its
namespace SIGKILLed, its supervisor first.  Needs root and `ip`; `unavailable` says why not.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from supervisor.testing.cinderapi import CinderApi

T = TypeVar("T")

REPOSITORY = Path(__file__).resolve().parent.parent.parent
EXAMPLES = REPOSITORY / "examples"
NETNS_HOSTS = REPOSITORY / "scripts" / "netns-hosts"
CONTROLLER, STORAGE1, STORAGE2, BACKUP1 = "controller", "storage1", "storage2", "backup1"
HOSTS = (CONTROLLER, STORAGE1, STORAGE2, BACKUP1)
API_ADDRESS, API_PORT = "10.77.0.1", 8776  # cinder-api on the controller
POLL = 0.2  # seconds between two looks at a condition
BIN_DIR = str(Path(sys.executable).parent)  # cinder-manage and gunicorn live beside python


class DeploymentError(AssertionError):
    pass


def unavailable() -> str | None:
    """Why network namespaces cannot be made here, or None."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "no `ip` command (iproute2)"
    return None


def netns_hosts(action: str) -> None:
    result = subprocess.run([str(NETNS_HOSTS), action], capture_output=True, text=True)
    if result.returncode != 0:
        raise DeploymentError(f"scripts/netns-hosts {action}: {result.stderr.strip()}")


def wait_until(condition: Callable[[], T], timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise DeploymentError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(POLL)
    return value


class Deployment:
    """The example copied under `directory`, its hosts' supervisors started and stopped."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory / "multinode"
        for name in ("multinode", "openstack"):
            shutil.copytree(
                EXAMPLES / name, directory / name, ignore=shutil.ignore_patterns(".supervisor")
            )
        self.config = self.directory / "services.toml"
        self.supervisors: dict[str, subprocess.Popen[bytes]] = {}

    @property
    def environment(self) -> dict[str, str]:
        return {**os.environ, "PATH": f"{BIN_DIR}:{os.environ.get('PATH', '')}"}

    def state_dir(self, host: str) -> Path:
        return self.directory / ".supervisor" / host

    def start(self, host: str) -> None:
        """`supervisor run --host HOST` inside the host's namespace."""
        console = (self.directory / f"console-{host}.log").open("ab")
        with console:
            self.supervisors[host] = subprocess.Popen(
                [
                    *("ip", "netns", "exec", host, sys.executable, "-m", "supervisor", "run"),
                    *("-c", str(self.config), "--host", host, "--console", "events"),
                ],
                cwd=self.directory,
                stdout=console,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.environment,
            )

    def cli(self, *args: str, host: str | None = None, timeout: float = 120) -> Any:
        environment = self.environment
        if host is not None:
            environment["SUPERVISOR_HOST"] = host
        return subprocess.run(
            [sys.executable, "-m", "supervisor", *args, "-c", str(self.config)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=environment,
        )

    def status(self, host: str) -> dict[str, dict[str, Any]]:
        """The host's processes by name, from its supervisor; empty while it does not answer."""
        result = self.cli("status", "--json", host=host)
        if result.returncode not in (0, 1):
            return {}
        return {process["name"]: process for process in json.loads(result.stdout)["processes"]}

    def all_hosts(self) -> list[dict[str, Any]]:
        result = self.cli("status", "--all-hosts", "--json")
        if result.returncode not in (0, 3):
            raise DeploymentError(f"status --all-hosts: {result.returncode} {result.stderr}")
        return json.loads(result.stdout)["hosts"]

    def rows(self) -> list[dict[str, Any]]:
        """Cinder's services table, as `supervisor service list --json` reads it."""
        result = self.cli("service", "list", "--json")
        if result.returncode != 0:
            return []
        return json.loads(result.stdout)

    def rows_up(self, hosts: set[str]) -> bool:
        """Every row of these Cinder hosts (`storage1@shared`: host storage1) is up."""
        found = [row for row in self.rows() if row["host"].split("@")[0] in hosts]
        return bool(found) and all(row["state"] == "up" for row in found)

    def rows_down(self, host: str) -> bool:
        found = [row for row in self.rows() if row["host"].split("@")[0] == host]
        return bool(found) and all(row["state"] == "down" for row in found)

    def wait_ready(self, host: str, timeout: float, names: tuple[str, ...] = ()) -> None:
        """Every process (or those named) of the host ready, and a oneshot done."""

        def ready() -> bool:
            processes = self.status(host)
            wanted = names or tuple(processes)
            return bool(processes) and all(
                name in processes and _done(processes[name]) for name in wanted
            )

        try:
            wait_until(ready, timeout, f"{host}'s processes to be ready")
        except DeploymentError as error:
            raise DeploymentError(f"{error}\n{self.console(host)}") from None

    def bring_up(self, timeout: float) -> None:
        """The controller first, until its database holds the schema and its broker answers;
        then the other hosts, whose Cinder services would only fail and wait for a restart
        before that; then every process of every host ready."""
        self.start(CONTROLLER)
        self.wait_ready(CONTROLLER, timeout, ("postgresql", "rabbitmq", "db-sync"))
        for host in HOSTS[1:]:
            self.start(host)
        for host in HOSTS:
            self.wait_ready(host, timeout)

    def lose(self, host: str) -> None:
        """The host switched off: its supervisor SIGKILLed, then every process left in its
        namespace (the supervisor's children, their children), until none is left."""
        supervisor = self.supervisors.pop(host, None)
        if supervisor is not None:
            _kill_tree_root(supervisor)

        def emptied() -> bool:
            pids = _namespace_pids(host)
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            return not pids

        wait_until(emptied, 30, f"every process of {host} to be gone")

    def stop(self, timeout: float = 120) -> None:
        """Every supervisor asked to stop (SIGTERM), all at once; what is left after `timeout`
        goes with its namespace (scripts/netns-hosts down)."""
        for process in self.supervisors.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in self.supervisors.values():
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _kill_tree_root(process)
        self.supervisors.clear()

    def console(self, host: str) -> str:
        path = self.directory / f"console-{host}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-60:])

    def api(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        missing_ok: bool = False,
    ) -> Any:
        """Cinder's volume API on the controller, with the noauth middleware."""
        log = self.state_dir(CONTROLLER) / "logs" / "cinder-api.log"
        client = CinderApi(API_PORT, log, address=API_ADDRESS, timeout=60)
        return client.request(method, path, body, missing_ok=missing_ok)

    def create_volume(self, name: str, volume_type: str | None = None) -> str:
        volume: dict[str, Any] = {"size": 1, "name": name}
        if volume_type is not None:
            volume["volume_type"] = volume_type
        return self.api("POST", "/volumes", {"volume": volume})["volume"]["id"]

    def volume(self, volume_id: str) -> dict[str, Any] | None:
        """The volume, or None once it is deleted."""
        return self.api("GET", f"/volumes/{volume_id}", missing_ok=True).get("volume")

    def settled(self, volume_id: str, timeout: float) -> dict[str, Any]:
        """The volume once it left every -ing state ('creating', 'extending')."""

        def done() -> dict[str, Any] | None:
            found = self.volume(volume_id)
            return found if found is not None and not found["status"].endswith("ing") else None

        return wait_until(done, timeout, f"volume {volume_id} to settle")


def _done(process: dict[str, Any]) -> bool:
    if process["state"] == "exited":
        return (process.get("last_exit") or {}).get("code") == 0
    return process["state"] == "running" and bool(process["ready"])


def _namespace_pids(host: str) -> list[int]:
    result = subprocess.run(["ip", "netns", "pids", host], capture_output=True, text=True)
    return [int(pid) for pid in result.stdout.split()]


def _kill_tree_root(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
    process.wait()
