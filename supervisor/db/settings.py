"""What the services table and its heartbeats read from `[options]`, and Cinder's liveness rule."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

DATABASE_FILE = "cinder.sqlite"
DEFAULT_REPORT_INTERVAL = 10.0
DEFAULT_SERVICE_DOWN_TIME = 60.0


class InvalidOption(ValueError):
    """An option has a value no restart can heal."""


def database_url(options: Mapping[str, Any], state_dir: str | Path) -> str:
    """`[options] database_url`, else an SQLite file in the stack's state directory."""
    url = options.get("database_url")
    if url is None:
        return f"sqlite:///{Path(state_dir).resolve() / DATABASE_FILE}"
    if not isinstance(url, str) or not url:
        raise InvalidOption(f"option 'database_url' must be an SQLAlchemy URL, got {url!r}")
    return url


def utc_now() -> datetime:
    """The time rows are stamped with: naive UTC, as Cinder stores it."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Liveness:
    """When a row counts as up: its last heartbeat is at most `down_time` seconds old."""

    report_interval: float
    service_down_time: float

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Liveness:
        return cls(
            report_interval=report_interval(options),
            service_down_time=_seconds(options, "service_down_time", DEFAULT_SERVICE_DOWN_TIME),
        )

    @property
    def down_time(self) -> float:
        if self.service_down_time > self.report_interval:
            return self.service_down_time
        # A down time within one interval would show every service down between two beats.
        # Cinder's whole seconds, unless the interval is so short (tests) that they round to it.
        whole_seconds = int(2.5 * self.report_interval)
        return whole_seconds if whole_seconds > self.report_interval else 2.5 * self.report_interval

    @property
    def warning(self) -> str | None:
        """Why `down_time` differs from the option, or None."""
        if self.down_time == self.service_down_time:
            return None
        return (
            f"service_down_time ({self.service_down_time:g}s) must be greater than "
            f"report_interval ({self.report_interval:g}s); using {self.down_time:g}s"
        )

    def is_up(self, updated_at: datetime | None, now: datetime) -> bool:
        return updated_at is not None and updated_at >= now - timedelta(seconds=self.down_time)


def report_interval(options: Mapping[str, Any]) -> float:
    """Seconds between heartbeats; 0 turns them off, as in Cinder."""
    return _seconds(options, "report_interval", DEFAULT_REPORT_INTERVAL)


def _seconds(options: Mapping[str, Any], name: str, default: float) -> float:
    value = options.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise InvalidOption(f"option {name!r} must be a number of seconds >= 0, got {value!r}")
    return float(value)
