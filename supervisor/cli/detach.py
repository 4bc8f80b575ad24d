"""`supervisor run --detach`: the same `run`, in the background, as `supervisord` without
`nodaemon` or `process-compose -D` start it.

The file is judged here first (an invalid one fails in the foreground, as `run` does), and a
supervisor that already answers for the state directory is refused as `run` refuses it.  Then
`supervisor run` (without --detach) is started in a session of its own (`setsid`: no terminal,
so no hang-up or Ctrl-C of the shell reaches it), stdin from /dev/null, its console (event
lines and every process's output) appended to `<state_dir>/supervisor.log`.  This command
waits until the supervisor answers on its control socket, and says its pid and where its
console goes; if the supervisor ends first (the lock taken in between, the file broken in
between), what it wrote is printed here and its exit status is this command's.  Nothing here
forks a Python process: the supervisor is a fresh interpreter, as a `run` in a shell is.
"""

from __future__ import annotations

import argparse
import os
import select
import subprocess
import sys
import time
from pathlib import Path

from supervisor.control.address import owner_pid
from supervisor.control.client import ControlClient, LostSupervisor, NotRunning, Unreachable
from supervisor.shared.exits import EXIT_ALREADY_RUNNING, EXIT_OK, EXIT_TIMEOUT

CONSOLE_LOG = "supervisor.log"  # in the state directory
# How long the supervisor has to answer on its socket: its start before that is taking the
# lock, forking its sentinel and opening its files, well under a second on a loaded machine.
ANSWER_TIMEOUT = 60.0
_LOOK_INTERVAL = 0.05  # between two tries of the socket, unless the supervisor ends first


def start_detached(args: argparse.Namespace, state_dir: Path, log_max_bytes: int) -> int:
    """Start `supervisor run` for `args` in the background; the exit status of this command."""
    running = _answering_pid(state_dir)
    if running is not None:
        print(
            f"supervisor: a supervisor is already running for {state_dir} (pid {running})",
            file=sys.stderr,
        )
        return EXIT_ALREADY_RUNNING
    log = state_dir / CONSOLE_LOG
    state_dir.mkdir(parents=True, exist_ok=True)
    _rotate(log, log_max_bytes)
    only = [f"--only={name}" for name in args.only or ()]
    # Its console is a file: the events only, as supervisord's own log; every process's output
    # is in its log file already, and a second copy would grow without bound.
    command = [sys.executable, "-m", "supervisor", "run", "-c", str(args.config), *only]
    command.append("--console=events")
    with log.open("ab") as console:
        start = console.tell()
        child = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=console,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    status = _wait_for_answer(child, state_dir)
    if status is None:
        print(
            f"supervisor: running in the background, pid {child.pid}; its console goes to "
            f"{log}; `supervisor shutdown` ends it"
        )
        return EXIT_OK
    if status == EXIT_TIMEOUT:
        print(
            f"supervisor: the supervisor (pid {child.pid}) did not answer on its control socket "
            f"within {ANSWER_TIMEOUT:g}s; it is left running; its console: {log}",
            file=sys.stderr,
        )
        return status
    # It ended before it answered: what it said is the reason.
    with log.open("rb") as written:
        written.seek(start)
        said = written.read().decode(errors="replace")
    sys.stderr.write(said if said.endswith("\n") or not said else said + "\n")
    print(
        f"supervisor: the detached supervisor ended at its start with exit status {status} "
        f"(its console: {log})",
        file=sys.stderr,
    )
    return status


def _answering_pid(state_dir: Path) -> int | str | None:
    """The pid of a supervisor that answers for `state_dir` ("unknown" if its lock file does
    not say), or None if none does."""
    try:
        with ControlClient(state_dir, timeout=5.0) as client:
            client.request("status", names=[])
    except (NotRunning, LostSupervisor):
        return None
    except (Unreachable, TimeoutError):
        pass  # something holds the socket: not a place to start a second supervisor
    return owner_pid(state_dir) or "unknown"


def _wait_for_answer(child: subprocess.Popen[bytes], state_dir: Path) -> int | None:
    """None once the supervisor answers; its exit status if it ends first; EXIT_TIMEOUT."""
    deadline = time.monotonic() + ANSWER_TIMEOUT
    ended = os.pidfd_open(child.pid)
    try:
        while True:
            if _answers(state_dir):
                return None
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return EXIT_TIMEOUT
            # Wake at once if it ends; else look at the socket again shortly.
            if select.select([ended], [], [], min(_LOOK_INTERVAL, remaining))[0]:
                return child.wait()
    finally:
        os.close(ended)


def _answers(state_dir: Path) -> bool:
    try:
        with ControlClient(state_dir, timeout=5.0) as client:
            return bool(client.request("status", names=[]).get("ok"))
    except (NotRunning, LostSupervisor, Unreachable, TimeoutError):
        return False


def _rotate(log: Path, max_bytes: int) -> None:
    """Before a new start, a console log past `log_max_bytes` becomes `supervisor.log.1` (the
    one before is dropped): a running supervisor's log is never rotated under it."""
    try:
        if log.stat().st_size > max_bytes:
            os.replace(log, log.with_name(log.name + ".1"))
    except FileNotFoundError:
        pass
