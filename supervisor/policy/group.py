"""The group's judgement: when the stack must stop, in which layers it goes down, when it has
ended, and with which exit status and cause (docs/guides/lifecycle.md).

Pure: it reads what the members say of themselves and nothing else, no clock, no process.  The
supervisor (`daemon.arbiter`) and the policy simulator (`tools.simulate`) both ask it, so a
simulated group stops and ends exactly as a real one does.
"""

from __future__ import annotations

import signal
from collections.abc import Collection, Iterable, Mapping
from typing import NamedTuple, Protocol, TypeVar

from supervisor.policy.states import FINAL_STATES, State


class Member(Protocol):
    """One process of the group, as the judgement sees it."""

    @property
    def name(self) -> str: ...

    @property
    def service(self) -> str: ...

    @property
    def state(self) -> State: ...

    @property
    def cause(self) -> str: ...

    @property
    def failure_status(self) -> int | None:
        """Set once the process failed for good: the status the group exits with if first."""

    @property
    def held(self) -> bool:
        """Stopped by an operator (or not started, `autostart = false`): kept stopped."""


M = TypeVar("M", bound=Member)


def failed_for_good(member: Member) -> bool:
    return member.state in FINAL_STATES and member.failure_status is not None


def critical_failure(member: Member, *, critical: bool) -> str | None:
    """Why the group must stop now that `member` changed: a critical process that failed for
    good takes the group down; None when the group goes on."""
    if critical and failed_for_good(member):
        return f"critical unit {member.name} failed for good"
    return None


def to_stop(dependants: Mapping[str, Collection[str]], members: Iterable[M]) -> list[M]:
    """Whom a stopping group stops now: every member with no process (waiting for its
    dependencies, or in backoff: nothing of it is up to be depended on), and every
    member still up none of whose dependants (the services whose `depends_on` names its
    service) is still up.  So a stop goes in dependency layers, as systemd's does: services
    with no dependency relation go down at once, dependants before their dependencies.
    Members already stopping are not stopped again."""
    members = list(members)
    idle = (State.WAITING, State.BACKOFF)
    up = [m for m in members if m.state not in FINAL_STATES and m.state not in idle]
    services_up = {member.service for member in up}
    chosen = [member for member in members if member.state in idle]
    chosen += [
        member
        for member in up
        if member.state is not State.STOPPING
        and services_up.isdisjoint(dependants.get(member.service, ()))
    ]
    return chosen


def has_ended(members: Iterable[Member], *, stopping: bool, released: Collection[str] = ()) -> bool:
    """Every member is final; unless the group is stopping, a member stopped (by an operator,
    or not started yet) waits to be started, so the group waits too.  `released`: members a
    `[groups]` table's end stopped for good, done unless an operator has held them since."""
    if stopping:
        return all(member.state in FINAL_STATES for member in members)
    return all(
        member.state in FINAL_STATES
        and (member.state is not State.STOPPED or (member.name in released and not member.held))
        for member in members
    )


class Failure(NamedTuple):
    """A member's failure for good, as it stood when it happened: the group's status and cause
    come from this record, never from the member, which an operator may start again."""

    name: str
    status: int
    cause: str


class Failures:
    """The members that have failed for good and still stand failed, in the order they failed.

    An operator's `start` or `restart` of a failed member takes its failure back (the member is
    no longer failed for good, so the group no longer answers for it); if it fails again, it
    fails anew, behind every failure still standing."""

    def __init__(self) -> None:
        self._standing: dict[str, Failure] = {}

    def note(self, member: Member) -> bool:
        """Hear of a change of `member`; True when it has just failed for good."""
        if failed_for_good(member):
            assert member.failure_status is not None  # failed_for_good says so
            failure = Failure(member.name, member.failure_status, member.cause)
            if self._standing.get(member.name) == failure:
                return False  # the same failure, heard again
            # New, or a failed member that failed again (a start that could not exec).
            self._standing.pop(member.name, None)
            self._standing[member.name] = failure
            return True
        self._standing.pop(member.name, None)  # started again: no longer failed for good
        return False

    def forget(self, name: str) -> None:
        """`name` left the group (removed by a reload): its failure goes with it."""
        self._standing.pop(name, None)

    @property
    def first(self) -> Failure | None:
        return next(iter(self._standing.values()), None)


def exit_status(first_failure: Failure | None, forced_by: int | None = None) -> int:
    """128 + the signal that forced the end; else the status of the first member that failed
    for good (and still stands failed); else 0."""
    if forced_by is not None:
        return 128 + forced_by
    if first_failure is not None:
        return first_failure.status
    return 0


def end_cause(
    first_failure: Failure | None, forced_by: int | None = None, stop_cause: str = ""
) -> str:
    if forced_by is not None:
        return f"killed on a second {signal.Signals(forced_by).name}"
    if first_failure is not None:
        return f"{first_failure.name} failed: {first_failure.cause}"
    return stop_cause or "every unit ended"
