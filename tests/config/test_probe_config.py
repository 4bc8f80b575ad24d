"""`[services.NAME.readiness]` and `[services.NAME.liveness]`: each kind read into a `Probe`,
every wrong value reported by `check` at its file, line and key with what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from supervisor import config
from supervisor.config.services import Probe
from supervisor.testing.harness import WriteConfig
from tests.support.configtext import at, errors_of


def settings_of(path: Path):
    (process,) = config.load(path).processes
    return process.settings


def test_every_kind_and_its_defaults(write_config: WriteConfig):
    path = write_config(
        """
        [services.web]
        command = ["true"]
        readiness = { log = "listening on \\\\d+" }
        liveness = { http = "http://127.0.0.1:8776/health", period = 2, initial_delay = 5 }
        """
    )
    settings = settings_of(path)
    assert settings.readiness == Probe(log=r"listening on \d+")
    assert settings.liveness == Probe(
        http="http://127.0.0.1:8776/health", period=2.0, initial_delay=5.0, failure_threshold=3
    )
    assert (settings.liveness.kind, settings.liveness.target) == (
        "http",
        "http://127.0.0.1:8776/health",
    )


def test_tcp_and_exec_with_their_thresholds(write_config: WriteConfig):
    path = write_config(
        """
        [services.broker]
        command = ["true"]
        readiness = { tcp = "[::1]:5672", failure_threshold = 10, timeout = 0.5 }
        liveness = { exec = "test -e /", failure_threshold = 1 }
        """
    )
    settings = settings_of(path)
    assert settings.readiness == Probe(tcp="[::1]:5672", failure_threshold=10, timeout=0.5)
    assert settings.liveness == Probe(exec=("test", "-e", "/"), failure_threshold=1)
    assert settings.liveness.target == "test -e /"


@pytest.mark.parametrize(
    ("table", "snippet", "error"),
    [
        (
            "readiness = { period = 1 }",
            "readiness",
            "expected one of the keys exec, http, tcp or log",
        ),
        (
            'readiness = { tcp = "127.0.0.1:1", http = "http://127.0.0.1/" }',
            "readiness",
            "only one of exec, http, tcp, log: http is set",
        ),
        ('liveness = { tcp = "db:5432" }', "liveness", "expected an IP address or localhost"),
        ('liveness = { tcp = "127.0.0.1" }', "liveness", 'expected "HOST:PORT" with a port'),
        ('readiness = { http = "https://127.0.0.1/" }', "readiness", "https is not probed"),
        ('readiness = { http = "http://127.0.0.1:99999/" }', "readiness", "not a URL"),
        ('liveness = { log = "ready" }', "liveness", "a log probe is for readiness only"),
        ('readiness = { log = "(" }', "readiness", "not a regular expression"),
        ('readiness = { log = "up", period = 1 }', "readiness", "unknown key"),
        (
            'liveness = { tcp = "127.0.0.1:1", failure_threshold = 0 }',
            "liveness",
            "expected a value from 1 to 1000",
        ),
        (
            'readiness = { tcp = "127.0.0.1:1", initial_delay = -1 }',
            "readiness",
            "expected a value from 0 to 86400",
        ),
        ('readiness = { tcp = "127.0.0.1:1", timeout = 0 }', "readiness", "expected a value"),
    ],
)
def test_check_names_the_key_and_what_is_allowed(
    write_config: WriteConfig, table: str, snippet: str, error: str
):
    path = write_config(f'[services.web]\ncommand = ["true"]\n{table}\n')
    (line,) = errors_of(path)
    assert line.startswith(f"{at(path, snippet)}: services.web.{snippet}")
    assert error in line


def test_the_repository_stack_waits_for_its_web_server_to_answer_http():
    plan = config.load(Path(__file__).parents[2] / "services.toml")
    (web,) = [process for process in plan.processes if process.name == "web"]
    assert web.settings.readiness == Probe(http="http://127.0.0.1:8776/", period=0.2)
