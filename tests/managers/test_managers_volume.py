"""The volume manager's capacity report: Cinder driver stats, published for the scheduler."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from supervisor.managers.capabilities import report_path
from supervisor.managers.volume import GIB, VolumeManager
from tests.support.serviceprocesses import ServiceProcesses, volume_spec
from tests.support.waiting import TIMEOUT, wait_until


def make_volume(backend_dir: Path, name: str, size: int) -> None:
    """A sparse file: a volume of any size that costs no disk space."""
    backend_dir.mkdir(parents=True, exist_ok=True)
    with (backend_dir / name).open("wb") as volume:
        volume.truncate(size)


def wait_for_report(path: Path, accept: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    def acceptable_report() -> dict[str, Any] | None:
        report = json.loads(path.read_text()) if path.exists() else None
        return report if report is not None and accept(report) else None

    return wait_until(acceptable_report, f"acceptable report in {path}")


def test_the_volume_service_publishes_its_backends_capacity(
    tmp_path: Path, services: ServiceProcesses
):
    state_dir = tmp_path / "state"
    backend_dir = state_dir / "volumes" / "lvm-1"
    make_volume(backend_dir, "vol-1", GIB)
    make_volume(backend_dir, "vol-2", GIB // 2)
    spec = volume_spec(state_dir)
    spec = replace(
        spec, options={**spec.options, "periodic_interval": 0.02, "periodic_fuzzy_delay": 0}
    )
    child = services.start(spec)

    path = report_path(state_dir, "node1@lvm-1")
    report = wait_for_report(path, lambda report: True)
    assert report["host"] == "node1@lvm-1"
    assert report["service_name"] == "lvm-1"
    assert abs(report["timestamp"] - time.time()) < TIMEOUT
    capabilities = report["capabilities"]
    usage = shutil.disk_usage(backend_dir)
    assert capabilities["volume_backend_name"] == capabilities["pool_name"] == "lvm-1"
    assert capabilities["total_capacity_gb"] == round(usage.total / GIB, 2)
    assert 0 <= capabilities["free_capacity_gb"] <= capabilities["total_capacity_gb"]
    assert capabilities["allocated_capacity_gb"] == 1.5

    make_volume(backend_dir, "vol-3", GIB)
    wait_for_report(path, lambda report: report["capabilities"]["allocated_capacity_gb"] == 2.5)
    assert child.stop() == 0


def test_only_volume_files_count_as_allocated(tmp_path: Path):
    manager = VolumeManager("node1@lvm-1", service_name="lvm-1", state_dir=tmp_path)
    manager.init_host()
    make_volume(manager.backend_dir, "vol-1", 3 * GIB // 4)
    make_volume(manager.backend_dir, ".vol-2.tmp", GIB)  # not yet in place
    os.mkdir(manager.backend_dir / "snapshots")
    stats = manager.get_volume_stats()
    assert stats["allocated_capacity_gb"] == 0.75
    assert set(stats) == {
        "volume_backend_name",
        "pool_name",
        "total_capacity_gb",
        "free_capacity_gb",
        "allocated_capacity_gb",
    }
