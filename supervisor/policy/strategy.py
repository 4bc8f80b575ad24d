"""Sibling restart strategies, as OTP's supervisors have them: pure decisions for one group.

A `[groups.NAME]` table of services.toml (docs/guides/testing-restart-policies.md, "Restart
strategies") makes a `GroupPolicy`.  What it decides, from the policy and what happened, with no
clock or process of its own, so the supervisor and the policy simulator decide alike:

  * whom a member's crash restarts besides itself (`siblings_to_restart`): nobody under
    `one_for_one`, every other member under `one_for_all`, the members after it in
    dependency order under `rest_for_one`;
  * whether a restart keeps the group within its intensity (`within_intensity`): more than
    `intensity` restarts within `period` seconds ends the group, as OTP's MaxR/MaxT;
  * whether the significant members that have ended end the group (`significant_end`), as
    OTP's `auto_shutdown` (`any_significant`, `all_significant`).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

ONE_FOR_ONE = "one_for_one"
ONE_FOR_ALL = "one_for_all"
REST_FOR_ONE = "rest_for_one"
STRATEGIES = (ONE_FOR_ONE, ONE_FOR_ALL, REST_FOR_ONE)

NEVER = "never"
ANY_SIGNIFICANT = "any_significant"
ALL_SIGNIFICANT = "all_significant"
ENDS_WHEN = (NEVER, ANY_SIGNIFICANT, ALL_SIGNIFICANT)

DEFAULT_PERIOD = 5.0  # OTP's default MaxT


@dataclass(frozen=True)
class GroupPolicy:
    """One `[groups.NAME]` table."""

    name: str
    services: tuple[str, ...]  # in start (dependency) order: what rest_for_one counts "after" by
    strategy: str = ONE_FOR_ONE
    intensity: int | None = None  # None: no limit of the group's own (each start_limit holds)
    period: float = DEFAULT_PERIOD
    significant: frozenset[str] = frozenset()
    ends_when: str = NEVER
    critical: bool = False  # the group's end stops the whole stack

    def __contains__(self, service: object) -> bool:
        return service in self.services


def siblings_to_restart(policy: GroupPolicy, crashed: str) -> tuple[str, ...]:
    """The services a crash of `crashed` restarts besides itself, in start order."""
    if policy.strategy == ONE_FOR_ALL:
        return tuple(service for service in policy.services if service != crashed)
    if policy.strategy == REST_FOR_ONE:
        return policy.services[policy.services.index(crashed) + 1 :]
    return ()


def within_intensity(
    policy: GroupPolicy, restarts: tuple[float, ...], now: float
) -> tuple[bool, tuple[float, ...]]:
    """Whether one more restart at `now` keeps the group within its intensity, and the restart
    times still inside the window (with `now` when it is allowed).  The age is rounded to the
    microsecond, as the start limit's is, so float error keeps no restart in the window."""
    if policy.intensity is None:
        return True, ()
    recent = tuple(t for t in restarts if round(now - t, 6) < policy.period)
    if len(recent) >= policy.intensity:
        return False, recent
    return True, (*recent, now)


def intensity_cause(policy: GroupPolicy) -> str:
    return f"more than {policy.intensity} restarts within {policy.period:g}s"


def significant_end(policy: GroupPolicy, ended: Collection[str], ending: str) -> bool:
    """Whether `ending`, a significant service whose processes have all ended by themselves,
    ends the group, given the significant services `ended` so far (itself included)."""
    if ending not in policy.significant:
        return False
    if policy.ends_when == ANY_SIGNIFICANT:
        return True
    if policy.ends_when == ALL_SIGNIFICANT:
        return policy.significant <= set(ended)
    return False
