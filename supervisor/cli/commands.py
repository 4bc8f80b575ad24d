"""Every `supervisor` command, declared once: its name, its help, and where its arguments and
its handler live (`parsing.Command`).  `cli.main` builds the parser and dispatches from this
table alone.

Each declaration's `parts` imports its command's module when that command is the one given,
never before: `supervisor --help` reads only the names and the help texts written here.
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Sequence

from supervisor.cli.parsing import (
    CONFIG_HELP,
    CONFIG_OPTIONS,
    CONFIG_VARIABLE,
    DEFAULT_CONFIG,
    Command,
    CommandParser,
    Parts,
    PrintVersion,
    add_config_option,
    default_config,
)

__all__ = [
    "BY_NAME",
    "COMMANDS",
    "DEFAULT_CONFIG",
    "Command",
    "add_config_option",
    "command_named_in",
    "parser_for",
    "unknown_command",
]

_ACT_AND_WAIT = "{} services or processes, then wait until they are {}"


class Run(Command):
    name = "run"
    help = "start the stack in the foreground and supervise it until it ends"

    def parts(self) -> Parts:
        from supervisor.cli import local

        return Parts(local.run, local.add_run_arguments)


class Check(Command):
    name = "check"
    help = "validate the services file and print the resolved plan"

    def parts(self) -> Parts:
        from supervisor.cli import local

        return Parts(local.check, local.add_check_arguments)


class Status(Command):
    name = "status"
    help = "show the state of every process, or of the named ones"

    def parts(self) -> Parts:
        from supervisor.cli import remote

        return Parts(remote.status, remote.add_status_arguments)


class Start(Command):
    """start, and the commands like it: act on processes, then wait until it took effect."""

    name = "start"
    waits_for = "ready"
    help = _ACT_AND_WAIT.format(name, waits_for)

    def parts(self) -> Parts:
        from supervisor.cli import remote

        act = functools.partial(remote.act, waits_for=self.waits_for)
        return Parts(act, remote.add_act_arguments)


class Stop(Start):
    name = "stop"
    waits_for = "stopped"
    help = _ACT_AND_WAIT.format(name, waits_for)


class Restart(Start):
    name = "restart"
    help = _ACT_AND_WAIT.format(name, Start.waits_for)

    def parts(self) -> Parts:
        from supervisor.cli import remote

        return super().parts()._replace(arguments=remote.add_restart_arguments)


class Wait(Command):
    name = "wait"
    help = "block until a condition holds for processes (default: all)"

    def parts(self) -> Parts:
        from supervisor.cli import remote

        return Parts(remote.wait, remote.add_wait_arguments)


class Reload(Command):
    name = "reload"
    help = "re-read the services file and apply only what changed"

    def parts(self) -> Parts:
        from supervisor.cli import remote

        return Parts(remote.reload)


class Scale(Command):
    name = "scale"
    help = "run N workers of a service from now on, then wait until they are ready or stopped"

    def parts(self) -> Parts:
        from supervisor.cli import scale

        return Parts(scale.run_scale, scale.add_scale_arguments)


class Attach(Command):
    name = "attach"
    help = "run one process in this terminal (for pdb), then hand it back to the supervisor"

    def parts(self) -> Parts:
        from supervisor.cli import attach

        return Parts(attach.run_attach, attach.add_attach_arguments)


class Shutdown(Command):
    name = "shutdown"
    help = "stop every service, then the supervisor"

    def parts(self) -> Parts:
        from supervisor.cli import remote

        return Parts(remote.shutdown, remote.add_shutdown_arguments)


class Signal(Command):
    name = "signal"
    help = "send a signal to a service's processes or to one process"

    def parts(self) -> Parts:
        from supervisor.cli import remote

        return Parts(remote.send_signal, remote.add_signal_arguments)


class Fault(Command):
    name = "fault"
    help = "inject a fault into one live process"

    def parts(self) -> Parts:
        from supervisor.cli import remote

        return Parts(remote.fault, remote.add_fault_arguments)


class Chaos(Command):
    name = "chaos"
    help = "kill random processes on a seeded schedule and check invariants"

    def parts(self) -> Parts:
        from supervisor.tools import chaos

        return Parts(chaos.run_chaos_command, chaos.add_chaos_arguments)


class Simulate(Command):
    name = "simulate"
    help = "replay a crash schedule through the restart policy, without starting anything"

    def parts(self) -> Parts:
        from supervisor.tools import simulateview

        return Parts(simulateview.run_simulate, simulateview.add_simulate_arguments)


class ReadsEventLog(Command):
    """A command that reads a stack's event log: given one with --events, it needs no file."""

    def needs_file(self, args: argparse.Namespace) -> bool:
        return not args.events


class Report(ReadsEventLog):
    name = "report"
    help = "draw the timeline of the stack's event log: states, restarts, faults, the group's end"

    def parts(self) -> Parts:
        from supervisor.tools.report import command

        return Parts(command.run_report, command.add_report_arguments)


class Analyze(ReadsEventLog):
    name = "analyze"
    help = "why bring-up was slow: per process, waiting, spawn and ready times; the critical chain"

    def parts(self) -> Parts:
        from supervisor.tools import analyzeview

        return Parts(analyzeview.run_analyze, analyzeview.add_analyze_arguments)


class Events(Command):
    name = "events"
    help = "print the supervisor's events, or stream them (-f)"

    def parts(self) -> Parts:
        from supervisor.cli import events

        return Parts(events.run_events, events.add_events_arguments)


class Ui(Command):
    name = "ui"
    help = "watch and steer the running stack in a terminal UI (the `ui` extra)"

    def parts(self) -> Parts:
        from supervisor.ui import command

        return Parts(command.run_ui, command.add_ui_arguments)


class Logs(Command):
    name = "logs"
    help = "print the log of processes, or follow it"

    def parts(self) -> Parts:
        from supervisor.cli import logs, remote

        return Parts(remote.logs, logs.add_logs_arguments)


class Service(Command):
    name = "service"
    help = "list the service processes' rows in the services table, or change them"
    config_option = False  # each of its actions takes -c

    def parts(self) -> Parts:
        from supervisor.cli import services

        return Parts(services.run_service_command, services.add_service_arguments)


class Import(Command):
    name = "import"
    help = "translate a supervisord.conf, Procfile or docker-compose.yml into a services.toml"
    config_option = False

    def parts(self) -> Parts:
        from supervisor.tools.importers import command

        return Parts(command.run_import, command.add_import_arguments)

    def needs_file(self, args: argparse.Namespace) -> bool:
        return False


class Export(Command):
    name = "export"
    help = "write the stack as systemd units or Kubernetes manifests"

    def parts(self) -> Parts:
        from supervisor.tools.exporters import command

        return Parts(command.run_export, command.add_export_arguments)


class Probe(Command):
    name = "probe"
    help = "exit 0 if a process's row in the services table is up and fresh (a health check)"

    def parts(self) -> Parts:
        from supervisor.cli import probe

        return Parts(probe.run_probe, probe.add_probe_arguments)

    def needs_file(self, args: argparse.Namespace) -> bool:
        return bool(args.name)  # no NAME: the process's own environment


# In the order `supervisor --help` lists them.
COMMANDS: tuple[Command, ...] = (
    Run(),
    Check(),
    Status(),
    Start(),
    Stop(),
    Restart(),
    Wait(),
    Reload(),
    Scale(),
    Attach(),
    Shutdown(),
    Signal(),
    Fault(),
    Chaos(),
    Simulate(),
    Report(),
    Analyze(),
    Events(),
    Ui(),
    Logs(),
    Service(),
    Import(),
    Export(),
    Probe(),
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
    parser.add_argument(*CONFIG_OPTIONS, default=default_config(), metavar="FILE", help=CONFIG_HELP)
    parser.add_argument("--version", action=PrintVersion)
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
        if argument in CONFIG_OPTIONS:
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
