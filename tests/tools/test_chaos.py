"""A short chaos run: random kills on a seeded schedule, and every invariant holds."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from supervisor.testing.harness import WriteConfig
from supervisor.tools.chaos import Verdict, check_chains, check_restarts

STACK = """
[services.db]
command = ["sleep", "1000"]
start_seconds = 0
restart = { policy = "always", start_limit = { burst = 20, interval = 60 } }

[services.api]
command = ["sh", "-c", "sleep 1000 & exec sleep 1000"]
start_seconds = 0
workers = 3
depends_on = ["db"]
restart = { start_limit = { burst = 5, interval = 60 } }
"""


def test_a_short_chaos_run_passes(write_config: WriteConfig, tmp_path: Path):
    config = write_config(STACK)
    schedule = ["--duration", "6", "--interval", "0.2", "--seed", "3"]
    # The invariants here are that no restart is lost, no event is missing, status answers and
    # nothing is left behind.  How soon a restart follows its delay (50 ms by default) is the
    # loop's latency, which on a loaded machine is the wait for a core: that is the benchmark's
    # to measure, so the test allows what a saturated CI runner needs.
    schedule += ["--restart-slack", "5", "--status-timeout", "10"]
    result = subprocess.run(
        [sys.executable, "-m", "supervisor", "chaos", "-c", str(config), *schedule],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TMPDIR": str(tmp_path)},  # where the run keeps its events
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("chaos: PASS after 6s (seed 3)")
    # Every killed process was ready again before the stop: the group ended cleanly.
    assert "  group exit status             0\n" in result.stdout
    killed = int(next(line for line in result.stdout.splitlines() if "killed" in line).split()[-1])
    assert killed >= 10


def state(unit: str, before: str, after: str, at: str, **extra: object) -> dict:
    return {"event": "state", "unit": unit, "from": before, "to": after, "timestamp": at, **extra}


def test_the_verdict_catches_a_late_restart_and_a_lost_event():
    events = [
        state("a", "stopped", "starting", "2026-01-01T00:00:00Z"),
        state("a", "starting", "running", "2026-01-01T00:00:01Z"),
        {"event": "fault", "unit": "a", "kind": "kill", "timestamp": "2026-01-01T00:00:02Z"},
        state("a", "running", "backoff", "2026-01-01T00:00:02.010Z", delay=0.1),
        state("a", "backoff", "starting", "2026-01-01T00:00:02.300Z"),
        state("a", "running", "stopping", "2026-01-01T00:00:03Z"),
    ]
    verdict = Verdict()
    check_restarts(events, verdict)
    check_chains(events, verdict)
    assert verdict.violations == [
        "a: restarted 190 ms after its delay",
        "a: went running -> stopping after being starting",
    ]
