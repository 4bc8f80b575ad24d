"""Backups that move bytes, through Cinder's own backup path, on the example stack as it ships.

The example's `file-1` backend (supervisor.runtime.openstack.localvolumes.FileVolumeDriver)
keeps each volume as a sparse file under the state directory and exports it to this host
through os-brick's `local` connector; the backup workers (POSIX backup driver, two of them,
`backup_max_operations = 1`) open that file to back it up and to restore into it.  SQLite, as
the example ships.  tests/support/volumeflow.py holds the flow; test_lvm_backend.py runs the
same one on LVM.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.openstack.test_openstack import start_ready
from tests.support.cinderstack import CinderStack, copy_example, require_openstack, stop
from tests.support.volumeflow import backup_round_trip, backup_turns, file_backend, overlapping

pytestmark = pytest.mark.openstack

WORKERS = ["cinder-backup#1", "cinder-backup#2"]


@pytest.fixture(scope="module")
def cinder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CinderStack]:
    require_openstack()
    copy = copy_example(tmp_path_factory.mktemp("backups") / "stack")
    stack = start_ready(copy)
    yield copy
    stop(stack)


def test_a_file_volume_survives_snapshot_extend_backup_delete_and_restore(cinder: CinderStack):
    backend = file_backend(cinder)
    flow = backup_round_trip(cinder, backend)

    # The POSIX driver wrote each backup's chunks and metadata under the state directory.
    backups = cinder.state_dir / "cinder" / "backups"
    for backup_id in flow.backups:
        stored = [p for p in backups.rglob("*") if p.is_file() and backup_id in p.name]
        assert any(p.name.endswith("_metadata") for p in stored), stored
    # Stored compressed: a backup of 2 GiB holding 12 MiB of data takes far less than 2 GiB.
    stored_bytes = sum(p.stat().st_size for p in backups.rglob("*") if p.is_file())
    assert stored_bytes < 256 * 1024**2, stored_bytes

    # backup_max_operations = 1 across both workers: the two backups (and the two restores)
    # each held the one slot in turn, never two at once, and one request waited for it.
    turns = backup_turns(cinder, WORKERS)
    assert set(flow.backups) <= turns.taken_by.keys(), turns
    assert len(turns.holds) >= 4, turns  # two backups, two restores
    assert not overlapping(turns.holds), turns.holds
    assert turns.waited, "no backup waited for its turn: were they not concurrent?"
    print(
        "backups taken:",
        {flow.backups[b]: turns.taken_by[b] for b in flow.backups},
        "slot holds:",
        turns.holds,
    )
