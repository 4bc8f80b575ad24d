"""The services table on a real database: registration, heartbeats, and the operator's edits."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from supervisor.db import engine
from supervisor.db.schema import SERVICE_OBJECT_VERSION
from supervisor.db.services import ServiceFacts, ServiceKey, ServicesTable

T0 = datetime(2026, 11, 24, 23, 0, 0, 123456)
VOLUME = ServiceKey("node1@lvm-1", "cinder-volume", "cinder-volume@lvm-1")
BACKUP_1 = ServiceKey("node1", "cinder-backup", "cinder-backup#1")
BACKUP_2 = ServiceKey("node1", "cinder-backup", "cinder-backup#2")
FACTS = ServiceFacts(topic="cinder-volume", availability_zone="nova", rpc_version="1.0")


@pytest.fixture
def table(database_url: str) -> Iterator[ServicesTable]:
    with ServicesTable(database_url) as opened:
        opened.ensure_schema()
        yield opened


def only_row(table: ServicesTable, key: ServiceKey):
    rows = [row for row in table.rows() if row.process == key.process]
    assert len(rows) == 1
    return rows[0]


def test_a_new_row_starts_at_report_count_0_and_counts_as_a_heartbeat(table: ServicesTable):
    facts = ServiceFacts("cinder-volume", "az2", "1.0", cluster_name="c1@lvm-1")
    registration = table.register(VOLUME, facts, T0)
    assert registration.added_to_cluster is True
    row = only_row(table, VOLUME)
    assert row.id == registration.service_id
    assert (row.host, row.binary, row.process, row.topic) == (
        "node1@lvm-1",
        "cinder-volume",
        "cinder-volume@lvm-1",
        "cinder-volume",
    )
    assert (row.report_count, row.created_at, row.updated_at) == (0, T0, T0)
    assert (row.availability_zone, row.cluster_name) == ("az2", "c1@lvm-1")
    assert (row.rpc_current_version, row.object_current_version) == ("1.0", SERVICE_OBJECT_VERSION)
    assert (row.disabled, row.disabled_reason, row.modified_at) == (False, None, None)


def test_registering_again_finds_the_same_row_and_keeps_its_count(table: ServicesTable):
    first = table.register(VOLUME, FACTS, T0)
    table.heartbeat(first.service_id, VOLUME, FACTS, T0 + timedelta(seconds=10))
    later = T0 + timedelta(minutes=5)
    again = table.register(VOLUME, FACTS, later)
    assert again.service_id == first.service_id
    row = only_row(table, VOLUME)
    assert (row.report_count, row.created_at, row.updated_at) == (1, T0, later)


def test_a_row_joins_a_cluster_once(table: ServicesTable):
    table.register(VOLUME, FACTS, T0)
    clustered = ServiceFacts("cinder-volume", "nova", "1.0", cluster_name="c1@lvm-1")
    assert table.register(VOLUME, clustered, T0).added_to_cluster is True
    assert table.register(VOLUME, clustered, T0).added_to_cluster is False
    assert only_row(table, VOLUME).cluster_name == "c1@lvm-1"


def test_workers_of_one_host_and_binary_get_a_row_each(table: ServicesTable):
    first = table.register(BACKUP_1, FACTS, T0).service_id
    second = table.register(BACKUP_2, FACTS, T0).service_id
    assert first != second
    table.heartbeat(second, BACKUP_2, FACTS, T0 + timedelta(seconds=10))
    assert only_row(table, BACKUP_1).report_count == 0
    assert only_row(table, BACKUP_2).report_count == 1


def test_a_heartbeat_counts_and_stamps_its_own_row(table: ServicesTable):
    service_id = table.register(VOLUME, FACTS, T0).service_id
    for beat in range(1, 4):
        assert (
            table.heartbeat(service_id, VOLUME, FACTS, T0 + timedelta(seconds=beat)) == service_id
        )
    row = only_row(table, VOLUME)
    assert (row.report_count, row.updated_at) == (3, T0 + timedelta(seconds=3))
    moved = ServiceFacts("cinder-volume", "az9", "1.0")
    table.heartbeat(service_id, VOLUME, moved, T0 + timedelta(seconds=4))
    assert only_row(table, VOLUME).availability_zone == "az9"


def test_a_heartbeat_recreates_a_removed_row(table: ServicesTable):
    service_id = table.register(VOLUME, FACTS, T0).service_id
    assert table.remove("cinder-volume", "node1@lvm-1") == 1
    assert table.rows() == []
    new_id = table.heartbeat(service_id, VOLUME, FACTS, T0 + timedelta(seconds=10))
    assert new_id != service_id
    row = only_row(table, VOLUME)
    assert (row.id, row.report_count, row.created_at) == (new_id, 1, T0 + timedelta(seconds=10))


def test_disable_and_enable_are_not_heartbeats(table: ServicesTable):
    table.register(BACKUP_1, FACTS, T0)
    table.register(BACKUP_2, FACTS, T0)
    later = T0 + timedelta(minutes=1)
    changed = table.set_disabled(
        "cinder-backup", "node1", disabled=True, reason="maintenance", now=later
    )
    assert changed == 2
    for key in (BACKUP_1, BACKUP_2):
        row = only_row(table, key)
        assert (row.disabled, row.disabled_reason) == (True, "maintenance")
        assert (row.modified_at, row.updated_at) == (later, T0)
    enabled = table.set_disabled(
        "cinder-backup", "node1", disabled=False, reason=None, now=later, process="cinder-backup#2"
    )
    assert enabled == 1
    assert only_row(table, BACKUP_1).disabled is True
    row = only_row(table, BACKUP_2)
    assert (row.disabled, row.disabled_reason) == (False, None)


def test_edits_report_how_many_rows_matched(table: ServicesTable):
    table.register(BACKUP_1, FACTS, T0)
    table.register(BACKUP_2, FACTS, T0)
    assert table.set_disabled("cinder-backup", "node2", disabled=True, reason=None, now=T0) == 0
    assert table.remove("cinder-volume", "node1") == 0
    assert table.remove("cinder-backup", "node1", process="cinder-backup#1") == 1
    assert [row.process for row in table.rows()] == ["cinder-backup#2"]


def test_rows_come_sorted_by_binary_host_and_process(table: ServicesTable):
    for key in (BACKUP_2, VOLUME, BACKUP_1):
        table.register(key, FACTS, T0)
    assert [row.process for row in table.rows()] == [
        "cinder-backup#1",
        "cinder-backup#2",
        "cinder-volume@lvm-1",
    ]


def test_the_schema_is_created_once_and_checked_without_creating(database_url: str):
    with ServicesTable(database_url) as table:
        assert table.exists() is False
        table.ensure_schema()
        table.ensure_schema()
        assert table.exists() is True


def test_checking_a_missing_sqlite_file_leaves_no_file(tmp_path: Path):
    path = tmp_path / "state" / "cinder.sqlite"
    with ServicesTable(f"sqlite:///{path}") as table:
        assert table.exists() is False
        assert not path.parent.exists()
        table.ensure_schema()
    assert path.exists()


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path: Path):
    with ServicesTable(f"sqlite:///{tmp_path / 'cinder.sqlite'}", busy_timeout=0.25) as table:
        table.ensure_schema()
        with table._engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 250


def test_a_refused_wal_switch_waits_and_looks_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Processes that open a new file at once each hold a shared lock and ask for the WAL
    switch: SQLite refuses all but one at once.  A refused switch must wait and try again, not
    fail the service's start (a refusal is forced here: a reader holds the file, and the
    switcher's own busy handler is off)."""
    path = tmp_path / "cinder.sqlite"
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("CREATE TABLE t (x)")
    reader.execute("BEGIN")
    reader.execute("SELECT * FROM t").fetchall()
    switcher = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    switcher.execute("PRAGMA busy_timeout = 0")
    refused = threading.Event()
    pause = time.sleep
    monkeypatch.setattr(
        engine.time, "sleep", lambda seconds: (refused.set(), pause(min(seconds, 0.01)))
    )
    switching = threading.Thread(target=engine._use_wal, args=(switcher.cursor(), 30.0))
    switching.start()
    assert refused.wait(30), "the switch was never refused"
    reader.execute("COMMIT")
    switching.join(30)
    assert not switching.is_alive()
    assert switcher.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    reader.close()
    switcher.close()


def test_a_removed_rows_id_is_never_handed_to_another_process(table: ServicesTable):
    removed = table.register(BACKUP_2, FACTS, T0).service_id
    table.remove("cinder-backup", "node1")
    assert table.register(BACKUP_1, FACTS, T0).service_id != removed
    # The removed process's next heartbeat recreates its own row, not someone else's.
    table.heartbeat(removed, BACKUP_2, FACTS, T0)
    assert only_row(table, BACKUP_1).report_count == 0
    assert only_row(table, BACKUP_2).report_count == 1
