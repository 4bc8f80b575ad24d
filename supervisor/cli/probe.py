"""`supervisor probe [NAME]`: a health check of one manager process by its row in the services
table, for another process manager to run (a Kubernetes exec probe, a systemd watchdog script).

Exit 0 when the row is there, its heartbeat (`updated_at`) is no older than the table's down
time (`service_down_time`, as `service list` judges it, or `--max-age`), and, with `--enabled`,
it is not disabled; 1 otherwise, with one line on stderr saying why; 2 when the command cannot
ask at all (a usage error, an invalid file, a name that is no manager process).

The process is named in one of two ways, and each brings its own key and `[options]`:
- NAME: a process of the services file (`-c`): its host, binary and process name, and the
  file's options (database, down time);
- no NAME: the process the environment describes (`SUPERVISOR_SERVICE`, which the supervisor
  and the manifests of `export kubernetes` give every manager process), so an exec probe inside
  a container needs neither the file nor the name (a replica's name is its pod's).

It reads the table through `db.services`, as `service list` does, and never writes: a missing
SQLite file is not created.  A probe runs every few seconds in every container, so this module
imports the configuration reader only for NAME and SQLAlchemy only once the question is known.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from supervisor.shared.exits import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from supervisor.shared.servicespec import ENV_VAR, OPENSTACK_RUNTIME, ServiceSpec

if TYPE_CHECKING:
    from supervisor.db.services import ServiceRow

# Reading a WAL-mode SQLite file never waits for writers; a server that does not answer within
# this is as unhealthy as a stale row, and a probe must end within its own timeout.
PROBE_BUSY_TIMEOUT = 2.0
MAX_AGE_LIMIT = 86400.0  # a day, as every duration of the services file


class ProbeRefused(Exception):
    """The probe cannot ask its question: exit status 2 and the message on stderr."""


class _Unhealthy(Exception):
    """The row cannot be read: the probe fails (exit 1) with this message."""


@dataclass(frozen=True)
class Target:
    """The row to look at and the options that say where the table is and how old is too old."""

    process: str
    host: str
    binary: str
    options: Mapping[str, Any]
    state_dir: str

    def describe(self) -> str:
        return f"{self.process} ({self.binary} on {self.host})"


def add_probe_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "name",
        nargs="?",
        metavar="NAME",
        help=f"a manager process of the services file, e.g. cinder-volume@lvm-1 (default: the "
        f"process ${ENV_VAR} describes, as in a process the supervisor or an exported "
        "manifest starts)",
    )
    parser.add_argument(
        "--max-age",
        type=_seconds,
        metavar="S",
        help="the oldest heartbeat that passes, in seconds (default: the table's down time, "
        "option service_down_time, at least 2.5 x report_interval)",
    )
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="the services table's database (default: option database_url, else the state "
        "directory's SQLite file)",
    )
    parser.add_argument(
        "--enabled", action="store_true", help="a disabled row fails too (default: it passes)"
    )


def run_probe(args: argparse.Namespace, *, utcnow: Callable[[], datetime] | None = None) -> int:
    from supervisor.db.settings import utc_now

    try:
        target = _from_file(args.name, args.config) if args.name else _from_environment()
        url, max_age = _where_and_how_old(target, args.database_url, args.max_age)
        row = _read_row(target, url)
    except ProbeRefused as refusal:
        return _say(str(refusal), EXIT_USAGE)
    except _Unhealthy as verdict:
        return _say(str(verdict), EXIT_FAILED)
    problem = judge(row, target, max_age, (utcnow or utc_now)(), enabled=args.enabled)
    return EXIT_OK if problem is None else _say(problem, EXIT_FAILED)


def judge(
    row: ServiceRow | None, target: Target, max_age: float, now: datetime, *, enabled: bool
) -> str | None:
    """Why the row fails the probe, or None when it passes."""
    if row is None:
        return f"{target.describe()}: no row in the services table (never registered, or removed)"
    if enabled and row.disabled:
        reason = f": {row.disabled_reason}" if row.disabled_reason else ""
        return f"{target.describe()}: disabled{reason}"
    if row.updated_at is None:
        return f"{target.describe()}: no heartbeat recorded"
    age = (now - row.updated_at).total_seconds()
    if age > max_age:
        return (
            f"{target.describe()}: last heartbeat {age:.0f}s ago "
            f"({row.updated_at.isoformat(timespec='seconds')}Z), more than {max_age:g}s"
        )
    return None


def _say(message: str, status: int) -> int:
    print(f"supervisor probe: {message}", file=sys.stderr)
    return status


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not 0 <= value <= MAX_AGE_LIMIT:  # NaN compares false: refused too
        raise argparse.ArgumentTypeError(f"expected 0 to 86400 seconds, got {text!r}")
    return value


def _from_environment() -> Target:
    spec = ServiceSpec.from_env()
    if spec is None:
        raise ProbeRefused(
            f"no NAME given and ${ENV_VAR} is not set: name a process of the services file"
        )
    _refuse_openstack(spec)
    return Target(spec.process, spec.host, spec.binary, spec.options, spec.state_dir)


def _from_file(name: str, config_path: str) -> Target:
    from supervisor import config

    try:
        plan = config.load(config_path)
    except config.ConfigError as error:
        raise ProbeRefused(str(error)) from None
    processes = {process.name: process for process in plan.processes}
    process = processes.get(name)
    if process is None:
        from supervisor.cli.suggest import did_you_mean

        hint = did_you_mean(name, processes)
        raise ProbeRefused(f"unknown process {name!r}" + (f"; {hint}" if hint else ""))
    if process.spec is None or process.host is None:
        raise ProbeRefused(
            f"{name} is a plain command: it has no row in the services table "
            "(probe it through its own readiness or liveness check)"
        )
    _refuse_openstack(process.spec)
    binary = process.resolution.binary if process.resolution else process.spec.binary
    return Target(name, process.host, binary, plan.options, str(plan.state_dir))


def _refuse_openstack(spec: ServiceSpec) -> None:
    if spec.runtime == OPENSTACK_RUNTIME:
        # Cinder keys its rows by host and binary alone: no row is one process's.
        raise ProbeRefused(
            f"{spec.process} runs real Cinder, whose rows are one per host and binary, not "
            "per process: see `supervisor service list`"
        )


def _where_and_how_old(target: Target, url: str | None, max_age: float | None) -> tuple[str, float]:
    from supervisor.db.settings import InvalidOption, Liveness, database_url

    try:
        if url is None:
            url = database_url(target.options, target.state_dir)
        if max_age is None:
            max_age = Liveness.from_options(target.options).down_time
    except InvalidOption as error:
        raise ProbeRefused(str(error)) from None
    return url, max_age


def _read_row(target: Target, url: str) -> ServiceRow | None:
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from supervisor.db.services import ServicesTable

    try:
        table = ServicesTable(url, busy_timeout=PROBE_BUSY_TIMEOUT)
    except (ArgumentError, ImportError) as error:
        raise ProbeRefused(f"database URL {url!r}: {error}") from None
    with table:
        try:
            if not table.exists():
                raise _Unhealthy(f"{target.describe()}: the database has no services table")
            rows = table.rows()
        except SQLAlchemyError as error:
            raise _Unhealthy(f"cannot read the services database: {_one_line(error)}") from None
    key = (target.host, target.binary, target.process)
    return next((row for row in rows if (row.host, row.binary, row.process) == key), None)


def _one_line(error: Exception) -> str:
    cause = getattr(error, "orig", None) or error
    return " ".join(f"{type(cause).__name__}: {cause}".split())
