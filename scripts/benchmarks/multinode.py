"""examples/multinode on four network namespaces: bring-up, and recovery from a host's loss.

Each run is a fresh copy of the deployment (scripts/netns-hosts up; supervisor/testing/
multinode.py starts one supervisor per host, the controller first until its database holds
the schema).  Measured, in seconds:
- up: from the controller's `supervisor run` to every process of every host ready;
- rows_up: from the same start to every row of Cinder's services table up (six rows);
- rows_down: from storage1's loss (every process in its namespace SIGKILLed) to Cinder's
  table showing its rows down (bounded below by service_down_time, 10 s in the example);
- volume_elsewhere: from the loss to the first volume created after it being `available`
  (so served by a live host: storage2's backend, or the cluster storage2 is in), creates sent
  one after another (one the scheduler still sends to the lost host waits in its queue, and
  the next is sent after 5 s);
- back_up: from storage1's supervisor started again to its rows up again.

    scripts/bench multinode [--runs 1] [--json FILE]      (root; the `openstack` extra)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from supervisor.testing.multinode import (
    BACKUP1,
    CONTROLLER,
    HOSTS,
    STORAGE1,
    STORAGE2,
    Deployment,
    DeploymentError,
    netns_hosts,
    unavailable,
    wait_until,
)

READY_TIMEOUT = 600
TRY_EACH_CREATE = 5.0  # seconds a create may stay 'creating' before the next one is sent


def one_run(directory: Path) -> dict[str, float]:
    netns_hosts("up")
    deployment = Deployment(directory)
    try:
        started = time.monotonic()
        deployment.bring_up(READY_TIMEOUT)
        up = time.monotonic() - started
        wait_until(
            lambda: len(deployment.rows()) == 6 and deployment.rows_up(set(HOSTS)),
            READY_TIMEOUT,
            "every row up",
        )
        rows_up = time.monotonic() - started

        lost = time.monotonic()
        deployment.lose(STORAGE1)
        elsewhere = _volume_elsewhere(deployment, lost)
        wait_until(lambda: deployment.rows_down(STORAGE1), 120, "storage1's rows down")
        rows_down = time.monotonic() - lost
        assert deployment.rows_up({CONTROLLER, STORAGE2, BACKUP1})

        restarted = time.monotonic()
        deployment.start(STORAGE1)
        wait_until(lambda: deployment.rows_up({STORAGE1}), READY_TIMEOUT, "storage1's rows up")
        back_up = time.monotonic() - restarted
    finally:
        try:
            deployment.stop()
        finally:
            netns_hosts("down")
    return {
        "up": up,
        "rows_up": rows_up,
        "rows_down": rows_down,
        "volume_elsewhere": elsewhere,
        "back_up": back_up,
    }


def _volume_elsewhere(deployment: Deployment, lost: float) -> float:
    """Seconds from the loss until a volume created after it is available on a live host."""
    number = 0
    while True:
        number += 1
        volume_id = deployment.create_volume(f"after-the-loss-{number}")
        sent = time.monotonic()
        while time.monotonic() - sent < TRY_EACH_CREATE:
            # Only a live host serves it: storage2's backend, or the cluster storage2 is in
            # (whose volumes may still name storage1 as their host).
            status = (deployment.volume(volume_id) or {}).get("status")
            if status == "available":
                return time.monotonic() - lost
            if status == "error":
                break
            time.sleep(0.2)
        if time.monotonic() - lost > READY_TIMEOUT:
            raise DeploymentError("no volume became available after the loss")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/bench multinode", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if (reason := unavailable()) is not None:
        print(f"scripts/bench multinode: {reason}", file=sys.stderr)
        return 77
    runs = []
    for run in range(args.runs):
        # Reachable by every user: as root, PostgreSQL runs as `postgres`.
        with tempfile.TemporaryDirectory(prefix="bench-multinode-", dir="/tmp") as workdir:
            os.chmod(workdir, 0o755)
            figures = one_run(Path(workdir))
        runs.append(figures)
        shown = ", ".join(f"{key} {value:.2f}" for key, value in figures.items())
        print(f"run {run + 1}: {shown}", file=sys.stderr)
    load = os.getloadavg()
    print(f"{'measure':<18} {'median':>8} {'min':>8} {'max':>8}  (seconds)")
    for key in runs[0]:
        values = [figures[key] for figures in runs]
        print(
            f"{key:<18} {statistics.median(values):>8.2f} {min(values):>8.2f} {max(values):>8.2f}"
        )
    print(f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    if args.json:
        args.json.write_text(json.dumps({"runs": runs, "loadavg": load}, indent=2))
    return 0
