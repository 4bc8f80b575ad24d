"""The whole supervisor's group on a virtual host, driven by hypothesis: every operator verb,
crash, signal, notify message, probe answer, reload and stop, in any order; a drawn
`[groups]` table (its strategy and intensity) may hold db, api, migrate and web.

It runs the real `Supervisor` (its operations, its settle loop, the group's judgement), the
real `Unit`s and the real control-plane handlers (`CommandHandler`, fed typed requests as the
socket would), on `tools.virtualhost`'s loop and processes, so a few thousand steps take
seconds and no process is started.  After every step it checks what a user relies on:

- no exception escapes anything the supervisor does;
- every `state` event is an edge of `policy.states.TRANSITIONS`, from the state the unit was in;
- `status` never shows a dead process's pid, uptime, STATUS= text or heartbeat as current, and
  every live process belongs to exactly the unit that shows its pid;
- nothing starts once the group is stopping;
- the group ends at most once, with one `group exit` event and a documented status
  (docs/guides/lifecycle.md);
  and a shutdown always ends it (checked at the end of every run);
- a `wait --ready` that names a process held stopped is answered at once, and every waiting
  client is answered by the end.

`tests/daemon/test_state_machine.py` runs it in the suite; `scripts/fuzz` runs it for longer.
"""

from __future__ import annotations

import json
import random
import shutil
import signal
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)

from supervisor import config
from supervisor.control.handlers import CommandHandler
from supervisor.control.protocol import Act, Fault, Reload, Shutdown, Signal, Status, Wait
from supervisor.daemon.arbiter import Supervisor
from supervisor.policy import group
from supervisor.policy.restart import ExitStatus
from supervisor.policy.states import FINAL_STATES, TRANSITIONS, State
from supervisor.policy.strategy import STRATEGIES
from supervisor.shared.faults import START_FAULT_ENV
from supervisor.tools.virtualhost import VirtualHost, VirtualLoop, VirtualProcess

_LIVE = frozenset({State.STARTING, State.RUNNING, State.STOPPING})
_OPTIONS = """
[options]
host = "node1"
volume_manager = "supervisor.managers.volume.VolumeManager"
backup_manager = "supervisor.managers.backup.BackupManager"
"""
_RESTART = (
    "restart = { backoff = { initial = 0.5, max = 4.0, jitter = 0.2, reset_after = 5.0 }, "
    "start_limit = { burst = 2, interval = 30.0 } }"
)
# The services a run may hold, each a [services.NAME] body; a run starts with a drawn subset
# (dependencies included) and reloads may add or remove the others.
SERVICES: dict[str, str] = {
    "db": f"""command = ["sleep", "1000"]
start_seconds = 1
stop_timeout = 2
{_RESTART}
""",
    "api": f"""command = ["sleep", "1000"]
workers = 2
depends_on = ["db"]
readiness = {{ tcp = "127.0.0.1:9", period = 0.5 }}
liveness = {{ tcp = "127.0.0.1:9", period = 0.5, failure_threshold = 1 }}
stop_timeout = 1
{_RESTART}
""",
    "cinder-volume": f"""backends = ["a", "b"]
watchdog = 3
start_timeout = 5
stop_timeout = 2
{_RESTART}
""",
    "cinder-backup": """workers = 2
depends_on = ["cinder-volume"]
critical = true
start_timeout = 5
restart = { policy = "always", backoff = { initial = 0.0 }, start_limit = { burst = 1 } }
""",
    "migrate": """command = ["true"]
oneshot = true
restart = { policy = "never" }
""",
    "web": """command = ["sleep", "1000"]
depends_on = ["migrate"]
start_seconds = 0
stop_signal = "INT"
restart = { policy = "always", backoff = { initial = 1.0 } }
""",
    "tool": """command = ["sleep", "1000"]
autostart = false
start_seconds = 0
""",
}
DEPENDS = {"api": {"db"}, "cinder-backup": {"cinder-volume"}, "web": {"migrate"}}
# The services a drawn `[groups]` table holds, of those present, in dependency order.
GROUPED = ("db", "api", "migrate", "web")
UNKNOWN = "nope"

# A service name, or (with an index) one of its processes.
names = st.tuples(st.sampled_from(sorted({*SERVICES, UNKNOWN})), st.integers(-1, 2))
exit_statuses = st.one_of(
    st.sampled_from([0, 1, 2, 3, 78, 127]).map(lambda code: ExitStatus(code=code)),
    st.sampled_from([signal.SIGKILL, signal.SIGSEGV, signal.SIGTERM, signal.SIGABRT]).map(
        lambda sig: ExitStatus(signal=sig)
    ),
)
delays = st.sampled_from([0.0, 0.01, 0.3, 0.6, 1.1, 2.5, 5.0, 31.0, 120.0])


def _closed(chosen: set[str]) -> set[str]:
    """`chosen` with every service it depends on."""
    closed = set(chosen)
    while missing := {d for s in closed for d in DEPENDS.get(s, ())} - closed:
        closed |= missing
    return closed


class Client:
    """A control client as the handlers see one: it collects replies."""

    def __init__(self) -> None:
        self.replies: list[dict[str, Any]] = []
        self.closed = False

    def reply(self, message: dict[str, Any]) -> None:
        self.replies.append(message)

    def reply_and_close(self, message: dict[str, Any]) -> None:
        self.reply(message)
        self.closed = True


class Events:
    """The event sink: every event, in order."""

    def __init__(self) -> None:
        self.all: list[dict[str, Any]] = []

    def emit(self, event: str, **fields: Any) -> None:
        self.all.append({"event": event, **fields})


class StackMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="stack-machine-"))
        self.path = self.folder / "services.toml"
        self.loop = VirtualLoop()
        self.host = VirtualHost(self.loop, on_start=self._started, on_message=self._message)
        self.events = Events()
        self.seen = 0  # events already checked
        self.states: dict[str, State] = {}  # each unit's state as its events say
        self.finished = False
        self.stop_seen = False
        self.waits: list[tuple[Client, str, tuple[str, ...]]] = []
        self.services: set[str] = set()
        self.generation = 0  # changed settings, to make a reload's "changed"
        self.group = ""  # the drawn [groups.g] table's settings, or "" for no group

    # -- the file ------------------------------------------------------------------------------

    def _write(self, services: set[str], *, extra: str = "") -> None:
        text = f'[supervisor]\nstate_dir = "state"\n{_OPTIONS}'
        for name in sorted(services):
            text += f"\n[services.{name}]\n{SERVICES[name]}"
            if name == "db":
                text += f'env = {{ GENERATION = "{self.generation}" }}\n'
        members = [name for name in GROUPED if name in services]
        if self.group and members:
            text += f"\n[groups.g]\nservices = {json.dumps(members)}\n{self.group}"
        self.path.write_text(text + extra)

    # -- the virtual processes -------------------------------------------------------------------

    def _started(self, process: VirtualProcess) -> None:
        if process.env.get(START_FAULT_ENV) == "crash":
            process.exit_at(self.loop.now, 1)  # init_host raised: the runtime's status 1

    def _message(self, unit: str, fields: dict[str, str]) -> None:
        # The supervisor routes a datagram to the unit whose process sent it, by pid.
        for candidate in self.supervisor.units.values():
            if candidate.name == unit and candidate.pid == self.host.current(unit).pid:
                candidate.on_notify(fields)

    def _process(self, name: str) -> VirtualProcess | None:
        runs = self.host.runs.get(name)
        return runs[-1] if runs and runs[-1].alive else None

    def _unit_names(self) -> list[str]:
        return sorted(self.supervisor.units)

    # -- running the loop ----------------------------------------------------------------------

    def _serve(self, seconds: float = 0.0) -> None:
        """Serve what is due within `seconds`, ending the group the moment it has ended.
        Once it has ended (the supervisor has exited), nothing it left behind acts any more."""
        deadline = self.loop.now + seconds
        if self.finished:
            before = len(self.events.all)
            self.loop.run(deadline=deadline)
            assert len(self.events.all) == before, self.events.all[before:]
            return
        if self.loop.run(until=self.supervisor.has_ended, deadline=deadline) == "until":
            self._finish()
        else:
            self.loop.now = max(self.loop.now, deadline)

    def _finish(self) -> None:
        if not self.finished:
            self.finished = True
            self.status = self.supervisor.finish(*self.supervisor.outcome())

    def _send(self, request: object) -> Client:
        client = Client()
        self.commands.handle(client, request)  # type: ignore[arg-type]
        return client

    # -- rules ---------------------------------------------------------------------------------

    @initialize(
        chosen=st.sets(st.sampled_from(sorted(SERVICES)), min_size=1),
        seed=st.integers(0, 2**32 - 1),
        strategy=st.sampled_from([None, *STRATEGIES]),
        intensity=st.sampled_from([None, 0, 2]),
    )
    def boot(
        self,
        chosen: set[str],
        seed: int,
        strategy: str | None = None,  # the found cases replay with no [groups] table
        intensity: int | None = None,
    ) -> None:
        if strategy is not None:
            limit = "" if intensity is None else f"intensity = {intensity}\nperiod = 20\n"
            self.group = f'strategy = "{strategy}"\n{limit}'
        self.services = _closed(chosen)
        self._write(self.services)
        plan = config.load(self.path)
        jitter = random.Random(seed)
        self.supervisor = Supervisor(
            plan,
            load_plan=lambda: config.load(self.path),
            clock=self.loop.clock,
            uniform=jitter.uniform,
        )
        self.supervisor.attach(self.loop, self.events, self.host, "")
        self.supervisor.containment = "process-group"
        self.commands = CommandHandler(self.supervisor)
        self.supervisor.boot()
        self._serve()

    @rule(verb=st.sampled_from(["start", "stop", "restart"]), name=names, every=st.booleans())
    def operate(self, verb: str, name: tuple[str, int], every: bool) -> None:
        if self.finished:
            return  # the supervisor has exited: nobody answers
        target = self._pick(name)
        reply = self._send(Act(verb, () if every else (target,), all=every)).replies
        assert len(reply) == 1
        if not reply[0]["ok"]:
            assert reply[0]["error"], reply
        self._serve()

    @rule(condition=st.sampled_from(["ready", "stopped"]), name=names, every=st.booleans())
    def wait(self, condition: str, name: tuple[str, int], every: bool) -> None:
        if self.finished:
            return  # the supervisor has exited: nobody answers
        target = () if every else (self._pick(name),)
        client = self._send(Wait(condition, target))
        if client.replies and not client.replies[0]["ok"]:
            return  # an unknown name: refused at once
        held = [
            unit.name
            for unit in self.commands.resolve(target)
            if unit.held and target and condition == "ready"
        ]
        if held:
            assert client.replies and not client.replies[0]["met"], (held, client.replies)
        self.waits.append((client, condition, target))
        self._serve()

    @rule(
        kind=st.sampled_from(["same", "changed", "add", "remove", "invalid", "state_dir"]),
        name=st.sampled_from(sorted(SERVICES)),
    )
    def reload(self, kind: str, name: str) -> None:
        if self.finished:
            return  # the supervisor has exited: nobody answers
        services = set(self.services)
        if kind == "add":
            services = _closed(services | {name})
        elif kind == "remove":
            services.discard(name)  # a dependency removed under its dependant is refused
        self.reload_to(
            services,
            changed=kind == "changed",
            spoiled={"invalid": "bad toml", "state_dir": "state_dir"}.get(kind),
        )

    def reload_to(self, services: set[str], *, changed: bool = False, spoiled: str | None = None):
        """Write the file with these services (`changed`: db's settings differ; `spoiled`: a
        file no reload may take) and send a reload, as `supervisor reload` does."""
        if changed:
            self.generation += 1
        if spoiled == "bad toml":
            self._write(services, extra="\n[services.db]\nbroken = \n")
        else:
            self._write(services)
        if spoiled == "state_dir":
            self.path.write_text(self.path.read_text().replace('"state"', '"elsewhere"', 1))
        reply = self._send(Reload()).replies
        assert len(reply) == 1
        if reply[0]["ok"]:
            self.services = services
        else:
            assert reply[0]["error"]
            self._write(self.services)  # the file is put back, as a user would
        self._serve()
        return reply[0]

    @rule(signum=st.sampled_from([signal.SIGTERM, signal.SIGINT, signal.SIGHUP]))
    def signal_supervisor(self, signum: int) -> None:
        if self.finished:
            return  # the supervisor has exited: nobody answers
        self.supervisor.on_signal(signum)
        self._serve()

    @rule()
    def shutdown(self) -> None:
        if self.finished:
            return  # the supervisor has exited: nobody answers
        self.waits.append((self._send(Shutdown()), "exit", ()))
        self._serve()

    @rule(name=names, status=exit_statuses)
    def crash(self, name: tuple[str, int], status: ExitStatus) -> None:
        process = self._process(self._pick(name))
        if process is not None:
            process.exit(status)
        self._serve()

    @rule(
        name=names,
        signum=st.sampled_from([signal.SIGTERM, signal.SIGKILL, signal.SIGHUP, signal.SIGINT]),
        ignores=st.booleans(),
    )
    def signal_process(self, name: tuple[str, int], signum: int, ignores: bool) -> None:
        """A signal from outside; the process may handle it and live on (it then also
        ignores its stop signal, so only SIGKILL ends it)."""
        process = self._process(self._pick(name))
        if process is not None:
            if ignores and signum != signal.SIGKILL:
                process.ignored.update({signum, signal.SIGTERM, signal.SIGINT})
            process.signal(signum)
        self._serve()

    @rule(
        name=names,
        fields=st.sampled_from(
            [
                {"READY": "1"},
                {"READY": "1", "STATUS": "serving"},
                {"STATUS": "connecting to the bus"},
                {"WATCHDOG": "1"},
                {"WATCHDOG": "trigger"},
                {"STOPPING": "1"},
            ]
        ),
    )
    def notify(self, name: tuple[str, int], fields: dict[str, str]) -> None:
        process = self._process(self._pick(name))
        if process is not None:
            process.send(fields)
        self._serve()

    @rule(name=names, passes=st.booleans())
    def probe(self, name: tuple[str, int], passes: bool) -> None:
        probes = [p for p in self.host.probes.get(self._pick(name), []) if not p.cancelled]
        if probes:
            if passes:
                probes[-1].succeed()
            else:
                probes[-1].fail("connection refused")
        self._serve()

    @rule(
        name=names,
        kind=st.sampled_from(["crash-on-start", "slow-start"]),
        count=st.integers(0, 3),
    )
    def fault(self, name: tuple[str, int], kind: str, count: int) -> None:
        if self.finished:
            return  # the supervisor has exited: nobody answers
        arguments: dict[str, int | float | str] = (
            {"count": count} if kind == "crash-on-start" else {"seconds": float(count)}
        )
        self._send(Fault(self._pick(name), kind, arguments=arguments))
        self._serve()

    @rule(
        name=names,
        signum=st.sampled_from([signal.SIGHUP, signal.SIGUSR1, signal.SIGTERM, signal.SIGKILL]),
        whole_group=st.booleans(),
    )
    def signal_request(self, name: tuple[str, int], signum: int, whole_group: bool) -> None:
        """`supervisor signal NAME SIG [--group]`."""
        if self.finished:
            return  # the supervisor has exited: nobody answers
        (reply,) = self._send(Signal((self._pick(name),), signum, whole_group)).replies
        assert reply["ok"] or reply["error"], reply
        self._serve()

    @rule(seconds=delays)
    def time_passes(self, seconds: float) -> None:
        self._serve(seconds)

    @rule()
    def status(self) -> None:
        if self.finished:
            return  # the supervisor has exited: nobody answers
        reply = self._send(Status()).replies[0]
        assert reply["ok"]
        self._check_rows(reply["processes"])

    def _pick(self, drawn: tuple[str, int]) -> str:
        """The service drawn, or its process of the drawn index (-1: the service itself)."""
        service, index = drawn
        processes = [n for n in self._unit_names() if self.supervisor.units[n].service == service]
        if index < 0 or not processes:
            return service
        return processes[index % len(processes)]

    # -- invariants ----------------------------------------------------------------------------

    @invariant()
    def transitions_are_documented(self) -> None:
        if not hasattr(self, "supervisor"):
            return
        for event in self.events.all[self.seen :]:
            if event["event"] == "reload" and event.get("action") == "applied":
                for name in event.get("added", ()):
                    # A new unit of that name starts stopped; one back before its old run
                    # was down is the same unit, in the middle of its stop.
                    if self.states.get(name, State.STOPPED) in FINAL_STATES:
                        self.states.pop(name, None)
            if event["event"] == "group" and event["action"] == "stop":
                self.stop_seen = True
            if event["event"] != "state":
                continue
            unit, before, after = event["unit"], State(event["from"]), State(event["to"])
            assert before is self.states.get(unit, State.STOPPED), event
            assert after in TRANSITIONS[before], f"undocumented transition: {event}"
            if self.stop_seen:
                assert after is not State.STARTING, f"started while the group stops: {event}"
            self.states[unit] = after
        self.seen = len(self.events.all)
        for name, unit in self.supervisor.units.items():
            assert unit.state is self.states.get(name, State.STOPPED), name

    @invariant()
    def status_shows_only_live_processes_as_current(self) -> None:
        if not hasattr(self, "supervisor"):
            return
        now = self.loop.clock()
        self._check_rows([unit.snapshot(now) for unit in self.supervisor.units.values()])
        shown = {unit.pid: name for name, unit in self.supervisor.units.items() if unit.pid}
        for name, runs in self.host.runs.items():
            for process in runs:
                if process.alive:
                    assert shown.get(process.pid) == name, f"{name} {process.pid} is an orphan"

    def _check_rows(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            state = State(row["state"])
            if state in _LIVE:
                assert row["pid"] is not None, row
                continue
            dead = {key: row[key] for key in ("pid", "uptime", "status_text", "heartbeat_age")}
            assert set(dead.values()) == {None}, f"{row['name']} is {state}: {dead}"
            assert not row["ready"], row

    @invariant()
    def the_group_ends_once_with_a_documented_status(self) -> None:
        if not hasattr(self, "supervisor"):
            return
        exits = [e for e in self.events.all if e["event"] == "group" and e["action"] == "exit"]
        assert len(exits) == (1 if self.finished else 0), exits
        if not self.finished:
            return
        assert exits[0]["status"] == self.status
        units = self.supervisor.units.values()
        assert all(unit.is_final for unit in units)
        failed = {unit.failure_status for unit in units if group.failed_for_good(unit)}
        forced = {128 + signal.SIGINT, 128 + signal.SIGTERM}
        if self.status == 0:
            assert not failed, failed
        else:
            assert self.status in failed | forced, (self.status, failed)
        for client, condition, _ in self.waits:
            assert len(client.replies) == 1, (condition, client.replies)

    @invariant()
    def every_wait_is_answered_at_most_once(self) -> None:
        for client, condition, target in self.waits:
            assert len(client.replies) <= 1, (condition, target, client.replies)

    def teardown(self) -> None:
        try:
            if hasattr(self, "supervisor") and not self.finished:
                # Whatever came before, a shutdown ends the group, in bounded time.
                self.supervisor.begin_stop("teardown")
                self._serve(3600.0)
                assert self.finished, {
                    name: (str(unit.state), unit.cause)
                    for name, unit in self.supervisor.units.items()
                }
                self.transitions_are_documented()
                self.the_group_ends_once_with_a_documented_status()
                self.status_shows_only_live_processes_as_current()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
