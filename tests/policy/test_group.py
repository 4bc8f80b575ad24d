"""The group's judgement and the meaning of names, as pure functions over plain members."""

from __future__ import annotations

import signal
from dataclasses import dataclass

import pytest

from supervisor.policy import group
from supervisor.policy.names import UnknownName, resolve_names
from supervisor.policy.states import State


@dataclass
class Member:
    name: str
    service: str
    state: State = State.RUNNING
    cause: str = ""
    failure_status: int | None = None


def test_only_a_final_member_with_a_status_failed_for_good():
    assert group.failed_for_good(Member("db", "db", State.FATAL, failure_status=1))
    assert not group.failed_for_good(Member("db", "db", State.EXITED))
    assert not group.failed_for_good(Member("db", "db", State.BACKOFF, failure_status=1))


def test_a_critical_failure_stops_the_group():
    failed = Member("db", "db", State.FATAL, failure_status=1)
    assert group.critical_failure(failed, critical=True) == "critical unit db failed for good"
    assert group.critical_failure(failed, critical=False) is None
    assert group.critical_failure(Member("db", "db"), critical=True) is None


def test_services_stop_in_reverse_start_order_each_once_the_later_ones_are_down():
    db, api1, api2, web = (
        Member("db", "db"),
        Member("api#1", "api"),
        Member("api#2", "api", State.STOPPING),
        Member("web", "web", State.EXITED),
    )
    waiting = Member("job", "job", State.WAITING)
    members = [db, api1, api2, web, waiting]
    # web is down; api is the last service still up; api#2 already stops; job only waited.
    assert group.to_stop(["db", "api", "web", "job"], members) == [waiting, api1]
    api1.state = api2.state = State.EXITED
    waiting.state = State.STOPPED
    assert group.to_stop(["db", "api", "web", "job"], members) == [db]


def test_the_group_ends_when_every_member_is_final_and_none_is_held_stopped():
    members = [Member("a", "a", State.EXITED), Member("b", "b", State.STOPPED)]
    assert not group.has_ended(members, stopping=False)  # b waits for its operator
    assert group.has_ended(members, stopping=True)
    members[1].state = State.FATAL
    assert group.has_ended(members, stopping=False)
    members.append(Member("c", "c", State.BACKOFF))
    assert not group.has_ended(members, stopping=True)


def test_the_exit_status_and_cause_of_the_group():
    first = Member(
        "db", "db", State.FATAL, cause="exit status 3; start limit hit", failure_status=3
    )
    assert group.exit_status(None) == 0
    assert group.end_cause(None) == "every unit ended"
    assert group.end_cause(None, stop_cause="SIGTERM received") == "SIGTERM received"
    assert group.exit_status(first) == 3
    assert group.end_cause(first) == "db failed: exit status 3; start limit hit"
    assert group.exit_status(first, signal.SIGINT) == 130
    assert group.end_cause(first, signal.SIGINT) == "killed on a second SIGINT"


def test_a_name_is_a_process_or_every_process_of_a_service_each_once():
    members = [Member("db", "db"), Member("api#1", "api"), Member("api#2", "api")]
    assert [m.name for m in resolve_names(members, ["api", "db", "api#2"])] == [
        "api#1",
        "api#2",
        "db",
    ]
    with pytest.raises(UnknownName) as raised:
        resolve_names(members, ["db", "web"])
    assert raised.value.name == "web"
