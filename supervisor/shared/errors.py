"""An exception caught instead of dying of it, as words: one line for a reply or a message, and
the fields of an `error` event (the line and its traceback)."""

from __future__ import annotations

import traceback


def error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def error_fields(error: BaseException) -> dict[str, str]:
    """The `error` and `traceback` fields of an `error` event."""
    return {
        "error": error_text(error),
        "traceback": "".join(traceback.format_exception(error)),
    }
