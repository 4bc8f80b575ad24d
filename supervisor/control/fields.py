"""The values a control request's fields may hold, each checked at the edge into a typed value.

Every checker takes the field's key (for the message) and the JSON value given, and returns the
value typed or raises `BadRequest` naming the key, the value given (shortened) and what is
allowed.  The verbs (`control.verbs`) declare their fields with these; nothing past the edge
checks a type again.
"""

from __future__ import annotations

import json
import math
from typing import Any, NamedTuple

# Bounds on what a request may carry; generous for any real stack, small enough that no request
# can make the supervisor build a large answer or remember much.
MAX_NAMES = 1024
MAX_NAME_LENGTH = 256
MAX_SIGNAL_NAME = 32
MAX_EXIT_CODE = 255
MAX_START_FAULTS = 1000
MAX_SLOW_START_SECONDS = 3600.0
_SHOWN = 60  # characters of a bad value quoted back in an error

# A reply, as the server sends it and the client reads it back: one JSON object per line,
# `{"ok": true, ...}` or `{"ok": false, "error": "..."}`.
Message = dict[str, Any]


class BadRequest(ValueError):
    """The request is malformed; the message says which field and why."""


class Field(NamedTuple):
    """A request's field or a reply's, as the protocol's reference lists it."""

    key: str
    kind: str  # the JSON type, as a reader would say it
    doc: str


def show(value: Any) -> str:
    """A value given, quoted back in an error: short, and never an exception of its own."""
    try:
        text = repr(value) if isinstance(value, str) else json.dumps(value)
    except (ValueError, RecursionError):
        text = type(value).__name__
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


def names(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise BadRequest(f"names = {show(value)}: expected a list of names")
    if len(value) > MAX_NAMES:
        raise BadRequest(f"names: {len(value)} names; at most {MAX_NAMES}")
    return tuple(name("names", item) for item in value)


def name(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise BadRequest(f"{key} = {show(value)}: expected a service or process name")
    if len(value) > MAX_NAME_LENGTH:
        raise BadRequest(f"{key}: a name of {len(value)} characters; at most {MAX_NAME_LENGTH}")
    return value


def flag(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise BadRequest(f"{key} = {show(value)}: expected true or false")
    return value


def choice(key: str, value: Any, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise BadRequest(f"{key} = {show(value)}: expected one of {', '.join(allowed)}")
    return value


def integer(key: str, value: Any, low: int, high: int) -> int:
    # JSON has one number type: 3.0 is accepted as 3, but true is not 1.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadRequest(f"{key} = {show(value)}: expected a whole number from {low} to {high}")
    return value


def seconds(key: str, value: Any, high: float) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 <= value <= high
    ):
        raise BadRequest(f"{key} = {show(value)}: expected seconds from 0 to {high:g}")
    return float(value)


def signal_name(key: str, value: Any) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_SIGNAL_NAME:
        raise BadRequest(f"{key} = {show(value)}: expected a signal name such as TERM")
    return value
