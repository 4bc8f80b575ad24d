"""One compose service that runs a command → one service on the host.

`entrypoint` + `command` is the argv (the image is not used: the program must be on this host),
`environment`, `env_file`, `working_dir` (when it exists here), `stop_signal`,
`stop_grace_period`, `restart` and `healthcheck` (a readiness probe) are translated; what only
a container runtime gives (ports, volumes, networks, users, limits...) is dropped, with why.
`depends_on` is left to `compose`, which knows every service.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from supervisor.tools.importers import composevars
from supervisor.tools.importers.envfiles import env_file
from supervisor.tools.importers.model import (
    Service,
    SourceError,
    Translation,
    relative_path,
    seconds,
    set_stop_signal,
    signal_name,
)
from supervisor.tools.importers.yamlsource import line_of

# Docker's restart delay: from 100 ms, doubling, up to a minute, reset by 10 s of running.
DOCKER_BACKOFF = {"initial": 0.1, "factor": 2.0, "max": 60.0, "reset_after": 10.0}
UNLIMITED = {"burst": 1000, "interval": 60.0}  # Docker has no start limit
# Docker's healthcheck defaults (services.toml's probes default to 1 s and 5 s).
HEALTH_DEFAULTS = {"interval": "30s", "timeout": "30s", "retries": 3, "start_period": "0s"}
_HANDLED = {
    "command", "entrypoint", "environment", "env_file", "working_dir", "stop_signal",
    "stop_grace_period", "restart", "healthcheck", "depends_on", "image", "build",
}  # fmt: skip
_REASONS = {
    "ports": "processes listen on the host's own ports: there is nothing to publish",
    "expose": "processes listen on the host's own ports: there is nothing to publish",
    "volumes": "the host's files are used as they are",
    "networks": "processes share the host's network",
    "network_mode": "processes share the host's network",
    "container_name": "the process is named after the service",
    "hostname": "processes share the host's name",
    "user": "a user of the image, not of this machine: set user (and group) by hand",
    "init": "a stopped or ended process's whole group is killed here anyway",
    "deploy": "a swarm's or a scheduler's settings; restart here is `restart`",
    "profiles": "every service in the file is imported",
}


@dataclass
class Composed:
    service: Service
    depends_on: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class ServiceContext:
    """What translating one compose service needs: where its keys are (for errors and
    stderr), the variables compose would use, and what was approximated (`used`)."""

    source: Path
    lines: dict
    name: str
    environ: Mapping[str, str]
    translation: Translation
    base: Path
    used: set[str] = field(default_factory=set)

    def line(self, *path: str | int) -> int | None:
        return line_of(self.lines, "services", self.name, *path)

    def key(self, key: str) -> str:
        return f"services.{self.name}.{key}"

    def fail(self, key: str, message: str) -> SourceError:
        return SourceError(self.source, self.line(key), self.key(key), message)

    def text(self, value: Any, key: str, *, braces: bool = True) -> str:
        return composevars.translate(str(value), self.environ, self.used, braces=braces)

    def now(self, value: Any, key: str) -> str:
        try:
            return composevars.expand(str(value), self.environ)
        except composevars.VariableError as error:
            raise self.fail(key, str(error)) from None


def translate_service(
    name: str, data: dict[str, Any], context: ServiceContext, service: Service
) -> Composed | None:
    """The service, or None when it has no command to run on the host (dropped, with why)."""
    argv = _argv(data, context)
    if not argv:
        what = "image" if "image" in data else "build" if "build" in data else "command"
        context.translation.drop(
            None,
            context.line(),
            f"services.{name}",
            None,
            f"it has no command or entrypoint, only its {what}: it needs a container runtime",
        )
        return None
    service.set("command", argv)
    if "image" in data or "build" in data:
        given = data.get("image") or "its build"
        service.note("command", f"image {given} is not used: the command runs on this host.")
    _environment(data, context, service)
    _directory(data, context, service)
    _stop(data, context, service)
    _restart(data, context, service)
    _healthcheck(data, context, service)
    for key, value in data.items():
        if key not in _HANDLED:
            why = _REASONS.get(key, "no equivalent on the host")
            context.translation.drop(service, context.line(key), context.key(key), value, why)
    _notes(context, service)
    return Composed(service, _depends_on(data, context))


def _argv(data: dict[str, Any], context: ServiceContext) -> list[str]:
    argv: list[str] = []
    for key in ("entrypoint", "command"):
        value = data.get(key)
        if value is None:
            continue
        if isinstance(value, str):
            try:
                words = shlex.split(value)
            except ValueError as error:
                raise context.fail(key, f"cannot split into arguments: {error}") from None
        elif isinstance(value, list):
            words = [str(word) for word in value]
        else:
            raise context.fail(key, f"{value!r}: expected a string or a list")
        argv += [context.text(word, key) for word in words]
    return argv


def _environment(data: dict[str, Any], context: ServiceContext, service: Service) -> None:
    given = data.get("environment")
    pairs: list[tuple[str, Any]] = []
    if isinstance(given, dict):
        pairs = list(given.items())
    elif isinstance(given, list):
        for entry in given:
            name, equals, value = str(entry).partition("=")
            pairs.append((name, value if equals else None))
    elif given is not None:
        raise context.fail("environment", f"{given!r}: expected a mapping or a list")
    env: dict[str, str] = {}
    for name, value in pairs:
        if value is None:  # the host's value, or nothing
            env[str(name)] = f"${{{name}:-}}"
            context.used.add("pass through")
        else:
            value = str(value).lower() if isinstance(value, bool) else value
            env[str(name)] = context.text(value, "environment")
    if env:
        service.set("env", env)
    files = data.get("env_file")
    if files is None:
        return
    kept = []
    for entry in files if isinstance(files, list) else [files]:
        path, required = (
            (entry, True)
            if isinstance(entry, str)
            else (entry.get("path"), entry.get("required", True))
        )
        full = context.source.parent / context.now(path, "env_file")
        if not full.exists() and not required:
            continue
        if (
            relative := env_file(
                full, context.base, context.translation, service, context.key("env_file")
            )
        ) is not None:
            kept.append(relative)
    if kept:
        service.set("env_file", kept if len(kept) > 1 else kept[0])


def _directory(data: dict[str, Any], context: ServiceContext, service: Service) -> None:
    if "working_dir" not in data:
        return
    given = context.now(data["working_dir"], "working_dir")
    path = context.source.parent / given
    if path.is_dir():
        service.set(
            "directory",
            relative_path(path, context.base),
            "working_dir: a path in the container, found on this host too.",
        )
    else:
        why = "a path in the container, not a directory on this host"
        context.translation.drop(
            service, context.line("working_dir"), context.key("working_dir"), given, why
        )


def _stop(data: dict[str, Any], context: ServiceContext, service: Service) -> None:
    if "stop_signal" in data:
        given = context.now(data["stop_signal"], "stop_signal")
        set_stop_signal(service, signal_name(given) or given, f"stop_signal {given}")
    if "stop_grace_period" in data:
        timeout = seconds(context.now(data["stop_grace_period"], "stop_grace_period"))
        if timeout is None:
            raise context.fail(
                "stop_grace_period",
                f"{data['stop_grace_period']!r}: expected a duration such as 10s or 1m30s",
            )
        service.set("stop_timeout", timeout)


def _restart(data: dict[str, Any], context: ServiceContext, service: Service) -> None:
    given = context.now(data.get("restart", "no"), "restart")
    policy, _, retries = given.partition(":")
    if policy in ("no", "false"):
        service.set("restart", {"policy": "never"})
        return
    if policy not in ("always", "unless-stopped", "on-failure"):
        raise context.fail(
            "restart", f"{given!r}: expected no, always, on-failure[:N] or unless-stopped"
        )
    restart: dict[str, Any] = {"policy": "on-failure" if policy == "on-failure" else "always"}
    restart["backoff"] = dict(DOCKER_BACKOFF)
    if retries:
        if not retries.isdigit():
            raise context.fail("restart", f"{given!r}: expected on-failure:N with N a number")
        restart["start_limit"] = {
            "burst": min(int(retries), UNLIMITED["burst"]),
            "interval": 86400.0,
        }
        service.note(
            "restart",
            f"on-failure:{retries}: Docker gives up after {retries} restarts; here after"
            f" {retries} within a day.",
        )
    else:
        restart["start_limit"] = dict(UNLIMITED)
        context.translation.note(
            "restart: Docker's delay (from 0.1s doubling up to 60s, reset by 10s of running) is"
            " kept; Docker has no start limit, and 1000 restarts in 60s stands for none."
        )
    if policy == "unless-stopped":
        service.note(
            "restart", "unless-stopped: as always here (a service an operator stops stays stopped)."
        )
    service.set("restart", restart)


def _healthcheck(data: dict[str, Any], context: ServiceContext, service: Service) -> None:
    check = data.get("healthcheck")
    if not isinstance(check, dict) or check.get("disable"):
        return
    test = check.get("test")
    if isinstance(test, str):
        test = ["CMD-SHELL", test]
    if not isinstance(test, list) or not test or test[0] == "NONE":
        return
    if test[0] == "CMD" and len(test) > 1:
        argv = [context.text(word, "healthcheck") for word in test[1:]]
    elif test[0] == "CMD-SHELL" and len(test) == 2:
        argv = ["/bin/sh", "-c", context.text(test[1], "healthcheck")]
    else:
        raise context.fail(
            "healthcheck",
            f"test {test!r}: expected [CMD, ...], [CMD-SHELL, command], a string or [NONE]",
        )
    timing = {**HEALTH_DEFAULTS, **{key: check[key] for key in HEALTH_DEFAULTS if key in check}}
    probe: dict[str, Any] = {"exec": argv}
    for ours, theirs in (
        ("period", "interval"),
        ("timeout", "timeout"),
        ("initial_delay", "start_period"),
    ):
        value = seconds(context.now(timing[theirs], f"healthcheck.{theirs}"))
        if value is None:
            raise context.fail(
                "healthcheck", f"{theirs} {timing[theirs]!r}: expected a duration such as 30s"
            )
        probe[ours] = max(value, 0.01) if ours != "initial_delay" else value
    retries = context.now(timing["retries"], "healthcheck.retries")
    if not retries.isdigit():
        raise context.fail("healthcheck", f"retries {retries!r}: expected a number")
    probe["failure_threshold"] = min(int(retries), 1000)
    for key in check:
        if key not in (*HEALTH_DEFAULTS, "test", "disable"):
            context.translation.drop(
                service,
                context.line("healthcheck", key),
                context.key(f"healthcheck.{key}"),
                check[key],
                "no equivalent in a probe",
            )
    service.set("readiness", probe)
    service.note(
        "readiness",
        "healthcheck: a readiness probe (Docker's defaults where the file gives none). Docker"
        " runs the first check one interval after the start, here at once after initial_delay"
        " (start_period); Docker marks a failing container unhealthy, here failure_threshold"
        " failures in a row fail the start; once running it is not probed (Docker does not"
        " restart an unhealthy container either).",
    )


def _depends_on(data: dict[str, Any], context: ServiceContext) -> dict[str, dict[str, Any]]:
    given = data.get("depends_on")
    if given is None:
        return {}
    if isinstance(given, list):
        return {str(name): {"condition": "service_started"} for name in given}
    if isinstance(given, dict):
        return {str(name): dict(value or {}) for name, value in given.items()}
    raise context.fail("depends_on", f"{given!r}: expected a list or a mapping")


def _notes(context: ServiceContext, service: Service) -> None:
    if "unset empty" in context.used:
        context.translation.note(
            "${VAR} and $VAR are ${VAR:-} here: unset, they are empty, as compose makes them"
            " (without its warning)."
        )
    if "dash default" in context.used:
        service.note(
            "", "${VAR-default} is ${VAR:-default} here: an empty VAR gets the default too."
        )
    if "alternative" in context.used:
        service.note("", "${VAR:+alternative} was expanded when imported.")
    if "pass through" in context.used:
        service.note(
            "env",
            "a variable listed without a value is the host's, or empty (compose leaves it unset).",
        )
