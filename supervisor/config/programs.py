"""Every program a plan runs, found now as its start will find it: so that whatever `check`
accepts, `run` can start.

A command's (or an exec probe's) first word is looked up as `subprocess` will look it up when
the process starts: a name without a slash on the PATH of the process's environment (its own
`PATH` when the service's `env` or env files set one, else the supervisor's; `os.defpath`
when neither has one), a relative entry of that PATH, and a relative program with a slash,
from the process's working directory (its `directory`, else the directory the supervisor runs
in).  It is judged after interpolation and placeholders, per process, each distinct lookup
once.  A manager service runs this interpreter: there is nothing to find.

A program removed after the file was checked still fails its start, as any start can fail.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path

from supervisor.config.plan import Plan, ProcessPlan
from supervisor.config.schema import TableReader

_ROLES = ("readiness", "liveness")


def check_programs(plan: Plan, root: TableReader, already: Collection[str]) -> None:
    """A problem at each `command` and probe `exec` whose program cannot be run; none at a key
    that has a problem already (`already`: their dotted keys), whose value is not what runs."""
    services = root.table("services")
    judged: dict[tuple[str, str | None, str | None], str | None] = {}  # each lookup once
    told: set[tuple[str, tuple[str, ...], tuple[str, str | None, str | None]]] = set()
    for process in plan.processes:
        if process.spec is not None:
            continue
        reader = services.table(process.service)
        own_path = dict(process.settings.env).get("PATH")
        for key, argv, shown in _programs(process):
            if ".".join((*reader.path, *key)) in already or not argv:
                continue
            lookup = (argv[0], own_path, process.settings.directory)
            if lookup not in judged:
                judged[lookup] = program_problem(*lookup)
            problem = judged[lookup]
            if problem is not None and (process.service, key, lookup) not in told:
                told.add((process.service, key, lookup))  # once for all workers of a service
                secret = shown != argv[0]  # from an env file: its value stays unsaid
                reader.problem(key, shown, problem.replace(argv[0], "***") if secret else problem)


def _programs(process: ProcessPlan) -> list[tuple[tuple[str, ...], tuple[str, ...], str]]:
    """(key, argv, the program as `check` shows it) of the command and each exec probe."""
    shown_argv = process.argv if process.shown is None else process.shown.argv
    found = [(("command",), process.argv, shown_argv[0] if shown_argv else "")]
    for role in _ROLES:
        probe = getattr(process.settings, role)
        if probe is not None and probe.exec:
            found.append(((role, "exec"), probe.exec, probe.exec[0]))
    return found


def program_problem(program: str, own_path: str | None, directory: str | None) -> str | None:
    """Why `program` cannot be exec'd, with the service's own PATH (None: it sets none) in
    its working directory (None: the current one), or None when it can."""
    here = Path(directory) if directory else Path.cwd()
    if "/" in program:
        problem = _file_problem(here / program)
        if problem is None or program.startswith("/"):
            return problem
        where = "the service's directory" if directory else "the current directory"
        return f"{problem} (relative to {where})"
    path = own_path if own_path is not None else os.environ.get("PATH")
    search = os.get_exec_path({} if path is None else {"PATH": path})
    if own_path is not None:
        whose = "the service's PATH"
    elif path is not None:
        whose = "the supervisor's PATH"
    else:
        whose = "the default PATH (the supervisor has none)"
    not_executable = []
    for entry in search:
        candidate = here / entry / program  # an empty or relative entry: from `here`
        problem = _file_problem(candidate)
        if problem is None:
            return None
        if problem.startswith("not executable"):
            not_executable.append(str(candidate))
    searched = f"{whose} {os.pathsep.join(search)}"
    if not_executable:
        return f"not executable: {', '.join(not_executable)} (searched {searched})"
    return f"not found on {searched}"


def _file_problem(path: Path) -> str | None:
    try:
        if path.is_dir():
            return f"a directory, not a program: {path}"
        if not path.exists():
            return f"no such file: {path}"
    except OSError as error:  # a name too long, a loop of links
        return f"cannot be looked up: {path}: {error.strerror}"
    if not os.access(path, os.X_OK):
        return f"not executable: {path}"
    return None
