"""A compose file (docker-compose.yml, compose.yaml) → a Translation: its services that run a
`command` or `entrypoint`, on the host.

Each service is translated by `composeservice`; here: the top-level keys (networks, volumes...
need a container runtime: dropped), the `.env` beside the file (compose's variables, an
`env_file` of `[supervisor]` here), and `depends_on` once every service is known:
service_started and service_healthy both wait for readiness here, and
service_completed_successfully makes the dependency a `oneshot`, which is what its dependants
wait for.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from supervisor.tools.importers.composeservice import Composed, ServiceContext, translate_service
from supervisor.tools.importers.envfiles import env_file
from supervisor.tools.importers.model import Service, SourceError, Translation
from supervisor.tools.importers.yamlsource import line_of, load

FORMAT = "compose"
_TOP_LEVEL = {
    "version": "obsolete in compose itself",
    "name": "the project's name: services here are named by their own",
    "networks": "processes share the host's network",
    "volumes": "the host's files are used as they are",
    "secrets": "no secrets store here: use an env_file",
    "configs": "no configs store here: the host's files are used as they are",
    "include": "other compose files are not read: import each on its own",
}


def read(path: Path, base: Path, environ: Mapping[str, str] | None = None) -> Translation:
    data, lines = load(path)
    if not isinstance(data, dict) or not isinstance(data.get("services"), dict):
        raise SourceError(path, None, "services", "expected a mapping of services")
    translation = Translation(path.resolve(), FORMAT)
    variables = dict(os.environ if environ is None else environ)
    dotenv = path.resolve().parent / ".env"
    if dotenv.is_file() and (kept := env_file(dotenv, base, translation, None, ".env")):
        from supervisor.config.envfile import read_env_file

        variables.update(read_env_file(dotenv))
        translation.supervisor["env_file"] = kept
        translation.note(
            ".env beside the compose file gives the ${VAR}s their values, as compose's; here"
            " its variables are also in every service's environment."
        )
    for key, value in data.items():
        if key != "services":
            why = _TOP_LEVEL.get(
                key, "an extension field" if str(key).startswith("x-") else "unknown"
            )
            translation.drop(None, line_of(lines, key), str(key), value, why)
    composed: dict[str, Composed] = {}
    for name, given in data["services"].items():
        if not isinstance(given, dict):
            raise SourceError(
                path, line_of(lines, "services", name), f"services.{name}", "expected a mapping"
            )
        service = translation.new_service(str(name))
        context = ServiceContext(path.resolve(), lines, str(name), variables, translation, base)
        if (done := translate_service(str(name), given, context, service)) is not None:
            composed[str(name)] = done
    if not composed:
        raise SourceError(
            path,
            line_of(lines, "services"),
            "services",
            "no service runs a command on the host: nothing to import",
        )
    _dependencies(composed, translation, lines)
    translation.services = [each.service for each in composed.values()]
    return translation


def _dependencies(composed: dict[str, Composed], translation: Translation, lines: dict) -> None:
    for name, each in composed.items():
        wanted = []
        for dependency, settings in each.depends_on.items():
            key = f"services.{name}.depends_on.{dependency}"
            line = line_of(lines, "services", name, "depends_on", dependency)
            if dependency not in composed:
                why = "that service is not imported (it has no command to run on the host)"
                translation.drop(each.service, line, key, None, why)
                continue
            wanted.append(composed[dependency].service.name)
            condition = settings.get("condition", "service_started")
            other = composed[dependency].service
            if condition == "service_started":
                translation.note(
                    "depends_on condition service_started: here a dependant waits until its"
                    " dependency is ready (running), not only started."
                )
            elif condition == "service_healthy" and "readiness" not in other.values:
                each.service.note(
                    "depends_on",
                    f"{dependency} has no healthcheck: waited for until it is running.",
                )
            elif condition == "service_completed_successfully":
                _oneshot(other, name)
            elif condition != "service_healthy":
                raise SourceError(
                    translation.source,
                    line,
                    key,
                    f"condition {condition!r}: expected service_started, service_healthy or"
                    " service_completed_successfully",
                )
            for option in ("restart", "required"):
                if option in settings:
                    why = (
                        "dependants are not restarted with their dependency"
                        if option == "restart"
                        else "a dependency must be in the file"
                    )
                    translation.drop(each.service, line, f"{key}.{option}", settings[option], why)
        if wanted:
            each.service.set("depends_on", wanted)


def _oneshot(service: Service, dependant: str) -> None:
    if service.values.get("restart", {}).get("policy") == "always":
        service.note(
            "",
            f"{dependant} waits for it to complete successfully, but restart always never"
            " completes: waited for until it is running.",
        )
        return
    if not service.values.get("oneshot"):
        service.set(
            "oneshot",
            True,
            "oneshot: a dependant waits for it to complete successfully"
            " (service_completed_successfully).",
        )
        service.set(
            "start_timeout", 0.0, "start_timeout = 0: compose does not bound the run either."
        )
