"""The timestamp at the start of every line of a log file: written by the pump, read by `logs`.

A line of `<process>.log` is `2026-12-01T09:03:57.123+01:00 <what the process wrote>`: RFC 3339
in local time with milliseconds and the UTC offset, then one space.  The time is when the
supervisor read the end of the line.  Every stamp has the same length (`STAMP_BYTES` with its
space), so a reader finds it by slicing, not by searching.

Making a stamp is on the output pump's path, once per read of a pipe (never once per line):
the calendar part is formatted once per second and only the milliseconds each time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

STAMP_BYTES = len("2026-12-01T09:03:57.123+01:00 ")


class Stamper:
    """`stamp()`: the stamp (with its trailing space) for now, as bytes."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._time = clock
        self._second = -1
        self._date_time = ""
        self._offset = ""

    def stamp(self) -> bytes:
        now = self._time()
        second = int(now)
        if second != self._second:
            local = time.localtime(second)
            self._second = second
            self._date_time = time.strftime("%Y-%m-%dT%H:%M:%S", local)
            self._offset = _offset(local.tm_gmtoff)
        milliseconds = int((now - second) * 1000)
        return f"{self._date_time}.{milliseconds:03d}{self._offset} ".encode()


def _offset(seconds_east: int) -> str:
    sign = "+" if seconds_east >= 0 else "-"
    minutes = abs(seconds_east) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def stamp_time(line: str) -> float | None:
    """The time (seconds since the epoch) of a line's stamp, or None if it has none (a file
    written before lines were stamped, or by something else)."""
    if len(line) < STAMP_BYTES - 1 or line[10:11] != "T":
        return None
    try:
        return datetime.fromisoformat(line[: STAMP_BYTES - 1]).timestamp()
    except ValueError:
        return None
