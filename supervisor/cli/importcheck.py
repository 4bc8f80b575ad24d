"""`supervisor check --import`: import each manager class in a throwaway child, report failures.

`check` alone proves what it can without importing (the class path's shape, for `[openstack]`
the module's file); an import can still fail on a missing dependency or a bug at module level.
The supervisor never imports manager code, so each distinct class is imported in a child of its
own, in the service's environment and working directory, as the service would import it: an
OpenStack class after Cinder's monkey patching and `objects.register_all()`.  The children run
at once; each is given `timeout` seconds.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass

from supervisor.config import Plan
from supervisor.shared.exits import EXIT_OK

DEFAULT_TIMEOUT = 120.0


@dataclass(frozen=True)
class ImportResult:
    manager: str
    processes: tuple[str, ...]
    error: str | None  # None: imported

    def render(self) -> str:
        names = ", ".join(self.processes)
        outcome = "imported" if self.error is None else f"cannot import: {self.error}"
        return f"{names}: {self.manager}: {outcome}"


def import_managers(plan: Plan, timeout: float = DEFAULT_TIMEOUT) -> list[ImportResult]:
    groups: dict[tuple[str, str, str | None, tuple[tuple[str, str], ...]], list[str]] = {}
    for process in plan.processes:
        if process.resolution is None or process.spec is None:
            continue
        key = (
            process.resolution.manager,
            process.spec.runtime,
            process.settings.directory,
            process.settings.env,
        )
        groups.setdefault(key, []).append(process.name)
    started = [(key, names, _start(*key)) for key, names in groups.items()]
    return [
        ImportResult(key[0], tuple(names), _outcome(child, timeout))
        for key, names, child in started
    ]


def _start(
    manager: str, runtime: str, directory: str | None, env: tuple[tuple[str, str], ...]
) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "supervisor.cmd.importclass", manager, "--runtime", runtime]
    return subprocess.Popen(
        argv,
        cwd=directory,
        env={**os.environ, **dict(env)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        process_group=0,
    )


def _outcome(child: subprocess.Popen[str], timeout: float) -> str | None:
    try:
        _, stderr = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, 9)
        child.wait()
        return f"no answer within {timeout:g}s"
    if child.returncode == EXIT_OK:
        return None
    lines = [line for line in stderr.splitlines() if line.strip()]
    return lines[-1] if lines else f"exit status {child.returncode}"
