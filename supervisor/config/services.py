"""What every process of one `[services.NAME]` table shares, read from that table.

The reads follow the rules of `configrules` (finite numbers in their ranges, strings the OS can
take, a working directory that exists), so whatever is read here `run` can use.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass, field
from pathlib import Path

from supervisor.config import limits, rules
from supervisor.config.schema import TableReader
from supervisor.policy.restart import POLICIES, Backoff, RestartPolicy, StartLimit
from supervisor.shared.exits import EXIT_CONFIG

STOP_SIGNALS = ("TERM", "INT", "QUIT", "HUP", "KILL", "USR1", "USR2")
STDERR_CHOICES = ("merged", "separate")
DEFAULT_PROBE_PERIOD = 1.0
DEFAULT_PROBE_TIMEOUT = 5.0


@dataclass(frozen=True)
class Readiness:
    """`[services.NAME.readiness]`: how to tell that a started service answers (the daemon's
    probe runs it)."""

    exec: tuple[str, ...]
    period: float = DEFAULT_PROBE_PERIOD
    timeout: float = DEFAULT_PROBE_TIMEOUT


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
    readiness: Readiness | None = None  # a probe that must pass before the service is running
    # Runs once (a migration, a schema sync): `starting` while it runs, then ready to its
    # dependants only when it has ended in success, as systemd's Type=oneshot.
    oneshot: bool = False


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
        readiness=_readiness(reader),
        oneshot=_oneshot(reader),
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


def _readiness(service: TableReader) -> Readiness | None:
    if "readiness" not in service.data:
        return None
    reader = service.table("readiness")
    reader.allow("exec", "period", "timeout")
    argv = reader.command("exec")
    period = reader.seconds("period", DEFAULT_PROBE_PERIOD, minimum=0.01)
    timeout = reader.seconds("timeout", DEFAULT_PROBE_TIMEOUT, minimum=0.01)
    return Readiness(argv, period, timeout) if argv else None


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
