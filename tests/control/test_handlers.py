"""The command handlers behind a real control server and a real client, with a fake daemon in
place of the supervisor: what they need of it is `DaemonView`, and nothing else."""

from __future__ import annotations

import queue
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from supervisor.config.diff import PlanDiff, ReloadRejected
from supervisor.control.client import ControlClient
from supervisor.control.daemonview import DaemonSubscriber, Refused
from supervisor.control.handlers import CommandHandler
from supervisor.control.protocol import Request, Shutdown, Wait
from supervisor.control.server import Connection
from supervisor.policy.states import State
from tests.support.controlserver import Served

REPLY_DEADLINE = 10.0


@dataclass
class FakeUnit:
    name: str
    service: str
    state: State = State.RUNNING
    cause: str = "up"
    ready: bool = True
    completed: bool = False
    failure_status: int | None = None
    pid: int | None = None
    held: bool = False
    retiring: bool = False

    def snapshot(self, now: float) -> dict[str, object]:
        return {"name": self.name, "state": str(self.state), "cause": self.cause}


class FakeDaemon:
    """Plain records that change at once when asked, then tell the subscribers, as the
    supervisor does once a change has settled; every operation asked for is kept."""

    def __init__(self, state_dir: Path, *units: FakeUnit) -> None:
        self.units = {unit.name: unit for unit in units}
        self.stopping = False
        self.started_at = 100.0
        self.containment = "process-group"
        self.scaled: dict[str, dict[str, int]] = {}
        self.templates: list[dict[str, object]] = []  # no service preloads
        self.groups: list[dict[str, object]] = []  # no [groups] table
        self.config_path = state_dir / "services.toml"
        self.asked: list[tuple[str, str, str]] = []
        self._state_dir = state_dir
        self._subscribers: list[DaemonSubscriber] = []

    def clock(self) -> float:
        return 112.5

    def log_path(self, process: str) -> Path:
        return self._state_dir / "logs" / f"{process}.log"

    def subscribe(self, subscriber: DaemonSubscriber) -> None:
        self._subscribers.append(subscriber)

    def start_process(self, process: str, cause: str) -> None:
        self._change(process, State.RUNNING, "start", cause)

    def stop_process(self, process: str, cause: str) -> None:
        self._change(process, State.STOPPED, "stop", cause)

    def restart_process(self, process: str, cause: str) -> None:
        self._change(process, State.RUNNING, "restart", cause)

    def attachment(self, process: str) -> dict[str, object] | None:
        return None  # nothing here runs in a terminal (`supervisor attach`)

    def refresh_templates(self, processes: Iterable[str], cause: str) -> list[str]:
        self.asked.extend(("refresh", process, cause) for process in processes)
        return []

    def inject_fault(self, process: str, kind: str, arguments: dict[str, int | float | str]) -> str:
        if self.units[process].pid is None:
            raise Refused(f"{process}: no running process")
        self.asked.append(("fault", process, kind))
        return "sent SIGKILL"

    def reload(self) -> PlanDiff:
        raise ReloadRejected("services.toml: line 3: not TOML")

    def begin_stop(self, cause: str) -> None:
        self.stopping = True
        for name in self.units:
            self._change(name, State.STOPPED, "stop", cause)
        for subscriber in self._subscribers:
            subscriber.group_ended(0)

    def _change(self, process: str, state: State, operation: str, cause: str) -> None:
        self.asked.append((operation, process, cause))
        unit = self.units[process]
        unit.state, unit.cause, unit.ready = state, cause, state is State.RUNNING
        for subscriber in self._subscribers:
            subscriber.units_changed()


class Stack:
    """The fake daemon served on a real socket; `handled` hears of each request once its
    handler has returned (a `wait` is then registered, or already answered)."""

    def __init__(self, state_dir: Path) -> None:
        self.daemon = FakeDaemon(
            state_dir,
            FakeUnit("api-1", "api", pid=4242),
            FakeUnit("api-2", "api"),
            FakeUnit("db", "db", pid=4343),
        )
        self.handled: queue.Queue[type] = queue.Queue()
        self._handler = CommandHandler(self.daemon)
        self.served = Served(state_dir, self._handle)
        self.client = ControlClient(state_dir, timeout=REPLY_DEADLINE)

    def _handle(self, connection: Connection, request: Request) -> None:
        self._handler.handle(connection, request)
        self.handled.put(type(request))

    def close(self) -> None:
        self.client.close()
        self.served.close()


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    served = Stack(tmp_path)
    yield served
    served.close()


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=2) as executor:
        yield executor


def test_status_shows_the_daemons_units_and_its_own_state(stack: Stack):
    reply = stack.client.request("status", names=["api"])
    assert reply["ok"] is True
    assert reply["containment"] == "process-group"
    assert reply["supervisor"]["uptime"] == 12.5
    assert reply["supervisor"]["config"] == str(stack.daemon.config_path)
    assert reply["supervisor"]["stopping"] is False
    assert [p["name"] for p in reply["processes"]] == ["api-1", "api-2"]

    unknown = stack.client.request("status", names=["nope"])
    assert unknown["ok"] is False
    assert unknown["error"].startswith("unknown name 'nope'; services: api, db;")


def test_operations_reach_the_daemon_by_process_name(stack: Stack):
    assert stack.client.request("stop", names=["api"]) == {
        "ok": True,
        "processes": ["api-1", "api-2"],
    }
    assert stack.client.request("start", names=["api-2"])["ok"] is True
    assert stack.daemon.asked == [
        ("stop", "api-1", "stopped by operator"),
        ("stop", "api-2", "stopped by operator"),
        ("start", "api-2", "started by operator"),
    ]
    logs = stack.client.request("logs", names=["db"])["logs"]
    assert logs == [{"name": "db", "path": str(stack.daemon.log_path("db"))}]


def test_restart_fresh_replaces_the_templates_of_the_named_processes_first(stack: Stack):
    reply = stack.client.request("restart", names=["api"], fresh=True)
    assert reply == {"ok": True, "processes": ["api-1", "api-2"], "templates": []}
    refreshed = [asked for asked in stack.daemon.asked if asked[0] == "refresh"]
    assert refreshed == [
        ("refresh", "api-1", "restart --fresh"),
        ("refresh", "api-2", "restart --fresh"),
    ]
    assert stack.daemon.asked[-1][0] == "restart"  # after the templates
    start = stack.client.request("start", names=["api"], fresh=True)  # restart's only
    assert start["ok"] is False and "'fresh'" in start["error"]


def test_what_the_daemon_refuses_is_an_error_reply(stack: Stack):
    refused = stack.client.request("fault", name="api-2", kind="kill")
    assert refused == {"ok": False, "error": "api-2: no running process"}
    done = stack.client.request("fault", name="db", kind="kill")
    assert done == {"ok": True, "process": "db", "done": "sent SIGKILL", "pid": 4343}
    rejected = stack.client.request("reload")
    assert rejected["ok"] is False and rejected["invalid_config"] is True
    assert rejected["error"].endswith("services.toml: line 3: not TOML")


def test_a_wait_is_answered_when_the_daemon_tells_of_the_change(
    stack: Stack, pool: ThreadPoolExecutor, tmp_path: Path
):
    with ControlClient(tmp_path, timeout=REPLY_DEADLINE) as waiter:
        answer = pool.submit(waiter.request, "wait", condition="stopped", names=["db"])
        assert stack.handled.get(timeout=REPLY_DEADLINE) is Wait
        assert not answer.done()
        assert stack.client.request("status")["supervisor"]["waiting_clients"] == 1
        assert stack.client.request("stop", names=["db"])["ok"] is True
        assert answer.result(timeout=REPLY_DEADLINE) == {"ok": True, "met": True}
    assert stack.client.request("status")["supervisor"]["waiting_clients"] == 0


def test_the_groups_end_answers_shutdown_and_every_waiter(
    stack: Stack, pool: ThreadPoolExecutor, tmp_path: Path
):
    stack.daemon.units["api-2"].state = State.STARTING
    with (
        ControlClient(tmp_path, timeout=REPLY_DEADLINE) as waiter,
        ControlClient(tmp_path, timeout=REPLY_DEADLINE) as stopper,
    ):
        ready = pool.submit(waiter.request, "wait", condition="ready", names=["api-2"])
        assert stack.handled.get(timeout=REPLY_DEADLINE) is Wait
        shutdown = pool.submit(stopper.request, "shutdown")
        assert stack.handled.get(timeout=REPLY_DEADLINE) is Shutdown
        assert shutdown.result(timeout=REPLY_DEADLINE) == {"ok": True, "met": True, "status": 0}
        assert ready.result(timeout=REPLY_DEADLINE) == {
            "ok": True,
            "met": False,
            "reason": "the supervisor exited with status 0",
        }
    refused = stack.client.request("start", names=["db"])
    assert refused == {"ok": False, "error": "the supervisor is shutting down"}
