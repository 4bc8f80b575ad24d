"""Forking a process that is born the supervisor's child, and in its unit's cgroup.

A template is the supervisor's child; what it forks must be the supervisor's child too, so that
the supervisor watches it through a pidfd and reaps it as it does an exec'd process.  Linux's
CLONE_PARENT gives the new process its creator's parent: no double fork, no subreaper, no
instant in which the process belongs to the template.  clone3's CLONE_INTO_CGROUP (Linux 5.7)
also has it born in the unit's cgroup, with no migration of anyone; where clone3 is refused
(an old kernel, a seccomp filter) plain clone(CLONE_PARENT) is used and the child writes itself
into the cgroup before it runs any code of the service.

CPython's own fork bookkeeping (at-fork hooks: the random module's reseed, the import lock,
thread states) is run around the raw system call with PyOS_BeforeFork and PyOS_AfterFork_*,
exactly as os.fork does; the call is made through PyDLL, which keeps the GIL held.
"""

from __future__ import annotations

import ctypes
import platform
import signal

CLONE_PARENT = 0x0000_8000
CLONE_INTO_CGROUP = 0x2_0000_0000
_SYS_CLONE3 = 435  # the same number on every 64-bit architecture Linux has
_SYS_CLONE = {"x86_64": 56, "aarch64": 220, "ppc64le": 120, "s390x": 120, "riscv64": 220}
_FALLBACK_ERRNOS = {38, 1, 22}  # ENOSYS, EPERM (seccomp), EINVAL (no CLONE_INTO_CGROUP)


class _CloneArgs(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_uint64)
        for name in (
            "flags",
            "pidfd",
            "child_tid",
            "parent_tid",
            "exit_signal",
            "stack",
            "stack_size",
            "tls",
            "set_tid",
            "set_tid_size",
            "cgroup",
        )
    ]


_python = ctypes.PyDLL(None, use_errno=True)
_syscall = _python.syscall
_syscall.restype = ctypes.c_long
_clone3_works = True


def fork_sibling(cgroup_fd: int | None, *, sibling: bool = True) -> tuple[int, bool]:
    """Fork a process whose parent is this process's parent; return its pid (0 in the child)
    and whether it was born in the cgroup `cgroup_fd` (else the child must move itself).
    `sibling=False` makes it this process's own child (`scripts/bench spawn` times it so)."""
    global _clone3_works
    ctypes.pythonapi.PyOS_BeforeFork()
    in_cgroup = False
    parent_flag = CLONE_PARENT if sibling else 0
    try:
        pid = -1
        if _clone3_works:
            # exit_signal: with CLONE_PARENT it stays 0, the kernel takes this process's own
            # (SIGCHLD to the supervisor) and refuses any other (EINVAL).
            args = _CloneArgs(flags=parent_flag, exit_signal=0 if sibling else signal.SIGCHLD)
            if cgroup_fd is not None:
                args.flags |= CLONE_INTO_CGROUP
                args.cgroup = cgroup_fd
            pid = _syscall(
                ctypes.c_long(_SYS_CLONE3), ctypes.byref(args), ctypes.c_size_t(ctypes.sizeof(args))
            )
            if pid < 0 and ctypes.get_errno() in _FALLBACK_ERRNOS:
                _clone3_works = False
            in_cgroup = pid >= 0 and cgroup_fd is not None
        if pid < 0:
            number = _SYS_CLONE[platform.machine()]
            zero = ctypes.c_long(0)
            pid = _syscall(
                ctypes.c_long(number),
                ctypes.c_long(parent_flag | signal.SIGCHLD),
                zero,
                zero,
                zero,
                zero,
            )
    except BaseException:
        ctypes.pythonapi.PyOS_AfterFork_Parent()
        raise
    if pid == 0:
        ctypes.pythonapi.PyOS_AfterFork_Child()
        return 0, in_cgroup
    ctypes.pythonapi.PyOS_AfterFork_Parent()
    if pid < 0:
        code = ctypes.get_errno()
        import os

        raise OSError(code, f"clone: {os.strerror(code)}")
    return pid, in_cgroup


def clone3_used() -> bool:
    """Whether the last fork went through clone3 (False once the kernel refused it)."""
    return _clone3_works
