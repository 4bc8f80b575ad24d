"""`supervisor attach NAME`: run one process of a running stack in this terminal, for `pdb`.

The supervisor stops the process (held, so nothing restarts it; its dependants and siblings
run on) and answers with the spec of a run (see `daemon.attach`).  This command runs it as its
own child with that spec and this terminal as stdin, stdout and stderr: a `breakpoint()` stops
at a `(Pdb)` prompt here.  The child stays in the terminal's foreground process group, so
Ctrl-C, Ctrl-Z and Ctrl-D reach it as they would a command run from the shell; this command
ignores Ctrl-C and Ctrl-\\ meanwhile, as a shell does while a command runs.

When the child ends, the supervisor is told (`detach`) and starts the process again as its own
child; if this command dies first, the kernel kills the child (PR_SET_PDEATHSIG) and the
supervisor, seeing the connection close, takes the process back all the same.  If the
supervisor goes away, the child is stopped as the supervisor would stop it: its stop signal,
SIGKILL after its stop_timeout.  Exit status: the child's own (128 + N for a signal); 3 if the
supervisor went away meanwhile; else the usual statuses of a command that asks the supervisor.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import select
import signal
import sys
from pathlib import Path
from typing import Any, NoReturn

from supervisor.cli.remote import _ask, asks_the_supervisor
from supervisor.control.client import ControlClient
from supervisor.shared.exits import EXIT_NOT_RUNNING

_PR_SET_PDEATHSIG = 1
_EXEC_FAILED = 127  # as a shell reports a command it could not run
# Signals the terminal sends the whole foreground group: the child's to handle, not ours.
_TERMINAL_SIGNALS = (signal.SIGINT, signal.SIGQUIT)


def add_attach_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="one process (a service of one process)")


@asks_the_supervisor
def run_attach(args: argparse.Namespace, state_dir: Path) -> int:
    # No timeout: the stop may take the process's stop_timeout, and the run is the user's.
    with ControlClient(state_dir, timeout=None) as client:
        spec = _ask(client, "attach", name=args.name)
        name = spec["process"]
        _say(f"{name} is stopped under the supervisor and runs here; when it ends (or Ctrl-D")
        _say("  at its prompt ends it) the supervisor starts it again as its own child")
        previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in _TERMINAL_SIGNALS}
        try:
            pid = _spawn(spec, previous)
            try:
                _ask(client, "attached", name=name, pid=pid)
            except BaseException:
                _end(pid, signal.SIGKILL)
                raise
            return _supervise(client, name, pid, spec["stop_signal"], spec["stop_timeout"])
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _supervise(
    client: ControlClient, name: str, pid: int, stop_signal: int, stop_timeout: float
) -> int:
    """Wait for the child; hand it back when it ends.  Its exit status, as a shell's."""
    pidfd = os.pidfd_open(pid)
    try:
        while True:
            ready, _, _ = select.select([pidfd, client.fileno()], [], [])
            if pidfd in ready:
                break
            if not client.next_line():  # the supervisor said nothing more: it is gone
                status = _stop(pid, pidfd, stop_signal, stop_timeout)
                _say(f"the supervisor went away; {name} was stopped (exit status {status})")
                return EXIT_NOT_RUNNING
    finally:
        os.close(pidfd)
    status = _reap(pid)
    reply = _ask(client, "detach", name=name, exit_status=status)
    again = f"pid {reply['pid']}" if reply.get("pid") else str(reply.get("state"))
    _say(f"{name} ended here (exit status {status}); the supervisor has it again ({again})")
    return status


def _spawn(spec: dict[str, Any], handlers: dict[int, Any]) -> int:
    from supervisor.daemon.libc import libc

    libc()  # loaded before the fork: the child only calls it
    pid = os.fork()
    if pid == 0:
        _become(spec, handlers)
    return pid


def _become(spec: dict[str, Any], handlers: dict[int, Any]) -> NoReturn:
    """In the child: die with this command, join the unit's cgroup, take its identity and
    directory, exec.  Nothing here may return."""
    try:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)  # ignored here, not in the process: Ctrl-C is its own
        parent = os.getppid()
        _die_with_parent()
        if os.getppid() != parent:
            os._exit(_EXEC_FAILED)  # the command died before the line above took effect
        if spec["cgroup"]:
            _join_cgroup(spec["process"], spec["cgroup"])
        identity = spec["identity"]
        if identity is not None:
            os.setgroups(identity["groups"])
            os.setgid(identity["gid"])
            os.setuid(identity["uid"])
        if spec["directory"]:
            os.chdir(spec["directory"])
        argv = spec["argv"]
        os.execvpe(argv[0], argv, spec["env"])
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.write(2, f"supervisor: cannot run {spec['process']}: {error}\n".encode())
    os._exit(_EXEC_FAILED)


def _die_with_parent() -> None:
    """SIGKILL when this command ends: a process nobody watches must not run on in a terminal
    while the supervisor starts another run of it."""
    from supervisor.daemon.libc import checked, libc

    checked(libc().prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0))


def _join_cgroup(name: str, path: str) -> None:
    try:
        Path(path, "cgroup.procs").write_text("0")
    except OSError as error:
        _say(f"cannot join {name}'s cgroup {path} ({error.strerror}): it runs outside it")


def _stop(pid: int, pidfd: int, stop_signal: int, stop_timeout: float) -> int:
    """As the supervisor stops a process: its stop signal, SIGKILL after stop_timeout (one
    waiting at a `(Pdb)` prompt takes a SIGTERM handler's flag and waits on)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, stop_signal)
    if not select.select([pidfd], [], [], stop_timeout)[0]:
        _say(f"still running {stop_timeout:g}s after its stop signal: killing it")
        return _end(pid, signal.SIGKILL)
    return _reap(pid)


def _end(pid: int, signum: int) -> int:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)
    return _reap(pid)


def _reap(pid: int) -> int:
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


def _say(line: str) -> None:
    print(f"supervisor: {line}", file=sys.stderr, flush=True)
