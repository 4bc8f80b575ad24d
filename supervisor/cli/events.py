"""`supervisor events [-f] [--json] [NAME...]`: the supervisor's events, for people and scripts.

Without -f, the events in <state_dir>/events.jsonl (every run's, as the file has them); with
-f, the running supervisor's `subscribe` stream: the events of this run it still keeps, then
each one as it happens, until the supervisor ends.  NAME keeps the events of those services or
processes (and the group's stop and end).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from supervisor.cli.remote import CommandFailed, _ask, asks_the_supervisor
from supervisor.control.client import ControlClient, LostSupervisor
from supervisor.shared.exits import EXIT_OK

EVENTS_FILE = "events.jsonl"  # as the daemon's event log names it
_NOT_SHOWN = ("event", "timestamp", "seq")


def add_events_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help="only the events of these services or processes"
    )
    parser.add_argument(
        "-f", "--follow", action="store_true", help="stream the running supervisor's events"
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per line")


def _service_of(process: str) -> str:
    for separator in ("#", "@"):
        process = process.partition(separator)[0]
    return process


def _wanted(record: dict[str, Any], names: set[str]) -> bool:
    if not names or record.get("event") == "group":
        return True
    unit = record.get("unit")
    if isinstance(unit, str):
        return unit in names or _service_of(unit) in names
    return record.get("service") in names


def _line(record: dict[str, Any], as_json: bool) -> str:
    if as_json:
        return json.dumps(record)
    fields = " ".join(f"{key}={value}" for key, value in record.items() if key not in _NOT_SHOWN)
    return f"{record.get('timestamp', '-')} {record.get('event', '?'):<12} {fields}".rstrip()


def _print(record: dict[str, Any], as_json: bool) -> None:
    print(_line(record, as_json), flush=True)


def _past(state_dir: Path, names: set[str], as_json: bool) -> int:
    path = state_dir / EVENTS_FILE
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return EXIT_OK  # no supervisor has run here yet: no events
    except OSError as error:
        raise CommandFailed(f"{path}: {error.strerror}") from None
    for text in lines:
        try:
            record = json.loads(text)
        except ValueError:
            continue  # a line cut short by a full disk
        if isinstance(record, dict) and _wanted(record, names):
            _print(record, as_json)
    return EXIT_OK


def _follow(state_dir: Path, names: list[str], as_json: bool) -> int:
    with ControlClient(state_dir) as client:
        _ask(client, "subscribe", names=names, since=0)
        ended = False
        while line := client.next_line():
            if not line.endswith(b"\n"):
                break
            record = json.loads(line)
            _print(record, as_json)
            ended = record.get("event") == "group" and record.get("action") == "exit"
    if ended:
        return EXIT_OK
    raise LostSupervisor("the stream ended before the group did (dropped for not reading?)")


@asks_the_supervisor
def run_events(args: argparse.Namespace, state_dir: Path) -> int:
    try:
        if args.follow:
            return _follow(state_dir, args.names, args.json)
        return _past(state_dir, set(args.names), args.json)
    except BrokenPipeError:  # `supervisor events -f | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
