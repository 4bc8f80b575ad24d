"""`[groups.NAME]`: services restarted together, with a strategy, an intensity and significant
members (`policy.strategy` decides; docs/guides/testing-restart-policies.md, "Restart
strategies", says what each key means).

What makes no sense is refused at its key, with what is allowed: a member that is no service, a
service in two groups, `period` without `intensity`, a significant member whose policy restarts
it always (it never ends by itself, as OTP refuses a significant permanent child), significant
members without `ends_when` (or the other way round), and under `rest_for_one` a member listed
before a member it depends on (the members after a crashed one are those restarted with it, so
the list is the dependency order).
"""

from __future__ import annotations

from collections.abc import Mapping

from supervisor.config import limits, rules
from supervisor.config.schema import TableReader
from supervisor.config.services import ServiceSettings
from supervisor.policy import strategy as strategies
from supervisor.policy.strategy import GroupPolicy

KEYS = ("services", "strategy", "intensity", "period", "significant", "ends_when", "critical")


def read_groups(
    groups: TableReader, settings: Mapping[str, ServiceSettings]
) -> tuple[GroupPolicy, ...]:
    """Every group of the `[groups]` table; `settings` holds each service of the file."""
    read: list[GroupPolicy] = []
    owner: dict[str, str] = {}  # service -> the group that holds it
    for name in groups.data:
        named = rules.check_name(groups, (name,), name, "group")
        policy = _group(groups.table(name), name, settings, owner)
        if named and policy is not None:
            read.append(policy)
    return tuple(read)


def _group(
    reader: TableReader,
    name: str,
    settings: Mapping[str, ServiceSettings],
    owner: dict[str, str],
) -> GroupPolicy | None:
    reader.allow(*KEYS)
    members = _members(reader, name, settings, owner)
    strategy = reader.choice("strategy", strategies.ONE_FOR_ONE, strategies.STRATEGIES)
    intensity = reader.integer("intensity", None, 0, limits.MAX_BURST)
    period = reader.seconds("period", strategies.DEFAULT_PERIOD, minimum=0.001)
    if "period" in reader.data and "intensity" not in reader.data:
        reader.problem(("period",), reader.data["period"], "needs intensity: N restarts")
    ends_when = reader.choice("ends_when", strategies.NEVER, strategies.ENDS_WHEN)
    significant = _significant(reader, members, settings, ends_when)
    critical = reader.boolean("critical", False)
    if strategy == strategies.REST_FOR_ONE:
        _check_order(reader, members, settings)
    if not members:
        return None
    return GroupPolicy(
        name, tuple(members), strategy, intensity, period, significant, ends_when, critical
    )


def _members(
    reader: TableReader,
    group: str,
    settings: Mapping[str, ServiceSettings],
    owner: dict[str, str],
) -> list[str]:
    if "services" not in reader.data:
        reader.problem((), None, "expected services = [the services of the group]")
        return []
    listed = reader.string_list("services")
    if not listed and reader.data["services"] == []:
        reader.problem(("services",), [], "expected at least one service")
    members: list[str] = []
    for service in listed:
        if service not in settings:
            known = ", ".join(settings)
            reader.problem(("services",), service, f"no such service; known: {known}")
        elif service in members:
            reader.problem(("services",), service, "listed twice")
        elif service in owner:
            reader.problem(
                ("services",), service, f"already in group {owner[service]}; a service is in one"
            )
        else:
            owner[service] = group
            members.append(service)
    return members


def _significant(
    reader: TableReader,
    members: list[str],
    settings: Mapping[str, ServiceSettings],
    ends_when: str,
) -> frozenset[str]:
    listed = reader.string_list("significant")
    chosen: list[str] = []
    for service in listed:
        if service not in members:
            allowed = ", ".join(members) or "none"
            reader.problem(("significant",), service, f"not a member of the group: {allowed}")
        elif settings[service].restart.policy == "always":
            reader.problem(
                ("significant",),
                service,
                'its restart policy is "always", so it never ends by itself:'
                ' give it policy "on-failure" or "never"',
            )
        else:
            chosen.append(service)
    if listed and ends_when == strategies.NEVER:
        reader.problem(
            ("significant",),
            listed,
            'does nothing without ends_when = "any_significant" or "all_significant"',
        )
    if not listed and ends_when != strategies.NEVER:
        reader.problem(("ends_when",), ends_when, "expected significant = [members] beside it")
    for service in chosen:
        dependants = [m for m in members if service in settings[m].depends_on]
        if settings[service].oneshot and dependants and ends_when == strategies.ANY_SIGNIFICANT:
            reader.problem(
                ("significant",),
                service,
                f"a one-shot job that {', '.join(dependants)} wait for: its success would end"
                " the group as they start (make it not significant, or end on all_significant)",
            )
    return frozenset(chosen)


def _check_order(
    reader: TableReader, members: list[str], settings: Mapping[str, ServiceSettings]
) -> None:
    """rest_for_one restarts the members listed after the crashed one: a member listed before
    one it depends on would not be restarted when its dependency is."""
    for position, service in enumerate(members):
        later = [d for d in settings[service].depends_on if d in members[position + 1 :]]
        for dependency in later:
            reader.problem(
                ("services",),
                service,
                f"listed before {dependency}, which it depends on: rest_for_one restarts the"
                f" members after a crashed one, so list {dependency} first",
            )
