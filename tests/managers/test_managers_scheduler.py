"""The scheduler's view of the backends, fed through the capabilities files."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from supervisor.managers.capabilities import CapabilityReport, publish, report_path
from supervisor.managers.scheduler import SchedulerManager
from tests.support.manualclock import ManualClock
from tests.support.serviceprocesses import ServiceProcesses, volume_spec
from tests.support.waiting import wait_until

DOWN_TIME = 60


class WallClock:
    def __init__(self) -> None:
        self.time = 1_800_000_000.0

    def __call__(self) -> float:
        return self.time


@pytest.fixture
def clocks(clock: ManualClock) -> tuple[ManualClock, WallClock]:
    return clock, WallClock()


def make_scheduler(state_dir: Path, clock: ManualClock, wall: WallClock) -> SchedulerManager:
    return SchedulerManager(
        "node1",
        options={"service_down_time": DOWN_TIME},
        state_dir=state_dir,
        clock=clock,
        wall_clock=wall,
    )


def report(backend: str, timestamp: float, free: float = 10.0) -> CapabilityReport:
    return CapabilityReport(
        host=f"node1@{backend}",
        service_name=backend,
        timestamp=timestamp,
        capabilities={
            "volume_backend_name": backend,
            "total_capacity_gb": 50.0,
            "free_capacity_gb": free,
            "allocated_capacity_gb": 1.5,
        },
    )


def changes(logs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [entry for entry in logs if entry["event"] == "backend capabilities changed"]


def test_the_last_report_of_each_backend_is_kept_through_a_missing_or_garbled_file(
    tmp_path: Path, clocks: tuple[ManualClock, WallClock]
):
    clock, wall = clocks
    scheduler = make_scheduler(tmp_path, clock, wall)
    publish(tmp_path, report("lvm-1", wall.time, free=10.0))
    publish(tmp_path, report("lvm-2", wall.time, free=20.0))
    scheduler.run_periodic_tasks()
    assert scheduler.last_capabilities["node1@lvm-1"]["free_capacity_gb"] == 10.0
    assert scheduler.last_capabilities["node1@lvm-2"]["service_name"] == "lvm-2"
    assert scheduler.report_timestamps == {"node1@lvm-1": wall.time, "node1@lvm-2": wall.time}
    known = dict(scheduler.last_capabilities)

    report_path(tmp_path, "node1@lvm-1").unlink()
    report_path(tmp_path, "node1@lvm-2").write_text('{"host": "node1@lvm-2", ')
    clock.advance(1)
    with capture_logs() as logs:
        scheduler.run_periodic_tasks()
    assert scheduler.last_capabilities == known
    assert [entry["event"] for entry in logs if entry["log_level"] != "debug"] == [
        "unreadable capabilities report"
    ]

    wall.time += 5
    publish(tmp_path, report("lvm-1", wall.time, free=8.0))
    clock.advance(1)
    scheduler.run_periodic_tasks()
    assert scheduler.last_capabilities["node1@lvm-1"]["free_capacity_gb"] == 8.0
    assert scheduler.report_timestamps["node1@lvm-1"] == wall.time


def test_a_backend_whose_report_stops_changing_is_forgotten_until_it_reports_again(
    tmp_path: Path, clocks: tuple[ManualClock, WallClock]
):
    clock, wall = clocks
    scheduler = make_scheduler(tmp_path, clock, wall)
    publish(tmp_path, report("lvm-1", wall.time))
    scheduler.run_periodic_tasks()

    # The file stays in place, but the same report read again is no sign of life.
    clock.advance(DOWN_TIME / 2)
    wall.time += DOWN_TIME / 2
    scheduler.run_periodic_tasks()
    assert "node1@lvm-1" in scheduler.last_capabilities
    clock.advance(DOWN_TIME / 2 + 1)
    wall.time += DOWN_TIME / 2 + 1
    scheduler.run_periodic_tasks()
    assert scheduler.last_capabilities == {}
    clock.advance(1)
    scheduler.run_periodic_tasks()
    assert scheduler.last_capabilities == {}

    publish(tmp_path, report("lvm-1", wall.time))
    clock.advance(1)
    scheduler.run_periodic_tasks()
    assert list(scheduler.last_capabilities) == ["node1@lvm-1"]


def test_a_report_older_than_the_scheduler_is_aged_by_its_own_timestamp(
    tmp_path: Path, clocks: tuple[ManualClock, WallClock]
):
    clock, wall = clocks
    publish(tmp_path, report("gone", wall.time - DOWN_TIME - 1))
    publish(tmp_path, report("lvm-1", wall.time - DOWN_TIME + 10))
    scheduler = make_scheduler(tmp_path, clock, wall)
    scheduler.run_periodic_tasks()
    assert list(scheduler.last_capabilities) == ["node1@lvm-1"]
    clock.advance(11)
    scheduler.run_periodic_tasks()
    assert scheduler.last_capabilities == {}


def test_one_line_is_logged_when_what_the_scheduler_knows_changes(
    tmp_path: Path, clocks: tuple[ManualClock, WallClock]
):
    clock, wall = clocks
    scheduler = make_scheduler(tmp_path, clock, wall)
    publish(tmp_path, report("lvm-1", wall.time, free=10.0))
    publish(tmp_path, report("lvm-2", wall.time, free=20.0))
    with capture_logs() as logs:
        scheduler.run_periodic_tasks()
        wall.time += 1
        publish(tmp_path, report("lvm-1", wall.time, free=10.0))  # new, but the same
        clock.advance(1)
        scheduler.run_periodic_tasks()
        publish(tmp_path, report("lvm-1", wall.time + 1, free=9.5))
        clock.advance(1)
        scheduler.run_periodic_tasks()
    assert changes(logs) == [
        {
            "event": "backend capabilities changed",
            "log_level": "info",
            "count": 2,
            "backends": "node1@lvm-1 10.0/50.0GB free (1.5GB allocated); "
            "node1@lvm-2 20.0/50.0GB free (1.5GB allocated)",
        },
        {
            "event": "backend capabilities changed",
            "log_level": "info",
            "count": 2,
            "backends": "node1@lvm-1 9.5/50.0GB free (1.5GB allocated); "
            "node1@lvm-2 20.0/50.0GB free (1.5GB allocated)",
        },
    ]


def test_the_scheduler_process_learns_what_each_volume_process_reports(
    tmp_path: Path, services: ServiceProcesses
):
    state_dir = tmp_path / "state"
    ticking = {"periodic_interval": 0.02, "periodic_fuzzy_delay": 0}
    base = volume_spec(state_dir)
    for backend in ("lvm-1", "lvm-2"):
        spec = replace(
            base,
            process=f"cinder-volume@{backend}",
            host=f"node1@{backend}",
            backend=backend,
            options={**base.options, **ticking},
        )
        services.start(spec)
    scheduler_spec = replace(
        base,
        process="cinder-scheduler",
        service="cinder-scheduler",
        binary="cinder-scheduler",
        host="node1",
        backend=None,
        options={"scheduler_manager": "supervisor.managers.scheduler.SchedulerManager", **ticking},
    )
    scheduler = services.start(scheduler_spec)
    both = re.compile(r"backend capabilities changed count=2 backends='node1@lvm-1 .*node1@lvm-2 ")
    wait_until(lambda: both.search(scheduler.stderr()), "summary naming both backends")
    assert scheduler.stop() == 0
