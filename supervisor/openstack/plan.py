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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from supervisor.openstack.cinderconf import (
    DEFAULT_BACKUP_WORKERS,
    MANAGER_DEFAULTS,
    CinderConf,
    CinderConfError,
    read,
)
from supervisor.tableschema import TableReader

RUNTIME = "openstack"


@dataclass(frozen=True)
class OpenStack:
    conf: CinderConf

    @property
    def config_files(self) -> tuple[str, ...]:
        return tuple(str(path) for path in self.conf.files)

    def options(self, given: Mapping[str, Any], resolved: Mapping[str, Any]) -> dict[str, Any]:
        """The options the topic convention reads: `given` is services.toml's [options] as
        written, `resolved` the same with the supervisor's defaults filled in."""
        merged: dict[str, Any] = {**MANAGER_DEFAULTS, **self.conf.sections.get("DEFAULT", {})}
        merged.update(resolved)
        merged["host"] = given.get("host") or self.conf.host
        merged["cluster"] = given.get("cluster") or self.conf.cluster
        return merged

    def source_of(self, option: str, given: Mapping[str, Any]) -> str:
        """Where a manager option's value comes from, for `check` to show."""
        if option in given:
            return "services.toml [options]"
        if option in self.conf.origins:
            return self.conf.origins[option]
        return "Cinder's default"

    def backend_host(self, host: str | None, backend: str) -> str:
        return f"{host}@{backend}" if host else self.conf.backend_host(backend)

    def default_workers(self) -> int:
        return self.conf.integer("backup_workers", DEFAULT_BACKUP_WORKERS, minimum=1)


def read_openstack(reader: TableReader, base: Path) -> OpenStack | None:
    """The `[openstack]` table (present in the file); None when it cannot be used."""
    reader.allow("config_files")
    names = reader.string_list("config_files")
    if not names:
        reader.problem(("config_files",), None, "expected the cinder.conf files to read")
        return None
    try:
        conf = read([base / name for name in names])
    except CinderConfError as error:
        reader.problem(("config_files",), names, str(error))
        return None
    for backend in conf.enabled_backends:
        if backend not in conf.sections:
            reader.problem(
                ("config_files",),
                names,
                f"enabled_backends names {backend!r}, but no file has a [{backend}] section",
            )
    return OpenStack(conf)


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
