"""The client side of the control commands: one request, a readable answer, an exit status."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from supervisor.cli.logs import run_logs
from supervisor.cli.statusview import status_table
from supervisor.control.client import ControlClient, LostSupervisor, NotRunning, Unreachable
from supervisor.control.protocol import Message

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFIG_INVALID = 2
EXIT_NOT_RUNNING = 3  # as systemctl
EXIT_TIMEOUT = 124  # as timeout(1)


class CommandFailed(Exception):
    def __init__(self, message: str, status: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.status = status


def run_command(args: argparse.Namespace, state_dir: Path) -> int:
    try:
        return _COMMANDS[args.command](args, state_dir)
    except NotRunning as error:
        print(f"supervisor: {error}", file=sys.stderr)
        return EXIT_NOT_RUNNING
    except CommandFailed as error:
        print(f"supervisor: {error}", file=sys.stderr)
        return error.status
    except TimeoutError:
        print("supervisor: timed out", file=sys.stderr)
        return EXIT_TIMEOUT
    except LostSupervisor as error:
        # It went away mid-request: as far as we can tell, none runs now.
        print(f"supervisor: lost the supervisor: {error}", file=sys.stderr)
        return EXIT_NOT_RUNNING
    except Unreachable as error:
        print(f"supervisor: {error}", file=sys.stderr)
        return EXIT_FAILED


def _ask(client: ControlClient, command: str, **fields: Any) -> Message:
    reply = client.request(command, **fields)
    if not reply.get("ok"):
        # A rejected reload fails as `check` does on the same file.
        status = EXIT_CONFIG_INVALID if reply.get("invalid_config") else EXIT_FAILED
        raise CommandFailed(str(reply.get("error", "the supervisor refused the request")), status)
    return reply


def _status(args: argparse.Namespace, state_dir: Path) -> int:
    with ControlClient(state_dir) as client:
        reply = _ask(client, "status", names=args.names)
    if args.json:
        del reply["ok"]
        print(json.dumps(reply, indent=2))
    else:
        print(status_table(reply["processes"], colour=sys.stdout.isatty()))
    return EXIT_OK


def _wait_reply(client: ControlClient, condition: str, names: list[str]) -> int:
    reply = _ask(client, "wait", condition=condition, names=names)
    if not reply["met"]:
        raise CommandFailed(reply["reason"])
    return reply.get("status", EXIT_OK)


def _control(args: argparse.Namespace, state_dir: Path) -> int:
    """start, stop, restart: act, then (unless --no-block) wait until it took effect."""
    with ControlClient(state_dir, timeout=args.timeout) as client:
        reply = _ask(client, args.command, names=args.names, all=args.all)
        names = reply["processes"]
        print(f"{args.command}: {', '.join(names) or 'nothing'}")
        if args.no_block or not names:
            return EXIT_OK
        return _wait_reply(client, "stopped" if args.command == "stop" else "ready", names)


def _wait(args: argparse.Namespace, state_dir: Path) -> int:
    # `supervisor run & supervisor wait --timeout T` must not lose the race to the socket.
    started = time.monotonic()
    with ControlClient(state_dir, timeout=args.timeout, patience=args.timeout or 0) as client:
        if args.timeout is not None:
            client.set_timeout(max(args.timeout - (time.monotonic() - started), 0.001))
        return _wait_reply(client, args.condition, args.names)


def _reload(args: argparse.Namespace, state_dir: Path) -> int:
    with ControlClient(state_dir) as client:
        reply = _ask(client, "reload")
    for what in ("added", "removed", "changed", "unchanged"):
        print(f"{what:<10} {', '.join(reply[what]) or '-'}")
    return EXIT_OK


def _shutdown(args: argparse.Namespace, state_dir: Path) -> int:
    with ControlClient(state_dir, timeout=args.timeout) as client:
        reply = _ask(client, "shutdown")
    print(f"the stack stopped with exit status {reply['status']}")
    return EXIT_OK


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


def _fault(args: argparse.Namespace, state_dir: Path) -> int:
    with ControlClient(state_dir) as client:
        reply = _ask(
            client, "fault", name=args.name, kind=args.kind, arguments=_fault_arguments(args)
        )
    print(f"{reply['process']}: {reply['done']}")
    return EXIT_OK


_COMMANDS = {
    "status": _status,
    "start": _control,
    "stop": _control,
    "restart": _control,
    "wait": _wait,
    "reload": _reload,
    "shutdown": _shutdown,
    "logs": run_logs,
    "fault": _fault,
}
