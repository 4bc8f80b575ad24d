"""One volume's life through Cinder's API, on a backend whose volumes this host can open.

Known bytes are written straight into the volume where the backend exports it (a file, or a
logical volume's device node): Cinder has no API that writes data without Glance, and its own
copy paths (backup, restore, snapshot, create from snapshot) are what is under test.  Then: a
snapshot, an extend, a volume made from the snapshot, a backup of each volume at once (the
backup workers take turns as `backup_max_operations` says), the snapshot and the volumes
deleted, each backup restored into a new volume and compared by checksum.  The same function
runs on every backend.  (A backup of the snapshot itself would be as large as the volume is
now, not as the snapshot was: Cinder sizes it so.)
"""

from __future__ import annotations

import hashlib
import itertools
import os
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.cinderstack import CinderStack

GIB = 1024**3
PATTERN_BYTES = 4 * 1024**2
SETTLE_TIMEOUT = 600  # a backup reads the whole volume, compressing it, on a shared machine
TRANSITIONAL = {
    "creating",
    "extending",
    "backing-up",
    "restoring",
    "restoring-backup",
    "deleting",
    "attaching",
    "detaching",
}
# A line of a backup worker's log (after the time the supervisor read it): the time Cinder
# logged it, then what the shared semaphore or Cinder's backup manager said.
TURN = re.compile(
    r"^(?:\S+ )?(?P<time>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) .*?"
    r"(?:backup operation slots: (?P<holder>\S+) (?P<action>took|gave)"
    r"|Create backup finished\. backup: (?P<backup>[0-9a-f-]{36}))"
)


@dataclass(frozen=True)
class Backend:
    """A backend of the stack: its volume type's name (its volume_backend_name), where a
    volume is exported on this host, and the size the storage itself gives a volume."""

    name: str
    device: Callable[[str], Path]
    stored_size: Callable[[str], int]


@dataclass
class Flow:
    backups: dict[str, str]  # backup id -> what it copied: "volume" or "snapshot"
    restored: dict[str, str]  # backup id -> the volume restored from it


def file_backend(cinder: CinderStack, name: str = "file-1") -> Backend:
    """The example's FileVolumeDriver backend: a volume is the file `volume-<id>` in
    cinder.conf's file_volumes_path ($state_path/file-volumes)."""
    volumes = cinder.state_dir / "cinder" / "file-volumes"

    def device(volume_id: str) -> Path:
        return volumes / f"volume-{volume_id}"

    return Backend(name, device, lambda volume_id: os.stat(device(volume_id)).st_size)


def pattern(seed: int) -> bytes:
    return random.Random(seed).randbytes(PATTERN_BYTES)


def write_at(path: Path, offset: int, data: bytes) -> None:
    with open(path, "r+b") as device:
        device.seek(offset)
        device.write(data)
        device.flush()
        os.fsync(device.fileno())


def checksum(path: Path, size: int) -> str:
    """sha256 of the first `size` bytes; a device that ends before them fails."""
    digest = hashlib.sha256()
    with open(path, "rb") as device:
        left = size
        while left:
            block = device.read(min(8 * 1024**2, left))
            assert block, f"{path} ends {left} bytes before {size}"
            digest.update(block)
            left -= len(block)
    return digest.hexdigest()


def settle(cinder: CinderStack, kind: str, item_id: str, want: str) -> dict[str, Any]:
    """The volume, snapshot or backup once it leaves its transitional states, which must be
    `want`; its Cinder record on the way out."""
    singular = kind.rstrip("s")

    def settled() -> dict[str, Any] | None:
        found = cinder.api("GET", f"/{kind}/{item_id}")[singular]
        return None if found["status"] in TRANSITIONAL else found

    found = cinder.wait_until(settled, SETTLE_TIMEOUT, f"{singular} {item_id} to settle")
    assert found["status"] == want, found
    return found


def gone(cinder: CinderStack, kind: str, item_id: str) -> None:
    cinder.wait_until(
        lambda: not cinder.api("GET", f"/{kind}/{item_id}", missing_ok=True),
        SETTLE_TIMEOUT,
        f"{kind} {item_id} deleted",
    )


def volume_type(cinder: CinderStack, backend: str) -> str:
    """A volume type that sends volumes to `backend` (made once, then found again)."""
    for found in cinder.api("GET", "/types")["volume_types"]:
        if found["name"] == backend:
            return backend
    body = {"volume_type": {"name": backend, "extra_specs": {"volume_backend_name": backend}}}
    cinder.api("POST", "/types", body)
    return backend


def create_volume(
    cinder: CinderStack, size: int, type_name: str, name: str, *, snapshot: str | None = None
) -> str:
    """A new volume of the backend's type, empty or made from `snapshot`, once available."""
    body: dict[str, Any] = {"size": size, "name": name, "volume_type": type_name}
    if snapshot is not None:
        body["snapshot_id"] = snapshot
    volume_id = cinder.api("POST", "/volumes", {"volume": body})["volume"]["id"]
    found = settle(cinder, "volumes", volume_id, "available")
    assert found["os-vol-host-attr:host"].split("#")[0].endswith(f"@{type_name}"), found
    return volume_id


def backup_round_trip(cinder: CinderStack, backend: Backend) -> Flow:
    type_name = volume_type(cinder, backend.name)
    source = create_volume(cinder, 1, type_name, "flow-source")
    assert backend.stored_size(source) == GIB
    device = backend.device(source)
    write_at(device, 0, pattern(1))
    write_at(device, GIB - PATTERN_BYTES, pattern(2))  # the last bytes of the first GiB

    body = {"snapshot": {"volume_id": source, "name": "flow-snapshot"}}
    snapshot = cinder.api("POST", "/snapshots", body)["snapshot"]["id"]
    settle(cinder, "snapshots", snapshot, "available")
    snapshot_sum = checksum(device, GIB)  # what the snapshot holds: the volume as it was

    cinder.api("POST", f"/volumes/{source}/action", {"os-extend": {"new_size": 2}})
    assert settle(cinder, "volumes", source, "available")["size"] == 2
    assert backend.stored_size(source) == 2 * GIB
    write_at(device, GIB + GIB // 2, pattern(3))  # into the space the extend added
    volume_sum = checksum(device, 2 * GIB)
    assert volume_sum != snapshot_sum
    # The snapshot, made a volume of its own, holds the bytes of before the extend.
    copy = create_volume(cinder, 1, type_name, "flow-from-snapshot", snapshot=snapshot)
    assert checksum(backend.device(copy), GIB) == snapshot_sum

    # Both at once: with backup_max_operations = 1 one worker waits for the other's turn.
    backups = {
        start_backup(cinder, source): "volume",
        start_backup(cinder, copy): "snapshot",
    }
    for backup_id in backups:
        settle(cinder, "backups", backup_id, "available")

    cinder.api("DELETE", f"/snapshots/{snapshot}")
    gone(cinder, "snapshots", snapshot)
    for volume_id in (copy, source):
        cinder.api("DELETE", f"/volumes/{volume_id}")
        gone(cinder, "volumes", volume_id)
        assert not backend.device(volume_id).exists(), f"volume {volume_id} is still stored"

    expected = {"volume": (2, volume_sum), "snapshot": (1, snapshot_sum)}
    restored = {  # both asked at once: they too take turns
        backup_id: restore_into_new_volume(cinder, backup_id, expected[what][0], type_name)
        for backup_id, what in backups.items()
    }
    for backup_id, target in restored.items():
        size, digest = expected[backups[backup_id]]
        assert_restored(cinder, backend, backup_id, target, size, digest)
    return Flow(backups, restored)


def start_backup(cinder: CinderStack, volume_id: str) -> str:
    body = {"backup": {"volume_id": volume_id, "name": f"of-{volume_id[:8]}"}}
    return cinder.api("POST", "/backups", body)["backup"]["id"]


def restore_into_new_volume(cinder: CinderStack, backup_id: str, size: int, type_name: str) -> str:
    """A new volume of the backend's type, the backup's restore into it asked for."""
    target = create_volume(cinder, size, type_name, f"restored-{backup_id[:8]}")
    cinder.api("POST", f"/backups/{backup_id}/restore", {"restore": {"volume_id": target}})
    return target


def assert_restored(
    cinder: CinderStack, backend: Backend, backup_id: str, target: str, size: int, digest: str
) -> None:
    """The restore is done, and the volume holds the backed-up bytes: same size, same sha256."""
    settle(cinder, "volumes", target, "available")
    settle(cinder, "backups", backup_id, "available")
    assert backend.stored_size(target) == size * GIB
    assert checksum(backend.device(target), size * GIB) == digest, f"restored from {backup_id}"


def backup_and_restore(cinder: CinderStack, backend: Backend) -> tuple[str, str]:
    """The short way: a 1 GiB volume with known bytes, backed up, restored into a new volume
    with the same checksum; (backup id, restored volume id)."""
    type_name = volume_type(cinder, backend.name)
    source = create_volume(cinder, 1, type_name, "backed-up")
    write_at(backend.device(source), GIB // 2, pattern(4))
    digest = checksum(backend.device(source), GIB)
    backup_id = start_backup(cinder, source)
    settle(cinder, "backups", backup_id, "available")
    target = restore_into_new_volume(cinder, backup_id, 1, type_name)
    assert_restored(cinder, backend, backup_id, target, 1, digest)
    return backup_id, target


@dataclass
class Turns:
    taken_by: dict[str, str]  # backup id -> the worker that ran it
    holds: list[tuple[str, str, str]]  # (worker, took at, gave back at), in time order
    waited: bool  # some worker found every slot taken and waited


def backup_turns(cinder: CinderStack, workers: list[str]) -> Turns:
    """Who ran which backup, and each worker's hold of a backup operation slot, from the
    workers' own logs."""
    taken_by: dict[str, str] = {}
    holds: list[tuple[str, str, str]] = []
    waited = False
    for worker in workers:
        log = (cinder.state_dir / "logs" / f"{worker}.log").read_text(errors="replace")
        waited = waited or f"taken, {worker} waits" in log
        took: str | None = None
        for line in log.splitlines():
            if not (match := TURN.match(line)):
                continue
            if match["backup"]:
                taken_by[match["backup"]] = worker
            elif match["action"] == "took":
                took = match["time"]
            elif took is not None:
                holds.append((worker, took, match["time"]))
                took = None
    return Turns(taken_by, sorted(holds, key=lambda hold: hold[1]), waited)


def overlapping(holds: list[tuple[str, str, str]]) -> list[tuple[str, str]]:
    """Pairs of holds (in time order) where the later began before the earlier ended."""
    return [
        (f"{a[0]} {a[1]}..{a[2]}", f"{b[0]} {b[1]}..{b[2]}")
        for a, b in itertools.pairwise(holds)
        if b[1] < a[2]
    ]
