"""`supervisor scale NAME N`: run N workers of a service from now on.

The supervisor adds the workers a reload to N would add (started after their dependencies) or
stops the surplus ones, the highest number first (see `daemon.scaling`); then, unless
--no-block, this waits until the new ones are ready and the surplus ones are down.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from supervisor.cli.remote import CommandFailed, _ask, _wait_reply, asks_the_supervisor
from supervisor.cli.scaleview import scaled_lines
from supervisor.control.client import ControlClient
from supervisor.daemon.scaling import MAX_WORKERS, MIN_WORKERS
from supervisor.shared.exits import EXIT_OK


def _count(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: not a whole number") from None
    if not MIN_WORKERS <= count <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(
            f"{count}: a service scales from {MIN_WORKERS} to {MAX_WORKERS} workers"
        )
    return count


def add_scale_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="a service of numbered workers (workers = N)")
    parser.add_argument(
        "workers", metavar="N", type=_count, help=f"its workers, {MIN_WORKERS} to {MAX_WORKERS}"
    )
    parser.add_argument("--json", action="store_true", help="print the reply as JSON")
    parser.add_argument("--no-block", action="store_true", help="do not wait")
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help="give up waiting")


@asks_the_supervisor
def run_scale(args: argparse.Namespace, state_dir: Path) -> int:
    with ControlClient(state_dir, timeout=args.timeout) as client:
        reply = _ask(client, "scale", name=args.name, workers=args.workers)
        del reply["ok"]
        if args.json:
            print(json.dumps(reply, indent=2))
        else:
            print(_describe(reply))
        if args.no_block:
            return EXIT_OK
        if reply["added"]:
            _wait_reply(client, "ready", reply["added"])
        _wait_until_gone(client, reply["removed"])
    return EXIT_OK


def _wait_until_gone(client: ControlClient, names: list[str]) -> None:
    """Until the surplus workers are down.  One that is down has left the supervisor, so a
    `wait` naming it is refused as an unknown name: wait for those still there."""
    while names:
        reply = client.request("wait", condition="stopped", names=names)
        if reply.get("ok"):
            return
        if not str(reply.get("error", "")).startswith("unknown name "):
            raise CommandFailed(str(reply.get("error")))
        there = {p["name"] for p in _ask(client, "status", names=[])["processes"]}
        names = [name for name in names if name in there]


def _describe(reply: dict[str, Any]) -> str:
    service, workers, was = reply["service"], reply["workers"], reply["was"]
    if workers == was:
        return f"{service}: already {workers} workers"
    done = [f"starting {', '.join(reply['added'])}" if reply["added"] else None]
    done.append(f"stopping {', '.join(reply['removed'])}" if reply["removed"] else None)
    line = f"{service}: {was} -> {workers} workers; {'; '.join(d for d in done if d)}"
    scaled = {service: {"workers": workers, "file": reply["file"]}}
    return line if workers == reply["file"] else f"{line}\n{scaled_lines(scaled)[0]}"
