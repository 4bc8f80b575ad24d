"""One real Cinder service in this process, from bootstrap to a clean stop.

The steps and their order are those of Cinder's `cinder/cmd/{scheduler,volume,backup}.py` and
`cinder/service.py`; what differs is only who launches: the supervisor spawned this process for
one backend or one backup worker, so there is no oslo.service launcher and no fork.

    objects.register_all()  →  CONF(--config-file …, project="cinder")  →  logging.setup
    →  privsep and os-brick (volume, backup)  →  Service.create(manager=<the resolved class>)
    →  Service.start(): the `services` row, init_host, RPC servers, init_host_with_rpc,
       report_state and periodic tasks (admin context) on Cinder's own timers
    →  READY=1, only now that the backend is really serving
    →  SIGHUP: mutate the config files, Service.reset();  SIGTERM/SIGINT: Service.stop(), wait

Exit statuses, as the supervisor's restart policy reads them (see `runtime.launch`):
  0 stopped on request; 1 start() raised (the bus or the database is down: worth a restart);
  78 the service cannot be built or its driver failed to initialize (Cinder skips such a
  backend and never retries it).
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib
import logging as python_logging
import shlex
import signal
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from setproctitle import setproctitle

from supervisor.runtime.openstack.semaphore import SharedSemaphore
from supervisor.runtime.sdnotify import Notifier
from supervisor.runtime.signals import SignalQueue
from supervisor.shared.exits import EXIT_CONFIG, EXIT_OK, EXIT_START_FAILED
from supervisor.shared.servicespec import ServiceSpec
from supervisor.shared.topic import MissingManagerOption, resolve

# What each of Cinder's binaries adds to the bare bootstrap (`cinder/cmd/<subtopic>.py`).
_USES_STORAGE = frozenset({"volume", "backup"})  # privsep and os-brick
_COORDINATED = frozenset({"volume", "backup"})  # Service.create(coordination=True)


def serve(spec: ServiceSpec, binary: str) -> int:
    setproctitle(spec.title(binary))
    notifier = Notifier.from_environ()
    try:
        return _serve(spec, binary, notifier)
    finally:
        notifier.close()


def _serve(spec: ServiceSpec, binary: str, notifier: Notifier) -> int:
    try:
        resolution = resolve(
            binary, spec.options, prefix=spec.prefix, topic=spec.topic, manager=spec.manager
        )
    except MissingManagerOption as error:
        print(f"{binary}: {error}", file=sys.stderr)
        return EXIT_CONFIG
    subtopic = resolution.subtopic
    try:
        conf, log = _bootstrap(spec, subtopic, uses_storage=subtopic in _USES_STORAGE)
    except Exception as error:  # oslo.config's parse errors, a bad value in [options]
        message = f"{binary}: cannot load the configuration: {error}"
        print(message, file=sys.stderr)
        notifier.status(message)
        return EXIT_CONFIG

    from cinder import rpc, service

    errors = _ErrorMemory()
    # From the start: a bus that is down while the service starts shows in `status` too.
    bus = _BusStatus(notifier, "Initializing")
    python_logging.getLogger("oslo.messaging").addHandler(bus)
    python_logging.getLogger().addHandler(errors)
    notifier.status("Initializing")
    try:
        with _registering(spec, binary):
            server = service.Service.create(
                host=spec.host,
                binary=binary,
                topic=resolution.topic,
                manager=resolution.manager,
                coordination=subtopic in _COORDINATED,
                cluster=spec.cluster,
                **_binary_kwargs(spec, subtopic, conf),
            )
    except Exception as error:
        log.exception("%s service %s failed to start.", subtopic.capitalize(), spec.host)
        notifier.status(f"failed to start: {errors.last or 'see the log'}")
        # Cinder skips such a backend for good; under a supervisor, a database or a bus that
        # is not there yet is worth another try, anything else (a driver that cannot be
        # imported, an invalid option) is not.
        return EXIT_START_FAILED if _is_transient(error) else EXIT_CONFIG

    # Installed before start() so that a stop asked for during a long init_host is honoured
    # as soon as start() returns.
    with SignalQueue(signal.SIGTERM, signal.SIGINT, signal.SIGHUP) as signals:
        try:
            server.start()
        except Exception:
            log.exception("Error starting %s on %s", binary, spec.host)
            notifier.status(f"start failed: {errors.last or 'see the log'}")
            return EXIT_START_FAILED
        if not server.manager.is_working():
            # The volume manager catches a driver's failed do_setup and serves on as "down";
            # here the process ends so that its state says so, with Cinder's own message.
            reason = errors.last or f"{binary} on {spec.host} is not working after start"
            log.error("%s on %s is not working, not retrying: %s", binary, spec.host, reason)
            notifier.status(f"not working: {reason}")
            server.stop()
            return EXIT_CONFIG
        python_logging.getLogger().removeHandler(errors)
        bus.normal = f"serving {resolution.topic} on {spec.host}"
        notifier.ready(bus.normal)
        for signum in signals:
            log.info("Caught %s", signal.Signals(signum).name)
            if signum != signal.SIGHUP:
                break
            _reset(conf, server, notifier, log)
        notifier.stopping()
        server.stop()
        server.wait()
        rpc.cleanup()
    return EXIT_OK


def _bootstrap(spec: ServiceSpec, subtopic: str, *, uses_storage: bool) -> tuple[Any, Any]:
    """What every cinder/cmd/*.py does before it builds its service, in the same order."""
    from cinder import i18n
    from cinder.common import config  # noqa: F401  (registers Cinder's options)
    from oslo_config import cfg
    from oslo_log import log as logging
    from oslo_reports import guru_meditation_report as gmr
    from oslo_reports import opts as gmr_opts

    i18n.enable_lazy()
    from cinder import objects, utils, version

    conf = cfg.CONF
    _register_binary_options(subtopic)
    objects.register_all()
    gmr_opts.set_defaults(conf)
    arguments = [argument for path in spec.config_files for argument in ("--config-file", path)]
    conf(arguments, project="cinder", version=version.version_string())
    _override(conf, spec.options)
    logging.setup(conf, "cinder")
    python_logging.captureWarnings(True)
    if uses_storage:
        import os_brick
        from oslo_privsep import priv_context

        priv_context.init(root_helper=shlex.split(utils.get_root_helper()))
        os_brick.setup(conf)
    gmr.TextGuruMeditation.setup_autorun(version, conf=conf)
    return conf, logging.getLogger("supervisor.runtime.openstack")


@contextlib.contextmanager
def _registering(spec: ServiceSpec, binary: str) -> Iterator[None]:
    """One process at a time per (binary, host) through `Service.create`, which finds or
    creates Cinder's row: backup workers share a host, and two that look the row up at once on
    a fresh database would both create it.  Cinder's launcher builds its workers' services one
    after another before forking; exec'd workers take turns on a lock file instead."""
    directory = Path(spec.state_dir) / "openstack"
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / f"register-{binary}@{spec.host}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, or the process dies
        yield


def _register_binary_options(subtopic: str) -> None:
    """Options that Cinder registers in the binary's own module (backup_workers and
    backup_max_operations in cinder/cmd/backup.py, backend_host in cinder/cmd/volume.py):
    importing it registers them, and its own monkey patching is by now a no-op."""
    with contextlib.suppress(ImportError):
        importlib.import_module(f"cinder.cmd.{subtopic}")


def _is_transient(error: BaseException) -> bool:
    """The database or the message bus failed: another start may well succeed."""
    from oslo_db import exception as db_exception
    from oslo_messaging import exceptions as messaging_exceptions
    from sqlalchemy import exc as sqlalchemy_exception

    transient = (
        db_exception.DBError,
        db_exception.BackendNotAvailable,
        sqlalchemy_exception.OperationalError,  # "database is locked", a server gone away
        messaging_exceptions.MessagingException,
        OSError,
    )
    return isinstance(error, transient)


def _override(conf: Any, options: Mapping[str, Any]) -> None:
    """services.toml's [options] win over cinder.conf for the options Cinder knows, so that
    the child runs with exactly what `check` showed."""
    for key, value in options.items():
        if key in conf and value is not None and not isinstance(value, dict):
            conf.set_override(key, value)


def _binary_kwargs(spec: ServiceSpec, subtopic: str, conf: Any) -> dict[str, Any]:
    if subtopic == "volume":
        return {"service_name": spec.backend}
    if subtopic == "backup":
        # Cinder's forked workers share one semaphore; ours were exec'd apart, so the limit
        # on memory-heavy operations lives in lock files under the state directory.
        limit = SharedSemaphore.for_backups(
            spec.state_dir, conf.backup_max_operations, holder=spec.process
        )
        return {"service_name": "backup", "process_number": spec.process_number, "semaphore": limit}
    return {}


def _reset(conf: Any, server: Any, notifier: Notifier, log: Any) -> None:
    notifier.reloading()
    try:
        conf.mutate_config_files()
        server.reset()
    except Exception:
        log.exception("reset failed; serving on with the previous state")
    notifier.ready(f"serving {server.topic} on {server.host}")


class _ErrorMemory(python_logging.Handler):
    """Remembers the first error Cinder logged while starting (the cause; later ones are its
    consequences, "driver isn't initialized properly"): what a user needs in `status` when a
    backend will not come up, since Cinder logs it and carries on.  Messaging errors are left
    to `_BusStatus`: a bus that is not there yet is not why a service fails."""

    def __init__(self) -> None:
        super().__init__(python_logging.ERROR)
        self.last: str | None = None

    def emit(self, record: python_logging.LogRecord) -> None:
        if self.last is not None or record.name.startswith("oslo.messaging"):
            return
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            message = f"{message} {type(error).__name__}: {error}"
        self.last = " ".join(message.split())[:400]


class _BusStatus(python_logging.Handler):
    """While the message bus is away, `status` shows why (STATUS=), until oslo.messaging
    says it has reconnected: an operator sees the cause without reading the log."""

    def __init__(self, notifier: Notifier, normal: str) -> None:
        super().__init__(python_logging.INFO)
        self._notifier = notifier
        self.normal = normal  # what STATUS= says once the bus is back
        self._lost = False

    def emit(self, record: python_logging.LogRecord) -> None:
        message = " ".join(record.getMessage().split())
        if record.levelno >= python_logging.ERROR:
            self._lost = True
            self._notifier.send(f"STATUS=message bus: {message[:300]}", block=False)
        elif self._lost and "Reconnected" in message:
            self._lost = False
            self._notifier.send(f"STATUS={self.normal}", block=False)
