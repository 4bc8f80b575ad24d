"""The `[groups.NAME]` strategies at work: sibling restarts, the group's intensity, and the end
of a group when its significant members have ended (decisions in `policy.strategy`).

It works through the units' own lifecycle, never beside it: a crash is still judged by the
crashed unit's restart policy, then by `judge` (which turns a restart past the group's
intensity into a failure for good); the siblings a strategy restarts are stopped with
`Unit.stop` and started again through the supervisor's `start_unit`, so they wait for their
dependencies as at boot; a group that ends stops its members the same way.  Transitions are
heard in `changed` and acted on in `settle`, from the supervisor's settle loop, so no action
runs inside another unit's transition.  The supervisor and the policy simulator share all of it.

Every action is one `strategy` event: `action` "restart" (the crashed `unit` and every member
restarted with it in `members`) or "end" (its `result`, "success" or "failure", and `status`).
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from supervisor.config import Plan
from supervisor.daemon.host import EventSink
from supervisor.daemon.unit import Unit
from supervisor.policy import strategy as strategies
from supervisor.policy.restart import Action, Decision, ExitStatus
from supervisor.policy.states import State
from supervisor.policy.strategy import GroupPolicy

_UP = (State.STARTING, State.RUNNING)
_ENDED = (State.EXITED, State.FATAL)


class Supervised(Protocol):
    """What the strategies need of the supervisor."""

    plan: Plan
    stopping: bool
    clock: Callable[[], float]

    def service_units(self, service: str) -> list[Unit]: ...

    def start_unit(self, unit: Unit, cause: str) -> None: ...

    def begin_stop(self, cause: str, *, then: str | None = None) -> None: ...


@dataclass
class _GroupState:
    restarts: tuple[float, ...] = ()  # inside the intensity window
    ended: str | None = None  # why the group ended, once it has
    ended_by_itself: set[str] = field(default_factory=set)  # processes, for significant ends
    over_intensity: str | None = None  # the member `judge` failed for the group's intensity
    last: dict[str, object] | None = None  # the last `strategy` event, for `status`


def ended_how(exit: ExitStatus | None) -> str:
    """`exited with status 1`, `was killed by SIGKILL`: a crash as a cause says it."""
    if exit is None:
        return "ended"
    if exit.signal is not None:
        return f"was killed by {signal.Signals(exit.signal).name}"
    return f"exited with status {exit.code}"


class Strategies:
    def __init__(self, supervisor: Supervised, events: EventSink) -> None:
        self._supervisor = supervisor
        self._events = events
        self._groups: dict[str, _GroupState] = {}
        self._previous: dict[str, State] = {}  # each unit's state before its last transition
        self._restarting: dict[str, str] = {}  # unit -> cause: stopped to be started again
        self._due: list[Callable[[], None]] = []
        # Members of groups that ended: done, though a stop from backoff leaves them `stopped`.
        self.released: set[str] = set()

    def _state(self, group: GroupPolicy) -> _GroupState:
        return self._groups.setdefault(group.name, _GroupState())

    def _members(self, group: GroupPolicy) -> list[Unit]:
        return [u for s in group.services for u in self._supervisor.service_units(s)]

    # -- the hook in the unit's lifecycle ------------------------------------------------------

    def judge(self, unit: Unit, decision: Decision, exit: ExitStatus) -> Decision:
        """The crashed unit's decision, within its group's intensity: a restart past it is a
        failure for good of the unit, which ends the group."""
        group = self._supervisor.plan.group_of(unit.service)
        if group is None or decision.action is not Action.RESTART:
            return decision
        state = self._state(group)
        if state.ended is not None:
            return decision
        allowed, recent = strategies.within_intensity(
            group, state.restarts, self._supervisor.clock()
        )
        state.restarts = recent
        if allowed:
            return decision
        state.over_intensity = unit.name
        cause = f"{exit.describe()}; group {group.name}: {strategies.intensity_cause(group)}"
        return Decision(Action.FATAL, cause, decision.history)

    # -- hearing transitions, acting once they have settled ------------------------------------

    def changed(self, unit: Unit) -> None:
        previous = self._previous.get(unit.name)
        self._previous[unit.name] = unit.state
        if unit.name in self._restarting and unit.is_final:
            cause = self._restarting.pop(unit.name)
            self._due.append(lambda: self._start_again(unit, cause))
        group = self._supervisor.plan.group_of(unit.service)
        if group is None or previous is None or self._supervisor.stopping:
            return
        state = self._state(group)
        if state.ended is not None:
            return
        crashed = unit.state is State.BACKOFF and previous in _UP
        if crashed and group.strategy != strategies.ONE_FOR_ONE:
            self._due.append(lambda: self._restart_siblings(group, unit))
        if unit.state not in _ENDED or previous is State.STOPPING:
            return
        if state.over_intensity == unit.name:
            why = f"{unit.name} {ended_how(unit.last_exit)}, {strategies.intensity_cause(group)}"
            self._due.append(lambda: self._end(group, why))
            return
        state.ended_by_itself.add(unit.name)
        ended = [
            service
            for service in group.significant
            if all(u.name in state.ended_by_itself for u in self._supervisor.service_units(service))
        ]
        if unit.service in ended and strategies.significant_end(group, ended, unit.service):
            how = ended_how(unit.last_exit) if unit.last_exit else str(unit.state)
            self._due.append(lambda: self._end(group, f"significant {unit.name} {how}"))

    def settle(self) -> bool:
        """Act on what the transitions heard so far call for; whether anything was done."""
        due, self._due = self._due, []
        for action in due:
            action()
        return bool(due)

    # -- the actions ---------------------------------------------------------------------------

    def _restart_siblings(self, group: GroupPolicy, crashed: Unit) -> None:
        state = self._state(group)
        if state.ended is not None or self._supervisor.stopping:
            return
        services = strategies.siblings_to_restart(group, crashed.service)
        if group.strategy == strategies.ONE_FOR_ALL:
            services = (crashed.service, *services)  # its other workers too
        siblings = [
            u
            for s in services
            for u in self._supervisor.service_units(s)
            if u is not crashed and u.state in _UP
        ]
        if not siblings:
            return
        cause = f"{group.strategy}: {crashed.name} {ended_how(crashed.last_exit)}"
        self._emit(
            group,
            "restart",
            cause,
            unit=crashed.name,
            members=[crashed.name, *(u.name for u in siblings)],
        )
        for sibling in siblings:
            self._restarting[sibling.name] = cause
            sibling.stop(cause)

    def _start_again(self, unit: Unit, cause: str) -> None:
        if unit.held or self._supervisor.stopping or not unit.is_final:
            return
        self._supervisor.start_unit(unit, cause)

    def _end(self, group: GroupPolicy, why: str) -> None:
        state = self._state(group)
        if state.ended is not None:
            return
        state.ended = why
        members = self._members(group)
        failed = [u for u in members if u.failure_status is not None and u.is_final]
        status = failed[0].failure_status if failed else 0
        cause = f"group {group.name} ended: {why}"
        self._emit(
            group,
            "end",
            cause,
            members=[u.name for u in members],
            result="failure" if failed else "success",
            status=status,
        )
        for member in members:
            self._restarting.pop(member.name, None)
            self.released.add(member.name)
            member.stop(cause)
        if group.critical:
            self._supervisor.begin_stop(f"critical {cause}")

    def _emit(self, group: GroupPolicy, action: str, cause: str, **fields: object) -> None:
        event = {"action": action, "group": group.name, "strategy": group.strategy, **fields}
        self._state(group).last = {**event, "cause": cause}
        self._events.emit("strategy", **event, cause=cause)

    # -- what `status` shows -------------------------------------------------------------------

    def describe(self) -> list[dict[str, object]]:
        """Each group: its strategy, members, intensity, restarts in the window, and whether
        (and why) it ended; `last` is its last action, as its `strategy` event said it."""
        now = self._supervisor.clock()
        described = []
        for group in self._supervisor.plan.groups:
            state = self._state(group)
            recent = [t for t in state.restarts if round(now - t, 6) < group.period]
            described.append(
                {
                    "name": group.name,
                    "strategy": group.strategy,
                    "services": list(group.services),
                    "intensity": group.intensity,
                    "period": group.period,
                    "restarts": len(recent) if group.intensity is not None else None,
                    "significant": sorted(group.significant),
                    "ends_when": group.ends_when,
                    "critical": group.critical,
                    "ended": state.ended,
                    "last": state.last,
                }
            )
        return described
