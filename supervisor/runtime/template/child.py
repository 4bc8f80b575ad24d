"""What a process forked from a template does before any code of its service runs.

In order: its own process group (as an exec'd one gets from the supervisor), its unit's cgroup
(where clone3 could not have it born there), its own stdin/stdout/stderr, no other file
descriptor of the template (the socket objects detached first, so no wrapper closes a reused
number later), a fresh eventlet hub if one was ever made, its own working directory,
environment, argv, title and signal dispositions, and what an OpenStack child must make afresh
(a database engine, an RPC transport: none exists in a healthy template, and any found is
dropped).  Then the same dispatch an exec'd process runs; its exit status is the process's.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import posix
import signal
import sys
import traceback
from typing import Any

_OPEN_MAX = 1 << 20


def become(request: dict[str, Any], fds: list[int], cgroup_fd: int | None, born: bool) -> None:
    """Never returns: the process exits with its service's status."""
    code = 1
    try:
        posix.setpgid(0, 0)
        if cgroup_fd is not None and not born:
            procs = posix.open("cgroup.procs", posix.O_WRONLY, dir_fd=cgroup_fd)
            posix.write(procs, b"0")
            posix.close(procs)
        _drop_hub()
        for target, fd in enumerate(fds[:3]):
            posix.dup2(fd, target)
        posix.closerange(3, _OPEN_MAX)
        if request.get("cwd"):
            posix.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        argv = request["argv"]
        sys.argv = [_entry_path(), *argv[3:]]
        for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        _make_afresh()
        from setproctitle import setproctitle

        setproctitle(request["title"])
        from supervisor.cmd.dispatch import run

        code = _status(run, argv[3:])
    finally:
        _finish(code)


def _status(run: Any, argv: list[str]) -> int:
    """The exit status an interpreter would give for what `run` did."""
    try:
        result = run(argv)
    except SystemExit as exit:
        result = exit.code
    except BaseException:
        traceback.print_exc()
        return 1
    if result is None:
        return 0
    if isinstance(result, int):
        return result
    print(result, file=sys.stderr)
    return 1


def _finish(code: int) -> None:
    """As the interpreter ends: threads joined, atexit handlers, buffers flushed."""
    try:
        import threading

        threading._shutdown()  # type: ignore[attr-defined]
    except BaseException:
        pass
    with contextlib.suppress(BaseException):
        atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BaseException):
            stream.flush()
    posix._exit(code)


def _entry_path() -> str:
    """argv[0] as `python -m supervisor.cmd` has it: the entry module's file."""
    import supervisor.cmd

    return os.path.join(os.path.dirname(supervisor.cmd.__file__), "__main__.py")


def _drop_hub() -> None:
    """A hub made in the template holds an epoll of its own: dropped (closing it) before the
    descriptors go, so the service makes a fresh one."""
    hubs = sys.modules.get("eventlet.hubs")
    if hubs is not None:
        local = getattr(hubs, "_threadlocal", None)
        if local is not None:
            local.__dict__.pop("hub", None)


def _make_afresh() -> None:
    """Cinder's launcher disposes the database pool before each fork and the service makes its
    own transport; a template never creates either, and this keeps a fork right if one did."""
    rpc = sys.modules.get("cinder.rpc")
    if rpc is not None:
        for name in ("TRANSPORT", "NOTIFICATION_TRANSPORT", "NOTIFIER"):
            setattr(rpc, name, None)
    api = sys.modules.get("cinder.db.sqlalchemy.api")
    facade = getattr(api, "main_context_manager", None) if api is not None else None
    if facade is not None and getattr(facade, "_factory", None) is not None:
        factory = facade._factory
        if getattr(factory, "_started", False):
            # The pooled connections belong to the template; the child opens its own.
            engine = getattr(factory, "_writer_engine", None)
            if engine is not None:
                engine.dispose(close=False)
