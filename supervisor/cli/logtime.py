"""The times `logs --since` and `--until` accept, turned into seconds since the epoch.

A subset of what journalctl accepts, all read in the local time zone unless an offset is given:

- RFC 3339 / ISO 8601: `2026-12-01T09:03:57.123+01:00`, `2026-12-01T09:03:57Z`,
  `2026-12-01 09:03`, `2026-12-01` (midnight);
- a time of today: `09:03` or `09:03:57`;
- `now`, `today`, `yesterday` (midnights);
- a time relative to now: `10m`, `2h`, `1h30m`, `90s`, `1d`, `2w` (ago, as is `-10m` or
  `10m ago`), or `+10m` (ahead).  Units: s, m, h, d, w (also sec, min, hour(s), day(s),
  week(s)).
"""

from __future__ import annotations

import argparse
import re
import time
from datetime import datetime, timedelta

_UNIT_SECONDS = {
    "s": 1,
    "sec": 1,
    "m": 60,
    "min": 60,
    "h": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "w": 604800,
    "week": 604800,
    "weeks": 604800,
}
_PART = r"(\d+(?:\.\d+)?)\s*(" + "|".join(sorted(_UNIT_SECONDS, key=len, reverse=True)) + ")"
_RELATIVE = re.compile(rf"(?P<sign>[+-]?)\s*(?P<parts>(?:{_PART}\s*)+?)(?P<ago>\s+ago)?")
_TIME_OF_DAY = re.compile(r"\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?")


def parse_time(text: str, now: float | None = None) -> float:
    """Seconds since the epoch for `text`; ValueError naming what is accepted if it is none."""
    now = time.time() if now is None else now
    spoken = text.strip().lower()
    midnight = datetime.fromtimestamp(now).replace(hour=0, minute=0, second=0, microsecond=0)
    if spoken == "now":
        return now
    if spoken in ("today", "yesterday"):
        return (midnight - timedelta(days=spoken == "yesterday")).timestamp()
    relative = _RELATIVE.fullmatch(spoken)
    if relative:
        sign, parts, ago = relative["sign"], relative["parts"], relative["ago"]
        if sign == "+" and ago:
            raise ValueError(f"{text!r}: ahead (+) and ago at once")
        seconds = sum(float(n) * _UNIT_SECONDS[unit] for n, unit in re.findall(_PART, parts))
        return now + seconds if sign == "+" else now - seconds
    if _TIME_OF_DAY.fullmatch(spoken):
        spoken = f"{midnight.date().isoformat()}T{spoken}"
    try:
        moment = datetime.fromisoformat(spoken.upper())
    except ValueError:
        raise ValueError(
            f"{text!r}: expected an RFC 3339 time (2026-12-01T09:03:57+01:00), a date, HH:MM, "
            "now, today, yesterday, or a time ago such as 10m, 2h or 1h30m"
        ) from None
    return moment.timestamp()  # without an offset: local time, as datetime takes it


def time_argument(text: str) -> float:
    """`parse_time` as an argparse type: a bad value is a usage error."""
    try:
        return parse_time(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
