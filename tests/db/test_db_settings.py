"""What the services table reads from [options], and when a row counts as up."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from supervisor.db.settings import InvalidOption, Liveness, database_url, report_interval

NOW = datetime(2026, 11, 24, 23, 0, 0)


def test_the_database_defaults_to_an_sqlite_file_in_the_state_directory(tmp_path: Path):
    assert database_url({}, tmp_path / "state") == f"sqlite:///{tmp_path}/state/cinder.sqlite"
    url = "postgresql+psycopg://db.example/cinder"
    assert database_url({"database_url": url}, tmp_path) == url


def test_cinder_defaults():
    liveness = Liveness.from_options({})
    assert (liveness.report_interval, liveness.down_time, liveness.warning) == (10, 60, None)
    assert report_interval({"report_interval": 0}) == 0


@pytest.mark.parametrize(
    ("age", "up"),
    [(0, True), (60, True), (60.000001, False), (3600, False), (-30, True)],
)
def test_a_row_is_up_while_its_last_heartbeat_is_at_most_down_time_old(age: float, up: bool):
    liveness = Liveness(report_interval=10, service_down_time=60)
    assert liveness.is_up(NOW - timedelta(seconds=age), NOW) is up


def test_a_row_that_never_beat_is_down():
    assert Liveness(10, 60).is_up(None, NOW) is False


@pytest.mark.parametrize(
    ("report", "down", "effective"),
    [(10, 60, 60), (10, 10, 25), (30, 20, 75), (3, 1, 7), (0.2, 0.1, 0.5)],
)
def test_a_down_time_within_one_interval_becomes_two_and_a_half_intervals(
    report: float, down: float, effective: float
):
    liveness = Liveness(report_interval=report, service_down_time=down)
    assert liveness.down_time == effective
    if effective != down:
        assert liveness.warning == (
            f"service_down_time ({down:g}s) must be greater than report_interval "
            f"({report:g}s); using {effective:g}s"
        )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"report_interval": "ten"}, "option 'report_interval' must be a number of seconds >= 0"),
        ({"service_down_time": -1}, "option 'service_down_time' must be a number of seconds >= 0"),
        ({"report_interval": True}, "option 'report_interval' must be a number of seconds >= 0"),
    ],
)
def test_invalid_intervals_are_configuration_errors(options: dict[str, object], message: str):
    with pytest.raises(InvalidOption, match=message):
        Liveness.from_options(options)


def test_an_empty_database_url_is_a_configuration_error(tmp_path: Path):
    with pytest.raises(InvalidOption, match="option 'database_url' must be an SQLAlchemy URL"):
        database_url({"database_url": ""}, tmp_path)
