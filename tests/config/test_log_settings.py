"""[supervisor]'s log keys as the loader reads them: log_timestamps, beside the rotation keys."""

from __future__ import annotations

from supervisor import config
from supervisor.testing.harness import WriteConfig
from tests.support.configtext import at, errors_of

SERVICE = '[services.web]\ncommand = ["sleep", "60"]\n'


def test_log_lines_are_stamped_unless_the_file_says_otherwise(write_config: WriteConfig):
    assert config.load(write_config(SERVICE)).logs.timestamps is True
    path = write_config(f"[supervisor]\nlog_timestamps = false\n{SERVICE}")
    assert config.load(path).logs.timestamps is False


def test_log_timestamps_takes_only_true_or_false(write_config: WriteConfig):
    path = write_config(f'[supervisor]\nlog_timestamps = "no"\n{SERVICE}')
    errors = errors_of(path)
    assert any(at(path, "log_timestamps") in line and "true or false" in line for line in errors)
