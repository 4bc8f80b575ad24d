"""The `supervisor` command line: run a stack, or check a services file without running it."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from supervisor import config
from supervisor.planview import describe_plan, plan_as_json
from supervisor.supervisor import Supervisor

EXIT_CONFIG_INVALID = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="supervisor", description="Run and supervise a Cinder-like service stack."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.add_argument(
            "-c",
            "--config",
            default="services.toml",
            metavar="FILE",
            help="the services file (default: ./services.toml)",
        )
        return sub

    run = command("run", "start the stack in the foreground and supervise it until it ends")
    run.add_argument(
        "--only",
        action="append",
        metavar="SERVICE",
        help="run only this service (repeatable)",
    )
    check = command("check", "validate the services file and print the resolved plan")
    check.add_argument("--json", action="store_true", help="print the plan as JSON")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        plan = config.load(args.config)
        if getattr(args, "only", None):
            plan = plan.only(args.only)
    except config.ConfigError as error:
        print(error, file=sys.stderr)
        return EXIT_CONFIG_INVALID
    if args.command == "check":
        if args.json:
            print(json.dumps(plan_as_json(plan), indent=2))
        else:
            print(describe_plan(plan))
        return 0
    return Supervisor(plan).run()
