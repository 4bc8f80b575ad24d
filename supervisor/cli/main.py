"""The `supervisor` command line: run a stack, check a file, and operate a running stack.

An expected condition is one line on stderr and an exit status, never a traceback: output cut
short by a closed pipe (`check --json | head`) exits 141 in silence, as a command killed by
SIGPIPE would; Ctrl-C exits 130.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from supervisor import config
from supervisor.cli.logs import add_logs_arguments
from supervisor.cli.planview import describe_plan, plan_json
from supervisor.cli.remote import run_command
from supervisor.cli.services import add_service_commands, run_service_command
from supervisor.daemon.arbiter import Supervisor
from supervisor.daemon.statelock import AlreadyRunning
from supervisor.shared.faults import KINDS
from supervisor.tools.chaos import add_chaos_command, run_chaos_command
from supervisor.tools.report.command import add_report_command, run_report
from supervisor.tools.simulateview import add_simulate_command, run_simulate

EXIT_CONFIG_INVALID = 2
EXIT_ALREADY_RUNNING = 1
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports Ctrl-C
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE


def add_config_option(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "-c",
        "--config",
        default="services.toml",
        metavar="FILE",
        help="the services file (default: ./services.toml)",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="supervisor", description="Run and supervise a Cinder-like service stack."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        add_config_option(sub)
        return sub

    def names(sub: argparse.ArgumentParser, help: str) -> None:
        sub.add_argument("names", nargs="*", metavar="NAME", help=help)

    run = command("run", "start the stack in the foreground and supervise it until it ends")
    run.add_argument(
        "--only", action="append", metavar="SERVICE", help="run only this service (repeatable)"
    )
    check = command("check", "validate the services file and print the resolved plan")
    check.add_argument("--json", action="store_true", help="print the plan as JSON")
    check.add_argument(
        "--import",
        dest="import_classes",
        action="store_true",
        help="also import each manager class, in a throwaway child per class",
    )

    status = command("status", "show the state of every process, or of the named ones")
    names(status, "a service (all its processes) or one process")
    status.add_argument("--json", action="store_true", help="print the documented JSON schema")

    for verb, waits_for in (("start", "ready"), ("stop", "stopped"), ("restart", "ready")):
        sub = command(verb, f"{verb} services or processes, then wait until they are {waits_for}")
        names(sub, "a service (all its processes) or one process")
        sub.add_argument("--all", action="store_true", help="every process")
        sub.add_argument("--no-block", action="store_true", help="do not wait")
        sub.add_argument("--timeout", type=float, metavar="SECONDS", help="give up waiting")

    wait = command("wait", "block until a condition holds for processes (default: all)")
    names(wait, "a service (all its processes) or one process")
    conditions = wait.add_mutually_exclusive_group()
    for condition, help in (
        ("ready", "every one is ready (the default)"),
        ("stopped", "every one is stopped, exited or fatal"),
        ("exit", "the whole group has ended: exit with its status"),
    ):
        conditions.add_argument(
            f"--{condition}", dest="condition", action="store_const", const=condition, help=help
        )
    wait.set_defaults(condition="ready")
    wait.add_argument("--timeout", type=float, metavar="SECONDS", help="exit 124 after this")

    command("reload", "re-read the services file and apply only what changed")
    shutdown = command("shutdown", "stop every service, then the supervisor")
    shutdown.add_argument("--timeout", type=float, metavar="SECONDS", help="give up waiting")

    fault = command("fault", "inject a fault into one live process")
    fault.add_argument("name", metavar="PROCESS", help="a process, or a service of one process")
    fault.add_argument("kind", choices=KINDS, metavar="KIND", help=", ".join(KINDS))
    fault.add_argument(
        "value", nargs="?", help="exit: the code; crash-on-start: N; slow-start: SECONDS"
    )
    fault.add_argument("--signal", metavar="SIG", help="kill: the signal (default KILL)")

    add_chaos_command(command)
    add_simulate_command(commands, add_config_option)
    add_report_command(commands, add_config_option)

    add_logs_arguments(command("logs", "print the log of processes, or follow it"))
    add_service_commands(commands, add_config_option)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("supervisor: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader of stdout went away (`| head`). Point stdout at /dev/null so that the
        # interpreter's final flush does not complain a second time.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_BROKEN_PIPE


def _main(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    only = getattr(args, "only", None)

    def load() -> config.Plan:
        plan = config.load(args.config)
        return plan.only(only) if only else plan

    if args.command == "simulate":
        return run_simulate(args)
    if args.command == "report":
        return run_report(args)
    if args.command == "service":
        return run_service_command(args)
    try:
        if args.command not in ("check", "run", "chaos"):
            # Only the running supervisor judges the whole file (a reload may be fixing it).
            return run_command(args, config.state_dir_of(args.config))
        plan = load()
    except config.ConfigError as error:
        print(error, file=sys.stderr)
        return EXIT_CONFIG_INVALID
    if args.command == "check":
        print(plan_json(plan) if args.json else describe_plan(plan))
        return _import_classes(plan) if args.import_classes else 0
    if args.command == "chaos":
        return run_chaos_command(args)
    try:
        status = Supervisor(plan, load_plan=load).run()
    except AlreadyRunning as error:
        print(f"supervisor: {error}", file=sys.stderr)
        return EXIT_ALREADY_RUNNING
    # Every file is closed and every child is gone: skip the interpreter's teardown, which
    # would add tens of milliseconds to every stop of the stack.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def _import_classes(plan: config.Plan) -> int:
    """`check --import`: one line per manager class on stderr; exit 2 if any cannot be
    imported, as for any other error in the file."""
    from supervisor.cli.importcheck import import_managers

    results = import_managers(plan)
    for result in results:
        print(result.render(), file=sys.stderr)
    return EXIT_CONFIG_INVALID if any(result.error for result in results) else 0
