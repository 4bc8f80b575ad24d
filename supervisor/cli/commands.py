"""Every `supervisor` command, declared once: its name, its help, where its arguments and its
handler live.  `cli.main` builds the parser and dispatches from this table alone.

A command's arguments and handler are named as "module:function" and imported only when that
command is the one given, so `supervisor run` and the client commands never load the tools
(simulate, chaos, report), the database (service) or psutil.  `supervisor --help` needs only
the names and the help texts written here.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import os
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, NoReturn

DEFAULT_CONFIG = "services.toml"
CONFIG_VARIABLE = "SUPERVISOR_CONFIG"  # the default of -c/--config when set
_CONFIG_OPTIONS = ("-c", "--config")
_CONFIG_HELP = (
    f"the services file (default: ${CONFIG_VARIABLE}, else the nearest {DEFAULT_CONFIG}"
    " in this directory or a parent)"
)


class ServicesFileNotFound(str):
    """The default of -c when no services file was found: the name messages would show, and
    the one line a command that needs the file prints instead of reading it (`Command.run`).
    A str, so that a command that does not need the file (`probe` with no NAME) never notices."""

    message: str

    def __new__(cls, message: str) -> ServicesFileNotFound:
        self = super().__new__(cls, DEFAULT_CONFIG)
        self.message = message
        return self


def default_config() -> str:
    """$SUPERVISOR_CONFIG, else the nearest services.toml in the current directory or one of
    its parents, as git finds .git: so every command works from anywhere under the project.
    The current directory's is named `services.toml`, as it always was; a parent's by its
    absolute path, so that every message names the file that was read."""
    if given := os.environ.get(CONFIG_VARIABLE):
        return given
    from pathlib import Path

    from supervisor.config.location import find_services_file

    try:
        here = Path.cwd()
    except OSError:  # the current directory was removed: reading the file says so
        return DEFAULT_CONFIG
    search = find_services_file(here)
    if search.found is None:
        return ServicesFileNotFound(search.not_found())
    return DEFAULT_CONFIG if search.found.parent == here else str(search.found)


def _always(args: argparse.Namespace) -> bool:
    return True


def add_config_option(parser: argparse.ArgumentParser) -> None:
    """-c/--config after the command.  Its default is left out of the namespace (SUPPRESS), so
    a -c given before the command, or the default the top-level parser sets, is kept unless
    this one is given: the later one wins, and neither clobbers the other."""
    parser.add_argument(
        *_CONFIG_OPTIONS, default=argparse.SUPPRESS, metavar="FILE", help=_CONFIG_HELP
    )


class CommandParser(argparse.ArgumentParser):
    """An argparse parser whose usage errors are JSON on stdout when the command line asks for
    JSON, as every other error of a `--json` command is (see `cli.errorjson`)."""

    def __init__(self, *args: Any, json_errors: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.json_errors = json_errors

    def error(self, message: str) -> NoReturn:
        if self.json_errors:
            from supervisor.cli.errorjson import error_object
            from supervisor.shared.exits import EXIT_USAGE

            print(json.dumps(error_object(f"{self.prog}: {message}", EXIT_USAGE), indent=2))
        super().error(message)  # usage and the message on stderr, exit 2


def _resolve(reference: str) -> Callable[..., Any]:
    module, _, name = reference.partition(":")
    return getattr(importlib.import_module(module), name)


class Command(NamedTuple):
    """One command.  A NamedTuple, not a dataclass: every command line builds this table, and
    the dataclasses module (with the inspect module it imports) was a tenth of a client
    command's start-up."""

    name: str
    help: str
    handler: str  # "module:function", function(args) -> exit status
    arguments: str | None = None  # "module:function", function(parser) adds the arguments
    config_option: bool = True  # -c/--config (`service` gives it to each of its actions)
    # Whether this command line reads the services file: when it does and none was found, the
    # command says so in one line instead of starting.
    needs_file: Callable[[argparse.Namespace], bool] = _always

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        if self.config_option:
            add_config_option(parser)
        if self.arguments is not None:
            _resolve(self.arguments)(parser)

    def run(self, args: argparse.Namespace) -> int:
        missing = getattr(args, "config", None)
        if isinstance(missing, ServicesFileNotFound) and self.needs_file(args):
            from supervisor.cli.errorjson import report_error
            from supervisor.shared.exits import EXIT_CONFIG_INVALID

            as_json = getattr(args, "json", False)
            return report_error(
                f"supervisor: {missing.message}", EXIT_CONFIG_INVALID, as_json=as_json
            )
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
            f"{_REMOTE}:{arguments}",
        )
        for verb, waits_for, arguments in (
            ("start", "ready", "add_act_arguments"),
            ("stop", "stopped", "add_act_arguments"),
            ("restart", "ready", "add_restart_arguments"),
        )
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
        "scale",
        "run N workers of a service from now on, then wait until they are ready or stopped",
        "supervisor.cli.scale:run_scale",
        "supervisor.cli.scale:add_scale_arguments",
    ),
    Command(
        "attach",
        "run one process in this terminal (for pdb), then hand it back to the supervisor",
        "supervisor.cli.attach:run_attach",
        "supervisor.cli.attach:add_attach_arguments",
    ),
    Command(
        "shutdown",
        "stop every service, then the supervisor",
        f"{_REMOTE}:shutdown",
        f"{_REMOTE}:add_shutdown_arguments",
    ),
    Command(
        "signal",
        "send a signal to a service's processes or to one process",
        f"{_REMOTE}:send_signal",
        f"{_REMOTE}:add_signal_arguments",
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
        needs_file=lambda args: not args.events,
    ),
    Command(
        "analyze",
        "why bring-up was slow: per process, waiting, spawn and ready times; the critical chain",
        "supervisor.tools.analyzeview:run_analyze",
        "supervisor.tools.analyzeview:add_analyze_arguments",
        needs_file=lambda args: not args.events,
    ),
    Command(
        "events",
        "print the supervisor's events, or stream them (-f)",
        "supervisor.cli.events:run_events",
        "supervisor.cli.events:add_events_arguments",
    ),
    Command(
        "ui",
        "watch and steer the running stack in a terminal UI (the `ui` extra)",
        "supervisor.ui.command:run_ui",
        "supervisor.ui.command:add_ui_arguments",
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
    Command(
        "import",
        "translate a supervisord.conf, Procfile or docker-compose.yml into a services.toml",
        "supervisor.tools.importers.command:run_import",
        "supervisor.tools.importers.command:add_import_arguments",
        config_option=False,
        needs_file=lambda args: False,
    ),
    Command(
        "export",
        "write the stack as systemd units or Kubernetes manifests",
        "supervisor.tools.exporters.command:run_export",
        "supervisor.tools.exporters.command:add_export_arguments",
    ),
    Command(
        "probe",
        "exit 0 if a process's row in the services table is up and fresh (a health check)",
        "supervisor.cli.probe:run_probe",
        "supervisor.cli.probe:add_probe_arguments",
        needs_file=lambda args: bool(args.name),  # no NAME: the process's own environment
    ),
)
BY_NAME = {command.name: command for command in COMMANDS}


def parser_for(argv: Sequence[str]) -> argparse.ArgumentParser:
    """The parser of the whole command line, with the arguments of the command `argv` names
    (none if it names none): the others are listed by name and help only.

    The global options (-c/--config) go before the command or after it; a mistyped command
    is told the closest one."""
    make_parser = functools.partial(CommandParser, json_errors="--json" in argv)
    parser = make_parser(
        prog="supervisor",
        description="Run and supervise a Cinder-like service stack.",
        epilog=f"{CONFIG_VARIABLE}: the services file when no -c is given.  "
        "NO_COLOR: no colour anywhere.",
    )
    parser.add_argument(
        *_CONFIG_OPTIONS, default=default_config(), metavar="FILE", help=_CONFIG_HELP
    )
    parser.add_argument("--version", action=_PrintVersion)
    subparsers = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=make_parser
    )
    chosen = command_named_in(argv)
    for command in COMMANDS:
        sub = subparsers.add_parser(command.name, help=command.help, description=command.help)
        if command.name == chosen:
            command.add_arguments(sub)
    return parser


def command_named_in(argv: Sequence[str]) -> str | None:
    """The command `argv` names: its first positional argument that is not the value of a
    global option."""
    arguments = iter(argv)
    for argument in arguments:
        if argument in _CONFIG_OPTIONS:
            next(arguments, None)  # its value
        elif not argument.startswith("-"):
            return argument
    return None


def unknown_command(name: str) -> str:
    """The usage error for a command that is not one, with the closest ones if any are close."""
    from supervisor.cli.suggest import did_you_mean

    hint = did_you_mean(name, BY_NAME, count=1)  # the one command meant
    if hint:
        return f"argument COMMAND: invalid choice: {name!r} ({hint})"
    choices = ", ".join(repr(command) for command in BY_NAME)
    return f"argument COMMAND: invalid choice: {name!r} (choose from {choices})"


class _PrintVersion(argparse.Action):
    """--version: the installed distribution's version, looked up only when asked for (the
    metadata machinery costs every other command's start-up otherwise)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(
            option_strings, dest, nargs=0, default=argparse.SUPPRESS, help="print the version"
        )

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("cinder-stack-supervisor")
        except PackageNotFoundError:  # a checkout that was never installed
            number = "unknown"
        print(f"supervisor {number}")  # on stdout, as argparse's own version action
        parser.exit()
