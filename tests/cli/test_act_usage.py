"""`start`, `stop`, `restart` with no NAME and no --all (or both) are usage errors, exit 2, told
by the client before it reads the file or asks any supervisor: with none running, with a file
that does not exist, and with a stack running that must not be touched."""

from __future__ import annotations

from pathlib import Path

import pytest

from supervisor.cli.commands import COMMANDS, Start
from supervisor.testing.harness import RunningStack
from tests.support.stackcli import SLEEPERS, ReadyStack, cli, status_of

USAGE = 2
ACTS = [command.name for command in COMMANDS if isinstance(command, Start)]


def test_every_acting_command_is_covered():
    assert {"start", "stop", "restart"} <= set(ACTS)


def assert_usage_error(config: Path, command: str, *args: str) -> None:
    result = cli(config, command, *args)
    assert result.returncode == USAGE, (command, args, result.stderr)
    assert result.stdout == ""
    assert f"supervisor {command}: error: " in result.stderr
    assert f"supervisor {command} --all" in result.stderr  # the way to say "every process"


@pytest.mark.parametrize("command", ACTS)
def test_no_name_and_no_all_without_a_supervisor_or_even_a_file(tmp_path: Path, command: str):
    assert_usage_error(tmp_path / "missing.toml", command)
    config = tmp_path / "services.toml"
    config.write_text('[supervisor]\nstate_dir = "state"\n' + SLEEPERS)
    assert_usage_error(config, command)
    assert_usage_error(config, command, "--no-block")
    assert "no NAME and no --all" in cli(config, command).stderr
    assert "NAME and --all do not go together" in cli(config, command, "db", "--all").stderr


@pytest.fixture
def sleepers(ready_stack: ReadyStack) -> RunningStack:
    return ready_stack(SLEEPERS)


def test_with_a_stack_running_nothing_is_touched(sleepers: RunningStack):
    before = {name: process["pid"] for name, process in status_of(sleepers.config).items()}
    for command in ACTS:
        assert_usage_error(sleepers.config, command)
        assert_usage_error(sleepers.config, command, "api", "--all")
    after = status_of(sleepers.config)
    assert {name: process["pid"] for name, process in after.items()} == before
    assert {process["state"] for process in after.values()} == {"running"}
