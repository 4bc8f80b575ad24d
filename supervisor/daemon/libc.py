"""The C library's functions that the standard library does not wrap (inotify, mallopt),
through ctypes, loaded once and only when first needed: a supervisor that never calls one
never imports ctypes."""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ctypes


@functools.cache
def libc() -> ctypes.CDLL:
    """The process's own symbols, libc's among them (ctypes.util.find_library would run
    `ldconfig -p` in a child process to find what is already loaded); OSError where ctypes
    cannot be had."""
    try:
        import ctypes
    except ImportError as error:
        raise OSError(f"ctypes is not available: {error}") from error
    return ctypes.CDLL(None, use_errno=True)


def checked(result: int) -> int:
    """A libc call's result; OSError with its errno where it failed (returned -1)."""
    if result < 0:
        import ctypes

        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))
    return result
