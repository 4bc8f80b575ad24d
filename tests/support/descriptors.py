"""Which open files two processes share, asked of the kernel (kcmp(2)), not guessed from names.

`/proc/PID/fd` links name a pipe or a socket by inode, but every epoll, eventfd or signalfd is
`anon_inode:[...]` with one inode for all: only kcmp's KCMP_FILE says whether two descriptors
are the same open file description."""

from __future__ import annotations

import ctypes
import os
import platform

_KCMP = {"x86_64": 312, "aarch64": 272, "riscv64": 272, "ppc64le": 354, "s390x": 343}
_KCMP_FILE = 0
_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def open_descriptors(pid: int) -> dict[int, str]:
    """fd -> what it is open on (`socket:[inode]`, `pipe:[inode]`, a path)."""
    found = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            found[int(fd)] = os.readlink(f"/proc/{pid}/fd/{fd}")
        except FileNotFoundError:  # closed since the listing
            continue
    return found


def same_open_file(pid: int, fd: int, other_pid: int, other_fd: int) -> bool:
    result = _libc.syscall(
        ctypes.c_long(_KCMP[platform.machine()]),
        ctypes.c_int(pid),
        ctypes.c_int(other_pid),
        ctypes.c_int(_KCMP_FILE),
        ctypes.c_ulong(fd),
        ctypes.c_ulong(other_fd),
    )
    if result < 0:
        error = ctypes.get_errno()
        raise OSError(error, f"kcmp({pid}, {other_pid}): {os.strerror(error)}")
    return result == 0


def shared_with(pid: int, template: int) -> dict[int, str]:
    """The descriptors of `pid` that are the very open files of `template` (none of /dev/null,
    which is no handle on anything)."""
    theirs = [fd for fd, what in open_descriptors(template).items() if what != "/dev/null"]
    return {
        fd: what
        for fd, what in open_descriptors(pid).items()
        if what != "/dev/null" and any(same_open_file(pid, fd, template, t) for t in theirs)
    }
