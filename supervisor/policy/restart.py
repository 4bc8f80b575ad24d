"""Restart decisions: pure functions of the policy, the unit's history, the exit and the time.

Nothing here reads a clock, sleeps or touches a process, so every decision can be replayed
exactly (the tests and the policy simulator drive it with their own clock and random source).
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum

POLICIES = ("always", "on-failure", "never")


@dataclass(frozen=True)
class Backoff:
    initial: float = 0.1
    max: float = 30.0
    factor: float = 2.0
    jitter: float = 0.1  # fraction of the delay, drawn uniformly from [-jitter, +jitter]
    reset_after: float = 10.0  # a process that ran this long starts the backoff afresh


@dataclass(frozen=True)
class StartLimit:
    burst: int = 5  # automatic restarts allowed within `interval`; one more failure is fatal
    interval: float = 60.0


@dataclass(frozen=True)
class RestartPolicy:
    policy: str = "on-failure"
    success_exit_codes: frozenset[int] = frozenset({0})
    # Statuses that say "no restart can heal this" (a manager class that cannot be imported).
    prevent_exit_codes: frozenset[int] = frozenset()
    backoff: Backoff = field(default_factory=Backoff)
    start_limit: StartLimit = field(default_factory=StartLimit)


@dataclass(frozen=True)
class ExitStatus:
    code: int | None = None
    signal: int | None = None

    @classmethod
    def from_returncode(cls, returncode: int) -> ExitStatus:
        return cls(signal=-returncode) if returncode < 0 else cls(code=returncode)

    @property
    def status(self) -> int:
        """The shell's convention: the exit code, or 128 + the signal that killed it."""
        return self.code if self.code is not None else 128 + (self.signal or 0)

    def describe(self) -> str:
        if self.signal is not None:
            return f"killed by {signal.Signals(self.signal).name}"
        return f"exit status {self.code}"


class Action(StrEnum):
    RESTART = "restart"
    EXIT = "exit"  # the policy does not restart this exit: the unit ends here
    FATAL = "fatal"  # the policy gave up: final until an operator starts the unit again


@dataclass(frozen=True)
class History:
    failures: int = 0  # consecutive restarts since the last long-enough run
    restarts: tuple[float, ...] = ()  # times of automatic restarts inside the start-limit window


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str
    history: History
    delay: float = 0.0


def is_success(policy: RestartPolicy, exit: ExitStatus) -> bool:
    return exit.code is not None and exit.code in policy.success_exit_codes


def backoff_delay(
    backoff: Backoff, failures: int, uniform: Callable[[float, float], float]
) -> float:
    """Delay before restart number `failures` (1-based) of a run of consecutive restarts."""
    try:
        base = backoff.initial * backoff.factor ** max(failures - 1, 0)
    except OverflowError:  # a crash loop with no start limit grows past any float: cap it
        base = backoff.max
    jittered = base * (1.0 + uniform(-backoff.jitter, backoff.jitter)) if backoff.jitter else base
    return max(0.0, min(jittered, backoff.max))


def decide(
    policy: RestartPolicy,
    history: History,
    exit: ExitStatus,
    *,
    ran_for: float,
    now: float,
    uniform: Callable[[float, float], float],
) -> Decision:
    """What to do after a process exited by itself (not because it was asked to stop)."""
    what = exit.describe()
    if exit.code is not None and exit.code in policy.prevent_exit_codes:
        return Decision(Action.FATAL, f"{what}: a restart cannot heal this", history)
    success = is_success(policy, exit)
    if policy.policy == "never" or (policy.policy == "on-failure" and success):
        return Decision(Action.EXIT, f"{what}; restart policy {policy.policy!r}", history)

    failures = 0 if ran_for >= policy.backoff.reset_after else history.failures
    limit = policy.start_limit
    # In the window while younger than its interval; the age is rounded to the microsecond so
    # that float error does not keep a restart exactly an interval old (30.01 - 0.01) in it.
    recent = tuple(t for t in history.restarts if round(now - t, 6) < limit.interval)
    if len(recent) >= limit.burst:
        return Decision(
            Action.FATAL,
            f"{what}; start limit hit: {len(recent)} restarts within {limit.interval:g}s",
            replace(history, restarts=recent),
        )
    failures += 1
    delay = backoff_delay(policy.backoff, failures, uniform)
    return Decision(
        Action.RESTART,
        f"{what}; restart {failures} in a row, in {delay:.3f}s",
        History(failures=failures, restarts=(*recent, now)),
        delay,
    )
