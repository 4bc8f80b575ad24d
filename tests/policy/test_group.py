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


def test_a_stop_goes_in_dependency_layers_dependants_first():
    db, api1, api2, web, cron = (
        Member("db", "db"),
        Member("api#1", "api"),
        Member("api#2", "api", State.STOPPING),
        Member("web", "web"),
        Member("cron", "cron"),
    )
    waiting = Member("job", "job", State.WAITING)
    members = [db, api1, api2, web, cron, waiting]
    # web depends on api, api on db; cron and job on nothing that is up.
    dependants = {"db": {"api"}, "api": {"web"}, "web": set(), "cron": set(), "job": set()}
    # The waiting job, and everything no one up depends on: web and cron at once.
    assert group.to_stop(dependants, members) == [waiting, web, cron]
    web.state = cron.state = State.EXITED
    waiting.state = State.STOPPED
    # api#2 already stops; db waits while any process of api is up.
    assert group.to_stop(dependants, members) == [api1]
    api1.state = State.STOPPING
    assert group.to_stop(dependants, members) == []
    api1.state = api2.state = State.EXITED
    assert group.to_stop(dependants, members) == [db]


def test_without_dependencies_every_member_stops_at_once():
    members = [Member(f"s{n}", f"s{n}") for n in range(5)]
    assert group.to_stop({}, members) == members


def test_the_group_ends_when_every_member_is_final_and_none_is_held_stopped():
    members = [Member("a", "a", State.EXITED), Member("b", "b", State.STOPPED)]
    assert not group.has_ended(members, stopping=False)  # b waits for its operator
    assert group.has_ended(members, stopping=True)
    members[1].state = State.FATAL
    assert group.has_ended(members, stopping=False)
    members.append(Member("c", "c", State.BACKOFF))
    assert not group.has_ended(members, stopping=True)


def test_the_exit_status_and_cause_of_the_group():
    failures = group.Failures()
    failures.note(
        Member("db", "db", State.FATAL, cause="exit status 3; start limit hit", failure_status=3)
    )
    first = failures.first
    assert group.exit_status(None) == 0
    assert group.end_cause(None) == "every unit ended"
    assert group.end_cause(None, stop_cause="SIGTERM received") == "SIGTERM received"
    assert group.exit_status(first) == 3
    assert group.end_cause(first) == "db failed: exit status 3; start limit hit"
    assert group.exit_status(first, signal.SIGINT) == 130
    assert group.end_cause(first, signal.SIGINT) == "killed on a second SIGINT"


def test_a_failure_is_recorded_as_it_stood_and_taken_back_when_the_member_starts_again():
    failures = group.Failures()
    db = Member("db", "db", State.FATAL, cause="start limit hit", failure_status=3)
    api = Member("api", "api", State.EXITED, cause="exit status 1", failure_status=1)
    assert failures.note(db) and failures.note(api)
    assert not failures.note(db)  # heard again: not a new failure
    # An operator starts db again: it is no longer failed, whatever it said before.
    db.state, db.failure_status, db.cause = State.STARTING, None, "started by operator"
    failures.note(db)
    assert failures.first == group.Failure("api", 1, "exit status 1")
    # db fails anew: behind the failure still standing.
    db.state, db.failure_status, db.cause = State.FATAL, 137, "stopped after SIGKILL"
    failures.note(db)
    assert failures.first is not None and failures.first.name == "api"
    failures.forget("api")
    assert failures.first == group.Failure("db", 137, "stopped after SIGKILL")


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
