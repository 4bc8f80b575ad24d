"""A stack under test: a real `supervisor run`, driven and observed from a test or `chaos`.

Every wait has a deadline, and when one runs out the failure shows the timeline of what the
stack did instead, so a red test explains itself.
"""

from __future__ import annotations

import copy
import signal
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import psutil
import tomlkit

from supervisor.control.client import ControlClient
from supervisor.shared.faults import START_FAULTS
from supervisor.tools.stackdriver.running import Event, RunningStack, WaitTimeout, matches

STACK_MARKER = "SUPERVISOR_TEST_STACK"
_ENDS_THE_RUN = ("kill", "exit", "raise")


class Events(Sequence[Event]):
    """Events matching a filter; `.count` is how many (as in `events(...).count == 4`)."""

    def __init__(self, events: list[Event]) -> None:
        self._events = events

    @property
    def count(self) -> int:  # type: ignore[override]
        return len(self._events)

    def __getitem__(self, index: Any) -> Any:
        return self._events[index]

    def __len__(self) -> int:
        return len(self._events)

    def __iter__(self) -> Iterator[Event]:
        return iter(self._events)

    def __repr__(self) -> str:
        return f"Events({self._events!r})"


def write_test_config(
    source: Path, destination: Path, state_dir: Path, overrides: Mapping[str, Any]
) -> Path:
    """A copy of `source` whose state lives in `state_dir`, with `overrides` applied.

    Override keys are dotted paths under `services` ("cinder-volume.restart.start_limit"), or
    under the document when they start with "supervisor." or "options.".
    """
    document = tomlkit.parse(source.read_text()).unwrap()
    document.setdefault("supervisor", {})["state_dir"] = str(state_dir)
    for service in document.get("services", {}).values():
        # Relative directories were relative to the original file.
        if isinstance(service, dict) and isinstance(service.get("directory"), str):
            service["directory"] = str(source.resolve().parent / service["directory"])
    for table in (document["supervisor"], *document.get("services", {}).values()):
        # So were env files.
        files = table.get("env_file") if isinstance(table, dict) else None
        if isinstance(files, str | list):
            names = [files] if isinstance(files, str) else files
            rebased = [str(source.resolve().parent / n) if isinstance(n, str) else n for n in names]
            table["env_file"] = rebased
    for dotted, value in overrides.items():
        path = dotted.split(".")
        if path[0] not in ("supervisor", "options", "services"):
            path = ["services", *path]
        table = document
        for key in path[:-1]:
            table = table.setdefault(key, {})
        table[path[-1]] = copy.deepcopy(value)
    destination.write_text(tomlkit.dumps(document))
    return destination


class Stack:
    def __init__(self, config: Path, state_dir: Path) -> None:
        self.marker = uuid.uuid4().hex
        self.state_dir = state_dir
        self._run = RunningStack(config, state_dir, environment={STACK_MARKER: self.marker})
        self._faulted_pids: dict[str, int] = {}

    # -- observing -----------------------------------------------------------------------------

    def events(self, **fields: Any) -> Events:
        self._run.events.read()
        return Events([event for event in self._run.events.seen if matches(event, **fields)])

    def status(self, *names: str) -> list[dict[str, Any]]:
        with ControlClient(self.state_dir, timeout=10, patience=10) as client:
            reply = client.request("status", names=list(names))
        if not reply["ok"]:
            raise AssertionError(reply["error"])
        return reply["processes"]

    def state(self, name: str) -> str:
        (process,) = [p for p in self.status(name) if name in (p["name"], p["service"])]
        return process["state"]

    def timeline(self) -> str:
        return self._run.events.timeline()

    # -- waiting -------------------------------------------------------------------------------

    def wait_ready(self, *names: str, timeout: float = 30.0) -> None:
        self._wait("ready", names, timeout)

    def wait_stopped(self, *names: str, timeout: float = 30.0) -> None:
        self._wait("stopped", names, timeout)

    def _wait(self, condition: str, names: Sequence[str], timeout: float) -> None:
        try:
            with ControlClient(self.state_dir, timeout=timeout, patience=timeout) as client:
                reply = client.request("wait", condition=condition, names=list(names))
        except TimeoutError:
            self._fail(f"not {condition} within {timeout}s")
        if not reply.get("ok") or not reply.get("met"):
            self._fail(f"can no longer be {condition}: {reply.get('reason', reply.get('error'))}")

    def wait_state(self, name: str, state: str, timeout: float = 30.0) -> Event:
        """Wait until the latest state event of process `name` says `state`."""

        def reached() -> bool:
            self._run.events.read()
            last = [e for e in self._run.events.seen if matches(e, event="state", unit=name)]
            return bool(last) and last[-1]["to"] == state

        self.wait_until(reached, timeout, f"{name} to be {state}")
        return self.events(event="state", unit=name, to=state)[-1]

    def wait_until(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        """Wait for any condition of the test's own, failing with the timeline on the deadline."""
        self._run.wait_until(condition, timeout, what)

    def wait_event(self, timeout: float = 30.0, **fields: Any) -> Event:
        return self._run.wait_event(timeout, **fields)

    def _fail(self, message: str) -> None:
        raise WaitTimeout(f"{message}; timeline:\n{self.timeline()}")

    # -- acting --------------------------------------------------------------------------------

    def fault(self, name: str, kind: str, *, timeout: float = 30.0, **arguments: Any) -> None:
        """Inject a fault; one that needs a live process first waits for a running one that no
        earlier fault has ended, so faults in a row each hit their own run."""
        hits_live_process = kind not in START_FAULTS
        if hits_live_process:
            self._wait_fresh_run(name, timeout)
        with ControlClient(self.state_dir, timeout=timeout) as client:
            reply = client.request("fault", name=name, kind=kind, arguments=arguments)
        if not reply["ok"]:
            raise AssertionError(reply["error"])
        if kind in _ENDS_THE_RUN:
            self._faulted_pids[reply["process"]] = reply["pid"]

    def _wait_fresh_run(self, name: str, timeout: float) -> None:
        def fresh() -> bool:
            (process,) = [p for p in self.status(name) if name in (p["name"], p["service"])]
            hit = self._faulted_pids.get(process["name"])
            return process["state"] == "running" and process["pid"] not in (None, hit)

        self.wait_until(fresh, timeout, f"a fresh running process of {name}")

    def control(self, command: str, **fields: Any) -> dict[str, Any]:
        with ControlClient(self.state_dir, timeout=30) as client:
            return client.request(command, **fields)

    # -- ending --------------------------------------------------------------------------------

    def stop(self, timeout: float = 30.0) -> int:
        if self._run.process.poll() is None:
            self._run.signal(signal.SIGTERM)
        return self._run.wait_exit(timeout)

    def leftovers(self) -> list[psutil.Process]:
        """Processes of this stack still alive (after a short grace for ones on their way out)."""
        marked = []
        for process in psutil.process_iter():
            try:
                if process.environ().get(STACK_MARKER) == self.marker:
                    marked.append(process)
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
        _, alive = psutil.wait_procs(marked, timeout=2)
        return alive

    def close(self) -> None:
        self._run.close()
