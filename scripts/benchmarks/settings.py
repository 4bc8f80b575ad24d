"""What every part of the peer comparison shares: its settings, the error that ends one peer's
part of a test, and the progress lines it writes to stderr."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

MIB = 1024 * 1024
MB = 1_000_000


class BenchError(Exception):
    """A peer misbehaved (died, timed out, failed to start); its remaining metrics are skipped."""


@dataclass
class Settings:
    kills: int
    restart_budget: float
    kill_jitter: float
    rounds: int
    many: int
    idle_seconds: float
    min_age: float
    circus_check_delay: float
    cache_dir: Path
    flood_budget: float
    floods: int


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)
