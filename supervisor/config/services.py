"""What every process of one `[services.NAME]` table shares, read from that table.

The reads follow the rules of `configrules` (finite numbers in their ranges, strings the OS can
take, a working directory that exists), so whatever is read here `run` can use.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
import signal
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from supervisor.config import limits, rules
from supervisor.config.identity import RunAs, read_run_as
from supervisor.config.schema import TableReader
from supervisor.policy.restart import POLICIES, Backoff, RestartPolicy, StartLimit
from supervisor.shared.exits import EXIT_CONFIG

STOP_SIGNALS = ("TERM", "INT", "QUIT", "HUP", "KILL", "USR1", "USR2")
STDERR_CHOICES = ("merged", "separate")
DEFAULT_PROBE_PERIOD = 1.0
DEFAULT_PROBE_TIMEOUT = 5.0
DEFAULT_LIVENESS_FAILURES = 3  # as Kubernetes: one slow answer is not a dead service
PROBE_KINDS = ("exec", "http", "tcp", "log")


@dataclass(frozen=True)
class Probe:
    """`[services.NAME.readiness]` or `[services.NAME.liveness]`: one health check, of one kind
    (the daemon's `probes` package runs it).  Exactly one of `exec`, `http`, `tcp`, `log` is set.

    `failure_threshold` is how many failed runs in a row count: for liveness, the verdict that
    fails the process; for readiness, the end of its start (0: keep trying until start_timeout).
    """

    exec: tuple[str, ...] = ()
    http: str | None = None  # "http://HOST:PORT/PATH": healthy on a 2xx or 3xx status
    tcp: str | None = None  # "HOST:PORT": healthy when a connection is accepted
    log: str | None = None  # a regular expression: ready once a line of output matches
    period: float = DEFAULT_PROBE_PERIOD
    timeout: float = DEFAULT_PROBE_TIMEOUT
    failure_threshold: int = 0
    initial_delay: float = 0.0

    @property
    def kind(self) -> str:
        return next(kind for kind in PROBE_KINDS if getattr(self, kind))

    @property
    def target(self) -> str:
        """What the probe checks, as events show it."""
        if self.exec:
            return shlex.join(self.exec)
        return str(getattr(self, self.kind))


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
    stderr: str = "merged"  # "separate": stderr to <process>.err.log instead of <process>.log
    depends_on: tuple[str, ...] = ()  # services that must be ready before this one starts
    restart: RestartPolicy = field(default_factory=RestartPolicy)
    readiness: Probe | None = None  # a probe that must pass before the service is running
    liveness: Probe | None = None  # a probe whose failures, once running, fail the process
    # Runs once (a migration, a schema sync): `starting` while it runs, then ready to its
    # dependants only when it has ended in success, as systemd's Type=oneshot.
    oneshot: bool = False
    # False: not started with the group (supervisord's autostart, a disabled systemd unit);
    # it stays `stopped` until an operator starts it.
    autostart: bool = True
    # `user`/`group`: who the processes and their exec probes run as; None: the supervisor's
    # own identity.
    run_as: RunAs | None = None
    # A manager service's processes are forked from a template that imported its code once
    # (docs/guides/preloading.md); the loader sets it, on by default under [openstack].
    preload: bool = False


def read_settings(reader: TableReader, config_path: Path, *, is_manager: bool) -> ServiceSettings:
    return ServiceSettings(
        env=tuple(reader.environment("env").items()),
        directory=_directory(reader, config_path),
        notify=reader.boolean("notify", is_manager),
        start_seconds=reader.seconds("start_seconds", 1.0),
        start_timeout=reader.seconds("start_timeout", 90.0),
        stop_signal=signal.Signals["SIG" + reader.choice("stop_signal", "TERM", STOP_SIGNALS)],
        stop_timeout=reader.seconds("stop_timeout", 10.0),
        critical=reader.boolean("critical", False),
        watchdog=reader.seconds("watchdog", 0.0),
        log_max_bytes=reader.integer("log_max_bytes", None, 1, limits.MAX_LOG_BYTES),
        log_backups=reader.integer("log_backups", None, 0, limits.MAX_LOG_BACKUPS),
        stderr=reader.choice("stderr", "merged", STDERR_CHOICES),
        depends_on=tuple(reader.string_list("depends_on")),
        restart=_restart(reader.table("restart"), is_manager),
        readiness=_probe(reader, "readiness"),
        liveness=_probe(reader, "liveness"),
        oneshot=_oneshot(reader),
        autostart=reader.boolean("autostart", True),
        run_as=read_run_as(reader, is_manager=is_manager),
    )


def _oneshot(reader: TableReader) -> bool:
    oneshot = reader.boolean("oneshot", False)
    policy = reader.table("restart").data.get("policy")
    if oneshot and policy == "always":
        # A job that is restarted after it succeeds never completes (systemd refuses it too).
        reader.problem(("oneshot",), True, 'not allowed with restart policy "always"')
    return oneshot


def _directory(reader: TableReader, config_path: Path) -> str | None:
    """The working directory, relative to the file; one that is missing is an error here,
    not a start that fails later blaming the program."""
    directory = reader.string("directory", None)
    if not directory:
        return None
    path = config_path.parent / directory
    if (problem := rules.directory_problem(path)) is not None:
        reader.problem(("directory",), directory, problem)
        return None
    return str(path)


def _probe(service: TableReader, role: str) -> Probe | None:
    """One probe table, every problem reported at its key with what is allowed."""
    if role not in service.data:
        return None
    reader = service.table(role)
    kinds = [kind for kind in PROBE_KINDS if kind in reader.data]
    if not kinds:
        reader.problem((), reader.data, "expected one of the keys exec, http, tcp or log")
        return None
    for extra in kinds[1:]:
        reader.problem(
            (extra,), reader.data[extra], f"only one of exec, http, tcp, log: {kinds[0]} is set"
        )
    kind = kinds[0]
    if kind == "log":
        return _log_probe(reader, role)
    reader.allow(*kinds, "period", "timeout", "failure_threshold", "initial_delay")
    default_failures = DEFAULT_LIVENESS_FAILURES if role == "liveness" else 0
    lowest_failures = 1 if role == "liveness" else 0
    timing = {
        "period": reader.seconds("period", DEFAULT_PROBE_PERIOD, minimum=0.01),
        "timeout": reader.seconds("timeout", DEFAULT_PROBE_TIMEOUT, minimum=0.01),
        "failure_threshold": reader.integer(
            "failure_threshold", default_failures, lowest_failures, limits.MAX_PROBE_FAILURES
        ),
        "initial_delay": reader.seconds("initial_delay", 0.0),
    }
    if kind == "exec":
        argv = reader.command("exec")
        return Probe(exec=argv, **timing) if argv else None
    text = reader.string(kind, None)
    if text is None:
        return None
    # With a variable or a placeholder in it, the address is judged once rendered, per process
    # (config/placeholders.py).
    problem = None if _TEMPLATED.search(text) else address_problem(kind, text)
    if problem is not None:
        reader.problem((kind,), text, problem)
        return None
    return Probe(**{kind: text}, **timing)


def _log_probe(reader: TableReader, role: str) -> Probe | None:
    reader.allow("log")
    pattern = reader.string("log", None)
    if role != "readiness":
        # A line seen once says a service got somewhere, never that it is still alive.
        reader.problem(("log",), pattern, "a log probe is for readiness only")
        return None
    if not pattern:
        reader.problem(("log",), pattern, "expected a non-empty regular expression")
        return None
    try:
        re.compile(pattern.encode())
    except re.error as error:
        reader.problem(("log",), pattern, f"not a regular expression: {error}")
        return None
    return Probe(log=pattern)


_TEMPLATED = re.compile(r"[${]")
_NO_LOOKUP = "an IP address or localhost (a name lookup would block the supervisor)"


def address_problem(kind: str, text: str) -> str | None:
    """What is wrong with an http probe's URL or a tcp probe's HOST:PORT, or None."""
    return _http_problem(text) if kind == "http" else _tcp_problem(text)


def _http_problem(url: str) -> str | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        return f"not a URL: {error}"
    if parts.scheme != "http":
        return 'expected "http://HOST:PORT/PATH" (https is not probed)'
    if not parts.hostname:
        return "expected a host"
    return _host_problem(parts.hostname) if port is None or port > 0 else "expected a port > 0"


def _tcp_problem(address: str) -> str | None:
    host, _, port = address.rpartition(":")
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        return 'expected "HOST:PORT" with a port from 1 to 65535'
    return _host_problem(host.strip("[]"))


def _host_problem(host: str) -> str | None:
    if host == "localhost":
        return None
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return f"expected {_NO_LOOKUP}"
    return None


def _restart(reader: TableReader, is_manager: bool) -> RestartPolicy:
    reader.allow("policy", "success_exit_codes", "prevent_exit_codes", "backoff", "start_limit")
    defaults = RestartPolicy()
    backoff = reader.table("backoff")
    backoff.allow("initial", "max", "factor", "jitter", "reset_after")
    initial = backoff.seconds("initial", Backoff.initial)
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
            max=backoff.seconds("max", max(Backoff.max, initial), minimum=initial),
            factor=backoff.number("factor", Backoff.factor, 1.0, limits.MAX_FACTOR),
            jitter=backoff.number("jitter", Backoff.jitter, 0.0, 1.0),
            reset_after=backoff.seconds("reset_after", Backoff.reset_after),
        ),
        start_limit=StartLimit(
            burst=limit.integer("burst", StartLimit.burst, 0, limits.MAX_BURST),
            interval=limit.seconds("interval", StartLimit.interval),
        ),
    )
