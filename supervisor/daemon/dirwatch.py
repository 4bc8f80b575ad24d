"""Being told, by the kernel, when something in a directory is removed or replaced.

Linux's inotify, reached through libc with ctypes (the standard library has no binding): the
state directory's healer waits on this file descriptor in the loop instead of looking at the
directory every second, so an idle supervisor makes no system call at all.

The watch reports an entry removed (`rm`), moved away or moved in over an old one (`mv`), and
the directory itself removed or moved.  It does not report files written or created: the
supervisor's own appends and the sockets it binds would wake it for nothing.  After the
directory is replaced, `rewatch` points the watch at the new one.  Where inotify cannot be had
(no libc symbol, the per-user watch limit reached), `DirectoryWatch.open` says so with an
`OSError` and the caller keeps a timer instead.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from supervisor.daemon.libc import checked, libc

if TYPE_CHECKING:
    import ctypes

# From <sys/inotify.h>.
IN_MOVED_FROM = 0x00000040
IN_MOVED_TO = 0x00000080
IN_DELETE = 0x00000200
IN_DELETE_SELF = 0x00000400
IN_MOVE_SELF = 0x00000800
IN_ONLYDIR = 0x01000000
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = os.O_CLOEXEC
_MASK = IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR


def _inotify() -> ctypes.CDLL:
    """libc, with inotify's argument types declared."""
    lib = libc()
    import ctypes  # loaded by now: libc() imported it

    lib.inotify_init1.argtypes = [ctypes.c_int]
    lib.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
    return lib


class DirectoryWatch:
    """One inotify descriptor watching one directory; readable when something happened."""

    def __init__(self, lib: ctypes.CDLL, fd: int, path: Path) -> None:
        self._libc = lib
        self.fd = fd
        self.path = path

    @classmethod
    def open(cls, path: Path) -> DirectoryWatch:
        try:
            lib = _inotify()
        except (OSError, AttributeError) as error:  # no libc, or a libc without inotify
            raise OSError(f"inotify is not available: {error}") from error
        watch = cls(lib, checked(lib.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)), path)
        try:
            watch.rewatch()
        except OSError:
            watch.close()
            raise
        return watch

    def rewatch(self) -> None:
        """Watch whatever directory is at the path now (the same one again costs nothing)."""
        checked(self._libc.inotify_add_watch(self.fd, os.fsencode(self.path), _MASK))

    def drain(self) -> None:
        """Forget what was reported: the caller looks at the directory itself."""
        with contextlib.suppress(BlockingIOError):
            while os.read(self.fd, 65536):
                pass

    def close(self) -> None:
        os.close(self.fd)
