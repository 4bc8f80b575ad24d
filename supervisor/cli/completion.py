"""Shell completion of the `supervisor` command line, through argcomplete.

`cli.main` comes here only when a shell's completion hook runs the command (`_ARGCOMPLETE` is
set), so argcomplete, an optional dependency (`pip install cinder-stack-supervisor[completion]`),
is imported by nothing else.  Commands, options and files complete offline; the names of
services and processes are asked of the running supervisor, and complete to nothing when none
runs.
"""

from __future__ import annotations

import argparse
import os
import shlex
from typing import Any

from supervisor.cli.commands import parser_for

_NAME_ARGUMENTS = ("names", "name")  # the NAME... of client commands, the PROCESS of `fault`


def complete() -> int:
    """Write the completions for the shell's `COMP_LINE` (to fd 8, as argcomplete does) and
    return; with no argcomplete installed, complete nothing."""
    try:
        import argcomplete
    except ImportError:
        return 1
    parser = parser_for(_words_before_cursor())
    _complete_names_from_the_supervisor(parser)
    argcomplete.autocomplete(parser, exit_method=os._exit)
    return 0  # only when argcomplete found nothing to do


def _words_before_cursor() -> list[str]:
    line = os.environ.get("COMP_LINE", "")
    point = int(os.environ.get("COMP_POINT", len(line)))
    try:
        words = shlex.split(line[:point])
    except ValueError:  # an open quote: the words before it are enough to find the command
        words = line[:point].split()
    return words[1:]


def _complete_names_from_the_supervisor(parser: argparse.ArgumentParser) -> None:
    for action in _all_actions(parser):
        if action.dest in _NAME_ARGUMENTS and not action.option_strings:
            action.completer = _running_names  # type: ignore[attr-defined]


def _all_actions(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    actions = list(parser._actions)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                actions.extend(_all_actions(sub))
    return actions


def _running_names(prefix: str, parsed_args: argparse.Namespace, **_: Any) -> list[str]:
    """Every service and process name of the supervisor of `-c`, or none if none answers."""
    from supervisor import config
    from supervisor.control.client import ControlClient

    try:
        with ControlClient(config.state_dir_of(parsed_args.config), timeout=2) as client:
            reply = client.request("status", names=[])
    except (OSError, config.ConfigError):
        return []
    processes = reply.get("processes") or []
    names = [p["service"] for p in processes] + [p["name"] for p in processes]
    return [name for name in dict.fromkeys(names) if name.startswith(prefix)]
