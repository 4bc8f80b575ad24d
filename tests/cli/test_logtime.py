"""What `logs --since` and `--until` take (what journalctl takes), against a fixed now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from supervisor.cli.logtime import parse_time

NOW = datetime(2026, 12, 7, 9, 30, 15).timestamp()  # a Monday, in the local time zone
MIDNIGHT = datetime(2026, 12, 7).timestamp()
MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0


@pytest.mark.parametrize(
    ("text", "seconds_from_now"),
    [
        ("-10m", -10 * MINUTE),
        ("10m", -10 * MINUTE),  # unsigned: before now, where journalctl refuses it
        ("10m ago", -10 * MINUTE),
        ("5 minutes ago", -5 * MINUTE),
        ("1 minute ago", -MINUTE),
        ("30 seconds ago", -30.0),
        ("1 second ago", -1.0),
        ("2 hours ago", -2 * HOUR),
        ("1 hour ago", -HOUR),
        ("3 days ago", -3 * DAY),
        ("2 weeks ago", -14 * DAY),
        ("-90s", -90.0),
        ("-90sec", -90.0),
        ("-2hr", -2 * HOUR),
        ("-1d", -DAY),
        ("-1w", -7 * DAY),
        ("500ms ago", -0.5),
        ("-250msec", -0.25),
        ("-2000us", -0.002),
        ("-1M", -2629800.0),  # M: months, m: minutes, as systemd's
        ("-1y", -31557600.0),
        ("-1h30m", -90 * MINUTE),
        ("1h30m", -90 * MINUTE),
        ("1h 30min ago", -90 * MINUTE),
        ("1 hour 30 min ago", -90 * MINUTE),
        ("-1.5h", -90 * MINUTE),
        ("-10", -10.0),  # a signed number without a unit: seconds
        ("10 ago", -10.0),
        ("10 MIN ago", -10 * MINUTE),
        ("+10m", 10 * MINUTE),
        ("+1 hour", HOUR),
        ("10 min left", 10 * MINUTE),
        ("now", 0.0),
        ("  now ", 0.0),
        ("today", MIDNIGHT - NOW),
        ("yesterday", MIDNIGHT - DAY - NOW),
        ("tomorrow", MIDNIGHT + DAY - NOW),
        ("Today", MIDNIGHT - NOW),
    ],
)
def test_relative_times_and_the_words(text: str, seconds_from_now: float):
    assert parse_time(text, NOW) == pytest.approx(NOW + seconds_from_now)


def _local(*fields: int) -> float:
    return datetime(*fields).timestamp()


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2026-12-07 05:00:00", _local(2026, 12, 7, 5)),
        ("2026-12-07 05:00", _local(2026, 12, 7, 5)),
        ("2026-12-07T05:00:00", _local(2026, 12, 7, 5)),
        ("2026-12-07t05:00:00.250", _local(2026, 12, 7, 5) + 0.25),
        ("2026-12-07", _local(2026, 12, 7)),
        ("05:00", _local(2026, 12, 7, 5)),
        ("5:00:30", _local(2026, 12, 7, 5, 0, 30)),
        ("Mon 2026-12-07 05:00", _local(2026, 12, 7, 5)),
        ("monday, 2026-12-07", _local(2026, 12, 7)),
        ("2026-12-07T05:00:00Z", datetime(2026, 12, 7, 5, tzinfo=UTC).timestamp()),
        ("2026-12-07 05:00:00 UTC", datetime(2026, 12, 7, 5, tzinfo=UTC).timestamp()),
        ("2026-12-07T05:00:00+01:00", datetime(2026, 12, 7, 4, tzinfo=UTC).timestamp()),
        ("2026-12-07 05:00+0100", datetime(2026, 12, 7, 4, tzinfo=UTC).timestamp()),
        # Berlin is an hour ahead of UTC in December
        ("2026-12-07 05:00 Europe/Berlin", datetime(2026, 12, 7, 4, tzinfo=UTC).timestamp()),
        ("@1700000000", 1700000000.0),
        ("@1700000000.5", 1700000000.5),
    ],
)
def test_absolute_times(text: str, moment: float):
    assert parse_time(text, NOW) == pytest.approx(moment)


def test_a_time_of_day_is_todays_even_when_it_is_later_than_now():
    assert parse_time("23:00", NOW) == pytest.approx(
        (datetime(2026, 12, 7) + timedelta(hours=23)).timestamp()
    )


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("last tuesday", "'last tuesday': not a time; expected a time ago (10m, -10m"),
        ("10", "'10': not a time"),  # a bare number is no time, as for journalctl
        ("", "'': not a time"),
        ("ago", "'ago': not a time"),
        ("10x ago", "'10x ago': unknown unit 'x'; units: us, ms, s, m, h, d, w, M, y"),
        ("-10 parsecs", "unknown unit 'parsecs'"),
        ("+10m ago", "'+10m ago': a sign and 'ago' at once"),
        ("-tuesday", "'-tuesday': not a time span"),
        ("Tue 2026-12-07", "'Tue 2026-12-07': 2026-12-07 is a Monday, not a Tue"),
        ("25:00", "'25:00': hour must be in 0..23"),
        ("2026-13-01", "'2026-13-01': month must be in 1..12"),
        ("2026-12-07 05:00 Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
        ("2026-12-07 05:00+01:00 UTC", "an offset and a time zone at once"),
        ("@soon", "'@soon': @ takes seconds since the epoch"),
    ],
)
def test_what_it_cannot_read_is_named_with_the_forms_allowed(text: str, says: str):
    with pytest.raises(ValueError) as raised:
        parse_time(text, NOW)
    assert says in str(raised.value)
