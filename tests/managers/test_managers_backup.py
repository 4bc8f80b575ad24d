"""Backups under the limit the workers share: real worker processes, real files, real locks."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from supervisor.managers.backup import SLOTS_DIR, BackupManager
from supervisor.managers.backup_requests import (
    REQUESTS_DIR,
    InvalidBackupRequest,
    submit_backup_request,
)
from supervisor.runtime.oplimit import OperationLimit
from supervisor.shared.servicespec import ServiceSpec
from tests.support.datagrams import Inbox
from tests.support.serviceprocesses import Child, ServiceProcesses
from tests.support.waiting import TIMEOUT

GATED = "fixtures_managers.gated_backup.GatedBackupManager"


class Gates:
    """Opens the gate a gated backup waits at, by its backup id."""

    def __init__(self) -> None:
        self.prefix = f"@managers-test/{uuid.uuid4().hex}"
        self.opened: set[str] = set()
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)

    def open(self, backup_id: str) -> None:
        self._socket.sendto(b"go", f"\0{self.prefix[1:]}/{backup_id}")
        self.opened.add(backup_id)

    def close(self) -> None:
        self._socket.close()


@pytest.fixture
def gates() -> Iterator[Gates]:
    opener = Gates()
    yield opener
    opener.close()


def start_workers(
    services: ServiceProcesses, state_dir: Path, count: int, **options: object
) -> list[Child]:
    specs = [
        ServiceSpec(
            process=f"cinder-backup#{number}",
            service="cinder-backup",
            binary="cinder-backup",
            host="node1",
            options={"periodic_interval": 0.02, "periodic_fuzzy_delay": 0, **options},
            process_number=number,
            state_dir=str(state_dir),
        )
        for number in range(1, count + 1)
    ]
    return [services.start(spec) for spec in specs]


def gated_options(
    records: Inbox, gates: Gates, max_operations: int, **options: object
) -> dict[str, object]:
    return {
        "backup_manager": GATED,
        "record_socket": records.address,
        "gate_prefix": gates.prefix,
        "backup_max_operations": max_operations,
        **options,
    }


def make_volumes(state_dir: Path, count: int) -> dict[str, bytes]:
    """Volume files of distinct contents, by the backup id that will copy each."""
    backend = state_dir / "volumes" / "lvm-1"
    backend.mkdir(parents=True)
    contents = {}
    for number in range(1, count + 1):
        data = os.urandom(1000 + number)
        (backend / f"vol-{number}").write_bytes(data)
        contents[f"bk-{number}"] = data
    return contents


def submit(state_dir: Path, backup_id: str) -> None:
    submit_backup_request(state_dir, backup_id, f"lvm-1/vol-{backup_id.removeprefix('bk-')}")


def next_record(records: Inbox, timeout: float = TIMEOUT) -> str:
    records.sock.settimeout(timeout)
    try:
        message = records.sock.recv(4096).decode()
    except TimeoutError:
        raise AssertionError(f"no record within {timeout}s; received: {records.seen}") from None
    records.seen.append(message)
    return message


def wait_record(records: Inbox, prefix: str) -> str:
    deadline = time.monotonic() + TIMEOUT
    while (remaining := deadline - time.monotonic()) > 0:
        message = next_record(records, remaining)
        if message.startswith(prefix):
            return message
    raise AssertionError(f"no record starting {prefix!r} within {TIMEOUT}s")


def held_slots(state_dir: Path, limit: int) -> dict[str, int]:
    """Backup id -> pid for every slot a process holds now, as its slot file names them."""
    held = {}
    for path in OperationLimit(state_dir / SLOTS_DIR, limit).slot_paths():
        with path.open("r") as slot:
            try:
                fcntl.flock(slot, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pid, backup_id = slot.read().split()
                held[backup_id] = int(pid)
    return held


def assert_backed_up(state_dir: Path, contents: dict[str, bytes]) -> None:
    backups = state_dir / "backups"
    for backup_id, data in contents.items():
        record = json.loads((backups / f"{backup_id}.json").read_text())
        assert record["status"] == "available", record
        assert record["size"] == len(data)
        assert record["sha256"] == hashlib.sha256(data).hexdigest()
        assert (backups / backup_id).read_bytes() == data
    assert list(backups.glob("*.partial")) == []
    assert list((state_dir / REQUESTS_DIR).iterdir()) == []


def test_workers_never_run_more_backups_together_than_the_shared_limit(
    tmp_path: Path, services: ServiceProcesses, records: Inbox, gates: Gates
):
    state_dir = tmp_path / "state"
    limit, total = 2, 6
    contents = make_volumes(state_dir, total)
    # Three workers of one backup each could run three at once: only the limit they share,
    # across their processes, holds them to two.
    options = gated_options(records, gates, limit, one_backup_per_worker=True)
    workers = start_workers(services, state_dir, 3, **options)
    for backup_id in contents:
        submit(state_dir, backup_id)

    # A backup reports `started` once it holds a slot and `finished` before it lets go, so
    # the records, in the order they arrive, never show fewer backups running than there are.
    running: list[str] = []
    started: dict[str, int] = {}
    finished: list[str] = []
    most_running = 0
    while len(finished) < total:
        kind, *fields = next_record(records).split()
        if kind == "started":
            backup_id, pid = fields[0], int(fields[1].removeprefix("pid="))
            running.append(backup_id)
            started[backup_id] = pid
            most_running = max(most_running, len(running))
        elif kind == "finished":
            running.remove(fields[0])
            finished.append(fields[0])
        else:
            continue
        if len(running) == limit:
            # Every slot is held, each by the process that runs the backup it names.
            holders = {backup_id: started[backup_id] for backup_id in running}
            assert held_slots(state_dir, limit) == holders
            assert len(set(holders.values())) == limit
        next_to_finish = running[0] if running else None
        if next_to_finish not in (None, *gates.opened) and (
            len(running) == limit or len(started) == total
        ):
            gates.open(next_to_finish)

    assert most_running == limit
    assert sorted(finished) == sorted(contents)
    assert_backed_up(state_dir, contents)
    assert [worker.stop() for worker in workers] == [0, 0, 0]
    assert held_slots(state_dir, limit) == {}


def test_a_worker_waits_while_another_holds_the_slot_and_a_killed_holder_frees_it(
    tmp_path: Path, services: ServiceProcesses, records: Inbox, gates: Gates
):
    state_dir = tmp_path / "state"
    contents = make_volumes(state_dir, 2)
    workers = start_workers(services, state_dir, 2, **gated_options(records, gates, 1))
    pids = {worker.pid: worker for worker in workers}

    submit(state_dir, "bk-1")
    holder_pid = int(wait_record(records, "started bk-1").split("pid=")[1])
    holder = pids.pop(holder_pid)
    (other,) = pids.values()
    assert held_slots(state_dir, 1) == {"bk-1": holder_pid}

    submit(state_dir, "bk-2")
    # The other worker has seen the second request and, the only slot being taken in another
    # process, has left it waiting.
    wait_record(records, f"looked pid={other.pid} requests=2 running=0")

    holder.kill()
    # The kernel dropped the dead worker's locks: its slot and its request are free again, and
    # the other worker backs up both, one after the other.
    for _ in contents:
        backup_id, pid = wait_record(records, "started").split()[1:]
        assert pid == f"pid={other.pid}"
        gates.open(backup_id)
        wait_record(records, f"finished {backup_id}")
    assert_backed_up(state_dir, contents)
    assert other.stop() == 0


def test_a_backup_copies_the_volume_and_a_failed_one_says_why(tmp_path: Path):
    state_dir = tmp_path / "state"
    contents = make_volumes(state_dir, 1)
    submit(state_dir, "bk-1")
    submit_backup_request(state_dir, "missing", "lvm-1/vol-9")
    submit_backup_request(state_dir, "escaping", "../backups/bk-1")
    (state_dir / REQUESTS_DIR / "garbled.json").write_text("{not json")
    manager = BackupManager("node1", options={}, state_dir=state_dir, process_number=1)
    manager.init_host()

    manager.run_periodic_tasks()
    manager.cleanup_host()  # waits for the backups started

    assert_backed_up(state_dir, contents)
    backups = state_dir / "backups"
    failures = {
        backup_id: json.loads((backups / f"{backup_id}.json").read_text())
        for backup_id in ("missing", "escaping", "garbled")
    }
    assert {record["status"] for record in failures.values()} == {"error"}
    assert "No such file or directory" in failures["missing"]["error"]
    assert "is not in" in failures["escaping"]["error"]
    assert "cannot read request" in failures["garbled"]["error"]
    assert not (backups / "missing").exists()


def test_a_backup_id_that_could_name_another_file_is_refused(tmp_path: Path):
    with pytest.raises(InvalidBackupRequest):
        submit_backup_request(tmp_path, "../x", "lvm-1/vol-1")


def test_worker_one_removes_only_partial_backups_no_live_worker_is_writing(tmp_path: Path):
    state_dir = tmp_path / "state"
    backups = state_dir / "backups"
    backups.mkdir(parents=True)
    for backup_id in ("in-progress", "abandoned", "orphan"):
        (backups / f"{backup_id}.partial").touch()
    submit_backup_request(state_dir, "in-progress", "lvm-1/vol-1")
    submit_backup_request(state_dir, "abandoned", "lvm-1/vol-2")
    # A lock on the request is what a live worker holds while it writes the partial copy.
    with (state_dir / REQUESTS_DIR / "in-progress.json").open() as request:
        fcntl.flock(request, fcntl.LOCK_EX)
        for number in (2, 1):
            BackupManager("node1", state_dir=state_dir, process_number=number).init_host()
    assert sorted(path.name for path in backups.iterdir()) == ["in-progress.partial"]
    # The abandoned request itself stays queued, to be backed up afresh.
    assert (state_dir / REQUESTS_DIR / "abandoned.json").exists()


def test_the_worker_reports_its_queue_when_it_changes(tmp_path: Path):
    state_dir = tmp_path / "state"
    manager = BackupManager(
        "node1", options={"backup_max_operations": 1}, state_dir=state_dir, process_number=2
    )
    manager.init_host()
    slot = manager.operations.try_acquire()  # as if another worker were busy
    submit_backup_request(state_dir, "bk-1", "lvm-1/vol-1")
    submit_backup_request(state_dir, "bk-2", "lvm-1/vol-2")
    with capture_logs() as logs:
        manager.run_periodic_tasks()
        manager.run_periodic_tasks()
    assert slot is not None
    slot.release()
    queue = [entry for entry in logs if entry["event"] == "backup queue"]
    assert queue == [
        {"event": "backup queue", "log_level": "info", "worker": 2, "requests": 2, "running": 0}
    ]


def test_the_limit_counts_slots_held_through_any_descriptor(tmp_path: Path):
    limit = OperationLimit(tmp_path / "slots", 2)
    first, second = limit.try_acquire(), limit.try_acquire()
    assert first is not None and second is not None
    assert limit.try_acquire() is None
    first.describe("123 bk-1")
    assert (tmp_path / "slots" / "slot-1").read_text() == "123 bk-1\n"
    first.release()
    first.release()  # a second release changes nothing
    assert (tmp_path / "slots" / "slot-1").read_text() == ""
    third = limit.try_acquire()
    assert third is not None
    assert limit.try_acquire() is None
    for slot in (second, third):
        slot.release()


def test_a_limit_of_zero_never_refuses(tmp_path: Path):
    limit = OperationLimit(tmp_path / "slots", 0)
    assert all(limit.try_acquire() is not None for _ in range(50))
    assert not (tmp_path / "slots").exists()


@pytest.mark.parametrize("value", [-1, "2", 1.5, True])
def test_backup_max_operations_must_be_a_whole_number(tmp_path: Path, value: object):
    with pytest.raises(ValueError, match="backup_max_operations"):
        BackupManager("node1", options={"backup_max_operations": value}, state_dir=tmp_path)
