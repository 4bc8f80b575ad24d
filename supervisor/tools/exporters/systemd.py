"""`supervisor export systemd`: the stack as systemd unit files and one target that holds them.

One unit per process: `NAME.service` for a service of one process, and a template unit
`NAME@.service` for a service of several (backends: `cinder-volume@lvm-1.service`; workers:
`cinder-backup@2.service` for the process `cinder-backup#2`), whose `%i` stands for the backend or
the worker's number wherever the supervisor's own argv and environment hold it (the process
name, the host, the spec's backend and process_number).  A template is written only when
expanding `%i` gives back every process's argv and environment exactly; otherwise (a `{port}`
per worker) each process gets its own `NAME@INSTANCE.service` file.  `<stack>.target` wants every
unit, and every unit is PartOf= it, so the target starts and stops the group.

Each unit runs the binary the supervisor would run, with the environment `config.spawnenv`
computes for the supervisor too, so a manager resolves its manager class through the topic
convention exactly as it does under `supervisor run`.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from supervisor.config import Plan
from supervisor.tools.exporters.processes import ExportedProcess, exported_processes
from supervisor.tools.exporters.systemdsyntax import (
    environment_word,
    exec_line,
    is_environment_name,
    plain_value,
    templated,
    unit_name_part,
)
from supervisor.tools.exporters.systemdunits import Directives, service_directives

HEADER = (
    "# Written by `supervisor export systemd` from {config}: change that file and export again."
)
Warn = Callable[[str], None]
# The search path systemd resolves a bare ExecStart= program on (and puts in every service's
# environment, systemd.exec(5)), whatever the unit's Environment=PATH= says.
SYSTEMD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin"


# Targets systemd itself defines (systemd.special(7)) that a directory may well be named after:
# a stack's target of that name would replace the system's own.
_SPECIAL_TARGETS = frozenset(
    [
        "basic",
        "default",
        "emergency",
        "exit",
        "final",
        "graphical",
        "halt",
        "initrd",
        "kexec",
        "local-fs",
        "multi-user",
        "network",
        "network-online",
        "paths",
        "poweroff",
        "reboot",
        "remote-fs",
        "rescue",
        "shutdown",
        "sleep",
        "sockets",
        "swap",
        "sysinit",
        "timers",
    ]
)


def stack_name(plan: Plan, given: str | None = None) -> str:
    """The target's name: `--stack`, else `[supervisor] name` (whose default is the services
    file's directory, as compose names a project); made usable in a
    unit name, and never one of systemd's own targets (`default` becomes `default-stack`)."""
    name = unit_name_part(given or plan.name or plan.path.parent.name, "stack")
    return f"{name}-stack" if name in _SPECIAL_TARGETS else name


def unit_name(process: ExportedProcess) -> str:
    if process.instance is None:
        return f"{process.service}.service"
    return f"{process.service}@{process.instance}.service"


@dataclass(frozen=True)
class _Values:
    """What a unit file says about its process(es), raw (quoted when written)."""

    description: str
    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...]


def write_systemd(plan: Plan, directory: Path, stack: str, warn: Warn | None = None) -> list[Path]:
    """Write the units and the target into `directory`; return the files written, in start
    order, the target last.  What could only be approximated is said to `warn`, one line each
    (stderr by default), as well as in a comment in the unit."""
    say = warn or (lambda line: print(f"supervisor: export: {line}", file=sys.stderr))
    processes = exported_processes(plan)
    by_service: dict[str, list[ExportedProcess]] = {}
    for process in processes:
        by_service.setdefault(process.service, []).append(process)
    units_of = {service: [unit_name(p) for p in group] for service, group in by_service.items()}
    header = HEADER.format(config=plan.path)
    written: list[Path] = []
    for service, group in by_service.items():
        settings = group[0].settings
        requires = [unit for dependency in settings.depends_on for unit in units_of[dependency]]
        directives = service_directives(
            settings,
            requires,
            has_dependants=bool(plan.dependants.get(service)),
            is_manager=group[0].is_manager,
        )
        _unusable_names(group[0], directives)
        _program_note(group[0], directives)
        files = _service_files(plan, stack, group, directives, header, say)
        for name, text in files:
            path = directory / name
            path.write_text(text)
            written.append(path)
        for note in directives.notes:
            say(f"{files[0][0] if len(files) == 1 else service}: {note}")
    target = directory / f"{stack}.target"
    target.write_text(_target(plan, stack, [u for units in units_of.values() for u in units]))
    written.append(target)
    return written


def _unusable_names(process: ExportedProcess, directives: Directives) -> None:
    """Names systemd refuses in Environment= (it would ignore the line): said, not written."""
    unusable = [name for name in process.env if not is_environment_name(name)]
    if unusable:
        why = (
            f"env {', '.join(map(repr, unusable))}: not a name systemd takes"
            " (letters, digits and '_', not first a digit), so not passed"
        )
        directives.service.append(f"# Not mapped: {why}")
        directives.notes.append(why)


def _program_note(process: ExportedProcess, directives: Directives) -> None:
    """Why ExecStart= names its program by a path, where the services file does not."""
    program = process.argv[0]
    if process.is_manager:
        directives.program.append(
            "# ExecStart= names the interpreter by its path: the one this package is installed in"
        )
    elif "/" not in program and _executable(process) != program:
        where = "the service's own PATH" if "PATH" in process.env else "`supervisor export`'s PATH"
        why = f"{program} is not on systemd's own search path: ExecStart= names the one on {where}"
        directives.program.append(f"# {why}")
        directives.notes.append(why)


def _service_files(
    plan: Plan,
    stack: str,
    group: list[ExportedProcess],
    directives: Directives,
    header: str,
    say: Warn,
) -> list[tuple[str, str]]:
    first = group[0]
    cwd = first.cwd or str(plan.path.parent)
    every = [_values(stack, process) for process in group]
    if first.instance is None:
        return [(unit_name(first), _unit(header, stack, every[0], cwd, directives))]
    template = _template(every, [process.instance or "" for process in group])
    if template is not None:
        return [(f"{first.service}@.service", _unit(header, stack, template, cwd, directives))]
    say(
        f"{first.service}: its processes differ by more than their instance (a {{port}}?):"
        " one unit file per process instead of a template"
    )
    return [
        (unit_name(process), _unit(header, stack, values, cwd, directives))
        for process, values in zip(group, every, strict=True)
    ]


def _values(stack: str, process: ExportedProcess) -> _Values:
    return _Values(
        description=f"{stack}: {process.name}",
        argv=(_executable(process), *process.argv[1:]),
        env=tuple((k, v) for k, v in process.env.items() if is_environment_name(k)),
    )


def _executable(process: ExportedProcess) -> str:
    """argv[0] as ExecStart= gives it.  systemd looks a bare name up only on its own fixed
    path: a name it finds there is left bare (the exporting shell's PATH, a venv's say, is not
    the host's); a service that sets PATH gets the program on that PATH, as the supervisor
    would start it; any other is the one this export finds."""
    program = process.argv[0]
    if "/" in program:
        return program
    if "PATH" in process.env:
        return shutil.which(program, path=process.env["PATH"]) or program
    if shutil.which(program, path=SYSTEMD_PATH):
        return program
    return shutil.which(program, path=os.environ.get("PATH", os.defpath)) or program


def _template(every: list[_Values], instances: list[str]) -> _Values | None:
    """The values of a template unit, or None when some process differs beyond its instance."""
    if (
        len({len(v.argv) for v in every}) > 1
        or len({tuple(k for k, _ in v.env) for v in every}) > 1
    ):
        return None
    description = templated([v.description for v in every], instances)
    argv = [templated([v.argv[i] for v in every], instances) for i in range(len(every[0].argv))]
    env = [
        (key, templated([v.env[i][1] for v in every], instances))
        for i, (key, _) in enumerate(every[0].env)
    ]
    if description is None or None in argv or any(value is None for _, value in env):
        return None
    return _Values(
        description,
        tuple(word for word in argv if word is not None),
        tuple((key, value) for key, value in env if value is not None),
    )


def _unit(header: str, stack: str, values: _Values, cwd: str, directives: Directives) -> str:
    lines = [header, "# Output goes to the journal: journalctl -u <unit>.", ""]
    lines += ["[Unit]", f"Description={plain_value(values.description)}", f"PartOf={stack}.target"]
    lines += directives.unit
    lines += ["", "[Service]", *directives.program, f"ExecStart={exec_line(values.argv)}"]
    lines += [f"Environment={environment_word(key, value)}" for key, value in values.env]
    lines.append(f"WorkingDirectory={plain_value(cwd)}")
    lines += directives.service
    lines += ["", "[Install]", f"WantedBy={stack}.target", ""]
    return "\n".join(lines)


def _target(plan: Plan, stack: str, units: list[str]) -> str:
    listed = " ".join(units)
    return "\n".join(
        [
            HEADER.format(config=plan.path),
            "# Start and stop the whole stack with this target; it is reached once every",
            "# process has started (READY=1 for notify services).",
            "",
            "[Unit]",
            f"Description={plain_value(stack)} stack ({plain_value(str(plan.path))})",
            f"Wants={listed}",
            f"After={listed}",
            "",
            "[Install]",
            "WantedBy=default.target",
            "",
        ]
    )
