"""RabbitMQ down while Cinder starts: every manager service waits, saying why in `status`
(STATUS=), and serves once the broker is up.

The broker is a service of the stack that does not start with it (`autostart = false`), and
the Cinder services do not wait for it (`depends_on` without it): as a broker on another
host that is down would be. The test starts it 20 s after the stack.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import tomlkit

from tests.support.cinderstack import copy_example, require_openstack, stop

pytestmark = pytest.mark.openstack

BROKER_DELAY = 20  # seconds from the stack's start to the broker's
READY_TIMEOUT = 600
MANAGERS = (
    "cinder-scheduler",
    "cinder-volume@fake-1",
    "cinder-volume@fake-2",
    "cinder-volume@file-1",
    "cinder-backup#1",
    "cinder-backup#2",
)
CINDER_ROWS = {
    ("cinder-scheduler", "node1"),
    ("cinder-volume", "node1@fake-1"),
    ("cinder-volume", "node1@fake-2"),
    ("cinder-volume", "node1@file-1"),
    ("cinder-backup", "node1"),
}


def test_cinder_started_before_rabbitmq_waits_saying_why_then_serves(tmp_path: Path):
    require_openstack()
    cinder = copy_example(tmp_path / "stack")
    document = tomlkit.parse(cinder.config.read_text())
    services = document["services"]
    services["rabbitmq"]["autostart"] = False  # type: ignore[index]
    for name in ("cinder-api", "cinder-scheduler", "cinder-volume", "cinder-backup"):
        services[name]["depends_on"] = ["db-sync"]  # type: ignore[index]
    cinder.config.write_text(tomlkit.dumps(document))

    started = time.monotonic()
    stack = cinder.start()
    try:

        def waiting_on_the_bus() -> dict | None:
            processes = cinder.status()
            said = {name: str(processes.get(name, {}).get("status_text")) for name in MANAGERS}
            return said if all(s.startswith("message bus:") for s in said.values()) else None

        cinder.wait_until(
            waiting_on_the_bus, READY_TIMEOUT, "every Cinder service to say the bus is away"
        )
        processes = cinder.status()
        assert processes["rabbitmq"]["state"] == "stopped"
        assert all(processes[name]["state"] == "starting" for name in MANAGERS), processes
        # Waiting is not failing: none has given up. A restart here is SQLite refusing a
        # write while five services register at once (exit 1, "database is locked", see
        # docs/guides/real-cinder.md), never the bus: that process's log says so.
        for name in MANAGERS:
            if processes[name]["restarts"]:
                log = (cinder.state_dir / "logs" / f"{name}.log").read_text()
                assert "database is locked" in log, f"{name} restarted: {processes[name]}"

        remaining = BROKER_DELAY - (time.monotonic() - started)
        if remaining > 0:
            time.sleep(remaining)  # the scenario's delay, not a wait for anything
        broker_started = datetime.now(UTC).replace(tzinfo=None)
        result = cinder.cli("start", "rabbitmq", "--timeout", "300", timeout=330)
        assert result.returncode == 0, result.stderr

        def all_serving() -> bool:
            processes = cinder.status()
            return all(
                processes[name]["state"] == "running"
                and str(processes[name]["status_text"]).startswith("serving")
                for name in MANAGERS
            )

        cinder.wait_until(all_serving, READY_TIMEOUT, "every Cinder service serving")

        def rows_beating_since_the_broker() -> bool:
            rows = {(row["binary"], row["host"]): row for row in cinder.service_rows()}
            return rows.keys() >= CINDER_ROWS and all(
                rows[key]["state"] == "up"
                and datetime.fromisoformat(rows[key]["updated_at"].rstrip("Z")) > broker_started
                for key in CINDER_ROWS
            )

        cinder.wait_until(rows_beating_since_the_broker, 120, "every row up in Cinder's table")
    finally:
        stop(stack)
