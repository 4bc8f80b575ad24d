"""`[openstack]` in services.toml: which cinder.conf files make a stack real Cinder.

With the table present, every manager service runs Cinder's own `Service` (the child side is
`openstack.serve`), and the plan takes from cinder.conf what Cinder's binaries would:
- the `<subtopic>_manager` options, services.toml's `[options]` first, then cinder.conf's
  [DEFAULT], then Cinder's documented default;
- `host` and `cluster`, and each backend's `backend_host`;
- cinder-volume's processes from `enabled_backends`, cinder-backup's from `backup_workers`,
  unless the service sets `backends` or `workers` itself.
Nothing of Cinder is imported: a manager option is checked by finding its module's file.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from supervisor.config.cinderconf import (
    DEFAULT_BACKUP_WORKERS,
    DEFAULT_SERVICE_DOWN_TIME,
    MANAGER_DEFAULTS,
    CinderConf,
    CinderConfError,
    read,
)
from supervisor.config.schema import TableReader
from supervisor.db.settings import Liveness


@dataclass(frozen=True)
class OpenStack:
    conf: CinderConf
    given: dict[str, Any]  # services.toml's [options] as written: these win over cinder.conf
    # A host of a deployment file (`[hosts.NAME]`): its name stands for cinder.conf's host.
    host_name: str | None = None

    def on_host(self, name: str) -> OpenStack:
        return replace(self, host_name=name)

    @property
    def child_options(self) -> dict[str, Any]:
        """What the child overrides in Cinder's configuration: services.toml's [options], and
        a deployment host's name as `host` (Cinder reads CONF.host beyond the services' rows:
        notifications, volume_utils)."""
        if self.host_name is None or "host" in self.given:
            return dict(self.given)
        return {**self.given, "host": self.host_name}

    @property
    def config_files(self) -> tuple[str, ...]:
        return tuple(str(path) for path in self.conf.files)

    def options(self, resolved: Mapping[str, Any]) -> dict[str, Any]:
        """The options the topic convention reads: `resolved` is services.toml's [options]
        with the supervisor's defaults filled in, which cinder.conf's values replace."""
        merged: dict[str, Any] = {**MANAGER_DEFAULTS, **self.conf.sections.get("DEFAULT", {})}
        merged.update(resolved)
        merged["host"] = self.given.get("host") or self.host_name or self.conf.host
        merged["cluster"] = self.given.get("cluster") or self.conf.cluster
        return merged

    def source_of(self, option: str) -> str:
        """Where a manager option's value comes from, for `check` to show."""
        if option in self.given:
            return "services.toml [options]"
        if option in self.conf.origins:
            return self.conf.origins[option]
        return "Cinder's default"

    def backend_host(self, host: str | None, backend: str) -> str:
        return f"{host}@{backend}" if host else self.conf.backend_host(backend, self.host_name)

    @property
    def sets_backup_workers(self) -> bool:
        """cinder.conf sets backup_workers (to any value): cinder-backup's workers are numbered."""
        return self.conf.default("backup_workers") is not None

    def default_workers(self, reader: TableReader, maximum: int) -> int:
        """cinder-backup's `backup_workers`, reported against the service when unusable."""
        try:
            workers = self.conf.integer("backup_workers", DEFAULT_BACKUP_WORKERS, minimum=1)
        except CinderConfError as error:
            reader.problem((), None, str(error))
            return DEFAULT_BACKUP_WORKERS
        if workers > maximum:
            reader.problem((), None, f"cinder.conf backup_workers = {workers}: at most {maximum}")
            return maximum
        return workers


def read_openstack(reader: TableReader, base: Path, options: TableReader) -> OpenStack | None:
    """The `[openstack]` table (present in the file); None when it cannot be used."""
    reader.allow("config_files")
    names = reader.string_list("config_files")
    if not names:
        reader.problem(("config_files",), None, "expected the cinder.conf files to read")
        return None
    paths = [base / name for name in names]
    try:
        conf = read(paths)
    except CinderConfError as error:
        reader.problem(("config_files",), names, str(error))
        # Planned on Cinder's defaults, so that the services add no misleading errors of
        # their own (a manager option "not set" only because the file could not be read).
        return OpenStack(CinderConf(tuple(paths)), dict(options.data))
    for backend in conf.enabled_backends:
        if backend not in conf.sections:
            reader.problem(
                ("config_files",),
                names,
                f"enabled_backends names {backend!r}, but no file has a [{backend}] section",
            )
    return OpenStack(conf, dict(options.data))


def check_manager(reader: TableReader, option: str, path: str, source: str) -> None:
    """A manager class path must name a module that exists and mentions the class, found
    without importing it (importing Cinder in the supervisor is what this design avoids)."""
    module_name, _, class_name = path.rpartition(".")
    found = _module_file(module_name)
    if found is None:
        reader.problem((), None, f"{option} = {path!r} ({source}): no module {module_name!r}")
    elif not re.search(rf"\b{re.escape(class_name)}\b", found.read_text(errors="replace")):
        reader.problem(
            (), None, f"{option} = {path!r} ({source}): {module_name} has no {class_name!r}"
        )


def _module_file(dotted: str) -> Path | None:
    top, *rest = dotted.split(".")
    try:
        spec = importlib.util.find_spec(top)  # a top-level lookup imports nothing
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if not rest:
        return Path(spec.origin) if spec.origin else None
    for location in spec.submodule_search_locations or ():
        base = Path(location).joinpath(*rest)
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate
    return None


def cinder_database_url(openstack: OpenStack, working_directory: Path) -> str:
    """Cinder's [database] connection as the services see it: a relative SQLite path is
    relative to their working directory."""
    from sqlalchemy.engine import make_url

    url = make_url(openstack.conf.database_url())
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return url.render_as_string(hide_password=False)
    if Path(url.database).is_absolute():
        return url.render_as_string(hide_password=False)
    return url.set(database=str(working_directory / url.database)).render_as_string(
        hide_password=False
    )


def cinder_liveness(openstack: OpenStack) -> Liveness:
    """Cinder's rule for a row that is up: its last beat is at most service_down_time old."""
    conf = openstack.conf
    return Liveness(
        report_interval=float(conf.integer("report_interval", 10)),
        service_down_time=float(conf.integer("service_down_time", DEFAULT_SERVICE_DOWN_TIME)),
    )
