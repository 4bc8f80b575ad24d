"""A service's health checks as a container's Kubernetes probes.

The supervisor's checks and the kubelet's differ in what they decide, so each maps to the probe
that decides the same thing:

- `[readiness]` holds the process `starting` until a run passes, bounded by `start_timeout`
  (and by `failure_threshold` when set), then stops.  That is a `startupProbe` (it also holds
  the liveness probe back, as the supervisor runs liveness only once `running`) plus the same
  check as the `readinessProbe`, which a Kubernetes Service reads for its endpoints;
- `[liveness]` is a `livenessProbe`: `failure_threshold` failed runs in a row restart it;
- a manager process's heartbeat (its row in the services table) becomes `supervisor probe`,
  which judges the row as `service list` does, as the readiness, startup and liveness checks a
  manager declares none of (the row is stamped just before `READY=1`);
- a `log` probe has no equivalent (a kubelet never reads a container's output).

Durations become whole seconds, rounded up (a check is never made stricter), at least 1 where
Kubernetes wants one.  An http or tcp probe's host is dropped: the kubelet connects to the pod's
address, so a program that listens on 127.0.0.1 only is never reached (noted as a warning).
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from supervisor.config.services import Probe, ServiceSettings

KUBERNETES_FAILURE_THRESHOLD = 3  # the kubelet's default, where the file leaves it open
START_TIMEOUT_FOREVER = 86_400  # start_timeout = 0 waits forever; a day, the file's longest
HEARTBEAT_PERIOD_READY = 2  # seconds between checks of a starting manager's row
HEARTBEAT_TIMEOUT = 5  # `supervisor probe` loads SQLAlchemy: about a second on a busy machine


@dataclass
class Probes:
    """A container's probes, and what of the service's checks they leave out or bend."""

    startup: dict[str, Any] | None = None
    readiness: dict[str, Any] | None = None
    liveness: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def fields(self) -> dict[str, Any]:
        """The container's probe fields, those that are set."""
        found = {
            "startupProbe": self.startup,
            "readinessProbe": self.readiness,
            "livenessProbe": self.liveness,
        }
        return {key: value for key, value in found.items() if value is not None}


def whole_seconds(value: float, minimum: int = 0) -> int:
    return max(minimum, math.ceil(value))


def container_probes(
    settings: ServiceSettings,
    heartbeat: list[str] | None,
    report_interval: float,
) -> Probes:
    """The probes of a container running a process with these settings; `heartbeat` is the
    `supervisor probe` command when the process is a manager that beats, else None."""
    probes = Probes()
    readiness = _declared(settings.readiness, "readiness", probes)
    if readiness is None and heartbeat is not None:
        readiness = _heartbeat(heartbeat, HEARTBEAT_PERIOD_READY, KUBERNETES_FAILURE_THRESHOLD)
        probes.notes.append(
            "ready once its row in the services table is fresh (supervisor probe): the row "
            "is stamped just before READY=1, which has no equivalent here"
        )
    if readiness is not None:
        probes.readiness = readiness
        probes.startup = _startup(readiness, settings)
    liveness = _declared(settings.liveness, "liveness", probes)
    if liveness is None and heartbeat is not None:
        period = whole_seconds(report_interval, 1)
        command = [*heartbeat, *_max_age(settings)]
        liveness = _heartbeat(command, period, KUBERNETES_FAILURE_THRESHOLD)
        probes.notes.append(
            f"restarted when its heartbeat row is stale {KUBERNETES_FAILURE_THRESHOLD} times "
            "in a row (supervisor probe), including while the database is unreachable, "
            "which the supervisor's watchdog would not count"
        )
    probes.liveness = liveness
    return probes


def _max_age(settings: ServiceSettings) -> list[str]:
    """With `watchdog = N`, a process silent N seconds is failed: the row's age says the same
    (a keep-alive follows every heartbeat)."""
    return ["--max-age", f"{settings.watchdog:g}"] if settings.watchdog else []


def _heartbeat(command: list[str], period: int, failures: int) -> dict[str, Any]:
    return {
        "exec": {"command": command},
        "periodSeconds": period,
        "timeoutSeconds": HEARTBEAT_TIMEOUT,
        "failureThreshold": failures,
    }


def _startup(readiness: dict[str, Any], settings: ServiceSettings) -> dict[str, Any]:
    """The readiness check run until it passes, failing the start after `start_timeout`
    (or `failure_threshold` failed runs, when the readiness table sets one)."""
    period = readiness["periodSeconds"]
    budget = settings.start_timeout or START_TIMEOUT_FOREVER
    failures = whole_seconds(budget / period, 1)
    if settings.readiness is not None and settings.readiness.failure_threshold:
        failures = min(failures, settings.readiness.failure_threshold)
    return {**readiness, "failureThreshold": failures}


def _declared(probe: Probe | None, role: str, probes: Probes) -> dict[str, Any] | None:
    if probe is None:
        return None
    if probe.kind == "log":
        probes.warnings.append(
            f"its {role} log probe ({probe.log!r}) has no Kubernetes equivalent: left out"
        )
        return None
    handler = _HANDLERS[probe.kind](probe, role, probes)
    failures = probe.failure_threshold or KUBERNETES_FAILURE_THRESHOLD
    return {
        **handler,
        "initialDelaySeconds": whole_seconds(probe.initial_delay),
        "periodSeconds": whole_seconds(probe.period, 1),
        "timeoutSeconds": whole_seconds(probe.timeout, 1),
        "failureThreshold": failures,
    }


def _exec(probe: Probe, role: str, probes: Probes) -> dict[str, Any]:
    return {"exec": {"command": list(probe.exec)}}


def _http(probe: Probe, role: str, probes: Probes) -> dict[str, Any]:
    assert probe.http is not None
    parts = urlsplit(probe.http)
    _warn_about_host(parts.hostname, probe.http, role, probes)
    path = parts.path or "/"
    if parts.query:
        path += f"?{parts.query}"
    return {"httpGet": {"path": path, "port": parts.port or 80, "scheme": "HTTP"}}


def _tcp(probe: Probe, role: str, probes: Probes) -> dict[str, Any]:
    assert probe.tcp is not None
    host, _, port = probe.tcp.rpartition(":")
    _warn_about_host(host.strip("[]"), probe.tcp, role, probes)
    return {"tcpSocket": {"port": int(port)}}


def _warn_about_host(host: str | None, target: str, role: str, probes: Probes) -> None:
    if host is None or host == "localhost" or ipaddress.ip_address(host).is_loopback:
        probes.warnings.append(
            f"its {role} probe {target} is made at the pod's address, not on the loopback: "
            "the program must listen on the pod's address (0.0.0.0)"
        )
    elif not ipaddress.ip_address(host).is_unspecified:
        probes.notes.append(f"its {role} probe {target} is made at the pod's address, not {host}")


_HANDLERS: dict[str, Callable[[Probe, str, Probes], dict[str, Any]]] = {
    "exec": _exec,
    "http": _http,
    "tcp": _tcp,
}
