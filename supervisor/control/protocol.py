"""The control protocol's requests, checked field by field at the edge into typed values.

`parse` turns one line from the socket into one of the request classes below, or raises
`BadRequest` naming the field, the value given and what is allowed.  Every type, range and
size is checked here, so the handlers behind the socket trust what they get.  A field a command
does not take is an error rather than something silently ignored, as a misspelt option is.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from supervisor.shared.faults import KINDS
from supervisor.shared.signalnames import signal_number

# Bounds on what a request may carry; generous for any real stack, small enough that no request
# can make the supervisor build a large answer or remember much.
MAX_NAMES = 1024
MAX_NAME_LENGTH = 256
MAX_SIGNAL_NAME = 32
MAX_EXIT_CODE = 255
MAX_START_FAULTS = 1000
MAX_SLOW_START_SECONDS = 3600.0
_SHOWN = 60  # characters of a bad value quoted back in an error

WAIT_CONDITIONS = ("ready", "stopped", "exit")


class BadRequest(ValueError):
    """The request is malformed; the message says which field and why."""


@dataclass(frozen=True)
class Status:
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Act:
    """start, stop or restart: named processes, or every one."""

    command: str
    names: tuple[str, ...] = ()
    all: bool = False
    fresh: bool = False  # restart only: replace the preload templates they fork from first


@dataclass(frozen=True)
class Wait:
    condition: str = "ready"
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Logs:
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reload:
    pass


@dataclass(frozen=True)
class Shutdown:
    pass


@dataclass(frozen=True)
class Fault:
    name: str
    kind: str
    # Only the keys the kind takes, each of its own type: `code`, `count`, `seconds`, `signal`.
    arguments: dict[str, int | float | str] = field(default_factory=dict)


@dataclass(frozen=True)
class Signal:
    """Send a signal to named processes (their main process, or with `group` their whole
    process group), as `supervisorctl signal` and `systemctl kill` do."""

    names: tuple[str, ...]
    signal: int
    group: bool = False


@dataclass(frozen=True)
class Scale:
    """Run `workers` processes of a service of numbered workers from now on."""

    name: str
    workers: int


@dataclass(frozen=True)
class Subscribe:
    """Stream events from the one after `since` (a `seq`), or from now when it is None."""

    names: tuple[str, ...] = ()
    since: int | None = None


@dataclass(frozen=True)
class Attach:
    """Stop one process and answer with its spec, for the client to run it in a terminal."""

    name: str


@dataclass(frozen=True)
class Attached:
    """The attach client runs the process as `pid`."""

    name: str
    pid: int


@dataclass(frozen=True)
class Detach:
    """The attached process ended (with `exit_status`, if known): the supervisor takes it back."""

    name: str
    exit_status: int | None = None


Request = (
    Status
    | Act
    | Wait
    | Logs
    | Reload
    | Shutdown
    | Fault
    | Signal
    | Subscribe
    | Scale
    | Attach
    | Attached
    | Detach
)
# A reply, as the server sends it and the client reads it back: one JSON object per line,
# `{"ok": true, ...}` or `{"ok": false, "error": "..."}`.
Message = dict[str, Any]
Builder = Callable[[dict[str, Any]], Request]


def _show(value: Any) -> str:
    try:
        text = repr(value) if isinstance(value, str) else json.dumps(value)
    except (ValueError, RecursionError):
        text = type(value).__name__
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


def _names(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise BadRequest(f"names = {_show(value)}: expected a list of names")
    if len(value) > MAX_NAMES:
        raise BadRequest(f"names: {len(value)} names; at most {MAX_NAMES}")
    return tuple(_name("names", item) for item in value)


def _name(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise BadRequest(f"{key} = {_show(value)}: expected a service or process name")
    if len(value) > MAX_NAME_LENGTH:
        raise BadRequest(f"{key}: a name of {len(value)} characters; at most {MAX_NAME_LENGTH}")
    return value


def _flag(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise BadRequest(f"{key} = {_show(value)}: expected true or false")
    return value


def _choice(key: str, value: Any, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise BadRequest(f"{key} = {_show(value)}: expected one of {', '.join(allowed)}")
    return value


def _integer(key: str, value: Any, low: int, high: int) -> int:
    # JSON has one number type: 3.0 is accepted as 3, but true is not 1.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadRequest(f"{key} = {_show(value)}: expected a whole number from {low} to {high}")
    return value


def _seconds(key: str, value: Any, high: float) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 <= value <= high
    ):
        raise BadRequest(f"{key} = {_show(value)}: expected seconds from 0 to {high:g}")
    return float(value)


def _signal_name(key: str, value: Any) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_SIGNAL_NAME:
        raise BadRequest(f"{key} = {_show(value)}: expected a signal name such as TERM")
    return value


# The arguments each fault kind takes, and how each is checked.
_FAULT_ARGUMENTS: dict[str, dict[str, Callable[[str, Any], int | float | str]]] = {
    "exit": {"code": lambda k, v: _integer(k, v, 0, MAX_EXIT_CODE)},
    "crash-on-start": {"count": lambda k, v: _integer(k, v, 1, MAX_START_FAULTS)},
    "slow-start": {"seconds": lambda k, v: _seconds(k, v, MAX_SLOW_START_SECONDS)},
    "kill": {"signal": _signal_name},
}


def _fault_arguments(kind: str, value: Any) -> dict[str, int | float | str]:
    if not isinstance(value, dict):
        raise BadRequest(f"arguments = {_show(value)}: expected an object")
    checks = _FAULT_ARGUMENTS.get(kind, {})
    unknown = [key for key in value if key not in checks]
    if unknown:
        takes = ", ".join(checks) or "no arguments"
        raise BadRequest(f"arguments.{_show(unknown[0])}: fault {kind!r} takes {takes}")
    return {key: checks[key](f"arguments.{key}", item) for key, item in value.items()}


def _fields(command: str, request: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    fields = {key: value for key, value in request.items() if key != "command"}
    unknown = [key for key in fields if key not in allowed]
    if unknown:
        takes = ", ".join(allowed) or "no fields"
        raise BadRequest(f"{_show(unknown[0])}: {command!r} takes {takes}")
    return fields


def _status(fields: dict[str, Any]) -> Status:
    return Status(_names(fields.get("names", [])))


def _logs(fields: dict[str, Any]) -> Logs:
    return Logs(_names(fields.get("names", [])))


def _wait(fields: dict[str, Any]) -> Wait:
    condition = _choice("condition", fields.get("condition", "ready"), WAIT_CONDITIONS)
    return Wait(condition, _names(fields.get("names", [])))


def _act(command: str) -> Builder:
    def build(fields: dict[str, Any]) -> Act:
        names = _names(fields.get("names", []))
        return Act(
            command,
            names,
            _flag("all", fields.get("all", False)),
            _flag("fresh", fields.get("fresh", False)),
        )

    return build


def _fault(fields: dict[str, Any]) -> Fault:
    if "name" not in fields or "kind" not in fields:
        raise BadRequest("'fault' needs a name and a kind")
    kind = _choice("kind", fields["kind"], KINDS)
    return Fault(
        _name("name", fields["name"]), kind, _fault_arguments(kind, fields.get("arguments", {}))
    )


def _signal(fields: dict[str, Any]) -> Signal:
    names = _names(fields.get("names", []))
    if not names:
        raise BadRequest("'signal' needs at least one name")
    value = fields.get("signal")
    number = signal_number(value) if isinstance(value, str) and len(value) <= 16 else None
    if number is None:
        raise BadRequest(f"signal = {_show(value)}: expected a signal name or number, as TERM")
    return Signal(names, number, _flag("group", fields.get("group", False)))


def _scale(fields: dict[str, Any]) -> Scale:
    if "name" not in fields or "workers" not in fields:
        raise BadRequest("'scale' needs a name and a count of workers")
    # The range is the daemon's to judge (`daemon.scaling`): here only its type and size.
    return Scale(_name("name", fields["name"]), _integer("workers", fields["workers"], 0, 2**31))


def _subscribe(fields: dict[str, Any]) -> Subscribe:
    since = fields.get("since", "now")
    number = None if since == "now" else _integer("since", since, 0, 2**63 - 1)
    return Subscribe(_names(fields.get("names", [])), number)


def _attach(fields: dict[str, Any]) -> Attach:
    if "name" not in fields:
        raise BadRequest("'attach' needs the name of one process")
    return Attach(_name("name", fields["name"]))


def _attached(fields: dict[str, Any]) -> Attached:
    if "name" not in fields or "pid" not in fields:
        raise BadRequest("'attached' needs a name and a pid")
    return Attached(_name("name", fields["name"]), _integer("pid", fields["pid"], 1, 2**22))


def _detach(fields: dict[str, Any]) -> Detach:
    if "name" not in fields:
        raise BadRequest("'detach' needs the name of the attached process")
    status = fields.get("exit_status")
    number = None if status is None else _integer("exit_status", status, 0, MAX_EXIT_CODE)
    return Detach(_name("name", fields["name"]), number)


# command -> (the fields it takes, how they become a request)
_COMMANDS: dict[str, tuple[tuple[str, ...], Builder]] = {
    "status": (("names",), _status),
    "start": (("names", "all"), _act("start")),
    "stop": (("names", "all"), _act("stop")),
    "restart": (("names", "all", "fresh"), _act("restart")),
    "reload": ((), lambda fields: Reload()),
    "wait": (("condition", "names"), _wait),
    "logs": (("names",), _logs),
    "shutdown": ((), lambda fields: Shutdown()),
    "fault": (("name", "kind", "arguments"), _fault),
    "signal": (("names", "signal", "group"), _signal),
    "subscribe": (("names", "since"), _subscribe),
    "scale": (("name", "workers"), _scale),
    "attach": (("name",), _attach),
    "attached": (("name", "pid"), _attached),
    "detach": (("name", "exit_status"), _detach),
}
COMMANDS = tuple(_COMMANDS)


def parse(line: bytes) -> Request:
    """One request line, checked completely; BadRequest says what is wrong with it."""
    try:
        request = json.loads(line)
    except (ValueError, RecursionError) as error:
        # ValueError covers bad UTF-8 as well; RecursionError a pathologically nested value.
        raise BadRequest(f"not JSON: {error}") from None
    if not isinstance(request, dict):
        raise BadRequest(f"expected an object, got {_show(request)}")
    command = request.get("command")
    if not isinstance(command, str):
        raise BadRequest("expected a string 'command'")
    if command not in _COMMANDS:
        raise BadRequest(f"unknown command {_show(command)}; known: {', '.join(COMMANDS)}")
    allowed, build = _COMMANDS[command]
    return build(_fields(command, request, allowed))
