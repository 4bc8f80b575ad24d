"""The command table: every command declared once, each one's arguments and handler found."""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys

import pytest

from supervisor.cli.commands import BY_NAME, COMMANDS, parser_for
from supervisor.cmd.entry import BY_HAND_MODULE


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: command.name)
def test_every_command_parses_its_own_arguments_and_has_a_handler(command):
    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    assert callable(command.parts().handler)
    options = {option for action in parser._actions for option in action.option_strings}
    assert ("--config" in options) == command.config_option


def test_the_names_are_unique_and_all_listed_by_help():
    assert len(BY_NAME) == len(COMMANDS)
    text = parser_for([]).format_help()
    for command in COMMANDS:
        assert f"    {command.name}" in text and command.help[:40] in text


def test_only_the_named_command_gets_its_arguments():
    """`supervisor status` never builds (so never imports) the other commands' arguments."""
    parser = parser_for(["status", "--json"])
    assert parser.parse_args(["status", "--json"]).json is True
    with pytest.raises(SystemExit):
        parser.parse_args(["simulate", "--service", "web", "--crashes", "every 1s"])


def test_the_command_line_as_a_user_runs_it():
    result = subprocess.run(
        [sys.executable, "-m", "supervisor", "nonsense"], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "invalid choice: 'nonsense'" in result.stderr
    assert "'run', 'check', 'status'" in result.stderr  # the table's order


def test_a_binary_started_by_hand_names_a_module_that_exists():
    assert importlib.util.find_spec(BY_HAND_MODULE) is not None
