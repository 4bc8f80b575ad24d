"""`supervisor service list|disable|enable|remove` on a real database, with or without processes."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from supervisor import config
from supervisor.cli.commands import parser_for
from supervisor.cli.services import COLUMNS, run_service_command
from supervisor.db.services import ServiceFacts, ServiceKey, ServicesTable
from supervisor.testing.harness import WriteConfig
from tests.support.databases import row_of
from tests.support.datagrams import Inbox
from tests.support.serviceprocesses import Child, Children, binary_argv

T0 = datetime(2026, 11, 24, 23, 0, 0)
STACK = """
    [options]
    host = "node1"
    volume_manager = "supervisor.managers.volume.VolumeManager"
    backup_manager = "supervisor.managers.backup.BackupManager"
    periodic_interval = 0
    report_interval = 0.2
    {extra}

    [services.cinder-volume]
    backends = ["lvm-1"]

    [services.cinder-backup]
    workers = 2
    """


class Cli:
    """Runs `supervisor service ...` through the parser the command line builds."""

    def __init__(self, config_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.config_path = config_path
        self._capsys = capsys
        self.out = self.err = ""

    def __call__(self, *argv: str, now: datetime | None = None) -> int:
        argv = ("service", *argv, "-c", str(self.config_path))
        args = parser_for(argv).parse_args(argv)
        self._capsys.readouterr()
        if now is None:
            status = run_service_command(args)
        else:
            status = run_service_command(args, utcnow=lambda: now)
        self.out, self.err = self._capsys.readouterr()
        return status

    def table(self, now: datetime | None = None) -> list[list[str]]:
        """`service list` as rows of cells, split on the column starts of the header."""
        assert self("list", now=now) == 0
        header, *lines = self.out.splitlines()
        starts = [header.index(name) for name in COLUMNS]
        bounds = list(zip(starts, [*starts[1:], None], strict=True))

        def cells(line: str) -> list[str]:
            return [line[start:end].strip() for start, end in bounds]

        assert cells(header) == list(COLUMNS)
        return [cells(line) for line in lines]


@pytest.fixture
def stack_config(write_config: WriteConfig) -> Path:
    return write_config(STACK.format(extra=""))


@pytest.fixture
def cli(stack_config: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(stack_config, capsys)


@pytest.fixture
def database(stack_config: Path) -> str:
    return f"sqlite:///{stack_config.parent / 'state' / 'cinder.sqlite'}"


@pytest.fixture
def stack(stack_config: Path, tmp_path: Path) -> Iterator[dict[str, tuple[Child, Inbox]]]:
    """Every process of the services file, started as the supervisor starts them."""
    children = Children(tmp_path)
    running: dict[str, tuple[Child, Inbox]] = {}
    try:
        for process in config.load(stack_config).processes:
            notify = Inbox()
            argv = binary_argv(process.spec.binary)
            running[process.name] = (children.start(argv, spec=process.spec, notify=notify), notify)
        for _, notify in running.values():
            notify.expect("READY=1")
            notify.expect("WATCHDOG=1")
        yield running
    finally:
        children.kill_all()
        for _, notify in running.values():
            notify.close()


def register(database: str, *keys: ServiceKey, now: datetime = T0) -> None:
    facts = ServiceFacts(topic="cinder-backup", availability_zone="nova", rpc_version="1.0")
    with ServicesTable(database) as table:
        table.ensure_schema()
        for key in keys:
            table.register(key, facts, now)


def test_list_shows_every_live_process_up_in_cinders_columns(cli: Cli, stack: dict):
    rows = cli.table()
    assert [row[:5] + row[6:] for row in rows] == [
        ["cinder-backup", "node1", "nova", "enabled", ":-)", "1.0", "1.0", "", "cinder-backup#1"],
        ["cinder-backup", "node1", "nova", "enabled", ":-)", "1.0", "1.0", "", "cinder-backup#2"],
        [
            "cinder-volume",
            "node1@lvm-1",
            "nova",
            "enabled",
            ":-)",
            "1.0",
            "1.0",
            "",
            "cinder-volume@lvm-1",
        ],
    ]
    for row in rows:
        datetime.fromisoformat(row[5])  # Updated At


def test_list_as_json(cli: Cli, stack: dict, database: str):
    assert cli("list", "--json") == 0
    listed = json.loads(cli.out)
    assert [entry["process"] for entry in listed] == [
        "cinder-backup#1",
        "cinder-backup#2",
        "cinder-volume@lvm-1",
    ]
    volume = listed[2]
    row = row_of(database, "cinder-volume@lvm-1")
    assert volume["id"] == row["id"]
    assert (volume["binary"], volume["host"], volume["zone"]) == (
        "cinder-volume",
        "node1@lvm-1",
        "nova",
    )
    assert (volume["status"], volume["state"], volume["disabled_reason"]) == (
        "enabled",
        "up",
        None,
    )
    assert volume["report_count"] >= 1
    assert volume["updated_at"].endswith("Z")
    assert (volume["rpc_version"], volume["object_version"], volume["cluster"]) == (
        "1.0",
        "1.0",
        None,
    )


def test_a_stopped_process_shows_down_once_service_down_time_has_passed(
    cli: Cli, stack: dict, database: str
):
    child, notify = stack["cinder-backup#2"]
    notify.pending()
    assert child.stop() == 0
    last_beat = row_of(database, "cinder-backup#2")["updated_at"]
    states = {row[9]: row[4] for row in cli.table(now=last_beat + timedelta(seconds=60))}
    assert states["cinder-backup#2"] == ":-)"
    later = last_beat + timedelta(seconds=60, microseconds=1)
    states = {row[9]: row[4] for row in cli.table(now=later)}
    assert states["cinder-backup#2"] == "XXX"
    # Its live sibling on the same host keeps beating and is not hidden by it.
    sibling_notify = stack["cinder-backup#1"][1]
    sibling_notify.pending()
    sibling_notify.expect("WATCHDOG=1")
    assert row_of(database, "cinder-backup#1")["updated_at"] > last_beat


@pytest.mark.parametrize(
    ("options", "age", "state", "warning"),
    [
        ("", 60, ":-)", ""),
        ("", 61, "XXX", ""),
        ("service_down_time = 5", 5, ":-)", ""),
        ("service_down_time = 5", 6, "XXX", ""),
        (
            "service_down_time = 0.1",
            0.5,
            ":-)",
            "warning: service_down_time (0.1s) must be greater than report_interval (0.2s); "
            "using 0.5s\n",
        ),
    ],
)
def test_state_follows_the_age_of_the_last_heartbeat(
    write_config: WriteConfig,
    capsys: pytest.CaptureFixture[str],
    options: str,
    age: float,
    state: str,
    warning: str,
):
    path = write_config(STACK.format(extra=options))
    cli = Cli(path, capsys)
    register(
        f"sqlite:///{path.parent / 'state' / 'cinder.sqlite'}",
        ServiceKey("node1", "cinder-backup", "cinder-backup#1"),
    )
    [row] = cli.table(now=T0 + timedelta(seconds=age))
    assert row[4] == state
    assert cli.err == warning


def test_disable_and_enable_change_status_only(cli: Cli, database: str):
    register(
        database,
        ServiceKey("node1", "cinder-backup", "cinder-backup#1"),
        ServiceKey("node1", "cinder-backup", "cinder-backup#2"),
    )
    assert cli("disable", "cinder-backup", "node1", "--reason", "disk swap") == 0
    assert cli.out == "disabled cinder-backup on node1: 2 rows\n"
    assert [row[3] for row in cli.table(now=T0)] == ["disabled", "disabled"]
    assert row_of(database, "cinder-backup#2")["disabled_reason"] == "disk swap"
    assert row_of(database, "cinder-backup#2")["updated_at"] == T0

    assert cli("enable", "cinder-backup", "node1", "--process", "cinder-backup#2") == 0
    assert cli.out == "enabled cinder-backup on node1 (cinder-backup#2): 1 row\n"
    assert [row[3] for row in cli.table(now=T0)] == ["disabled", "enabled"]
    assert row_of(database, "cinder-backup#2")["disabled_reason"] is None


@pytest.mark.parametrize("action", ["disable", "enable", "remove"])
def test_an_unknown_service_is_status_1(cli: Cli, database: str, action: str):
    register(database, ServiceKey("node1", "cinder-backup", "cinder-backup#1"))
    assert cli(action, "cinder-backup", "node9") == 1
    assert cli.err == "no service row for cinder-backup on node9\n"


def test_remove_deletes_the_row_and_a_live_process_recreates_it(
    cli: Cli, stack: dict, database: str
):
    removed = row_of(database, "cinder-volume@lvm-1")
    assert cli("remove", "cinder-volume", "node1@lvm-1") == 0
    assert cli.out == "removed cinder-volume on node1@lvm-1: 1 row\n"
    # The live process may write its next beat at any moment after the removal: then its row
    # is a new one, never the removed one.
    after = row_of(database, "cinder-volume@lvm-1")
    assert after is None or after["id"] != removed["id"]

    _, notify = stack["cinder-volume@lvm-1"]
    notify.pending()
    # The first keep-alive may belong to a beat written before the removal; the second cannot.
    notify.expect("WATCHDOG=1")
    notify.expect("WATCHDOG=1")
    recreated = row_of(database, "cinder-volume@lvm-1")
    assert recreated["id"] != removed["id"]
    assert recreated["created_at"] > removed["created_at"]
    states = {row[9]: row[4] for row in cli.table()}
    assert states["cinder-volume@lvm-1"] == ":-)"


def test_without_a_database_the_list_is_empty_and_nothing_is_created(cli: Cli, stack_config: Path):
    assert cli.table() == []
    assert cli("remove", "cinder-volume", "node1@lvm-1") == 1
    assert not (stack_config.parent / "state").exists()


def test_an_invalid_services_file_is_status_2(write_config: WriteConfig, capsys):
    cli = Cli(write_config("[services.web]\ncommand = 42\n"), capsys)
    assert cli("list") == 2
    assert "services.web.command" in cli.err
    cli = Cli(write_config(STACK.format(extra='service_down_time = "long"')), capsys)
    assert cli("list") == 2
    assert "option 'service_down_time' must be a number of seconds >= 0" in cli.err


def test_the_command_line_never_loads_sqlalchemy_until_a_service_command_runs():
    probe = (
        "import sys, supervisor.cli.main, supervisor.cli.services, supervisor.daemon.arbiter; "
        "sys.exit('sqlalchemy' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", probe]).returncode == 0
