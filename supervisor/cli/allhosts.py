"""`supervisor status --all-hosts`: every host of a deployment file in one view.

Each host's processes come from its own supervisor, through the control socket in the host's
state directory (`socket`), where that supervisor answers; for a host whose supervisor does
not (the host is down, or its supervisor is), from Cinder's services table through the
database the file's cinder.conf names (`cinder-db`): the rows registered under the host's
Cinder host, up or down by Cinder's own rule.  Every row says which.

The sockets are files: this reaches every host whose state directory this machine sees (the
hosts of scripts/netns-hosts share one filesystem).  Hosts on machines of their own would need
their state directories shared, or their sockets forwarded (`ssh -L`), for the socket rows;
the Cinder rows need only the database.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from supervisor import config
from supervisor.cli.errorjson import config_problems, report_error
from supervisor.control.client import ControlClient, LostSupervisor, NotRunning, Unreachable
from supervisor.db.settings import utc_now
from supervisor.shared.exits import EXIT_CONFIG_INVALID, EXIT_NOT_RUNNING, EXIT_OK

if TYPE_CHECKING:
    from supervisor.config.hostspec import HostSpec
    from supervisor.config.plan import Plan

SOCKET, CINDER_DB = "socket", "cinder-db"
SOCKET_TIMEOUT = 5.0  # seconds for one host's supervisor to answer
COLUMNS = ("HOST", "NAME", "STATE", "PID", "SOURCE", "DETAIL")


def run_all_hosts_status(args: argparse.Namespace) -> int:
    try:
        plan = config.load(args.config)
    except config.ConfigError as error:
        return report_error(
            str(error), EXIT_CONFIG_INVALID, as_json=args.json, problems=config_problems(error)
        )
    if not plan.hosts:
        message = f"supervisor: {plan.path} has no [hosts]: --all-hosts is for a deployment file"
        return report_error(message, EXIT_CONFIG_INVALID, as_json=args.json)
    hosts = [_from_socket(host) for host in plan.hosts.values()]
    missing = [entry for entry in hosts if entry["source"] != SOCKET]
    if missing:
        _fill_from_cinder(plan, missing, utc_now())
    if args.json:
        print(json.dumps({"hosts": hosts}, indent=2))
    else:
        print(_table(hosts))
    return EXIT_NOT_RUNNING if missing else EXIT_OK


def _from_socket(host: HostSpec) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "host": host.name,
        "address": host.address,
        "cinder_host": host.cinder_host,
        "state_dir": str(host.state_dir),
        "source": SOCKET,
        "error": None,
        "processes": [],
    }
    try:
        with ControlClient(host.state_dir, timeout=SOCKET_TIMEOUT) as client:
            reply = client.request("status", names=[])
    except (NotRunning, Unreachable, LostSupervisor, TimeoutError, OSError) as error:
        entry.update(source=CINDER_DB, error=f"its supervisor does not answer: {error}")
        return entry
    if not reply.get("ok"):
        entry.update(source=CINDER_DB, error=str(reply.get("error", "refused")))
        return entry
    entry["processes"] = [
        {
            "name": process["name"],
            "state": process["state"],
            "pid": process.get("pid"),
            "source": SOCKET,
            "detail": process.get("status_text") or process.get("cause") or "",
        }
        for process in reply["processes"]
    ]
    return entry


def _fill_from_cinder(plan: Plan, entries: list[dict[str, Any]], now: datetime) -> None:
    """The rows of Cinder's services table of each host in `entries`."""
    from sqlalchemy.exc import SQLAlchemyError

    from supervisor.cli.services import cinder_table

    if plan.openstack is None:
        for entry in entries:
            entry["error"] += "; and the file runs no Cinder ([openstack]) to ask instead"
        return
    try:
        table, liveness = cinder_table(plan)
        with table:
            rows = table.rows() if table.exists() else []
    except (SQLAlchemyError, ValueError) as error:
        for entry in entries:
            entry["error"] += f"; and Cinder's database cannot be read: {error}"
        return
    for entry in entries:
        mine = entry["cinder_host"]
        for row in rows:
            if row.host != mine and not row.host.startswith(f"{mine}@"):
                continue
            up = liveness.is_up(row.updated_at, now)
            seen = "never" if row.updated_at is None else f"{row.updated_at.isoformat()}Z"
            entry["processes"].append(
                {
                    "name": row.process if row.process not in ("", "-") else row.binary,
                    "state": "up" if up else "down",
                    "pid": None,
                    "source": CINDER_DB,
                    "detail": f"{row.binary} on {row.host}, last report {seen}",
                }
            )


def _table(hosts: list[dict[str, Any]]) -> str:
    lines: list[tuple[str, ...]] = []
    for entry in hosts:
        for process in entry["processes"]:
            pid = "-" if process["pid"] is None else str(process["pid"])
            cells = (process["name"], process["state"], pid, process["source"], process["detail"])
            lines.append((entry["host"], *cells))
        if not entry["processes"]:
            lines.append((entry["host"], "-", "unknown", "-", "-", entry["error"] or ""))
    widths = [max(len(cell) for cell in column) for column in zip(COLUMNS, *lines, strict=True)]
    text = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in (COLUMNS, *lines)
    ]
    notes = [f"{entry['host']}: {entry['error']}" for entry in hosts if entry["error"]]
    return "\n".join(text + notes)
