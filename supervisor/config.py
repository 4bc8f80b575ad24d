"""services.toml → a frozen Plan: every process to run, with its topic and manager resolved.

All problems in a file are collected and reported together; each names the file, the line, the
key, the value given and what is allowed.  Nothing imports manager code here.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import tomlkit
import tomlkit.exceptions

from supervisor import topic as topic_convention
from supervisor.dependencies import start_order
from supervisor.output import DEFAULT_BACKUPS, DEFAULT_MAX_BYTES
from supervisor.policy import POLICIES, Backoff, RestartPolicy, StartLimit
from supervisor.servicespec import EXIT_CONFIG, ServiceSpec
from supervisor.tableschema import Problem, TableReader
from supervisor.tomlsource import SourceMap

DEFAULT_STATE_DIR = ".supervisor"
STOP_SIGNALS = ("TERM", "INT", "QUIT", "HUP", "KILL", "USR1", "USR2")


class ConfigError(Exception):
    def __init__(self, file: str, problems: list[Problem]) -> None:
        self.file = file
        self.problems = problems
        super().__init__("\n".join(problem.render(file) for problem in problems))


@dataclass(frozen=True)
class ServiceSettings:
    """What every process of one `[services.NAME]` table shares."""

    env: tuple[tuple[str, str], ...] = ()
    directory: str | None = None
    notify: bool = False  # ready only once it sends READY=1 over NOTIFY_SOCKET
    start_seconds: float = 1.0
    start_timeout: float = 90.0  # notify: READY=1 must come within this; 0 waits forever
    stop_signal: int = signal.SIGTERM
    stop_timeout: float = 10.0
    critical: bool = False
    watchdog: float = 0.0  # seconds allowed between WATCHDOG=1 keep-alives; 0: off
    log_max_bytes: int | None = None  # None: the [supervisor] setting
    log_backups: int | None = None
    depends_on: tuple[str, ...] = ()  # services that must be ready before this one starts
    restart: RestartPolicy = field(default_factory=RestartPolicy)


@dataclass(frozen=True)
class ProcessPlan:
    name: str  # unique in the stack: "cinder-volume@lvm-1", "cinder-backup#2", "web"
    service: str  # the services.toml table name (the binary, for manager services)
    argv: tuple[str, ...]
    settings: ServiceSettings
    host: str | None = None
    spec: ServiceSpec | None = None  # None for plain commands
    resolution: topic_convention.Resolution | None = None

    @property
    def kind(self) -> str:
        return "command" if self.spec is None else "manager"


@dataclass(frozen=True)
class LogSettings:
    max_bytes: int = DEFAULT_MAX_BYTES
    backups: int = DEFAULT_BACKUPS


@dataclass(frozen=True)
class Plan:
    path: Path
    state_dir: Path
    options: dict[str, Any]
    processes: tuple[ProcessPlan, ...]
    logs: LogSettings = field(default_factory=LogSettings)

    @property
    def services(self) -> tuple[str, ...]:
        """Service names in start order."""
        return tuple(dict.fromkeys(process.service for process in self.processes))

    def only(self, services: list[str]) -> Plan:
        unknown = sorted(set(services) - set(self.services))
        if unknown:
            known = ", ".join(self.services)
            raise ConfigError(
                str(self.path),
                [Problem(None, "services", unknown[0], f"no such service; known: {known}")],
            )
        kept = tuple(p for p in self.processes if p.service in services)
        return Plan(self.path, self.state_dir, self.options, kept, self.logs)


def _parse(path: str | os.PathLike[str]) -> tuple[str, dict[str, Any]]:
    display = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        problem = Problem(None, "", None, f"cannot read: {error.strerror}")
        raise ConfigError(display, [problem]) from None
    try:
        return text, tomlkit.parse(text).unwrap()
    except tomlkit.exceptions.ParseError as error:
        problem = Problem(error.line, "", None, f"invalid TOML: {error}")
        raise ConfigError(display, [problem]) from None


def state_dir_of(path: str | os.PathLike[str]) -> Path:
    """Where the supervisor of this file keeps its socket, judging nothing else in the file."""
    _, document = _parse(path)
    main = document.get("supervisor", {})
    state_dir = main.get("state_dir", DEFAULT_STATE_DIR) if isinstance(main, dict) else None
    if not isinstance(state_dir, str):
        state_dir = DEFAULT_STATE_DIR
    return Path(path).resolve().parent / state_dir


def load(path: str | os.PathLike[str]) -> Plan:
    display = str(path)
    text, document = _parse(path)
    problems: list[Problem] = []
    plan = _build(
        Path(path).resolve(), document, TableReader.root(document, SourceMap(text), problems)
    )
    if problems:
        raise ConfigError(display, sorted(problems, key=lambda problem: problem.line or 0))
    return plan


def _build(path: Path, document: dict[str, Any], root: TableReader) -> Plan:
    root.allow("supervisor", "options", "services")
    main = root.table("supervisor")
    main.allow("state_dir", "topic_prefix", "log_max_bytes", "log_backups")
    state_dir = path.parent / main.string("state_dir", DEFAULT_STATE_DIR)
    prefix = main.string("topic_prefix", topic_convention.DEFAULT_PREFIX)
    logs = LogSettings(
        main.integer("log_max_bytes", LogSettings.max_bytes, minimum=1),
        main.integer("log_backups", LogSettings.backups, minimum=0),
    )
    options = _options(root.table("options"))
    services = root.table("services")
    by_service: dict[str, list[ProcessPlan]] = {}
    for name in services.data:
        reader = services.table(name)
        by_service[name] = _service(reader, name, options, prefix, state_dir, path)
    order = _start_order(services, by_service)
    processes = tuple(process for name in order for process in by_service[name])
    return Plan(path, state_dir, options, processes, logs)


def _start_order(services: TableReader, by_service: dict[str, list[ProcessPlan]]) -> list[str]:
    depends_on: dict[str, tuple[str, ...]] = {}
    for name, processes in by_service.items():
        reader = services.table(name)
        wanted = processes[0].settings.depends_on if processes else ()
        for dependency in wanted:
            if dependency not in services.data:
                known = ", ".join(services.data)
                reader.problem(("depends_on",), dependency, f"no such service; known: {known}")
            elif dependency == name:
                reader.problem(("depends_on",), dependency, "a service cannot depend on itself")
        depends_on[name] = tuple(d for d in wanted if d in services.data and d != name)
    order, cycle = start_order(list(by_service), depends_on)
    if cycle:
        services.table(cycle[0]).problem(
            ("depends_on",), None, f"dependency cycle: {' -> '.join(cycle)}"
        )
        return list(by_service)
    return order


def _options(reader: TableReader) -> dict[str, Any]:
    """`[options]` is free-form, like cinder.conf's [DEFAULT]; only what we read is checked."""
    options = dict(reader.data)
    options["host"] = reader.string("host", socket.gethostname())
    options["cluster"] = reader.string("cluster", "") or None
    for key in options:
        if key.endswith("_manager"):
            reader.class_path(key)
    return options


def _service(
    reader: TableReader,
    name: str,
    options: dict[str, Any],
    prefix: str,
    state_dir: Path,
    config_path: Path,
) -> list[ProcessPlan]:
    common = ("env", "directory", "start_seconds", "stop_signal", "stop_timeout", "critical")
    common += ("restart", "workers", "notify", "depends_on", "log_max_bytes", "log_backups")
    common += ("watchdog", "start_timeout")
    if "command" in reader.data:
        reader.allow("command", *common)
        argv = reader.command("command")
        settings = _settings(reader, config_path, is_manager=False)
        workers = reader.integer("workers", 1, minimum=1)
        return [
            ProcessPlan(_instance_name(name, "#", n, workers), name, argv, settings)
            for n in range(1, workers + 1)
        ]

    reader.allow("topic", "manager", "host", "backends", *common)
    settings = _settings(reader, config_path, is_manager=True)
    host = reader.string("host", options["host"])
    manager_override = reader.class_path("manager")
    topic_override = reader.string("topic", None)
    if manager_override is None and "manager" in reader.data:
        return []  # already reported; the option lookup would only add a misleading error
    try:
        resolution = topic_convention.resolve(
            name, options, prefix=prefix, topic=topic_override, manager=manager_override
        )
    except topic_convention.MissingManagerOption as missing:
        reader.problem(
            (),
            None,
            f'{missing}: set [options] {missing.option} = "package.module.Class"'
            ' or give the service manager = "package.module.Class"',
        )
        return []
    base = ServiceSpec(
        process=name,
        service=name,
        binary=name,
        host=host,
        options=options,
        prefix=prefix,
        topic=topic_override,
        manager=manager_override,
        cluster=options["cluster"],
        state_dir=str(state_dir),
    )
    argv = _manager_argv(name)

    if "backends" in reader.data:
        if "workers" in reader.data:
            reader.problem(("workers",), reader.data["workers"], "not allowed with backends")
        # Cinder skips empty entries of enabled_backends (",a,,b").
        backends = [b for b in reader.string_list("backends") if b.strip()]
        if not backends and "backends" in reader.data:
            reader.problem(("backends",), reader.data["backends"], "expected at least one backend")
        specs = [
            replace(
                base,
                process=f"{name}@{backend}",
                host=f"{host}@{backend}",
                cluster=base.cluster and f"{base.cluster}@{backend}",
                backend=backend,
            )
            for backend in backends
        ]
    else:
        workers = reader.integer("workers", 1, minimum=1)
        specs = [
            replace(
                base,
                process=_instance_name(name, "#", n, workers),
                process_number=n,
                workers=workers,
            )
            for n in range(1, workers + 1)
        ]
    return [
        ProcessPlan(spec.process, name, argv, settings, spec.host, spec, resolution)
        for spec in specs
    ]


def _instance_name(service: str, separator: str, number: int, count: int) -> str:
    return service if count == 1 else f"{service}{separator}{number}"


def _manager_argv(binary: str) -> tuple[str, ...]:
    """Exec the package's own entry module, never a script in bin/ that shares the binary's name
    (Cinder installs `cinder-volume` too, and pip lets the last one installed win)."""
    return (sys.executable, "-m", "supervisor.cmd", "--binary", binary)


def _settings(reader: TableReader, config_path: Path, *, is_manager: bool) -> ServiceSettings:
    directory = reader.string("directory", None)
    return ServiceSettings(
        env=tuple(reader.string_table("env").items()),
        directory=str(config_path.parent / directory) if directory else None,
        notify=reader.boolean("notify", is_manager),
        start_seconds=reader.number("start_seconds", 1.0, minimum=0.0),
        start_timeout=reader.number("start_timeout", 90.0, minimum=0.0),
        stop_signal=signal.Signals["SIG" + reader.choice("stop_signal", "TERM", STOP_SIGNALS)],
        stop_timeout=reader.number("stop_timeout", 10.0, minimum=0.0),
        critical=reader.boolean("critical", False),
        watchdog=reader.number("watchdog", 0.0, minimum=0.0),
        log_max_bytes=reader.integer("log_max_bytes", None, minimum=1),
        log_backups=reader.integer("log_backups", None, minimum=0),
        depends_on=tuple(reader.string_list("depends_on")),
        restart=_restart(reader.table("restart"), is_manager),
    )


def _restart(reader: TableReader, is_manager: bool) -> RestartPolicy:
    reader.allow("policy", "success_exit_codes", "prevent_exit_codes", "backoff", "start_limit")
    defaults = RestartPolicy()
    backoff = reader.table("backoff")
    backoff.allow("initial", "max", "factor", "jitter", "reset_after")
    initial = backoff.number("initial", Backoff.initial, minimum=0.0)
    limit = reader.table("start_limit")
    limit.allow("burst", "interval")
    return RestartPolicy(
        policy=reader.choice("policy", defaults.policy, POLICIES),
        success_exit_codes=reader.exit_codes("success_exit_codes", [0]),
        prevent_exit_codes=reader.exit_codes(
            "prevent_exit_codes", [EXIT_CONFIG] if is_manager else []
        ),
        backoff=Backoff(
            initial=initial,
            max=backoff.number("max", max(Backoff.max, initial), minimum=initial),
            factor=backoff.number("factor", Backoff.factor, minimum=1.0),
            jitter=backoff.number("jitter", Backoff.jitter, minimum=0.0, maximum=1.0),
            reset_after=backoff.number("reset_after", Backoff.reset_after, minimum=0.0),
        ),
        start_limit=StartLimit(
            burst=limit.integer("burst", StartLimit.burst, minimum=0),
            interval=limit.number("interval", StartLimit.interval, minimum=0.0),
        ),
    )
