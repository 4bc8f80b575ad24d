"""The commands that read the services file themselves: `run` supervises the stack in the
foreground, `check` judges the file and shows the plan.  (`cli.remote` holds the commands that
ask a running supervisor instead.)"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Mapping

from supervisor import config
from supervisor.cli.errorjson import config_problems, report_error
from supervisor.cli.hostcheck import host_warnings
from supervisor.cli.hostoption import add_host_option
from supervisor.cli.planview import describe_plan, plan_json
from supervisor.config.problems import Problem
from supervisor.policy.names import UnknownName, resolve_names
from supervisor.shared.exits import (
    EXIT_ALREADY_RUNNING,
    EXIT_CONFIG_INVALID,
    EXIT_OK,
    EXIT_USAGE,
)


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    add_host_option(parser, "run the services")
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="run only this service (all its processes) or process (repeatable); "
        "the dependencies it names are not started, and count as met",
    )
    parser.add_argument(
        "--detach",
        action="store_true",
        help="run in the background: return once the supervisor answers, its console in "
        "<state_dir>/supervisor.log (`supervisor shutdown` ends it)",
    )
    parser.add_argument(
        "--console",
        choices=("all", "events"),
        default="all",
        help="what the console shows: the events and every process's output (all, the "
        "default), or the events alone (the processes' output is in their log files)",
    )


def add_check_arguments(parser: argparse.ArgumentParser) -> None:
    add_host_option(parser, "show only the plan")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")
    parser.add_argument(
        "--import",
        dest="import_classes",
        action="store_true",
        help="also import each manager class, in a throwaway child per class",
    )


def run(args: argparse.Namespace) -> int:
    def load(workers: Mapping[str, int] | None = None) -> config.Plan:
        """The file's plan (with `scale`'s counts of workers), narrowed to --only; on a reload
        a name the file no longer has is an error in the file, and the reload is refused."""
        plan = config.load(args.config, workers=workers, host=args.host)
        try:
            return only(plan, args.only) if args.only else plan
        except UnknownName as unknown:
            problem = Problem(None, "--only", unknown.name, "no longer a service or process")
            raise config.ConfigError(str(plan.path), [problem]) from None

    try:
        whole = config.load(args.config, host=args.host)
    except config.ConfigError as error:
        print(error, file=sys.stderr)
        return EXIT_CONFIG_INVALID
    if whole.hosts and whole.host is None:
        hosts = ", ".join(whole.hosts)
        message = f"{whole.path} describes hosts {hosts}: give --host NAME"
        print(f"supervisor run: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    try:
        plan = only(whole, args.only) if args.only else whole
    except UnknownName as unknown:
        print(f"supervisor run: error: {unknown_only(whole, unknown.name)}", file=sys.stderr)
        return EXIT_USAGE
    if args.detach:
        from supervisor.cli.detach import start_detached

        return start_detached(args, plan.state_dir, plan.logs.max_bytes)
    # Here, not at the top: `check` and `run --detach` need nothing of the daemon.
    from supervisor.daemon.arbiter import Supervisor
    from supervisor.daemon.statelock import AlreadyRunning

    try:
        status = Supervisor(plan, load_plan=load, console_output=args.console == "all").run()
    except AlreadyRunning as error:
        print(f"supervisor: {error}", file=sys.stderr)
        return EXIT_ALREADY_RUNNING
    # Every file is closed and every child is gone: skip the interpreter's teardown, which
    # would add tens of milliseconds to every stop of the stack.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def only(plan: config.Plan, names: list[str]) -> config.Plan:
    """The plan with only the processes `names` mean (a service: each of its processes; a
    process: that one); raises UnknownName.  Everything else of the plan is kept."""
    return dataclasses.replace(plan, processes=tuple(resolve_names(plan.processes, names)))


def unknown_only(plan: config.Plan, name: str) -> str:
    """`--only NAME` for a name the file does not have: a mistake on the command line, with
    the closest names and every one it could have been."""
    from supervisor.cli.suggest import did_you_mean  # difflib, for this error only

    processes = [process.name for process in plan.processes]
    known = list(dict.fromkeys([*plan.services, *processes]))
    hint = did_you_mean(name, known)
    return "; ".join(
        [
            f"--only {name!r}: no such service or process in {plan.path}",
            *([hint] if hint else []),
            f"services: {', '.join(plan.services) or '-'}",
            f"processes: {', '.join(processes) or '-'}",
        ]
    )


def check(args: argparse.Namespace) -> int:
    try:
        plan = config.load(args.config, host=args.host)
    except config.ConfigError as error:
        return report_error(
            str(error), EXIT_CONFIG_INVALID, as_json=args.json, problems=config_problems(error)
        )
    print(plan_json(plan) if args.json else describe_plan(plan))
    for warning in host_warnings(plan):  # what this machine lacks; the file is fine
        print(f"warning: {warning}", file=sys.stderr)
    return _import_classes(plan) if args.import_classes else EXIT_OK


def _import_classes(plan: config.Plan) -> int:
    """`check --import`: one line per manager class on stderr; exit 2 if any cannot be
    imported, as for any other error in the file."""
    from supervisor.cli.importcheck import import_managers

    results = import_managers(plan)
    for result in results:
        print(result.render(), file=sys.stderr)
    return EXIT_CONFIG_INVALID if any(result.error for result in results) else EXIT_OK
