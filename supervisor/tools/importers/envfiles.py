"""An env file another tool reads (honcho's and compose's `.env`, compose's `env_file`), kept as
an `env_file` of services.toml when services.toml reads it the same way, or dropped with why."""

from __future__ import annotations

from pathlib import Path

from supervisor.config.envfile import EnvFileError, read_env_file
from supervisor.tools.importers.model import Service, Translation, relative_path


def env_file(
    path: Path, base: Path, translation: Translation, service: Service | None, key: str
) -> str | None:
    """`path` relative to the output's folder, or None (dropped, with the reason) when
    services.toml's reader refuses it: `check` would refuse the translation."""
    try:
        read_env_file(path)
    except EnvFileError as error:
        why = f"services.toml reads env files as systemd does and refuses this one: {error}"
        translation.drop(service, None, key, str(path), why)
        return None
    return relative_path(path, base)
