"""The commands that ask a running supervisor: one request, a readable answer, an exit status.

Each command is declared in `cli.commands`, naming its handler here and the function here that
adds its arguments; what each request takes and answers is its verb's (`control.verbs`).
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supervisor import config
from supervisor.cli.errorjson import config_problems, report_error
from supervisor.cli.groupview import group_lines
from supervisor.cli.hostoption import add_host_option, default_host
from supervisor.cli.scaleview import scaled_lines
from supervisor.cli.statusview import status_table, template_lines
from supervisor.control import registry
from supervisor.control.client import ControlClient, LostSupervisor, NotRunning, Unreachable
from supervisor.shared.exits import (
    EXIT_CONFIG_INVALID,
    EXIT_FAILED,
    EXIT_NOT_RUNNING,
    EXIT_OK,
    EXIT_TIMEOUT,
    EXIT_USAGE,
)
from supervisor.shared.faults import KINDS
from supervisor.shared.logfiles import colour_wanted

if TYPE_CHECKING:
    from supervisor.control.protocol import Message

# What supervisorctl users type for "every process"; here that is --all.
_EVERY_PROCESS = "all"


class CommandFailed(Exception):
    def __init__(self, message: str, status: int = EXIT_FAILED, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.details = details


def asks_the_supervisor(
    handler: Callable[..., int],
) -> Callable[..., int]:
    """A command's handler, `handler(args, state_dir, **options)`, given the state directory of
    its services file; what can go wrong in talking to the supervisor becomes one line on stderr
    and an exit status."""

    @functools.wraps(handler)
    def command(args: argparse.Namespace, **options: Any) -> int:
        # Under --json, the error is a JSON object on stdout instead (`cli.errorjson`).
        as_json = getattr(args, "json", False)
        try:
            # Only the running supervisor judges the whole file (a reload may be fixing it).
            state_dir = config.state_dir_of(args.config, getattr(args, "host", default_host()))
        except config.ConfigError as error:
            return report_error(
                str(error), EXIT_CONFIG_INVALID, as_json=as_json, problems=config_problems(error)
            )
        # A state_dir edited under a running stack: its supervisor runs where it started.
        state_dir, moved = registry.where_it_runs(Path(args.config), state_dir)
        if moved is not None:
            print(f"supervisor: {moved}", file=sys.stderr)
        try:
            return handler(args, state_dir, **options)
        except NotRunning as error:
            return report_error(f"supervisor: {error}", EXIT_NOT_RUNNING, as_json=as_json)
        except CommandFailed as error:
            return report_error(
                f"supervisor: {error}", error.status, as_json=as_json, **error.details
            )
        except TimeoutError:
            return report_error("supervisor: timed out", EXIT_TIMEOUT, as_json=as_json)
        except LostSupervisor as error:
            # It went away mid-request: as far as we can tell, none runs now.
            message = f"supervisor: lost the supervisor: {error}"
            return report_error(message, EXIT_NOT_RUNNING, as_json=as_json)
        except Unreachable as error:
            return report_error(f"supervisor: {error}", EXIT_FAILED, as_json=as_json)

    return command


# -- arguments ---------------------------------------------------------------------------------


def _add_names(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help="a service (all its processes) or one process"
    )


def add_status_arguments(parser: argparse.ArgumentParser) -> None:
    add_host_option(parser, "the processes")
    parser.add_argument(
        "--all-hosts",
        action="store_true",
        help="every host of the file's [hosts]: from its supervisor where it answers, else from "
        "Cinder's services table",
    )
    _add_names(parser)
    parser.add_argument("--json", action="store_true", help="print the documented JSON schema")


def add_act_arguments(parser: argparse.ArgumentParser) -> None:
    """start, stop, restart."""
    _add_names(parser)
    parser.add_argument("--all", action="store_true", help="every process")
    parser.add_argument("--no-block", action="store_true", help="do not wait")
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help="give up waiting")


def add_restart_arguments(parser: argparse.ArgumentParser) -> None:
    add_act_arguments(parser)
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="replace the preload templates they fork from first, so they run the code on disk",
    )


def add_wait_arguments(parser: argparse.ArgumentParser) -> None:
    _add_names(parser)
    conditions = parser.add_mutually_exclusive_group()
    for condition, help in (
        ("ready", "every one is ready (the default)"),
        ("stopped", "every one is stopped, exited or fatal"),
        ("exit", "the whole group has ended: exit with its status"),
    ):
        conditions.add_argument(
            f"--{condition}", dest="condition", action="store_const", const=condition, help=help
        )
    parser.set_defaults(condition="ready")
    parser.add_argument(
        "--timeout", type=float, metavar="SECONDS", help=f"exit {EXIT_TIMEOUT} after this"
    )


def add_shutdown_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help="give up waiting")


def add_fault_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="PROCESS", help="a process, or a service of one process")
    parser.add_argument("kind", choices=KINDS, metavar="KIND", help=", ".join(KINDS))
    parser.add_argument(
        "value", nargs="?", help="exit: the code; crash-on-start: N; slow-start: SECONDS"
    )
    parser.add_argument("--signal", metavar="SIG", help="kill: the signal (default KILL)")


def add_signal_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="a service (every process of it) or a process")
    parser.add_argument("signal", metavar="SIG", help="a signal name or number: HUP, USR1, 15, ...")
    parser.add_argument(
        "--group", action="store_true", help="the whole process group, not only the main process"
    )


# -- handlers ----------------------------------------------------------------------------------


def _ask(client: ControlClient, command: str, **fields: Any) -> Message:
    reply = client.request(command, **fields)
    if not reply.get("ok"):
        error = str(reply.get("error", "the supervisor refused the request"))
        named = fields.get("names") or ([fields["name"]] if "name" in fields else [])
        if error.startswith("unknown name ") and named:
            raise _unknown_names(client, command, named, error, takes_all="all" in fields)
        # A rejected reload fails as `check` does on the same file.
        status = EXIT_CONFIG_INVALID if reply.get("invalid_config") else EXIT_FAILED
        raise CommandFailed(error, status)
    return reply


def _unknown_names(
    client: ControlClient, command: str, names: list[str], error: str, *, takes_all: bool
) -> CommandFailed:
    """The supervisor's "unknown name ..." refusal, with the closest known names, and for a
    supervisorctl habit (`restart all`) the way to say it here, to a request that takes `all`."""
    from supervisor.cli.suggest import closest, did_you_mean  # difflib, for this error only

    processes = client.request("status", names=[]).get("processes") or []
    known = list(dict.fromkeys([p["service"] for p in processes] + [p["name"] for p in processes]))
    unknown = [name for name in names if name not in known]
    suggestions = {name: closest(name, known) for name in unknown}
    hints = []
    if _EVERY_PROCESS in unknown and takes_all:
        hints.append(f"to act on every process, use --all: supervisor {command} --all")
    for name in unknown:
        hint = did_you_mean(name, known) if name != _EVERY_PROCESS else None
        if hint:
            hints.append(f"{name!r}: {hint}")
    # The daemon's first clause names the unknown name; the hint goes right after it.
    first, separator, rest = error.partition("; ")
    message = "; ".join([first, *hints]) + separator + rest
    return CommandFailed(message, EXIT_FAILED, unknown=unknown, did_you_mean=suggestions)


def _all_running(processes: list[dict[str, Any]]) -> bool:
    """As `systemctl status UNIT` judges a unit: only `running` (ready) is up; starting,
    stopping, backoff and every ended state are not (exit 3)."""
    return all(process["state"] == "running" for process in processes)


def _stdout_wants_colour() -> bool:
    try:
        return colour_wanted(sys.stdout.fileno())
    except (OSError, ValueError):  # a stdout with no descriptor (captured): no terminal
        return False


def status(args: argparse.Namespace) -> int:
    if args.all_hosts:
        from supervisor.cli.allhosts import run_all_hosts_status

        return run_all_hosts_status(args)
    return _status(args)


@asks_the_supervisor
def _status(args: argparse.Namespace, state_dir: Path) -> int:
    with ControlClient(state_dir) as client:
        reply = _ask(client, "status", names=args.names)
    if args.json:
        del reply["ok"]
        print(json.dumps(reply, indent=2))
    else:
        print(status_table(reply["processes"], colour=_stdout_wants_colour()))
        for line in scaled_lines(reply.get("scaled") or {}):
            print(line)
        for line in template_lines(reply.get("templates") or []):
            print(line)
        for line in group_lines(reply.get("groups") or []):
            print(line)
    if args.names and not _all_running(reply["processes"]):
        return EXIT_NOT_RUNNING
    return EXIT_OK


def _wait_reply(client: ControlClient, condition: str, names: list[str]) -> int:
    reply = _ask(client, "wait", condition=condition, names=names)
    if not reply["met"]:
        raise CommandFailed(reply["reason"])
    return reply.get("status", EXIT_OK)


def needs_names_or_all(
    handler: Callable[..., int],
) -> Callable[..., int]:
    """A command that acts on processes: with no NAME and no --all (or both), a usage error,
    exit 2, told before any file is read or any supervisor asked."""

    @functools.wraps(handler)
    def command(args: argparse.Namespace, **options: Any) -> int:
        if bool(args.names) == bool(args.all):
            what = "NAME and --all do not go together" if args.all else "no NAME and no --all"
            message = (
                f"supervisor {args.command}: error: {what}: name services or processes, "
                f"or act on every process with: supervisor {args.command} --all"
            )
            return report_error(message, EXIT_USAGE, as_json=getattr(args, "json", False))
        return handler(args, **options)

    return command


@needs_names_or_all
@asks_the_supervisor
def act(args: argparse.Namespace, state_dir: Path, *, waits_for: str) -> int:
    """start, stop, restart: act, then (unless --no-block) wait until the processes acted on
    are `waits_for` (ready, stopped)."""
    with ControlClient(state_dir, timeout=args.timeout) as client:
        fresh = {"fresh": True} if getattr(args, "fresh", False) else {}
        reply = _ask(client, args.command, names=args.names, all=args.all, **fresh)
        names = reply["processes"]
        print(f"{args.command}: {', '.join(names) or 'nothing'}")
        if fresh:
            print(f"templates replaced: {', '.join(reply['templates']) or 'none'}")
        if args.no_block or not names:
            return EXIT_OK
        return _wait_reply(client, waits_for, names)


@asks_the_supervisor
def wait(args: argparse.Namespace, state_dir: Path) -> int:
    # `supervisor run & supervisor wait --timeout T` must not lose the race to the socket.
    started = time.monotonic()
    with ControlClient(state_dir, timeout=args.timeout, patience=args.timeout or 0) as client:
        if args.timeout is not None:
            client.set_timeout(max(args.timeout - (time.monotonic() - started), 0.001))
        return _wait_reply(client, args.condition, args.names)


@asks_the_supervisor
def reload(args: argparse.Namespace, state_dir: Path) -> int:
    with ControlClient(state_dir) as client:
        reply = _ask(client, "reload")
    for what in ("added", "removed", "changed", "unchanged"):
        print(f"{what:<10} {', '.join(reply[what]) or '-'}")
    return EXIT_OK


@asks_the_supervisor
def shutdown(args: argparse.Namespace, state_dir: Path) -> int:
    with ControlClient(state_dir, timeout=args.timeout) as client:
        reply = _ask(client, "shutdown")
    print(f"the stack stopped with exit status {reply['status']}")
    return EXIT_OK


@asks_the_supervisor
def logs(args: argparse.Namespace, state_dir: Path) -> int:
    # Here, not at the top: only `logs` reads log files.
    from supervisor.cli.logs import run_logs

    return run_logs(args, state_dir)


def _fault_arguments(args: argparse.Namespace) -> dict[str, Any]:
    try:
        if args.kind == "exit":
            return {"code": int(args.value if args.value is not None else 1)}
        if args.kind == "crash-on-start":
            return {"count": int(args.value if args.value is not None else 1)}
        if args.kind == "slow-start":
            return {"seconds": float(args.value if args.value is not None else 1)}
    except ValueError:
        raise CommandFailed(f"{args.kind}: not a number: {args.value}") from None
    return {"signal": args.signal} if args.kind == "kill" and args.signal else {}


@asks_the_supervisor
def send_signal(args: argparse.Namespace, state_dir: Path) -> int:
    import signal

    from supervisor.shared.signalnames import signal_number

    number = signal_number(args.signal)
    if number is None:
        message = f"signal: no such signal: {args.signal!r} (a name as HUP or a number)"
        raise CommandFailed(message, EXIT_USAGE)
    with ControlClient(state_dir) as client:
        reply = _ask(client, "signal", names=[args.name], signal=args.signal, group=args.group)
    for process in reply["processes"]:
        print(f"{process}: sent {signal.Signals(number).name}")
    for process in reply["not_running"]:
        print(f"{process}: not running, not signalled", file=sys.stderr)
    return EXIT_OK


@asks_the_supervisor
def fault(args: argparse.Namespace, state_dir: Path) -> int:
    with ControlClient(state_dir) as client:
        reply = _ask(
            client, "fault", name=args.name, kind=args.kind, arguments=_fault_arguments(args)
        )
    print(f"{reply['process']}: {reply['done']}")
    return EXIT_OK
