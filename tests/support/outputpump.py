"""Real processes whose output goes through an OutputPump, as the supervisor runs them."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator

from supervisor.daemon.output import OutputPump

# Longer than the suite's usual wait (tests.support.waiting): some of these tests move megabytes
# through pipes.
TIMEOUT = 20.0


@contextlib.contextmanager
def started(
    pump: OutputPump, name: str, argv: list[str], **limits: int
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `argv` with its output through the pump; its whole process group dies on the way out."""
    with pump.attach(name, **limits) as pipes:
        process = subprocess.Popen(
            argv,
            stdout=pipes.stdout,
            stderr=pipes.stderr,
            stdin=subprocess.DEVNULL,
            process_group=0,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def run_to_end(pump: OutputPump, name: str, argv: list[str], **limits: int) -> int:
    with started(pump, name, argv, **limits) as process:
        return process.wait(TIMEOUT)


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]
