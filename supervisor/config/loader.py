"""Reading services.toml: the file → a frozen Plan (see plan.py), every problem found at once.

All problems in a file are collected and reported together; each names the file, the line, the
key, the value given and what is allowed.  Nothing imports manager code here.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supervisor.config import limits, rules
from supervisor.config.dependencies import start_order
from supervisor.config.groups import read_groups
from supervisor.config.hosts import place, read_hosts
from supervisor.config.hostspec import HostSpec
from supervisor.config.interpolate import (
    ENV_FILE,
    EnvFiles,
    interpolate_document,
    read_env_files,
)
from supervisor.config.placeholders import expand
from supervisor.config.problems import show
from supervisor.config.programs import check_programs
from supervisor.config.readlog import ReadObserver
from supervisor.config.schema import Problem, TableReader
from supervisor.config.services import ServiceSettings, read_settings
from supervisor.config.source import SourceMap
from supervisor.config.tomlfile import ConfigError, read
from supervisor.shared import topic as topic_convention
from supervisor.shared.servicespec import OPENSTACK_RUNTIME, ServiceSpec

if TYPE_CHECKING:
    from supervisor.config.openstack import OpenStack
from supervisor.config.location import DEFAULT_STATE_DIR
from supervisor.config.plan import LogSettings, Plan, ProcessPlan


def load(
    path: str | os.PathLike[str],
    *,
    programs: bool = True,
    workers: Mapping[str, int] | None = None,
    observer: ReadObserver | None = None,
    host: str | None = None,
) -> Plan:
    """`programs`: judge that every program can be run here (see `programs`); off only for a
    plan that runs on another host (a container image).  `workers`: how many processes a
    service of numbered workers runs instead of the file's count (`supervisor scale`); the
    plan's `workers` still says the file's own.  `observer`: told every table's keys and every
    key read (see `readlog`).  `host`: the part of a deployment file (`[hosts.NAME]`, see
    `hosts`) that one host runs; the whole file is judged all the same."""
    display = str(path)
    text, document = read(path)
    problems: list[Problem] = []
    source = SourceMap(text)
    # Env files and the environment are read afresh by every load, so a reload sees their edits.
    raw = TableReader.root(document, source, problems)
    env_files = read_env_files(raw, Path(path).resolve().parent)
    document = interpolate_document(raw, env_files)
    plan = _build(
        Path(path).resolve(),
        document,
        TableReader.root(document, source, problems, observer),
        env_files,
        workers or {},
    )
    if programs:  # last: each program is judged as it will run, after interpolation
        root = TableReader.root(document, source, problems)
        check_programs(plan, root, {problem.key for problem in problems})
    if problems:
        # A service that several hosts run is read once for each: say each problem once.
        unique = {(p.line, p.key, show(p.value), p.message): p for p in problems}
        raise ConfigError(display, sorted(unique.values(), key=lambda p: p.line or 0))
    return plan if host is None else plan.on_host(host)


def _build(
    path: Path,
    document: dict[str, Any],
    root: TableReader,
    env_files: EnvFiles,
    scaled: Mapping[str, int],
) -> Plan:
    root.allow("supervisor", "options", "services", "openstack", "groups", "hosts")
    main = root.table("supervisor")
    main.allow(
        "state_dir",
        "topic_prefix",
        "log_max_bytes",
        "log_backups",
        "log_timestamps",
        ENV_FILE,
        "name",
    )
    # The stack's name where another manager needs one (a systemd target, Kubernetes labels).
    stack = main.name("name", path.parent.name)
    state_dir = path.parent / main.string("state_dir", DEFAULT_STATE_DIR)
    if (unusable := rules.state_dir_problem(state_dir)) is not None:
        main.problem(("state_dir",), main.data.get("state_dir", DEFAULT_STATE_DIR), unusable)
    prefix = main.name("topic_prefix", topic_convention.DEFAULT_PREFIX)
    logs = LogSettings(
        main.integer("log_max_bytes", LogSettings.max_bytes, 1, limits.MAX_LOG_BYTES),
        main.integer("log_backups", LogSettings.backups, 0, limits.MAX_LOG_BACKUPS),
        main.boolean("log_timestamps", LogSettings.timestamps),
    )
    options = _options(root.table("options"))
    openstack = None
    if "openstack" in root.data:
        # Imported only for an OpenStack stack: every other `run` and `check` goes without.
        from supervisor.config.openstack import read_openstack

        openstack = read_openstack(root.table("openstack"), path.parent, root.table("options"))
    if openstack is not None:
        options = openstack.options(options)
    services = root.table("services")
    hosts = read_hosts(root.table("hosts"), path.parent, state_dir) if "hosts" in root.data else {}
    readers: dict[str, TableReader] = {}
    by_service: dict[str, list[ProcessPlan]] = {}
    depends_on: dict[str, tuple[str, ...]] = {}
    declared_workers: dict[str, int] = {}
    settings_of: dict[str, ServiceSettings] = {}
    for name in services.data:
        named = rules.check_name(services, (name,), name, "service")
        reader = readers[name] = services.table(name)
        settings, processes, declared = _service(
            reader, name, options, prefix, state_dir, path, openstack, scaled.get(name)
        )
        if declared is not None:
            declared_workers[name] = declared
        variables = env_files.variables(name)
        by_service[name] = expand(reader, settings, processes, variables)
        depends_on[name] = settings.depends_on
        settings_of[name] = settings
        if named:
            rules.check_processes(reader, [process.name for process in by_service[name]])
    order = _start_order(services, readers, depends_on)
    processes = tuple(process for name in order for process in by_service[name])
    placed: dict[str, tuple[ProcessPlan, ...]] = {}
    if hosts:

        def on_host(name: str, host: HostSpec) -> list[ProcessPlan]:
            """The service's processes planned with the host's name as Cinder's host."""
            fixed = "host" in root.table("options").data
            host_options = options if fixed else {**options, "host": host.cinder_host}
            settings, found, _ = _service(
                readers[name],
                name,
                host_options,
                prefix,
                host.state_dir,
                path,
                openstack and openstack.on_host(host.cinder_host),
                scaled.get(name),
            )
            return expand(readers[name], settings, found, env_files.variables(name))

        placed = place(root, hosts, order, by_service, on_host, openstack)
        processes = ()  # a deployment file runs host by host: Plan.on_host
    groups = read_groups(root.table("groups"), settings_of)
    return Plan(
        path,
        state_dir,
        options,
        processes,
        logs,
        openstack,
        stack,
        declared_workers,
        groups,
        hosts=hosts,
        placed=placed,
    )


def _start_order(
    services: TableReader, readers: dict[str, TableReader], wants: dict[str, tuple[str, ...]]
) -> list[str]:
    depends_on: dict[str, tuple[str, ...]] = {}
    for name, wanted in wants.items():
        reader = readers[name]
        for dependency in wanted:
            if dependency not in services.data:
                known = ", ".join(services.data)
                reader.problem(("depends_on",), dependency, f"no such service; known: {known}")
            elif dependency == name:
                reader.problem(("depends_on",), dependency, "a service cannot depend on itself")
        depends_on[name] = tuple(d for d in wanted if d in services.data and d != name)
    order, cycle = start_order(list(wants), depends_on)
    if cycle:
        readers[cycle[0]].problem(("depends_on",), None, f"dependency cycle: {' -> '.join(cycle)}")
        return list(wants)
    return order


def _options(reader: TableReader) -> dict[str, Any]:
    """`[options]` is free-form, like cinder.conf's [DEFAULT]; only what we read is checked."""
    options = dict(reader.data)
    options["host"] = reader.name("host", socket.gethostname())
    options["cluster"] = reader.string("cluster", "") or None
    for key, value in reader.data.items():
        if key.endswith("_manager"):
            reader.class_path(key)
        elif key not in ("host", "cluster") and (problem := rules.option_problem(value)):
            # Every manager gets the options as JSON: what JSON cannot carry, run could not.
            reader.problem((key,), value, problem)
            options[key] = None
    return options


def _service(
    reader: TableReader,
    name: str,
    options: dict[str, Any],
    prefix: str,
    state_dir: Path,
    config_path: Path,
    openstack: OpenStack | None = None,
    scaled: int | None = None,
) -> tuple[ServiceSettings, list[ProcessPlan], int | None]:
    """The service's settings, its processes, and the file's count of its workers (None for a
    service whose processes are not numbered workers).  Every key is read before anything can
    stop the build of its processes, so each of the table's problems is reported.  `scaled`:
    the count of workers to run instead of the file's, if it has numbered workers."""
    common = ("env", "directory", "start_seconds", "stop_signal", "stop_timeout", "critical")
    common += ("restart", "workers", "notify", "depends_on", "log_max_bytes", "log_backups")
    common += ("watchdog", "start_timeout", "readiness", "liveness", "oneshot", "port")
    common += (ENV_FILE, "stderr", "autostart", "user", "group")
    if "command" in reader.data:
        reader.allow("command", *common)
        argv = reader.command("command")
        settings = read_settings(reader, config_path, is_manager=False)
        workers = reader.integer("workers", 1, 1, limits.MAX_PROCESSES)
        numbered = "workers" in reader.data
        count = scaled if numbered and scaled is not None else workers
        processes = [
            ProcessPlan(_worker_name(name, n, numbered), name, argv, settings)
            for n in range(1, count + 1)
        ]
        return settings, processes, workers if numbered else None

    reader.allow("topic", "manager", "host", "backends", "preload", *common)
    settings = read_settings(reader, config_path, is_manager=True)
    settings = replace(settings, preload=reader.boolean("preload", openstack is not None))
    host = reader.name("host", options["host"])
    manager_override = reader.class_path("manager")
    topic_override = reader.string("topic", None)
    subtopic = topic_convention.subtopic_of(topic_override or name, prefix)
    instances, declared = _instances(
        reader, name, host, options["cluster"], openstack, subtopic, scaled
    )
    if manager_override is None and "manager" in reader.data:
        return settings, [], declared  # already reported; the option lookup would only mislead
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
        return settings, [], declared
    if openstack is not None:
        source = (
            "services.toml" if manager_override else openstack.source_of(resolution.manager_option)
        )
        resolution = replace(resolution, source=source)
        from supervisor.config.openstack import check_manager

        check_manager(reader, resolution.manager_option, resolution.manager, source)
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
    if openstack is not None:
        # The child runs exactly the class `check` showed, and hands Cinder only the options
        # services.toml sets (cinder.conf is Cinder's to read).  Only cinder-volume joins a
        # cluster (cinder/cmd/volume.py; its instances below set their own).
        base = replace(
            base,
            options=openstack.child_options,
            cluster=None,
            manager=resolution.manager,
            runtime=OPENSTACK_RUNTIME,
            config_files=openstack.config_files,
        )
    argv = _manager_argv(name)
    if openstack is not None:
        for fields in instances:
            backend = fields.get("backend")
            if backend is not None and backend not in openstack.conf.sections:
                message = f"backend {backend!r} has no [{backend}] section in cinder.conf"
                reader.problem(("backends",), backend, message)
    specs = [replace(base, **fields) for fields in instances]
    processes = [
        ProcessPlan(spec.process, name, argv, settings, spec.host, spec, resolution)
        for spec in specs
    ]
    return settings, processes, declared


def _instances(
    reader: TableReader,
    name: str,
    host: str,
    cluster: str | None,
    openstack: OpenStack | None = None,
    subtopic: str = "",
    scaled: int | None = None,
) -> tuple[list[dict[str, Any]], int | None]:
    """What sets each process of a manager service apart: its backend, or its worker number;
    and the file's count of workers when they are numbered (`scaled` runs that many instead).
    Under `[openstack]`, cinder-volume's backends default to cinder.conf's enabled_backends
    and cinder-backup's workers to its backup_workers, as Cinder's binaries read them."""
    given_host = "host" in reader.data or (openstack is not None and "host" in openstack.given)
    if openstack is not None and subtopic == "volume" and "backends" not in reader.data:
        backends = openstack.conf.enabled_backends
        if not backends:
            reader.problem((), None, "cinder.conf sets no enabled_backends: no backend to serve")
        return [
            {
                "process": f"{name}@{backend}",
                "host": openstack.backend_host(host if given_host else None, backend),
                "cluster": cluster and f"{cluster}@{backend}",
                "backend": backend,
            }
            for backend in backends
            if rules.check_name(reader, (), backend, "backend (from enabled_backends)")
        ], None
    if "backends" not in reader.data:
        default_workers = 1
        numbered = "workers" in reader.data
        if openstack is not None and subtopic == "backup":
            default_workers = openstack.default_workers(reader, limits.MAX_PROCESSES)
            numbered = numbered or openstack.sets_backup_workers
        workers = reader.integer("workers", default_workers, 1, limits.MAX_PROCESSES)
        count = scaled if numbered and scaled is not None else workers
        return [
            {"process": _worker_name(name, n, numbered), "process_number": n}
            for n in range(1, count + 1)
        ], workers if numbered else None
    if "workers" in reader.data:
        reader.problem(("workers",), reader.data["workers"], "not allowed with backends")
    # Cinder skips empty entries of enabled_backends (",a,,b").
    given = [b for b in reader.string_list("backends") if b.strip()]
    if not given:
        reader.problem(("backends",), reader.data["backends"], "expected at least one backend")
    elif len(given) > limits.MAX_PROCESSES:
        reader.problem(("backends",), len(given), f"expected 1 to {limits.MAX_PROCESSES} backends")
        return [], None
    backends: list[str] = []
    for backend in given:
        if backend in backends:
            message = "listed twice; each backend runs one process, named after it"
            reader.problem(("backends",), backend, message)
        elif rules.check_name(reader, ("backends",), backend, "backend"):
            backends.append(backend)
    return [
        {
            "process": f"{name}@{backend}",
            "host": f"{host}@{backend}",
            "cluster": cluster and f"{cluster}@{backend}",
            "backend": backend,
        }
        for backend in backends
    ], None


def _worker_name(service: str, number: int, numbered: bool) -> str:
    """`NAME#N` for every worker of a service whose count is set (`workers`, any value, 1 too),
    else `NAME`: a process's name never depends on how many siblings it has, so changing
    `workers` adds or removes processes at the end and renames none (nor its log)."""
    return f"{service}#{number}" if numbered else service


def _manager_argv(binary: str) -> tuple[str, ...]:
    """Exec the package's own entry module, never a script in bin/ that shares the binary's name
    (Cinder installs `cinder-volume` too, and pip lets the last one installed win)."""
    return (sys.executable, "-m", "supervisor.cmd", "--binary", binary)
