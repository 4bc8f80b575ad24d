"""The control protocol's requests, checked field by field at the edge into typed values.

`parse` turns one line from the socket into the typed request of one verb, or raises
`BadRequest` naming the field, the value given and what is allowed.  Which verbs exist, which
fields each takes and how each is checked is declared once per verb (`control.verbs`); here is
only what every request shares: one JSON object, a known `command`, no field the verb does not
take (an error rather than something silently ignored, as a misspelt option is), and the fields
without which it means nothing.  Every type, range and size is checked here, so the handlers
behind the socket trust what they get.
"""

from __future__ import annotations

import json
from typing import Any

from supervisor.control.fields import BadRequest, Message, show
from supervisor.control.verbs import BY_NAME
from supervisor.control.verbs.acting import Act, Fault, Signal
from supervisor.control.verbs.base import Verb
from supervisor.control.verbs.changing import Reload, Scale
from supervisor.control.verbs.lending import Attach, Attached, Detach
from supervisor.control.verbs.reading import Logs, Status, Subscribe
from supervisor.control.verbs.waiting import WAIT_CONDITIONS, Shutdown, Wait

__all__ = [
    "COMMANDS",
    "WAIT_CONDITIONS",
    "Act",
    "Attach",
    "Attached",
    "BadRequest",
    "Detach",
    "Fault",
    "Logs",
    "Message",
    "Reload",
    "Request",
    "Scale",
    "Shutdown",
    "Signal",
    "Status",
    "Subscribe",
    "Wait",
    "parse",
]

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
COMMANDS = tuple(BY_NAME)


def _fields(verb: Verb, request: dict[str, Any]) -> dict[str, Any]:
    fields = {key: value for key, value in request.items() if key != "command"}
    allowed = verb.keys
    unknown = [key for key in fields if key not in allowed]
    if unknown:
        takes = ", ".join(allowed) or "no fields"
        raise BadRequest(f"{show(unknown[0])}: {verb.name!r} takes {takes}")
    if any(key not in fields for key in verb.required):
        raise BadRequest(verb.missing)
    return fields


def parse(line: bytes) -> Request:
    """One request line, checked completely; BadRequest says what is wrong with it."""
    try:
        request = json.loads(line)
    except (ValueError, RecursionError) as error:
        # ValueError covers bad UTF-8 as well; RecursionError a pathologically nested value.
        raise BadRequest(f"not JSON: {error}") from None
    if not isinstance(request, dict):
        raise BadRequest(f"expected an object, got {show(request)}")
    command = request.get("command")
    if not isinstance(command, str):
        raise BadRequest("expected a string 'command'")
    verb = BY_NAME.get(command)
    if verb is None:
        raise BadRequest(f"unknown command {show(command)}; known: {', '.join(COMMANDS)}")
    parsed: Request = verb.request(_fields(verb, request))
    return parsed
