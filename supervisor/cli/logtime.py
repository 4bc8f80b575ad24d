"""The times `logs --since` and `--until` accept, turned into seconds since the epoch.

What journalctl's `--since` takes (systemd's `parse_timestamp`), read in the local time zone
unless the text names another:

- `now`, `today`, `yesterday`, `tomorrow` (the last three: their midnights);
- a time span before now: `-10m`, `10m ago`, `"5 minutes ago"`, `"1 hour 30 min ago"`, `-1h30m`;
  after now: `+10m`, `"10 min left"`.  A span is numbers each with a unit, spaces allowed
  between and within them; a number without a unit is seconds.  Unsigned and without
  `ago`/`left`, a span with units (`10m`, `1h30m`) is also before now, where journalctl
  would refuse it;
- a date and time: `2026-12-07 05:00:00`, `2026-12-07 05:00`, `2026-12-07T05:00:00.123`,
  `2026-12-07` (midnight), with an optional weekday before it (`Mon 2026-12-07 05:00`, which
  must be that date's) and an optional zone after it (`Z`, `+01:00`, `UTC`, `Europe/Berlin`);
- a time of today: `05:00`, `05:00:57`, `05:00:57.5`;
- `@1700000000`: seconds since the epoch.

Units are systemd's, case-sensitive only where it matters (`m` is minutes, `M` months):
us/usec/µs, ms/msec, s/sec/second(s), m/min/minute(s), h/hr/hour(s), d/day(s), w/week(s),
M/month(s) (30.44 days), y/year(s) (365.25 days).
"""

from __future__ import annotations

import argparse
import re
import time
from datetime import UTC, datetime, timedelta, tzinfo

_UNITS: dict[tuple[str, ...], float] = {
    ("ns", "nsec"): 1e-9,
    ("us", "usec", "µs", "μs"): 1e-6,
    ("ms", "msec"): 1e-3,
    ("s", "sec", "secs", "second", "seconds"): 1,
    ("m", "min", "mins", "minute", "minutes"): 60,
    ("h", "hr", "hrs", "hour", "hours"): 3600,
    ("d", "day", "days"): 86400,
    ("w", "week", "weeks"): 7 * 86400,
    ("M", "month", "months"): 2629800,  # 30.44 days, as systemd's USEC_PER_MONTH
    ("y", "year", "years"): 31557600,  # 365.25 days
}
_UNIT_SECONDS = {name: seconds for names, seconds in _UNITS.items() for name in names}
_SPAN_PART = re.compile(r"\s*(?P<number>\d+(?:\.\d*)?|\.\d+)\s*(?P<unit>[^\W\d_]*)")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DATE = r"\d{4}-\d{2}-\d{2}"
_CLOCK = r"\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?"
_OFFSET = r"(?:Z|[+-]\d{2}(?::?\d{2})?)"
_ABSOLUTE = re.compile(
    rf"(?:(?P<weekday>[a-z]+),?\s+)?"
    rf"(?:(?P<date>{_DATE})(?:[T\s]\s*(?P<clock>{_CLOCK}))?|(?P<today>{_CLOCK}))"
    rf"(?P<offset>{_OFFSET})?(?:\s+(?P<zone>\S+))?",
    re.IGNORECASE,
)

FORMS = (
    "a time ago (10m, -10m, '5 minutes ago', '1h30m ago'), ahead (+10m, '10 min left'), "
    "now, today, yesterday, tomorrow, a date and time (2026-12-07 05:00:00, "
    "2026-12-07T05:00:00+01:00, 2026-12-07), a time of today (05:00), or @SECONDS"
)


def parse_time(text: str, now: float | None = None) -> float:
    """Seconds since the epoch for `text`; ValueError naming the text and what is accepted."""
    now = time.time() if now is None else now
    stripped = text.strip()
    word = stripped.lower()
    midnight = datetime.fromtimestamp(now).replace(hour=0, minute=0, second=0, microsecond=0)
    days = {"today": 0, "yesterday": -1, "tomorrow": 1}
    if word == "now":
        return now
    if word in days:
        return (midnight + timedelta(days=days[word])).timestamp()
    if stripped.startswith("@"):
        return _epoch(text, stripped[1:])
    relative = _relative(text, stripped)
    if relative is not None:
        return now + relative
    absolute = _ABSOLUTE.fullmatch(stripped)
    if absolute is None:
        raise ValueError(f"{text!r}: not a time; expected {FORMS}")
    return _absolute(text, absolute, midnight)


def _epoch(text: str, number: str) -> float:
    try:
        return float(number)
    except ValueError:
        raise ValueError(f"{text!r}: @ takes seconds since the epoch (@1700000000)") from None


def _relative(text: str, stripped: str) -> float | None:
    """Seconds from now (negative: before) if `stripped` is a span, else None."""
    body, sign = stripped, 0
    if body[:1] in ("+", "-"):
        sign, body = (1 if body[0] == "+" else -1), body[1:]
    lowered = body.lower()
    for suffix, direction in ((" ago", -1), (" left", 1)):
        if lowered.endswith(suffix):
            if sign:
                raise ValueError(f"{text!r}: a sign and {suffix.strip()!r} at once")
            sign, body = direction, body[: -len(suffix)]
    parts = _span_parts(body)
    if parts is None:
        if sign and not _ABSOLUTE.fullmatch(body.strip()):
            raise ValueError(f"{text!r}: not a time span; expected {FORMS}")
        return None
    if not sign and not any(unit for _, unit in parts):
        return None  # a bare number is no time (journalctl refuses it too)
    seconds = 0.0
    for number, unit in parts:
        factor = _unit_seconds(unit)
        if factor is None:
            units = "us, ms, s, m, h, d, w, M, y, or their names (5 minutes, 2 hours)"
            raise ValueError(f"{text!r}: unknown unit {unit!r}; units: {units}")
        seconds += float(number) * factor
    return seconds * (sign or -1)


def _span_parts(body: str) -> list[tuple[str, str]] | None:
    """`[(number, unit), ...]` if all of `body` is numbers each with an optional unit."""
    parts, position = [], 0
    while position < len(body):
        part = _SPAN_PART.match(body, position)
        if part is None or part.end() == position:
            return None if body[position:].strip() else parts or None
        parts.append((part["number"], part["unit"]))
        position = part.end()
    return parts or None


def _unit_seconds(unit: str) -> float | None:
    if not unit:
        return 1.0  # a number without a unit: seconds, as systemd reads it
    exact = _UNIT_SECONDS.get(unit)
    if exact is not None:
        return exact
    return None if unit.lower() == "m" else _UNIT_SECONDS.get(unit.lower())


def _absolute(text: str, found: re.Match[str], midnight: datetime) -> float:
    date = found["date"] or midnight.date().isoformat()
    clock = found["clock"] or found["today"] or "00:00"
    hours, _, rest = clock.partition(":")
    offset = found["offset"] or ""
    if offset.upper() == "Z":
        offset = "+00:00"
    try:
        moment = datetime.fromisoformat(f"{date}T{int(hours):02d}:{rest}{offset}")
    except ValueError as error:
        raise ValueError(f"{text!r}: {error}") from None
    if found["zone"]:
        if offset:
            raise ValueError(f"{text!r}: an offset and a time zone at once")
        moment = moment.replace(tzinfo=_zone(text, found["zone"]))
    weekday = found["weekday"]
    if weekday is not None:
        _check_weekday(text, weekday, moment)
    return moment.timestamp()  # without an offset or a zone: local time, as datetime takes it


def _zone(text: str, name: str) -> tzinfo:
    if name.upper() in ("UTC", "GMT", "Z"):
        return UTC
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # for this form only

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{text!r}: unknown time zone {name!r} (UTC, an offset such as +01:00, "
            "or a zone name such as Europe/Berlin)"
        ) from None


def _check_weekday(text: str, weekday: str, moment: datetime) -> None:
    """As systemd: a weekday given must be the date's own."""
    named = weekday.lower()
    day = next((i for i, name in enumerate(_WEEKDAYS) if named in (name, name[:3])), None)
    if day is None:
        raise ValueError(f"{text!r}: not a time; expected {FORMS}")
    if day != moment.weekday():
        actual = _WEEKDAYS[moment.weekday()].capitalize()
        raise ValueError(f"{text!r}: {moment.date().isoformat()} is a {actual}, not a {weekday}")


def time_argument(text: str) -> float:
    """`parse_time` as an argparse type: a bad value is a usage error."""
    try:
        return parse_time(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
