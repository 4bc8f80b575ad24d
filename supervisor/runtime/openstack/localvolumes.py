"""Volume drivers whose volumes this host reads and writes itself: backups that move bytes.

Cinder's backup service attaches a volume through os-brick before it reads it (a backup) or
writes it (a restore), as the volume driver's `initialize_connection` tells it.  os-brick's
`local` connector needs nothing but a path (`driver_volume_type: 'local'`, `device_path`): no
iSCSI or NVMe target on the volume's side, no initiator on the reader's.  Both drivers here
export their volumes that way, so they serve one host only (a `cinder-backup` elsewhere could
not open the path):

- `FileVolumeDriver`: each volume and snapshot a sparse file under `file_volumes_path`; true
  bytes without device-mapper, loop devices or root: a sandbox's storage.
- `LocalLVMVolumeDriver`: Cinder's own LVM driver, its logical volumes exported as their
  device-mapper nodes instead of through a target helper (tgtadm, lioadm, nvmet).

Configured by dotted path in a cinder.conf backend section (`volume_driver = ...`), this module
is imported by the cinder-volume process of that backend only; it ships in the package so that
every way of starting that process (exec'd, forked from the preload template, `check --import`)
finds it whatever its working directory.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

from cinder import exception
from cinder.volume import driver
from cinder.volume.drivers import lvm
from oslo_config import cfg
from oslo_log import log as logging

LOG = logging.getLogger(__name__)
GIB = 1024**3

file_volume_opts = [
    cfg.StrOpt(
        "file_volumes_path",
        default="$state_path/file-volumes",
        help="Directory holding FileVolumeDriver's volumes and snapshots, one sparse file each.",
    ),
]


def copy_sparse(source: Path, target: Path) -> None:
    """`target`, a new file, gets `source`'s bytes; only its data extents are copied, so a
    hole stays a hole (a 1 GiB volume with 1 MiB written costs 1 MiB)."""
    with open(source, "rb") as reader, open(target, "xb") as writer:
        size = os.fstat(reader.fileno()).st_size
        offset = 0
        while offset < size:
            try:
                start = os.lseek(reader.fileno(), offset, os.SEEK_DATA)
            except OSError as error:
                if error.errno == errno.ENXIO:  # nothing but a hole from here to the end
                    break
                raise
            end = os.lseek(reader.fileno(), start, os.SEEK_HOLE)
            while start < end:
                start += os.copy_file_range(
                    reader.fileno(), writer.fileno(), end - start, start, start
                )
            offset = end
        writer.truncate(size)


def grow(path: Path, size_gib: int) -> None:
    """Lengthen the file to `size_gib` GiB with a hole; never shorten it."""
    with open(path, "r+b") as file:
        if os.fstat(file.fileno()).st_size < size_gib * GIB:
            file.truncate(size_gib * GIB)


def local_connection(path: str) -> dict[str, Any]:
    return {"driver_volume_type": "local", "data": {"device_path": path}}


class LocalExport:
    """Every volume and snapshot exported to this host as its own path: nothing to set up or
    tear down, and any connector (the backup service's has no iSCSI initiator) accepted."""

    def local_path(self, volume: Any) -> str:
        raise NotImplementedError

    def snapshot_path(self, snapshot: Any) -> str:
        raise NotImplementedError

    def validate_connector(self, connector: dict[str, Any]) -> None:
        pass

    def initialize_connection(
        self, volume: Any, connector: dict[str, Any], **kwargs: Any
    ) -> dict[str, Any]:
        return local_connection(self.local_path(volume))

    def initialize_connection_snapshot(
        self, snapshot: Any, connector: dict[str, Any], **kwargs: Any
    ) -> dict[str, Any]:
        return local_connection(self.snapshot_path(snapshot))

    def terminate_connection(self, volume: Any, connector: Any, **kwargs: Any) -> None:
        pass

    def terminate_connection_snapshot(self, snapshot: Any, connector: Any, **kwargs: Any) -> None:
        pass

    def create_export(self, context: Any, volume: Any, connector: Any) -> None:
        pass

    def ensure_export(self, context: Any, volume: Any) -> None:
        pass

    def remove_export(self, context: Any, volume: Any) -> None:
        pass

    def create_export_snapshot(self, context: Any, snapshot: Any, connector: Any) -> None:
        pass

    def remove_export_snapshot(self, context: Any, snapshot: Any) -> None:
        pass


class FileVolumeDriver(LocalExport, driver.VolumeDriver):
    """Volumes as sparse files `<file_volumes_path>/volume-<id>`, snapshots as sparse copies
    `snapshot-<id>`; capacity is the file system's."""

    VERSION = "1.0.0"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.configuration.append_config_values(file_volume_opts)
        self.backend_name = self.configuration.safe_get("volume_backend_name") or "file"

    @property
    def directory(self) -> Path:
        return Path(self.configuration.file_volumes_path)

    def do_setup(self, context: Any) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)

    def check_for_setup_error(self) -> None:
        if not os.access(self.directory, os.W_OK | os.X_OK):
            raise exception.VolumeBackendAPIException(
                data=f"file_volumes_path {self.directory} is not a writable directory"
            )

    def local_path(self, volume: Any) -> str:
        return str(self.directory / volume.name)

    def snapshot_path(self, snapshot: Any) -> str:
        return str(self.directory / snapshot.name)

    def create_volume(self, volume: Any) -> None:
        with open(self.local_path(volume), "xb") as file:
            file.truncate(volume.size * GIB)

    def delete_volume(self, volume: Any) -> None:
        Path(self.local_path(volume)).unlink(missing_ok=True)

    def extend_volume(self, volume: Any, new_size: int) -> None:
        grow(Path(self.local_path(volume)), new_size)

    def create_snapshot(self, snapshot: Any) -> None:
        copy_sparse(Path(self.local_path(snapshot.volume)), Path(self.snapshot_path(snapshot)))

    def delete_snapshot(self, snapshot: Any) -> None:
        Path(self.snapshot_path(snapshot)).unlink(missing_ok=True)

    def create_volume_from_snapshot(self, volume: Any, snapshot: Any) -> None:
        self._copy_into(volume, Path(self.snapshot_path(snapshot)))

    def create_cloned_volume(self, volume: Any, src_vref: Any) -> None:
        self._copy_into(volume, Path(self.local_path(src_vref)))

    def _copy_into(self, volume: Any, source: Path) -> None:
        target = Path(self.local_path(volume))
        copy_sparse(source, target)
        grow(target, volume.size)  # a new volume may be larger than its source

    def terminate_connection(self, volume: Any, connector: Any, **kwargs: Any) -> None:
        # A restore opens the device with mode 'wb' and skips the zero chunks of a new
        # volume: harmless on a block device, but on a file it truncates, so the file ends
        # at the last data written.  Its length comes back here, once the reader is done.
        path = Path(self.local_path(volume))
        if path.exists():
            grow(path, volume.size)

    def get_volume_stats(self, refresh: bool = False) -> dict[str, Any]:
        if refresh or not self._stats:
            self._update_volume_stats()
        return self._stats

    def _update_volume_stats(self) -> None:
        space = os.statvfs(self.directory)
        self._stats = {
            "volume_backend_name": self.backend_name,
            "vendor_name": "Open Source",
            "driver_version": self.VERSION,
            "storage_protocol": "local",
            "total_capacity_gb": round(space.f_blocks * space.f_frsize / GIB, 2),
            "free_capacity_gb": round(space.f_bavail * space.f_frsize / GIB, 2),
            "reserved_percentage": self.configuration.safe_get("reserved_percentage") or 0,
            "thin_provisioning_support": True,  # sparse files: only written blocks count
            "thick_provisioning_support": False,
            "max_over_subscription_ratio": self.configuration.safe_get(
                "max_over_subscription_ratio"
            ),
            "multiattach": False,
            "QoS_support": False,
        }


class LocalLVMVolumeDriver(LocalExport, lvm.LVMVolumeDriver):
    """Cinder's LVM driver, each logical volume exported to this host as
    /dev/mapper/<group>-<volume>: backups and restores need no target helper or initiator."""

    def snapshot_path(self, snapshot: Any) -> str:
        return self.local_path(snapshot)

    def create_export(self, context: Any, volume: Any, connector: Any, vg: Any = None) -> None:
        self.vg.activate_lv(volume["name"])

    def ensure_export(self, context: Any, volume: Any) -> None:
        self.vg.activate_lv(volume["name"])
