"""One supervised process: its state machine, its exit handling, its stop escalation.

A unit never decides whether to restart by itself: it asks `policy.decide` and does what the
decision says.  Every transition is an event with its cause.  It reaches the world only through
its `UnitContext`: processes and probes through a `host.ProcessHost`, time and timers through
`host.Timers`, events through an `host.EventSink`; so the same code runs under the supervisor
and, on a virtual clock with virtual processes, under the policy simulator and the tests.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from supervisor.config import ProcessPlan
from supervisor.config.spawnenv import spawn_environment
from supervisor.daemon.faultinjector import StartFaults
from supervisor.daemon.host import Cancellable, ChildProcess, EventSink, ProcessHost, Timers
from supervisor.daemon.liveness import LivenessWatch
from supervisor.daemon.startgate import StartGate
from supervisor.daemon.watchdog import Watchdog
from supervisor.policy.restart import Action, Decision, ExitStatus, History, decide, is_success
from supervisor.policy.states import FINAL_STATES, State
from supervisor.shared.faults import FAULT_SOCKET_ENV, fault_socket_address

# What a failed exec reports, as a shell would: 127 not found, 126 found but not executable.
_EXEC_FAILURE_STATUS = 127
_EXEC_DENIED_STATUS = 126


@dataclass
class UnitContext:
    """What the supervisor lends every unit."""

    loop: Timers
    events: EventSink
    host: ProcessHost
    notify_address: str
    uniform: Callable[[float, float], float]
    changed: Callable[[Unit], None]
    shutting_down: bool = False  # the group is stopping: no more restarts
    # A `[groups]` table's judgement of a crash's decision (its intensity), after the unit's own.
    judge_restart: Callable[[Unit, Decision, ExitStatus], Decision] | None = None
    state_dir: str = ""  # handed to every process as SUPERVISOR_STATE_DIR
    # The supervisor's own environment, read once: each unit keeps only what it adds, since a
    # copy of os.environ per unit (decoded afresh each time) was 4.9 MiB at 1,000 processes.
    environment: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))


class Unit:
    def __init__(self, plan: ProcessPlan, context: UnitContext) -> None:
        self.plan = plan
        self.name = plan.name
        self.service = plan.service
        self._context = context
        self.state = State.STOPPED
        self.since = context.loop.clock()
        self.cause = "not started yet"
        self.ready = False
        # Ended by itself in success: what a dependency or `wait --ready` accepts from a
        # process that is meant to finish (a migration, a one-shot job).
        self.completed = False
        self.has_run = False  # reached running at least once since it was started
        self.restarts = 0
        self.last_exit: ExitStatus | None = None
        # Set when the unit ended in failure: the status the group exits with, if it is first.
        self.failure_status: int | None = None
        self._history = History()
        self._process: ChildProcess | None = None
        self._started_at = 0.0
        self._timer: Cancellable | None = None
        self._escalated = False
        self._hold_after_stop = False  # an operator's stop: stay stopped, not exited
        self._start_after_stop: str | None = None  # a restart in progress, with its cause
        self._failed_by: str | None = None  # the supervisor ended this run as a failure
        self.status_text: str | None = None  # the last STATUS= the process sent
        # The last STATUS= of the run that ended (with last_exit): why it went, in its words.
        self.last_exit_status_text: str | None = None
        # Removed from the plan by a reload and stopping: it never starts again, and leaves the
        # supervisor once final.
        self.retiring = False
        self._gate = StartGate(
            self.name,
            context.loop,
            context.host,
            on_open=self._become_running,
            on_timeout=self._fail,
            on_probe_failed=self._on_probe_failed,
        )
        self.watchdog = Watchdog(context.loop, self._fail)
        self.liveness = LivenessWatch(self.name, context.host, context.events, self._fail)
        self.start_faults = StartFaults()
        self.fault_address = fault_socket_address(context.notify_address, self.name)
        self._own_env = self._environment()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def is_manager(self) -> bool:
        """A manager service (the runtime listens for faults), not a plain command."""
        return self.plan.spec is not None

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def held(self) -> bool:
        """Stopped and kept stopped until an operator starts it: an operator's stop, or a
        service with `autostart = false` not started yet."""
        return self.state is State.STOPPED and self._hold_after_stop

    def disable(self) -> None:
        """`autostart = false`: not started with the group; it waits for an operator."""
        if self.state is State.STOPPED:
            self._hold_after_stop = True
            self.cause = (
                f"disabled (autostart = false): start it with `supervisor start {self.name}`"
            )

    @property
    def _env(self) -> dict[str, str]:
        """The environment a run of this process (and its exec probes) gets."""
        return {**self._context.environment, **self._own_env}

    def run_environment(self) -> dict[str, str]:
        """The environment a run gets (without start faults): what `attach` lends a terminal."""
        return self._env

    def _environment(self) -> dict[str, str]:
        """What this process adds to the supervisor's environment.  What the plan alone
        decides is shared with the exporters; the rest is this daemon's."""
        env = spawn_environment(self.plan, self._context.state_dir)
        env["NOTIFY_SOCKET"] = self._context.notify_address
        env.update(self._context.host.environment())
        if self.plan.spec is not None:
            env[FAULT_SOCKET_ENV] = self.fault_address
        if self.plan.settings.watchdog:
            # sd_notify libraries ping at half this interval when they see it.
            env["WATCHDOG_USEC"] = str(int(self.plan.settings.watchdog * 1_000_000))
        return env

    # -- transitions ---------------------------------------------------------------------------

    def _transition(self, state: State, cause: str, **details: object) -> None:
        details.setdefault("pid", self.pid)
        previous, self.state = self.state, state
        self.since = self._context.loop.clock()
        self.cause = cause
        self._context.events.emit(
            "state",
            unit=self.name,
            **{"from": str(previous)},
            to=str(state),
            cause=cause,
            **details,
        )
        if previous is State.STARTING:
            self._gate.close()
        if previous is State.RUNNING:
            self.liveness.disarm()
        if state in FINAL_STATES:
            self._context.host.unit_ended(self.name)
        self._context.changed(self)

    def _set_timer(self, delay: float, callback: Callable[[], None]) -> None:
        self._cancel_timer()
        self._timer = self._context.loop.call_later(delay, callback)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # -- starting ------------------------------------------------------------------------------

    def start(self, cause: str) -> None:
        """Start from a final state, as an operator or the supervisor asks: a fresh history."""
        if self.retiring:
            return
        if self.is_final or self.state is State.WAITING:
            self._spawn_afresh(cause)

    def _spawn_afresh(self, cause: str) -> None:
        self.has_run = False
        self._history = History()
        self.failure_status = None
        self._spawn(cause)

    def wait_for_dependencies(self, cause: str) -> None:
        if self.is_final:
            self.failure_status = None
            self._transition(State.WAITING, cause)

    def block(self, cause: str) -> None:
        if self.state is State.WAITING:
            self._transition(State.BLOCKED, cause)

    def restart(self, cause: str) -> None:
        """Stop if running, then start again with a fresh history."""
        if self.retiring:
            self.stop(cause)
        elif self.state in (State.STARTING, State.RUNNING, State.STOPPING):
            self.stop(cause)
            self._start_after_stop = cause  # after the stop, which drops any earlier restart
        else:
            self._cancel_timer()
            self._spawn_afresh(cause)

    def replace_plan(self, plan: ProcessPlan) -> None:
        """Take a reloaded plan; it applies from the next start."""
        self.plan = plan
        self._own_env = self._environment()

    def _spawn(self, cause: str) -> None:
        self._timer = None
        self.ready = False
        self.completed = False
        self._escalated = False
        self._hold_after_stop = False
        self._failed_by = None
        self.status_text = None
        settings = self.plan.settings
        env = self._env  # merged once a spawn: the run adds its start faults, the probes do not
        try:
            self._process = self._context.host.start(
                self.name,
                self.plan.argv,
                {**env, **self.start_faults.take()},
                settings,
                self._on_exit,
            )
        except OSError as error:
            self._process = None
            self.failure_status = (
                _EXEC_DENIED_STATUS if isinstance(error, PermissionError) else _EXEC_FAILURE_STATUS
            )
            # A working directory removed since the file was checked fails the same exec.
            gone = settings.directory is not None and error.filename == settings.directory
            what = f"enter {settings.directory}" if gone else f"execute {self.plan.argv[0]}"
            self._transition(State.FATAL, f"cannot {what}: {error.strerror}")
            return
        self._started_at = self._context.loop.clock()
        if note := getattr(self._process, "note", None):  # e.g. a preload template replaced
            cause = f"{cause}; {note}"
        self._transition(State.STARTING, cause)
        self._gate.begin(settings, env)

    def _on_probe_failed(self, why: str) -> None:
        # Not an event per run (a slow broker would flood the log): the cause `status` shows.
        if self.state is State.STARTING:
            self.cause = f"readiness probe: {why}"

    def _become_running(self, cause: str) -> None:
        if self.state is State.STARTING and self._failed_by is None:
            self._gate.close()
            self.ready = True
            self.has_run = True
            self.watchdog.arm(self.plan.settings.watchdog)
            self._transition(State.RUNNING, cause)
            settings = self.plan.settings
            if self.state is State.RUNNING:  # what heard the transition may have stopped it
                self.liveness.arm(settings.liveness, self.pid, self._env, settings.directory)

    def on_notify(self, fields: dict[str, str]) -> None:
        if fields.get("WATCHDOG") == "1":
            self.watchdog.keepalive()
            if len(fields) == 1:
                return  # a keep-alive is not news: it would flood the event log
        self._context.events.emit("notify", unit=self.name, pid=self.pid, **fields)
        if "STATUS" in fields:
            self.status_text = fields["STATUS"]
        if fields.get("READY") == "1":
            self._gate.ready_notified()
        if fields.get("WATCHDOG") == "trigger":
            self._fail("watchdog: the service asked for it (WATCHDOG=trigger)")

    def _fail(self, cause: str) -> None:
        """End this run as a failure the restart policy handles like a crash (SIGABRT first,
        as systemd's watchdog does, then SIGKILL after stop_timeout)."""
        if self.state not in (State.STARTING, State.RUNNING) or self._process is None:
            return
        self._failed_by = cause
        self._gate.close()  # the start is over: no start timeout, no probe after this verdict
        self.liveness.disarm()
        self._context.events.emit("kill", unit=self.name, pid=self.pid, cause=cause)
        self._process.signal(signal.SIGABRT)
        self._set_timer(self.plan.settings.stop_timeout, self._escalate_failure)

    def _escalate_failure(self) -> None:
        self._timer = None
        if self._process is not None:
            self._escalated = True
            self._process.kill()

    # -- exiting -------------------------------------------------------------------------------

    def _on_exit(self) -> None:
        assert self._process is not None
        pgid = self._process.pid
        returncode = self._process.reap()
        # Why a run ended that the exit status cannot say (a preload template's import error).
        detail = getattr(self._process, "failure", None)
        if returncode is None:
            return
        self._cancel_timer()
        self._gate.close()
        self.liveness.disarm()
        self.watchdog.disarm()  # and its heartbeat's age: a dead process's is not current
        self.last_exit_status_text = self.status_text
        self.status_text = None  # nor its STATUS=
        self._process = None
        self.ready = False
        exit = ExitStatus.from_returncode(returncode)
        self.last_exit = exit
        if self.state is State.STOPPING or self._context.shutting_down:
            self._on_stopped(exit, pgid)
        else:
            self._on_crash(exit, pgid, detail)

    def _on_stopped(self, exit: ExitStatus, pid: int) -> None:
        policy = self.plan.settings.restart
        stop_signal = self.plan.settings.stop_signal
        clean = not self._escalated and (
            exit.signal == stop_signal
            or is_success(policy, exit)
            or exit.code == 128 + stop_signal  # shells and JVMs exit 143 on SIGTERM
        )
        self.failure_status = None if clean else exit.status
        how = "after SIGKILL" if self._escalated else "cleanly" if clean else "uncleanly"
        final = State.STOPPED if self._hold_after_stop else State.EXITED
        self._transition(
            final, f"stopped {how}: {exit.describe()}", pid=pid, exit_status=exit.status
        )
        if self._start_after_stop is not None and not self._context.shutting_down:
            cause, self._start_after_stop = self._start_after_stop, None
            self.start(cause)

    def _on_crash(self, exit: ExitStatus, pid: int, detail: str | None = None) -> None:
        clock = self._context.loop.clock
        if self._failed_by is not None and is_success(self.plan.settings.restart, exit):
            exit = ExitStatus(signal=signal.SIGABRT)  # ending it was our verdict, not its own
        decision = decide(
            self.plan.settings.restart,
            self._history,
            exit,
            ran_for=clock() - self._started_at,
            now=clock(),
            uniform=self._context.uniform,
        )
        self._history = decision.history
        if self._context.judge_restart is not None:
            decision = self._context.judge_restart(self, decision, exit)
        if self._failed_by is not None:
            decision = replace(decision, reason=f"{self._failed_by}; {decision.reason}")
        if detail:
            decision = replace(decision, reason=f"{decision.reason}; {detail}")
        if decision.action is Action.RESTART:
            self.restarts += 1
            self._transition(
                State.BACKOFF,
                decision.reason,
                pid=pid,
                exit_status=exit.status,
                delay=round(decision.delay, 6),
            )
            if decision.delay:
                self._set_timer(decision.delay, lambda: self._spawn("backoff elapsed"))
            else:
                self._spawn("restarting at once")
            return
        if decision.action is Action.FATAL:
            # A unit that gave up after clean exits has still failed: never report success.
            self.failure_status = exit.status or 1
        elif not is_success(self.plan.settings.restart, exit):
            self.failure_status = exit.status
        else:
            self.completed = True
        final = State.FATAL if decision.action is Action.FATAL else State.EXITED
        self._transition(final, decision.reason, pid=pid, exit_status=exit.status)

    # -- stopping ------------------------------------------------------------------------------

    def stop(self, cause: str, *, hold: bool = False) -> None:
        """Stop the process; with `hold` (an operator's stop) it then stays `stopped`.  A stop
        overrides a restart still in progress: the process is not started again."""
        self._hold_after_stop = self._hold_after_stop or hold
        self._start_after_stop = None
        if self.state in (State.BACKOFF, State.WAITING):
            self._cancel_timer()
            self._transition(State.STOPPED, cause)
        elif self.state in (State.STARTING, State.RUNNING):
            assert self._process is not None
            self._process.signal(self.plan.settings.stop_signal)
            self._set_timer(self.plan.settings.stop_timeout, self._escalate)
            self._transition(State.STOPPING, cause)

    def stop_deadline(self, now: float) -> str:
        """How long its stop may still take, for an operator waiting on it."""
        if self.state is State.STOPPING and not self._escalated:
            left = max(0.0, self.since + self.plan.settings.stop_timeout - now)
            return f"SIGKILL in {left:.0f}s"
        if self.state is State.STOPPING:
            return "killed, waiting for it to exit"
        return "not stopped yet: its dependants go first"

    def _escalate(self) -> None:
        self._timer = None
        if self.state is State.STOPPING:
            self.kill(f"still running {self.plan.settings.stop_timeout:g}s after the stop signal")

    def kill(self, cause: str) -> None:
        """SIGKILL the whole process group now."""
        if self._process is None:
            self.stop(cause)
            return
        self._escalated = True
        self._context.events.emit("kill", unit=self.name, pid=self.pid, cause=cause)
        self._process.kill()
        if self.state is not State.STOPPING:
            self._transition(State.STOPPING, cause)

    def send(self, signum: int, *, whole_group: bool = False) -> bool:
        """Forward a signal to the service's main process (SIGHUP: the manager's reset()), or
        to its whole process group; False when it has no process."""
        if self._process is None:
            return False
        if whole_group:
            self._process.signal(signum)
        else:
            self._process.signal_leader(signum)
        return True

    def snapshot(self, now: float) -> dict[str, object]:
        """The unit as `status --json` shows it."""
        last = self.last_exit
        memory, cpu = self._context.host.usage(self.name)
        return {
            "name": self.name,
            "service": self.service,
            "state": str(self.state),
            "pid": self.pid,
            "ready": self.ready,
            "age": round(now - self.since, 3),
            "uptime": round(now - self._started_at, 3) if self._process else None,
            "restarts": self.restarts,
            "last_exit": None
            if last is None
            else {
                "code": last.code,
                "signal": signal.Signals(last.signal).name if last.signal else None,
                "status": last.status,
                "description": last.describe(),
                "status_text": self.last_exit_status_text,
            },
            "cause": self.cause,
            "critical": self.plan.settings.critical,
            "autostart": self.plan.settings.autostart,
            "held": self.held,
            "heartbeat_age": _rounded(self.watchdog.age()),
            "status_text": self.status_text,
            # From the unit's cgroup; null under process-group containment.
            "memory": memory,
            "cpu": _rounded(cpu),
        }


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 3)
