"""The states a supervised process can be in; docs/guides/lifecycle.md says what each means."""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    STOPPED = "stopped"
    WAITING = "waiting"  # for its dependencies to be ready
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    BACKOFF = "backoff"
    EXITED = "exited"
    FATAL = "fatal"
    BLOCKED = "blocked"  # a dependency failed for good, so it was never started


FINAL_STATES = frozenset({State.STOPPED, State.EXITED, State.FATAL, State.BLOCKED})

# What each state means to a user reading `status` (the generated reference's words).
MEANINGS: dict[State, str] = {
    State.STOPPED: "not started yet, stopped by an operator (it stays so until started: `held`"
    " in `status --json`), disabled (`autostart = false`), stopped while it had no process (in"
    " backoff, or waiting), or lent to a terminal by `supervisor attach`",
    State.WAITING: "started, but a service it `depends_on` is not ready yet; it starts once they"
    " all are",
    State.STARTING: "the process exists; waiting for `READY=1` (notify), a passing readiness"
    " probe, or `start_seconds`",
    State.RUNNING: "ready: it sent `READY=1`, passed its readiness probe, or has been up"
    " `start_seconds`; a liveness probe runs",
    State.STOPPING: "the stop signal was sent; SIGKILL follows after `stop_timeout`",
    State.BACKOFF: "it ended and the policy will restart it after a delay",
    State.EXITED: "it ended and stays ended: stopped by the supervisor (the group's stop, a"
    " restart), or an exit the policy does not restart",
    State.FATAL: "the policy gave up (start limit hit, an exit code in `prevent_exit_codes`, or"
    " a program that cannot be executed)",
    State.BLOCKED: "a service it `depends_on` failed for good, so it was never started",
}

# Every transition a unit makes, and what makes it (docs/guides/lifecycle.md): the state-machine
# tests hold every `state` event to this table, so an edge that is not here is a bug or a new,
# undocumented behaviour.
TRANSITIONS: dict[State, dict[State, str]] = {
    State.STOPPED: {
        State.STARTING: "started (by the supervisor at boot, or by an operator)",
        State.WAITING: "started while a dependency is not ready yet",
        State.FATAL: "started, but its command cannot be executed",
    },
    State.WAITING: {
        State.STARTING: "every dependency is ready",
        State.BLOCKED: "a dependency failed for good",
        State.STOPPED: "stopped while waiting (by an operator, a reload or the group's stop)",
        State.FATAL: "started by an operator, but its command cannot be executed",
    },
    State.STARTING: {
        State.RUNNING: "READY=1, a passing readiness probe, or up for start_seconds",
        State.STOPPING: "stopped, restarted or killed while starting",
        State.BACKOFF: "it ended (or failed its start) and the policy restarts it",
        State.FATAL: "it ended and the policy gives up",
        State.EXITED: "it ended and the policy does not restart it, or the group is stopping",
    },
    State.RUNNING: {
        State.STOPPING: "stopped, restarted or killed",
        State.BACKOFF: "it ended (or its watchdog or liveness probe failed it) and is restarted",
        State.FATAL: "it ended and the policy gives up",
        State.EXITED: "it ended and the policy does not restart it, or the group is stopping",
    },
    State.STOPPING: {
        State.STOPPED: "it ended after an operator's stop",
        State.EXITED: "it ended after a stop by the supervisor (the group's stop, a restart)",
    },
    State.BACKOFF: {
        State.STARTING: "the backoff delay elapsed, or an operator restarted it",
        State.STOPPED: "stopped during its backoff",
        State.FATAL: "restarted, but its command cannot be executed",
    },
    State.EXITED: {
        State.STARTING: "started again (by an operator, a restart, a reload)",
        State.WAITING: "started again while a dependency is not ready",
        State.FATAL: "started again, but its command cannot be executed",
    },
    State.FATAL: {
        State.STARTING: "started again by an operator",
        State.WAITING: "started again while a dependency is not ready",
        State.FATAL: "started again, and its command still cannot be executed",
    },
    State.BLOCKED: {
        State.STARTING: "started again by an operator",
        State.WAITING: "started again while a dependency is not ready",
        State.FATAL: "started again, but its command cannot be executed",
    },
}
