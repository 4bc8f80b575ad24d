"""The states a supervised process can be in; README "States" says what each means."""

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
