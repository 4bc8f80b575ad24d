"""One supervisord `[program:x]` → one service, with a note wherever the meaning shifts.

What maps exactly: command, environment, directory, numprocs (workers), startsecs
(start_seconds), stopsignal, stopwaitsecs, exitcodes, autorestart, user, the log sizes.  What is
approximated, with a comment: startretries (a start limit and a backoff), `%(process_num)s`
counted from 0, process_name patterns, autostart=false (written commented out).  What has no
equivalent is dropped with a comment and a line on stderr: umask, log file paths, syslog,
capture mode, events, serverurl.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from supervisor.config import limits
from supervisor.config.identity import resolve
from supervisor.tools.importers.expansions import Expander, Numbering, Where, unmark
from supervisor.tools.importers.inifile import Section
from supervisor.tools.importers.model import (
    Service,
    SourceError,
    Translation,
    relative_path,
    set_stop_signal,
    signal_name,
)

DEFAULT_PRIORITY = 999
_MAX_PORT = 65535
_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")
_BYTE_UNITS = {"kb": 1024, "mb": 1024**2, "gb": 1024**3}
_DROPPED = {
    "umask": "processes inherit the supervisor's umask here",
    "serverurl": "this project's control socket is <state_dir>/control.sock",
    "stdout_capture_maxbytes": "there is no capture mode here",
    "stderr_capture_maxbytes": "there is no capture mode here",
    "stdout_events_enabled": "there are no output events here; see `supervisor logs -f`",
    "stderr_events_enabled": "there are no output events here; see `supervisor logs -f`",
    "stdout_syslog": "output goes to <state_dir>/logs only",
    "stderr_syslog": "output goes to <state_dir>/logs only",
}
_READ = {
    "command", "process_name", "numprocs", "numprocs_start", "priority", "autostart",
    "autorestart", "startsecs", "startretries", "exitcodes", "stopsignal", "stopwaitsecs",
    "stopasgroup", "killasgroup", "redirect_stderr", "stdout_logfile", "stderr_logfile",
    "stdout_logfile_maxbytes", "stdout_logfile_backups", "stderr_logfile_maxbytes",
    "stderr_logfile_backups", "environment", "directory", "user",
}  # fmt: skip


@dataclass
class Program:
    service: Service
    priority: int
    order: tuple[int, int]  # (group priority, priority): supervisord's start order


@dataclass
class _Reader:
    section: Section
    expander: Expander

    def where(self, key: str) -> Where:
        line = self.section.lines.get(key, self.section.line)
        return Where(self.section.file, line, f"[{self.section.name}] {key}")

    def drop(
        self, translation: Translation, service: Service, key: str, value: object, why: str
    ) -> None:
        where = self.where(key)
        translation.drop(service, where.line, where.key, value, why, where.file)

    def fail(self, key: str, message: str) -> SourceError:
        where = self.where(key)
        return SourceError(where.file, where.line, where.key, message)

    def text(self, key: str, default: str) -> str:
        if key not in self.section.values:
            return default
        return self.expander.literal(self.section.values[key], self.where(key)).strip()

    def integer(self, key: str, default: int, minimum: int = 0) -> int:
        text = self.text(key, str(default))
        if not text.isdigit() or int(text) < minimum:
            raise self.fail(key, f"{text!r}: expected an integer of at least {minimum}")
        return int(text)

    def boolean(self, key: str, default: bool) -> bool:
        text = self.text(key, str(default)).lower()
        if text not in _TRUE + _FALSE:
            raise self.fail(key, f"{text!r}: expected true or false")
        return text in _TRUE

    def byte_size(self, key: str) -> int | None:
        text = self.text(key, "").lower()
        if not text:
            return None
        number, multiplier = text, 1
        if text[-2:] in _BYTE_UNITS:
            number, multiplier = text[:-2].strip(), _BYTE_UNITS[text[-2:]]
        if not number.isdigit():
            raise self.fail(key, f"{text!r}: expected a size such as 50MB, 1024KB or 1GB")
        return int(number) * multiplier


def translate_program(
    section: Section,
    name: str,
    group: str,
    group_priority: int | None,
    global_env: str | None,
    base: Path,
    translation: Translation,
    environ: Mapping[str, str],
) -> Program:
    service = translation.new_service(name)
    used: set[str] = set()
    names: dict[str, str | int] = {"here": str(section.here), "program_name": name}
    names["group_name"] = group
    reader = _Reader(section, Expander(names, environ, used=used))
    numprocs = reader.integer("numprocs", 1, minimum=1)
    if numprocs > limits.MAX_PROCESSES:
        raise reader.fail("numprocs", f"{numprocs}: at most {limits.MAX_PROCESSES} here")
    first = reader.integer("numprocs_start", 0)
    names.update(numprocs=numprocs, process_num=first)
    numbering = _numbering(first, numprocs) if numprocs > 1 else None
    reader.expander = Expander(names, environ, numbering, used)
    if "command" not in section.values:
        raise reader.fail("command", "missing: supervisord refuses a program without a command")
    command = reader.expander.template(
        section.values["command"], reader.where("command"), placeholders=True
    )
    try:
        shlex.split(command)
    except ValueError as error:
        raise reader.fail("command", f"cannot split into arguments: {error}") from None
    service.set("command", command)
    _workers(reader, service, name, numprocs, first)
    _environment(reader, service, global_env)
    _directory(reader, service, base, translation)
    _user(reader, service, translation)
    _start_stop(reader, service, translation)
    _restart(reader, service, translation)
    _logs(reader, service, translation)
    for key, value in section.values.items():
        if key in _DROPPED:
            reader.drop(translation, service, key, value, _DROPPED[key])
        elif key not in _READ:
            why = "not a key of supervisord's [program:x]"
            reader.drop(translation, service, key, value, why)
    _expansion_notes(service, used, numbering)
    if not reader.boolean("autostart", True):
        service.disabled = (
            "autostart = false: supervisord starts this program only when asked"
            " (supervisorctl start). Every service listed here starts with the stack, so it is"
            " written commented out: uncomment it to run it with the others."
        )
    priority = reader.integer("priority", DEFAULT_PRIORITY)
    order = (priority if group_priority is None else group_priority, priority)
    return Program(service, priority, order)


def _numbering(first: int, numprocs: int) -> Numbering:
    """`%(process_num)s` counts from numprocs_start; `{process_number}` from 1.  From any other
    start, `port = numprocs_start` makes `{port}` count as supervisord does."""
    if first > 1 and first + numprocs - 1 <= _MAX_PORT:
        return Numbering("{port}", first)
    return Numbering("{process_number}", first)


def _workers(reader: _Reader, service: Service, name: str, numprocs: int, first: int) -> None:
    pattern = reader.section.values.get("process_name")
    if numprocs > 1:
        note = f"numprocs = {numprocs}: the processes are {service.name}#1 ... #{numprocs} here"
        if pattern is not None:
            where, names = reader.where("process_name"), dict(reader.expander.names)
            shown = []
            for number in (first, first + numprocs - 1):
                names["process_num"] = number
                shown.append(Expander(names, reader.expander.environ).literal(pattern, where))
            note += f" (supervisord's process_name: {shown[0]} ... {shown[1]})"
        service.set("workers", numprocs, note + ".")
    elif pattern is not None and reader.text("process_name", name) != service.name:
        service.note("", f"process_name = {pattern!r}: the process is named {service.name} here.")


def _environment(reader: _Reader, service: Service, global_env: str | None) -> None:
    """[supervisord]'s environment, then the program's over it (as supervisord merges them)."""
    env: dict[str, str] = {}
    where = reader.where("environment")
    for text in (global_env, reader.section.values.get("environment")):
        if text is None:
            continue
        marked, markers = reader.expander.marked(text, where)
        for name, value in _pairs(marked, where).items():
            env[name] = unmark(value, markers)
    if env:
        service.set("env", env)


def _pairs(text: str, where: Where) -> dict[str, str]:
    """supervisord's `dict_of_key_value_pairs`: KEY=value,KEY2="a, b" (shlex, not POSIX)."""
    lexer = shlex.shlex(text)
    lexer.wordchars += "/.+-():"
    try:
        tokens = list(lexer)
    except ValueError as error:
        raise SourceError(where.file, where.line, where.key, f"{error}") from None
    pairs: dict[str, str] = {}
    for index in range(0, len(tokens), 4):
        key_equals_value = tokens[index : index + 3]
        separator = tokens[index + 3 : index + 4]
        if len(key_equals_value) != 3 or key_equals_value[1] != "=" or separator not in ([], [","]):
            message = "expected KEY=value pairs separated by commas (quote a value holding a comma)"
            raise SourceError(where.file, where.line, where.key, message)
        pairs[key_equals_value[0]] = key_equals_value[2].strip("'\"")
    return pairs


def _directory(reader: _Reader, service: Service, base: Path, translation: Translation) -> None:
    text = reader.text("directory", "")
    if not text:
        return
    path = reader.section.here / text  # an absolute `text` stays itself
    if path.is_dir():
        service.set("directory", relative_path(path, base))
    else:
        why = "no such directory on this host (check refuses one)"
        reader.drop(translation, service, "directory", text, why)


def _user(reader: _Reader, service: Service, translation: Translation) -> None:
    """supervisord's `user` (a name or a uid) is `user`, where this machine has that user."""
    text = reader.text("user", "")
    if not text:
        return
    *_, problem = resolve(text, None)
    if problem is not None:
        reader.drop(translation, service, "user", text, f"{problem} (check refuses one)")
        return
    service.set(
        "user",
        text,
        "supervisord changes only the uid and groups; here HOME, USER, LOGNAME and SHELL are"
        " the user's too, as under systemd (a service's env still wins).",
    )


def _start_stop(reader: _Reader, service: Service, translation: Translation) -> None:
    values = reader.section.values
    if "startsecs" in values:
        service.set("start_seconds", float(reader.integer("startsecs", 1)))
    if "stopsignal" in values:
        given = reader.text("stopsignal", "TERM")
        name = signal_name(given)
        if name is None:
            raise reader.fail("stopsignal", f"{given!r}: no such signal")
        set_stop_signal(service, name, f"stopsignal = {given}")
    if "stopwaitsecs" in values:
        service.set("stop_timeout", float(reader.integer("stopwaitsecs", 10)))
    if not (reader.boolean("stopasgroup", False) and reader.boolean("killasgroup", False)):
        translation.note(
            "stopasgroup/killasgroup false: supervisord signals the program alone; here the"
            " stop signal and the SIGKILL after stop_timeout go to its whole process group.",
        )


def _restart(reader: _Reader, service: Service, translation: Translation) -> None:
    autorestart = reader.text("autorestart", "unexpected").lower()
    if autorestart == "unexpected":
        policy = "on-failure"
    elif autorestart in _TRUE + _FALSE:
        policy = "always" if autorestart in _TRUE else "never"
    else:
        raise reader.fail("autorestart", f"{autorestart!r}: expected true, false or unexpected")
    restart: dict[str, object] = {"policy": policy}
    codes_text = reader.text("exitcodes", "0")
    try:
        codes = [int(each) for each in codes_text.split(",") if each.strip()]
    except ValueError:
        raise reader.fail("exitcodes", f"{codes_text!r}: expected exit codes: 0,2") from None
    if any(not 0 <= code <= 255 for code in codes):
        raise reader.fail("exitcodes", f"{codes_text!r}: exit codes are 0 to 255")
    if codes != [0]:
        restart["success_exit_codes"] = codes
    retries = reader.integer("startretries", 3)
    startsecs = reader.integer("startsecs", 1)
    service.values["restart"] = restart
    if policy == "never":
        if retries:
            service.note(
                "restart",
                f"autorestart = false: supervisord still retries a start"
                f" that fails within startsecs ({retries} times); here it is not.",
            )
        return
    cap = float(max(1, min(retries, limits.MAX_SECONDS)))
    delays = [min(2.0**step, cap) for step in range(retries)]
    window = min(sum(delays) + (retries + 1) * max(startsecs, 1) + 1, limits.MAX_SECONDS)
    restart["backoff"] = {
        "initial": 1.0,
        "factor": 2.0,
        "max": cap,
        "reset_after": float(startsecs),
    }
    restart["start_limit"] = {
        "burst": min(retries, limits.MAX_BURST),
        "interval": float(round(window)),
    }
    translation.note(
        "startretries = N: supervisord gives up after N starts in a row that end within"
        " startsecs, waiting 1, 2, 3... s between them. Here a start limit allows N restarts"
        " within the time those retries take, the delay doubling from 1s up to N seconds, and"
        " a run of startsecs resets the delay; unlike supervisord's, the limit counts a crash"
        " after a good start too."
    )
    service.note("restart", f"startretries = {retries}: approximated (see the header).")


def _logs(reader: _Reader, service: Service, translation: Translation) -> None:
    values = reader.section.values
    if not reader.boolean("redirect_stderr", False):
        service.set("stderr", "separate")
        translation.note(
            "redirect_stderr = false (supervisord's default): stderr is logged apart, to"
            ' <state_dir>/logs/<process>.err.log (stderr = "separate").'
        )
    for stream in ("stdout", "stderr"):
        key = f"{stream}_logfile"
        value = values.get(key)
        # Not expanded: a file name that is not used says nothing of the expansions used.
        if value is not None and value.strip().upper() != "AUTO":
            why = "logs are <state_dir>/logs/<process>.log (.err.log for stderr), always written"
            reader.drop(translation, service, key, value, why)
    for ours, theirs in (("log_max_bytes", "logfile_maxbytes"), ("log_backups", "logfile_backups")):
        given = {
            s: values[f"{s}_{theirs}"] for s in ("stdout", "stderr") if f"{s}_{theirs}" in values
        }
        if not given:
            continue
        stream = "stdout" if "stdout" in given else "stderr"
        key = f"{stream}_{theirs}"
        if ours == "log_backups":
            value = min(reader.integer(key, 10), limits.MAX_LOG_BACKUPS)
        else:
            value = reader.byte_size(key) or limits.MAX_LOG_BYTES
            if value == limits.MAX_LOG_BYTES:
                service.note(ours, f"{key} = 0 (never rotate): here the largest size, 1 TiB.")
        if len(set(given.values())) > 1:
            service.note(
                ours, f"{key} is used for both streams here (stdout's and stderr's differ)."
            )
        service.set(ours, value)


def _expansion_notes(service: Service, used: set[str], numbering: Numbering | None) -> None:
    if "ENV" in used:
        service.note(
            "", "%(ENV_X)s is ${X} here: read from the environment at every start and reload."
        )
    if "ENV now" in used:
        service.note("", "%(ENV_X)s in a number or a path was expanded when imported.")
    if "host" in used:
        service.note("", "%(host_node_name)s was expanded when imported, to this host's name.")
    if numbering is None:
        return
    if "process_num first" in used:
        service.note(
            "",
            "%(process_num)s outside command and environment: the first process's number"
            f" ({numbering.first}) for all.",
        )
    if "process_num late" not in used:
        return
    if numbering.placeholder == "{port}":
        service.set(
            "port",
            numbering.first,
            "port = numprocs_start, so that {port} (port + process_number - 1) counts as"
            " supervisord's %(process_num)s.",
        )
    elif numbering.first == 0:
        service.note(
            "command",
            "%(process_num)s counts from numprocs_start = 0, {process_number} from 1: each"
            " process's number is one higher here.",
        )
    if "process_num format" in used:
        service.note("command", "%(process_num)0Nd: the number is not zero-padded here.")
