"""The real `supervisor` command line, run against a services file as an operator would."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from supervisor.testing.harness import RunningStack

# What the `ready_stack` fixture hands a test: start `supervisor run` on a services file
# written from this text, and return once `supervisor wait --ready` says every process is.
ReadyStack = Callable[[str], RunningStack]

SLEEPERS = """
[services.db]
command = ["sleep", "1000"]
start_seconds = 0

[services.api]
command = ["sleep", "1000"]
start_seconds = 0
workers = 2
depends_on = ["db"]
"""


def cli(config: Path, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "supervisor", *args, "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def status_of(config: Path, *names: str) -> dict[str, dict]:
    result = cli(config, "status", "--json", *names)
    assert result.returncode == 0, result.stderr
    return {process["name"]: process for process in json.loads(result.stdout)["processes"]}


def supervisor_status(config: Path) -> dict:
    return json.loads(cli(config, "status", "--json").stdout)["supervisor"]


def wait_for_cause(stack: RunningStack, unit: str, fragment: str) -> dict:
    """`status --json` of `unit` once its cause mentions `fragment` (a probe's latest answer)."""
    found: dict = {}

    def seen() -> bool:
        # `status NAME` exits 3 while the process is not running: its JSON is still there.
        result = cli(stack.config, "status", "--json", unit)
        try:
            found.update(json.loads(result.stdout)["processes"][0])
        except (ValueError, KeyError, IndexError):
            return False  # the supervisor is not answering yet
        return fragment in found["cause"]

    stack.wait_until(seen, 20, f"{unit}'s cause to mention {fragment!r}")
    return found
