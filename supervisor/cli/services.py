"""`supervisor service list|disable|enable|remove`: the services table, as cinder-manage shows it.

The commands read and write the database directly, so they work whether or not a supervisor is
running.  SQLAlchemy is imported only when one of them runs: `supervisor run` never loads it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supervisor.cli.errorjson import config_problems, report_error
from supervisor.cli.parsing import add_config_option
from supervisor.db.settings import InvalidOption, Liveness, database_url, utc_now
from supervisor.shared.exits import EXIT_CONFIG_INVALID, EXIT_FAILED, EXIT_OK
from supervisor.shared.servicespec import OPENSTACK_RUNTIME

if TYPE_CHECKING:
    from supervisor.config import Plan
    from supervisor.db.cinder import CinderServicesTable
    from supervisor.db.services import ServiceRow, ServicesTable

EXIT_NO_SUCH_SERVICE = EXIT_FAILED  # also: the database cannot be reached

COLUMNS = (
    "Binary",
    "Host",
    "Zone",
    "Status",
    "State",
    "Updated At",
    "RPC Version",
    "Object Version",
    "Cluster",
    "Process",
)
UP, DOWN = ":-)", "XXX"


def add_service_arguments(service: argparse.ArgumentParser) -> None:
    """The actions of `service`, each with its own -c/--config."""
    actions = service.add_subparsers(dest="service_command", required=True, metavar="ACTION")

    listing = actions.add_parser("list", help="every row: its state (:-) up, XXX down) and more")
    add_config_option(listing)
    listing.add_argument("--json", action="store_true", help="print the rows as JSON")

    for verb, help in (
        ("disable", "mark a service disabled"),
        ("enable", "mark a service enabled"),
        ("remove", "delete a service's rows (a live process recreates its row)"),
    ):
        action = actions.add_parser(verb, help=help, description=help)
        add_config_option(action)
        action.add_argument("binary", metavar="BINARY", help="e.g. cinder-volume")
        action.add_argument("host", metavar="HOST", help="e.g. node1@lvm-1")
        action.add_argument(
            "--process", metavar="NAME", help="only this process's row, e.g. cinder-backup#2"
        )
        if verb == "disable":
            action.add_argument("--reason", help="why, shown as disabled_reason")


def run_service_command(
    args: argparse.Namespace, *, utcnow: Callable[[], datetime] = utc_now
) -> int:
    from supervisor import config

    try:
        plan = config.load(args.config)
        if plan.openstack is not None:
            return _run_on_cinder_table(args, plan, utcnow())
        liveness = Liveness.from_options(plan.options)
        url = database_url(plan.options, plan.state_dir)
    except config.ConfigError as error:
        return report_error(
            str(error), EXIT_CONFIG_INVALID, as_json=_json(args), problems=config_problems(error)
        )
    except InvalidOption as error:
        return report_error(f"{args.config}: {error}", EXIT_CONFIG_INVALID, as_json=_json(args))

    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from supervisor.db.services import ServicesTable

    try:
        table = ServicesTable(url)
    except ArgumentError as error:
        message = f"{args.config}: option 'database_url': {error}"
        return report_error(message, EXIT_CONFIG_INVALID, as_json=_json(args))
    with table:
        try:
            if args.service_command == "list":
                return _list(table, liveness, utcnow(), as_json=args.json)
            return _change(table, args, utcnow())
        except SQLAlchemyError as error:
            message = f"cannot use the services database: {error}"
            return report_error(message, EXIT_NO_SUCH_SERVICE, as_json=_json(args))


def _json(args: argparse.Namespace) -> bool:
    """`service list --json`: its errors are JSON too (the other actions take no --json)."""
    return bool(getattr(args, "json", False))


def _run_on_cinder_table(args: argparse.Namespace, plan: Plan, now: datetime) -> int:
    """Under `[openstack]` the rows are Cinder's own, in the database cinder.conf names."""
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from supervisor.db.cinder import ProcessFilterUnsupported

    try:
        table, liveness = cinder_table(plan)
    except (ValueError, ArgumentError) as error:
        message = f"{args.config}: cinder.conf: {error}"
        return report_error(message, EXIT_CONFIG_INVALID, as_json=_json(args))
    with table:
        try:
            if args.service_command == "list":
                return _list(table, liveness, now, as_json=args.json)
            return _change(table, args, now)
        except ProcessFilterUnsupported as error:
            return report_error(str(error), EXIT_CONFIG_INVALID, as_json=_json(args))
        except SQLAlchemyError as error:
            message = f"cannot use Cinder's database: {error}"
            return report_error(message, EXIT_NO_SUCH_SERVICE, as_json=_json(args))


def cinder_table(plan: Plan) -> tuple[CinderServicesTable, Liveness]:
    """Cinder's services table, in the database cinder.conf names, and Cinder's rule for a
    row that is up; ValueError or SQLAlchemy's ArgumentError for an unusable cinder.conf."""
    from supervisor.config.openstack import cinder_database_url, cinder_liveness
    from supervisor.db.cinder import CinderServicesTable

    assert plan.openstack is not None
    liveness = cinder_liveness(plan.openstack)
    url = cinder_database_url(plan.openstack, _cinder_working_directory(plan))
    return CinderServicesTable(url, _processes_of(plan)), liveness


def _cinder_working_directory(plan: Plan) -> Path:
    """Where the Cinder services run, which their relative paths are relative to."""
    for process in plan.every_process:
        if process.spec is not None and process.spec.runtime == OPENSTACK_RUNTIME:
            return Path(process.settings.directory or Path.cwd())
    return plan.path.parent


def _processes_of(plan: Plan) -> Callable[[str, str], list[str]]:
    """The supervisor's processes behind one of Cinder's rows (backup workers share one)."""
    by_row: dict[tuple[str, str], list[str]] = {}
    for process in plan.every_process:
        if process.resolution is not None and process.host is not None:
            by_row.setdefault((process.resolution.binary, process.host), []).append(process.name)
    return lambda binary, host: by_row.get((binary, host), [])


def _list(table: ServicesTable, liveness: Liveness, now: datetime, *, as_json: bool) -> int:
    if liveness.warning:
        print(f"warning: {liveness.warning}", file=sys.stderr)
    rows = table.rows() if table.exists() else []
    if as_json:
        print(json.dumps([_as_json(row, liveness, now) for row in rows], indent=2))
    else:
        print(_as_table([_as_cells(row, liveness, now) for row in rows]))
    return EXIT_OK


def _change(table: ServicesTable, args: argparse.Namespace, now: datetime) -> int:
    if not table.exists():
        matched = 0
    elif args.service_command == "remove":
        matched = table.remove(args.binary, args.host, process=args.process)
    else:
        disabled = args.service_command == "disable"
        reason = args.reason if disabled else None
        matched = table.set_disabled(
            args.binary, args.host, disabled=disabled, reason=reason, now=now, process=args.process
        )
    which = f"{args.binary} on {args.host}" + (f" ({args.process})" if args.process else "")
    if not matched:
        print(f"no service row for {which}", file=sys.stderr)
        return EXIT_NO_SUCH_SERVICE
    done = {"remove": "removed", "disable": "disabled", "enable": "enabled"}
    rows = "row" if matched == 1 else "rows"
    print(f"{done[args.service_command]} {which}: {matched} {rows}")
    return EXIT_OK


def _as_cells(row: ServiceRow, liveness: Liveness, now: datetime) -> tuple[str, ...]:
    updated_at = row.updated_at.isoformat(sep=" ", timespec="seconds") if row.updated_at else ""
    return (
        row.binary,
        row.host,
        row.availability_zone or "",
        "disabled" if row.disabled else "enabled",
        UP if liveness.is_up(row.updated_at, now) else DOWN,
        updated_at,
        row.rpc_current_version or "",
        row.object_current_version or "",
        row.cluster_name or "",
        row.process,
    )


def _as_table(lines: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(cell) for cell in column) for column in zip(COLUMNS, *lines, strict=True)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in (COLUMNS, *lines)
    )


def _as_json(row: ServiceRow, liveness: Liveness, now: datetime) -> dict[str, Any]:
    up = liveness.is_up(row.updated_at, now)
    return {
        "id": row.id,
        "binary": row.binary,
        "host": row.host,
        "process": row.process,
        "zone": row.availability_zone,
        "status": "disabled" if row.disabled else "enabled",
        "disabled_reason": row.disabled_reason,
        "state": "up" if up else "down",
        "updated_at": _timestamp(row.updated_at),
        "created_at": _timestamp(row.created_at),
        "report_count": row.report_count,
        "rpc_version": row.rpc_current_version,
        "object_version": row.object_current_version,
        "cluster": row.cluster_name,
    }


def _timestamp(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat() + "Z"
