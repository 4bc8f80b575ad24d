"""report_state in-process: a real database and notify socket, an injected clock for the rows."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from structlog.testing import capture_logs

from supervisor.db.services import ServiceFacts, ServiceKey, ServicesTable
from supervisor.runtime.heartbeat import (
    DATABASE_UNREACHABLE,
    NOT_WORKING,
    SERVING,
    Heartbeat,
    register,
)
from supervisor.runtime.manager import Manager
from supervisor.runtime.sdnotify import Notifier
from tests.support.databases import row_of, writes_blocked
from tests.support.datagrams import Inbox
from tests.support.waiting import TIMEOUT

T0 = datetime(2026, 11, 24, 23, 0, 0)
KEY = ServiceKey("node1", "cinder-backup", "cinder-backup#2")
FACTS = ServiceFacts(topic="cinder-backup", availability_zone="nova", rpc_version="1.0")
# Short, so that a write held up by a lock gives up after 0.1 s.
REPORT_INTERVAL = 0.2


class SwitchedManager(Manager):
    def __init__(self) -> None:
        super().__init__("node1")
        self.working: bool | Exception = True

    def is_working(self) -> bool:
        if isinstance(self.working, Exception):
            raise self.working
        return self.working


class SteppedTime:
    """Row timestamps that advance ten seconds per heartbeat."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=10)
        return self.now


@pytest.fixture
def manager() -> SwitchedManager:
    return SwitchedManager()


@pytest.fixture
def time() -> SteppedTime:
    return SteppedTime()


@pytest.fixture
def heartbeat(
    database_url: str, inbox: Inbox, manager: SwitchedManager, time: SteppedTime
) -> Iterator[Heartbeat]:
    registration = register(database_url, KEY, FACTS, T0)
    notifier = Notifier(inbox.address)
    beating = Heartbeat(
        database_url=database_url,
        report_interval=REPORT_INTERVAL,
        key=KEY,
        facts=FACTS,
        service_id=registration.service_id,
        manager=manager,
        notifier=notifier,
        utcnow=time,
    )
    yield beating
    beating.close()
    notifier.close()


def beat(heartbeat: Heartbeat, times: int = 1) -> None:
    for _ in range(times):
        heartbeat.report_state()


def events(logs: list[dict[str, object]], level: str) -> list[object]:
    return [entry["event"] for entry in logs if entry["log_level"] == level]


def test_each_heartbeat_counts_in_the_row_then_tells_the_supervisor(
    heartbeat: Heartbeat, database_url: str, inbox: Inbox, time: SteppedTime
):
    assert row_of(database_url, KEY.process)["report_count"] == 0
    beat(heartbeat, 3)
    row = row_of(database_url, KEY.process)
    assert (row["report_count"], row["updated_at"]) == (3, time.now)
    assert inbox.pending() == ["WATCHDOG=1"] * 3


def test_a_manager_that_is_not_working_gets_no_heartbeat_and_says_so_once(
    heartbeat: Heartbeat, database_url: str, inbox: Inbox, manager: SwitchedManager
):
    beat(heartbeat)
    before = row_of(database_url, KEY.process)
    manager.working = False
    with capture_logs() as logs:
        beat(heartbeat, 3)
    assert row_of(database_url, KEY.process) == before
    assert inbox.pending() == ["WATCHDOG=1", f"STATUS={NOT_WORKING}"]
    assert events(logs, "error") == [
        "manager is reporting problems; not sending heartbeats, the service will appear down"
    ]

    manager.working = True
    with capture_logs() as logs:
        beat(heartbeat, 2)
    assert row_of(database_url, KEY.process)["report_count"] == before["report_count"] + 2
    assert inbox.pending() == ["WATCHDOG=1", f"STATUS={SERVING}", "WATCHDOG=1"]
    assert events(logs, "info") == ["manager is working again; heartbeats resume"]


def test_is_working_raising_counts_as_not_working(
    heartbeat: Heartbeat, inbox: Inbox, manager: SwitchedManager
):
    manager.working = RuntimeError("driver gone")
    with capture_logs() as logs:
        beat(heartbeat)
    assert inbox.pending() == [f"STATUS={NOT_WORKING}"]
    assert "is_working() raised; counting the manager as not working" in events(logs, "error")


def test_a_database_outage_is_logged_when_it_starts_and_ends_and_never_stops_the_keepalives(
    heartbeat: Heartbeat, database_url: str, inbox: Inbox
):
    beat(heartbeat)
    counted = row_of(database_url, KEY.process)["report_count"]
    with capture_logs() as logs, writes_blocked(database_url):
        beat(heartbeat, 3)
        assert heartbeat.database_reachable is False
    assert row_of(database_url, KEY.process)["report_count"] == counted
    assert inbox.pending() == [
        "WATCHDOG=1",
        "WATCHDOG=1",
        f"STATUS={DATABASE_UNREACHABLE}",
        "WATCHDOG=1",
        "WATCHDOG=1",
    ]
    [outage] = [entry for entry in logs if entry["log_level"] == "error"]
    assert outage["event"] == "cannot record heartbeats: services database unreachable"
    assert "lock" in str(outage["error"])

    with capture_logs() as logs:
        beat(heartbeat, 2)
    assert row_of(database_url, KEY.process)["report_count"] == counted + 2
    assert inbox.pending() == ["WATCHDOG=1", f"STATUS={SERVING}", "WATCHDOG=1"]
    assert events(logs, "info") == ["services database reachable again; heartbeats recorded"]
    assert events(logs, "error") == []


def test_a_removed_row_is_recreated_by_the_next_heartbeat(
    heartbeat: Heartbeat, database_url: str, time: SteppedTime
):
    removed_id = heartbeat.service_id
    with ServicesTable(database_url) as table:
        assert table.remove(KEY.binary, KEY.host) == 1
    with capture_logs() as logs:
        beat(heartbeat)
    row = row_of(database_url, KEY.process)
    assert row["id"] == heartbeat.service_id != removed_id
    assert (row["report_count"], row["created_at"], row["updated_at"]) == (1, time.now, time.now)
    assert events(logs, "info") == ["service row was removed; recreated it"]
    beat(heartbeat)
    assert row_of(database_url, KEY.process)["report_count"] == 2


def test_keepalives_never_wait_for_a_supervisor_that_is_not_reading(
    heartbeat: Heartbeat, inbox: Inbox
):
    # Linux queues only a few datagrams per socket; a blocking send would hang from there on.
    beating = threading.Thread(target=beat, args=(heartbeat, 30), daemon=True)
    beating.start()
    beating.join(TIMEOUT)
    assert not beating.is_alive()
    assert 0 < len(inbox.pending()) < 30
