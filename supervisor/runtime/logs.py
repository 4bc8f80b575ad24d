"""Logging inside a service process: short human lines on stderr.

The supervisor captures stderr and adds the process name and time, so a line carries only the
level, the event and its fields.  The standard library's logging (used by third-party manager
code) is sent the same way.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog


def configure_logging(*, debug: bool = False) -> None:
    level = logging.DEBUG if debug else logging.INFO
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.format_exc_info,
            _render,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )


def _render(_logger: object, _method: str, event: MutableMapping[str, Any]) -> str:
    level = str(event.pop("level")).upper()
    message = str(event.pop("event"))
    traceback = event.pop("exception", None)
    fields = [f"{key}={_field_value(value)}" for key, value in event.items()]
    line = " ".join([level, message, *fields])
    return f"{line}\n{traceback}" if traceback else line


def _field_value(value: object) -> str:
    text = str(value)
    return repr(text) if not text or any(char.isspace() for char in text) else text
