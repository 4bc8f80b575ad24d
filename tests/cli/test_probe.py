"""`supervisor probe`: a process's row in a real services table (an SQLite file written by the
project's own table code, or by a live stack), judged fresh, stale, missing or disabled."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from supervisor import config
from supervisor.cli.commands import parser_for
from supervisor.cli.probe import run_probe
from supervisor.db.services import ServiceFacts, ServiceKey, ServicesTable
from supervisor.db.settings import utc_now
from supervisor.shared.servicespec import ENV_VAR
from supervisor.testing.harness import RunStack, WriteConfig

T0 = datetime(2026, 11, 24, 23, 0, 0)
VOLUME = ServiceKey("node1@lvm-1", "cinder-volume", "cinder-volume@lvm-1")
STACK = """
    [options]
    host = "node1"
    volume_manager = "supervisor.managers.volume.VolumeManager"
    backup_manager = "supervisor.managers.backup.BackupManager"
    {extra}

    [services.cinder-volume]
    backends = ["lvm-1"]

    [services.cinder-backup]
    workers = 2

    [services.web]
    command = ["sleep", "100"]
    """


class Probe:
    """Runs `supervisor probe ...` through the parser the command line builds, at a given now."""

    def __init__(self, config_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.config_path = config_path
        self._capsys = capsys
        self.err = ""

    def __call__(self, *argv: str, now: datetime = T0) -> int:
        argv = ("probe", *argv, "-c", str(self.config_path))
        args = parser_for(argv).parse_args(argv)
        self._capsys.readouterr()
        status = run_probe(args, utcnow=lambda: now)
        out, self.err = self._capsys.readouterr()
        assert out == ""
        return status


@pytest.fixture
def stack_config(write_config: WriteConfig) -> Path:
    return write_config(STACK.format(extra=""))


@pytest.fixture
def database(stack_config: Path) -> str:
    return f"sqlite:///{stack_config.parent / 'state' / 'cinder.sqlite'}"


@pytest.fixture
def probe(stack_config: Path, capsys: pytest.CaptureFixture[str]) -> Probe:
    return Probe(stack_config, capsys)


def register(database: str, key: ServiceKey = VOLUME, now: datetime = T0) -> None:
    facts = ServiceFacts(topic=key.binary, availability_zone="nova", rpc_version="1.0")
    with ServicesTable(database) as table:
        table.ensure_schema()
        table.register(key, facts, now)


def test_a_fresh_row_passes_silently(probe: Probe, database: str):
    register(database)
    assert probe("cinder-volume@lvm-1", now=T0 + timedelta(seconds=5)) == 0
    assert probe.err == ""


def test_a_row_exactly_the_down_time_old_passes_and_one_second_more_fails(
    probe: Probe, database: str
):
    register(database)
    assert probe("cinder-volume@lvm-1", now=T0 + timedelta(seconds=60)) == 0
    assert probe("cinder-volume@lvm-1", now=T0 + timedelta(seconds=61)) == 1
    assert probe.err == (
        "supervisor probe: cinder-volume@lvm-1 (cinder-volume on node1@lvm-1): last heartbeat "
        "61s ago (2026-11-24T23:00:00Z), more than 60s\n"
    )


def test_the_down_time_follows_the_options_as_service_list_judges_it(
    write_config: WriteConfig, capsys: pytest.CaptureFixture[str]
):
    # service_down_time not above report_interval is raised to 2.5 x report_interval.
    path = write_config(STACK.format(extra="report_interval = 30\nservice_down_time = 20"))
    probe = Probe(path, capsys)
    register(f"sqlite:///{path.parent / 'state' / 'cinder.sqlite'}")
    assert probe("cinder-volume@lvm-1", now=T0 + timedelta(seconds=75)) == 0
    assert probe("cinder-volume@lvm-1", now=T0 + timedelta(seconds=76)) == 1
    assert "more than 75s" in probe.err


def test_max_age_overrides_the_down_time(probe: Probe, database: str):
    register(database)
    assert probe("cinder-volume@lvm-1", "--max-age", "5", now=T0 + timedelta(seconds=6)) == 1
    assert "more than 5s" in probe.err
    assert probe("cinder-volume@lvm-1", "--max-age", "500", now=T0 + timedelta(seconds=400)) == 0


def test_each_backup_worker_is_judged_by_its_own_row(probe: Probe, database: str):
    register(database, ServiceKey("node1", "cinder-backup", "cinder-backup#1"))
    assert probe("cinder-backup#1") == 0
    assert probe("cinder-backup#2") == 1
    assert probe.err == (
        "supervisor probe: cinder-backup#2 (cinder-backup on node1): no row in the services "
        "table (never registered, or removed)\n"
    )


def test_a_removed_row_fails(probe: Probe, database: str):
    register(database)
    with ServicesTable(database) as table:
        table.remove("cinder-volume", "node1@lvm-1")
    assert probe("cinder-volume@lvm-1") == 1
    assert "no row in the services table" in probe.err


def test_a_disabled_row_passes_unless_enabled_is_asked_for(probe: Probe, database: str):
    register(database)
    with ServicesTable(database) as table:
        table.set_disabled(
            "cinder-volume", "node1@lvm-1", disabled=True, reason="maintenance", now=T0
        )
    # An operator's disable must not get a live process restarted by a liveness probe.
    assert probe("cinder-volume@lvm-1") == 0
    assert probe("cinder-volume@lvm-1", "--enabled") == 1
    assert probe.err == (
        "supervisor probe: cinder-volume@lvm-1 (cinder-volume on node1@lvm-1): disabled: "
        "maintenance\n"
    )


def test_no_database_fails_and_creates_none(probe: Probe, stack_config: Path):
    assert probe("cinder-volume@lvm-1") == 1
    assert probe.err == (
        "supervisor probe: cinder-volume@lvm-1 (cinder-volume on node1@lvm-1): the database "
        "has no services table\n"
    )
    assert not (stack_config.parent / "state" / "cinder.sqlite").exists()


def test_a_database_that_cannot_be_read_fails(probe: Probe, stack_config: Path, tmp_path: Path):
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"this is no database" * 100)
    assert probe("cinder-volume@lvm-1", "--database-url", f"sqlite:///{garbage}") == 1
    assert probe.err.startswith("supervisor probe: cannot read the services database: ")
    assert "file is not a database" in probe.err


def test_database_url_points_elsewhere(probe: Probe, tmp_path: Path):
    elsewhere = f"sqlite:///{tmp_path / 'elsewhere.sqlite'}"
    register(elsewhere)
    assert probe("cinder-volume@lvm-1", "--database-url", elsewhere) == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ("cinder-volume@lvm-2",),
            "unknown process 'cinder-volume@lvm-2'; did you mean 'cinder-volume@lvm-1'?",
        ),
        (
            ("web",),
            "web is a plain command: it has no row in the services table (probe it through "
            "its own readiness or liveness check)",
        ),
        (
            ("cinder-volume@lvm-1", "--database-url", "nonsense"),
            "database URL 'nonsense': Could not parse SQLAlchemy URL from given URL string",
        ),
    ],
)
def test_what_cannot_be_asked_is_a_usage_error(probe: Probe, argv: tuple[str, ...], message: str):
    assert probe(*argv) == 2
    assert probe.err == f"supervisor probe: {message}\n"


def test_no_name_and_no_service_in_the_environment(probe: Probe, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert probe() == 2
    assert "no NAME given and $SUPERVISOR_SERVICE is not set" in probe.err


def test_an_invalid_services_file_is_a_usage_error(
    write_config: WriteConfig, capsys: pytest.CaptureFixture[str]
):
    path = write_config('[services.web]\ncommand = ["true"]\nstop_timeuot = 1\n')
    probe = Probe(path, capsys)
    assert probe("web") == 2
    assert "did you mean 'stop_timeout'?" in probe.err


@pytest.mark.parametrize("max_age", ["-1", "abc", "nan", "86401"])
def test_bad_max_age_is_refused_by_the_parser(
    max_age: str, stack_config: Path, capsys: pytest.CaptureFixture[str]
):
    with pytest.raises(SystemExit) as exit:
        parser_for(["probe"]).parse_args(["probe", "x", "--max-age", max_age])
    assert exit.value.code == 2
    assert "argument --max-age: expected" in capsys.readouterr().err


def command(
    *argv: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """The real command line, in a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "supervisor", "probe", *argv],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
        cwd=cwd,
    )


def test_without_a_name_the_environment_names_the_process_and_its_options(
    stack_config: Path, database: str, tmp_path: Path
):
    """As in a container of `export kubernetes`: no file, only SUPERVISOR_SERVICE."""
    plan = config.load(stack_config)
    spec = next(p.spec for p in plan.processes if p.name == "cinder-volume@lvm-1")
    assert spec is not None
    environment = {**os.environ, ENV_VAR: spec.to_env()}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "services.toml").write_text("this file is never read")
    missing = command(env=environment, cwd=elsewhere)
    assert (missing.returncode, missing.stderr) == (
        1,
        "supervisor probe: cinder-volume@lvm-1 (cinder-volume on node1@lvm-1): the database "
        "has no services table\n",
    )
    register(database, now=utc_now())
    found = command(env=environment, cwd=elsewhere)
    assert (found.returncode, found.stderr) == (0, "")


def test_a_live_stacks_processes_pass(write_config: WriteConfig, run_stack: RunStack):
    path = write_config(STACK.format(extra="report_interval = 1\nperiodic_interval = 0"))
    stack = run_stack(path)
    for unit in ("cinder-volume@lvm-1", "cinder-backup#1", "cinder-backup#2"):
        stack.wait_event(event="state", unit=unit, to="running")
    for name in ("cinder-volume@lvm-1", "cinder-backup#2"):
        result = command(name, "-c", str(path))
        assert (result.returncode, result.stderr) == (0, "")
    assert stack.stop() == 0
