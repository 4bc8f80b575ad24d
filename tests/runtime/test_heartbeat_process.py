"""Heartbeats of real service processes: rows, keep-alives, outages and many writers at once.

Every wait is on a datagram: a process writes its row before it sends `WATCHDOG=1`, so after N
keep-alives its report_count is at least N.
"""

from __future__ import annotations

import signal
import socket
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from supervisor.runtime.heartbeat import DATABASE_UNREACHABLE, NOT_WORKING, SERVING
from supervisor.shared.servicespec import ServiceSpec
from tests.support.databases import row_of, writes_blocked
from tests.support.datagrams import Inbox
from tests.support.serviceprocesses import Child, Children, binary_argv, volume_spec
from tests.support.waiting import TIMEOUT

PROBES = "fixtures_managers.heartbeat_probes"
REPORT_INTERVAL = 0.2
WATCHDOG = "WATCHDOG=1"

Spawn = Callable[[ServiceSpec], Child]


@pytest.fixture
def inboxes() -> Iterator[Callable[[], Inbox]]:
    opened: list[Inbox] = []

    def open_inbox() -> Inbox:
        opened.append(Inbox())
        return opened[-1]

    yield open_inbox
    for inbox in opened:
        inbox.close()


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def sqlite_url(state_dir: Path) -> str:
    return f"sqlite:///{state_dir / 'cinder.sqlite'}"


def heartbeating(spec: ServiceSpec, **options: Any) -> ServiceSpec:
    return replace(spec, options={**spec.options, "report_interval": REPORT_INTERVAL, **options})


def backup_spec(state_dir: Path, number: int, **options: Any) -> ServiceSpec:
    return heartbeating(
        replace(
            volume_spec(state_dir),
            process=f"cinder-backup#{number}",
            service="cinder-backup",
            binary="cinder-backup",
            host="node1",
            backend=None,
            process_number=number,
            options={"backup_manager": "supervisor.managers.backup.BackupManager"},
        ),
        **options,
    )


def probe_spec(state_dir: Path, manager: str, records: Inbox, **options: Any) -> ServiceSpec:
    spec = volume_spec(state_dir)
    return heartbeating(
        spec,
        volume_manager=f"{PROBES}.{manager}",
        record_socket=records.address,
        **options,
    )


def start(children: Children, spec: ServiceSpec, notify: Inbox) -> Child:
    child = children.start(binary_argv(spec.binary), spec=spec, notify=notify)
    notify.expect("READY=1")
    return child


def keepalives(notify: Inbox, count: int) -> None:
    for _ in range(count):
        notify.expect(WATCHDOG)


def stop(child: Child, notify: Inbox) -> int:
    # Unread keep-alives fill the inbox's small queue, and STOPPING=1 would wait for room.
    notify.pending()
    return child.stop()


def lines(messages: list[str]) -> list[str]:
    return [line for message in messages for line in message.splitlines()]


def test_every_process_has_its_own_row_and_counts_its_own_heartbeats(
    state_dir: Path, database_url: str, children: Children, inboxes: Callable[[], Inbox]
):
    options = {"database_url": database_url}
    specs = [
        heartbeating(volume_spec(state_dir), **options),
        backup_spec(state_dir, 1, **options),
        backup_spec(state_dir, 2, **options),
    ]
    running = [(spec, inboxes()) for spec in specs]
    started = [start(children, spec, notify) for spec, notify in running]
    for _, notify in running:
        keepalives(notify, 3)
    rows = [row_of(database_url, spec.process) for spec, _ in running]
    assert len({row["id"] for row in rows}) == 3
    assert [(row["binary"], row["host"], row["process"]) for row in rows] == [
        ("cinder-volume", "node1@lvm-1", "cinder-volume@lvm-1"),
        ("cinder-backup", "node1", "cinder-backup#1"),
        ("cinder-backup", "node1", "cinder-backup#2"),
    ]
    assert all(row["report_count"] >= 3 for row in rows)
    assert {row["topic"] for row in rows[1:]} == {"cinder-backup"}
    for child, (_, notify) in zip(started, running, strict=True):
        assert stop(child, notify) == 0


def test_the_row_exists_before_ready_and_a_respawn_keeps_its_id(
    state_dir: Path, sqlite_url: str, children: Children, inboxes: Callable[[], Inbox]
):
    records, notify = inboxes(), inboxes()
    spec = probe_spec(
        state_dir, "SwitchableManager", records, not_working_flag=str(state_dir / "flag")
    )
    first = start(children, spec, notify)
    service_id = row_of(sqlite_url, spec.process)["id"]
    assert records.expect(f"init_host service_id={service_id} added_to_cluster=False")
    keepalives(notify, 2)
    assert stop(first, notify) == 0
    counted = row_of(sqlite_url, spec.process)["report_count"]
    assert counted >= 2

    second = start(children, spec, notify)
    records.expect(f"init_host service_id={service_id} added_to_cluster=False")
    keepalives(notify, 1)
    row = row_of(sqlite_url, spec.process)
    assert (row["id"], row["report_count"] > counted) == (service_id, True)
    assert stop(second, notify) == 0


def test_a_manager_that_is_not_working_sends_no_keepalive_and_its_row_ages(
    state_dir: Path, sqlite_url: str, children: Children, inboxes: Callable[[], Inbox]
):
    records, notify = inboxes(), inboxes()
    flag = state_dir / "not-working"
    spec = probe_spec(state_dir, "SwitchableManager", records, not_working_flag=str(flag))
    child = start(children, spec, notify)
    keepalives(notify, 1)

    flag.touch()
    records.expect("is_working False")
    aged = row_of(sqlite_url, spec.process)
    records.expect("is_working False")
    records.expect("is_working False")
    assert row_of(sqlite_url, spec.process) == aged
    received = lines(notify.pending())
    assert f"STATUS={NOT_WORKING}" in received
    assert WATCHDOG not in received[received.index(f"STATUS={NOT_WORKING}") :]
    # A reset (SIGHUP) does not make it work again, and READY=1 does not pretend otherwise.
    child.send(signal.SIGHUP)
    assert f"STATUS={NOT_WORKING}" in notify.expect("READY=1")[-1].splitlines()

    flag.unlink()
    notify.expect(f"STATUS={SERVING}")
    keepalives(notify, 1)
    assert row_of(sqlite_url, spec.process)["report_count"] > aged["report_count"]
    assert stop(child, notify) == 0
    assert child.stderr().count("manager is reporting problems") == 1


def test_heartbeats_go_on_while_a_periodic_task_blocks(
    state_dir: Path, sqlite_url: str, children: Children, inboxes: Callable[[], Inbox]
):
    records, notify = inboxes(), inboxes()
    gate = f"@heartbeat-test/{uuid.uuid4().hex}"
    spec = probe_spec(
        state_dir,
        "StuckPeriodicManager",
        records,
        periodic_gate=gate,
        periodic_interval=0.05,
        periodic_fuzzy_delay=0,
    )
    child = start(children, spec, notify)
    records.expect("periodic task blocked")
    counted = row_of(sqlite_url, spec.process)["report_count"]
    keepalives(notify, 3)
    assert row_of(sqlite_url, spec.process)["report_count"] >= counted + 3
    assert records.pending() == []  # still blocked
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as opener:
        opener.sendto(b"go", "\0" + gate.removeprefix("@"))
    records.expect("periodic task released")
    assert stop(child, notify) == 0


def test_a_database_outage_mid_run_is_logged_once_and_heartbeats_resume(
    state_dir: Path, sqlite_url: str, children: Children, inboxes: Callable[[], Inbox]
):
    notify = inboxes()
    spec = heartbeating(volume_spec(state_dir))
    child = start(children, spec, notify)
    keepalives(notify, 1)

    with writes_blocked(sqlite_url):
        notify.expect(f"STATUS={DATABASE_UNREACHABLE}")
        counted = row_of(sqlite_url, spec.process)["report_count"]
        keepalives(notify, 3)  # the supervisor still hears from the process
        assert row_of(sqlite_url, spec.process)["report_count"] == counted

    notify.expect(f"STATUS={SERVING}")
    keepalives(notify, 2)
    assert row_of(sqlite_url, spec.process)["report_count"] > counted
    assert stop(child, notify) == 0
    stderr = child.stderr()
    assert stderr.count("cannot record heartbeats: services database unreachable") == 1
    assert "database is locked" in stderr
    assert stderr.count("services database reachable again") == 1


def test_many_processes_heartbeat_into_one_sqlite_file_without_locking_errors(
    state_dir: Path, sqlite_url: str, children: Children, inboxes: Callable[[], Inbox]
):
    processes = 12
    running = []
    for number in range(1, processes + 1):
        spec = replace(
            heartbeating(volume_spec(state_dir), report_interval=0.25),
            process=f"cinder-volume@lvm-{number}",
            host=f"node1@lvm-{number}",
            backend=f"lvm-{number}",
        )
        notify = inboxes()
        running.append(
            (spec, notify, children.start(binary_argv(spec.binary), spec=spec, notify=notify))
        )
    for _, notify, _ in running:
        # Twelve interpreters importing SQLAlchemy at once: on a loaded machine that alone can
        # take longer than the usual deadline.
        notify.expect("READY=1", timeout=TIMEOUT * processes / 2)
    for _, notify, _ in running:
        keepalives(notify, 8)
    for spec, notify, child in running:
        assert row_of(sqlite_url, spec.process)["report_count"] >= 8
        assert f"STATUS={DATABASE_UNREACHABLE}" not in lines(notify.seen)
        assert stop(child, notify) == 0
        assert "locked" not in child.stderr()
