"""supervisord.conf → a Translation: the file as a whole (sections, groups, priorities).

Each `[program:x]` is translated by `supervisordprogram`; here: which sections are programs,
which are supervisord's own (its daemon, its HTTP server, supervisorctl: reported as not
imported), `[group:x]` membership, `[include]`, `[supervisord] environment` (every program's),
and the start order, which supervisord takes from `priority` and this project from `depends_on`:
programs are put in tiers of equal (group priority, priority), and each tier depends on the one
before it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from itertools import pairwise
from pathlib import Path

from supervisor.tools.importers.expansions import Expander, Where
from supervisor.tools.importers.inifile import IniFiles, Section
from supervisor.tools.importers.model import SourceError, Translation
from supervisor.tools.importers.supervisordprogram import Program, translate_program

FORMAT = "supervisord"
DEFAULT_PRIORITY = 999

_OWN_SECTIONS = {
    "supervisord": "a setting of the supervisord daemon itself",
    "unix_http_server": "supervisorctl's socket: this project's is <state_dir>/control.sock",
    "inet_http_server": "supervisord's HTTP server: this project has no HTTP interface",
    "supervisorctl": "supervisorctl's settings: this project's client is `supervisor`",
}
_DROPPED_KINDS = {
    "eventlistener": "event listeners are not supported: this project writes its events to"
    " <state_dir>/events.jsonl instead (see docs/reference/events.md)",
    "fcgi-program": "FastCGI programs (a socket shared by the processes) are not supported",
    "rpcinterface": "supervisord's XML-RPC extensions do not apply here",
}


def read(path: Path, base: Path, environ: Mapping[str, str] | None = None) -> Translation:
    environ = os.environ if environ is None else environ
    files = IniFiles()
    files.read(path)
    translation = Translation(path.resolve(), FORMAT)
    if len(files.files) > 1:
        included = ", ".join(str(each) for each in files.files[1:])
        translation.notes.append(f"[include] read: {included}.")
    groups = _groups(files, translation, environ)
    global_env = _global_environment(files, translation, environ)
    programs: list[Program] = []
    for section in files.sections.values():
        kind, _, name = section.name.partition(":")
        if kind == "program" and name:
            group, group_priority = groups.get(name, (name, None))
            programs.append(
                translate_program(
                    section, name, group, group_priority, global_env, base, translation, environ
                )
            )
        elif kind in ("group", "include"):
            continue
        elif kind in _DROPPED_KINDS:
            translation.drop(
                None, section.line, f"[{section.name}]", None, _DROPPED_KINDS[kind], section.file
            )
        elif section.name in _OWN_SECTIONS:
            for key, value in section.values.items():
                if (section.name, key) == ("supervisord", "nodaemon") and value.strip() in (
                    "true",
                    "1",
                    "yes",
                    "on",
                ):
                    translation.note("nodaemon = true: `supervisor run` runs in the foreground.")
                elif (section.name, key) != ("supervisord", "environment"):
                    line = section.lines.get(key)
                    why = _OWN_SECTIONS[section.name]
                    translation.drop(
                        None, line, f"[{section.name}] {key}", value, why, section.file
                    )
        else:
            translation.drop(
                None, section.line, f"[{section.name}]", None, "unknown section", section.file
            )
    if not programs:
        raise SourceError(path, None, "", "no [program:x] section: nothing to import")
    _order(programs, translation)
    translation.services = [program.service for program in programs]
    return translation


def _groups(
    files: IniFiles, translation: Translation, environ: Mapping[str, str]
) -> dict[str, tuple[str, int | None]]:
    """program -> (its group, the group's priority); a note on what a group was for."""
    found: dict[str, tuple[str, int | None]] = {}
    for section in files.sections.values():
        kind, _, group = section.name.partition(":")
        if kind != "group":
            continue
        expander = Expander({"here": str(section.here)}, environ)
        members = section.values.get("programs", "")
        for key in section.values:
            if key not in ("programs", "priority"):
                line = section.lines.get(key)
                why = "not a key of a [group:x]"
                translation.drop(
                    None, line, f"[{section.name}] {key}", section.values[key], why, section.file
                )
        priority = None
        if "priority" in section.values:
            priority = _integer(section, "priority", expander)
        names = [each.strip() for each in members.split(",") if each.strip()]
        for name in names:
            found[name] = (group, priority)
        translation.notes.append(
            f"[group:{group}] ({', '.join(names)}): supervisorctl acts on a group as"
            f" '{group}:*'; here there are no groups: name each service (or use --all)."
        )
    return found


def _global_environment(
    files: IniFiles, translation: Translation, environ: Mapping[str, str]
) -> str | None:
    section = files.sections.get("supervisord")
    if section is None or "environment" not in section.values:
        return None
    translation.notes.append(
        "[supervisord] environment is in every program's env here, under the program's own."
    )
    return section.values["environment"]


def _integer(section: Section, key: str, expander: Expander) -> int:
    line = section.lines.get(key)
    text = expander.literal(section.values[key], Where(section.file, line, key))
    try:
        return int(text)
    except ValueError:
        message = f"{text!r}: expected an integer"
        raise SourceError(section.file, line, f"[{section.name}] {key}", message) from None


def _order(programs: list[Program], translation: Translation) -> None:
    """Priority tiers → depends_on on the tier before (active programs only)."""
    active = [program for program in programs if program.service.disabled is None]
    tiers: dict[tuple[int, int], list[Program]] = {}
    for program in active:
        tiers.setdefault(program.order, []).append(program)
    ordered = sorted(tiers.items())
    if len(ordered) < 2:
        return
    translation.notes.append(
        "priority: supervisord starts lower priorities first, without waiting for them, and"
        " stops them last. Here a service starts once its depends_on are ready (running, after"
        " start_seconds) and stops before them: each priority tier depends on the tier before."
    )
    for (_, previous), (_, tier) in pairwise(ordered):
        before = [program.service.name for program in previous]
        for program in tier:
            program.service.set(
                "depends_on",
                before,
                f"priority {program.priority}: started after priority"
                f" {previous[0].priority} ({', '.join(before)}) is ready, stopped before it.",
            )
