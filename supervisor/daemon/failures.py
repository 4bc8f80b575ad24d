"""What the supervisor does with an exception it caught instead of dying of it.

Every one becomes an `error` event with where it happened and its traceback.  A failing loop
callback is survived, unless callbacks fail faster than the loop can do anything else (more
than `ERROR_STORM` within `ERROR_WINDOW` seconds): then the loop is only spinning on one fault,
and `LoopFailing` ends the group.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from supervisor.shared.errors import error_fields, error_text

# error_text and error_fields live in `shared.errors`, for every edge that reports an exception.
__all__ = [
    "ERROR_STORM",
    "ERROR_WINDOW",
    "FailureReporter",
    "LoopFailing",
    "describe",
    "error_fields",
    "error_text",
]

ERROR_STORM = 50
ERROR_WINDOW = 1.0


class LoopFailing(RuntimeError):
    """Callbacks fail faster than the loop can do anything else."""


def describe(callback: Callable[..., Any]) -> str:
    """A callback's name for the event log: its function's qualified name."""
    target = callback.func if isinstance(callback, functools.partial) else callback
    return getattr(target, "__qualname__", repr(target))


class FailureReporter:
    def __init__(self, emit: Callable[..., None], clock: Callable[[], float]) -> None:
        self._emit = emit
        self._clock = clock
        self._recent: list[float] = []  # when callbacks failed, within ERROR_WINDOW

    def report(self, where: str, error: BaseException) -> None:
        self._emit("error", where=where, **error_fields(error))

    def on_loop_error(self, error: Exception, callback: Callable[[], None]) -> None:
        """The loop's error handler: report, and go on unless failures come in a storm."""
        self.report(describe(callback), error)
        now = self._clock()
        self._recent = [t for t in self._recent if now - t < ERROR_WINDOW]
        self._recent.append(now)
        if len(self._recent) > ERROR_STORM:
            raise LoopFailing(
                f"{len(self._recent)} failures within {ERROR_WINDOW:g}s, "
                f"the last: {error_text(error)}"
            ) from error
