"""Every `supervisor` command, declared once: its name, its help, where its arguments and its
handler live.  `cli.main` builds the parser and dispatches from this table alone.

A command's arguments and handler are named as "module:function" and imported only when that
command is the one given, so `supervisor run` and the client commands never load the tools
(simulate, chaos, report), the database (service) or psutil.  `supervisor --help` needs only
the names and the help texts written here.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

DEFAULT_CONFIG = "services.toml"


def add_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-c",
        "--config",
        default=DEFAULT_CONFIG,
        metavar="FILE",
        help=f"the services file (default: ./{DEFAULT_CONFIG})",
    )


def _resolve(reference: str) -> Callable[..., Any]:
    module, _, name = reference.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    handler: str  # "module:function", function(args) -> exit status
    arguments: str | None = None  # "module:function", function(parser) adds the arguments
    config_option: bool = True  # -c/--config (`service` gives it to each of its actions)

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        if self.config_option:
            add_config_option(parser)
        if self.arguments is not None:
            _resolve(self.arguments)(parser)

    def run(self, args: argparse.Namespace) -> int:
        status: int = _resolve(self.handler)(args)
        return status


_LOCAL = "supervisor.cli.local"
_REMOTE = "supervisor.cli.remote"
_ACT_AND_WAIT = "{} services or processes, then wait until they are {}"

# In the order `supervisor --help` lists them.
COMMANDS = (
    Command(
        "run",
        "start the stack in the foreground and supervise it until it ends",
        f"{_LOCAL}:run",
        f"{_LOCAL}:add_run_arguments",
    ),
    Command(
        "check",
        "validate the services file and print the resolved plan",
        f"{_LOCAL}:check",
        f"{_LOCAL}:add_check_arguments",
    ),
    Command(
        "status",
        "show the state of every process, or of the named ones",
        f"{_REMOTE}:status",
        f"{_REMOTE}:add_status_arguments",
    ),
    *(
        Command(
            verb,
            _ACT_AND_WAIT.format(verb, waits_for),
            f"{_REMOTE}:act",
            f"{_REMOTE}:add_act_arguments",
        )
        for verb, waits_for in (("start", "ready"), ("stop", "stopped"), ("restart", "ready"))
    ),
    Command(
        "wait",
        "block until a condition holds for processes (default: all)",
        f"{_REMOTE}:wait",
        f"{_REMOTE}:add_wait_arguments",
    ),
    Command(
        "reload",
        "re-read the services file and apply only what changed",
        f"{_REMOTE}:reload",
    ),
    Command(
        "shutdown",
        "stop every service, then the supervisor",
        f"{_REMOTE}:shutdown",
        f"{_REMOTE}:add_shutdown_arguments",
    ),
    Command(
        "fault",
        "inject a fault into one live process",
        f"{_REMOTE}:fault",
        f"{_REMOTE}:add_fault_arguments",
    ),
    Command(
        "chaos",
        "kill random processes on a seeded schedule and check invariants",
        "supervisor.tools.chaos:run_chaos_command",
        "supervisor.tools.chaos:add_chaos_arguments",
    ),
    Command(
        "simulate",
        "replay a crash schedule through the restart policy, without starting anything",
        "supervisor.tools.simulateview:run_simulate",
        "supervisor.tools.simulateview:add_simulate_arguments",
    ),
    Command(
        "report",
        "draw the timeline of the stack's event log: states, restarts, faults, the group's end",
        "supervisor.tools.report.command:run_report",
        "supervisor.tools.report.command:add_report_arguments",
    ),
    Command(
        "logs",
        "print the log of processes, or follow it",
        f"{_REMOTE}:logs",
        "supervisor.cli.logs:add_logs_arguments",
    ),
    Command(
        "service",
        "list the service processes' rows in the services table, or change them",
        "supervisor.cli.services:run_service_command",
        "supervisor.cli.services:add_service_arguments",
        config_option=False,
    ),
)
BY_NAME = {command.name: command for command in COMMANDS}


def parser_for(argv: Sequence[str]) -> argparse.ArgumentParser:
    """The parser of the whole command line, with the arguments of the command `argv` names
    (none if it names none): the others are listed by name and help only."""
    parser = argparse.ArgumentParser(
        prog="supervisor", description="Run and supervise a Cinder-like service stack."
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chosen = _command_named_in(argv)
    for command in COMMANDS:
        sub = subparsers.add_parser(command.name, help=command.help, description=command.help)
        if command.name == chosen:
            command.add_arguments(sub)
    return parser


def _command_named_in(argv: Sequence[str]) -> str | None:
    # The top-level parser has no option that takes a value: its first positional argument
    # is the command.
    return next((arg for arg in argv if not arg.startswith("-")), None)
