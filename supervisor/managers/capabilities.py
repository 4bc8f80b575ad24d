"""The capabilities channel: how volume backends tell the scheduler what they can hold.

Cinder's volume services fan their capabilities out to every scheduler over the message bus
(`update_service_capabilities`).  This stack has no bus, so each volume process publishes its
latest report as one JSON file, `<state_dir>/capabilities/<host>.json`:

    {"host": "node1@lvm-1", "service_name": "lvm-1", "timestamp": 1767225600.25,
     "capabilities": {"volume_backend_name": "lvm-1", "total_capacity_gb": 50.0, ...}}

A report is written to a hidden file and renamed over the previous one, so a reader sees the old
report or the new one, never a mix.  `timestamp` is the writer's wall clock (seconds since the
epoch) and tells a new report from one the reader already has: a backend that stopped leaves its
last report in place, unchanged, and goes silent rather than missing.  The scheduler reads the
directory on each periodic run; a file that cannot be read or parsed is skipped with a warning,
and the reader keeps what it had.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import structlog

from supervisor.managers.jsonfile import write_json_atomically

CAPABILITIES_DIR = "capabilities"

log = structlog.get_logger()


@dataclass(frozen=True)
class CapabilityReport:
    host: str  # the volume service's host, "<host>@<backend>"
    service_name: str  # the backend
    timestamp: float  # when the backend made the report, on its wall clock
    capabilities: dict[str, Any]


def report_path(state_dir: Path, host: str) -> Path:
    # A host is a hostname plus "@backend"; quoting keeps any other character out of the path.
    return state_dir / CAPABILITIES_DIR / f"{quote(host, safe='@')}.json"


def publish(state_dir: Path, report: CapabilityReport) -> None:
    write_json_atomically(report_path(state_dir, report.host), asdict(report))


def read_reports(state_dir: Path) -> list[CapabilityReport]:
    """Every report in place now, skipping (with a warning) any that cannot be understood."""
    reports = []
    for path in sorted((state_dir / CAPABILITIES_DIR).glob("[!.]*.json")):
        try:
            document = json.loads(path.read_text())
            report = CapabilityReport(
                host=str(document["host"]),
                service_name=str(document["service_name"]),
                timestamp=float(document["timestamp"]),
                capabilities=dict(document["capabilities"]),
            )
        except FileNotFoundError:
            continue  # gone between the listing and the read: as if never listed
        except (OSError, ValueError, TypeError, KeyError) as error:
            log.warning("unreadable capabilities report", path=str(path), error=repr(error))
            continue
        reports.append(report)
    return reports
