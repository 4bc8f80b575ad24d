"""cinder.conf as the supervisor reads it: enough to plan the processes, importing no Cinder.

oslo.config's files are INI files: `[section]` headers, `key = value` lines, `#` and `;`
comments, and a `[DEFAULT]` section that, unlike configparser's, lends nothing to the others.
Later files override earlier ones, as `--config-file a --config-file b` does.  Values stay
strings; the few the supervisor needs are converted here, each with the default Cinder
documents.  Every problem names the file, the line when there is one, the option and what is
allowed, like the rest of `check`.
"""

from __future__ import annotations

import configparser
import re
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

# Cinder's documented defaults (cinder/common/config.py, cinder/cmd/backup.py).
MANAGER_DEFAULTS = {
    "scheduler_manager": "cinder.scheduler.manager.SchedulerManager",
    "volume_manager": "cinder.volume.manager.VolumeManager",
    "backup_manager": "cinder.backup.manager.BackupManager",
}
DEFAULT_BACKUP_WORKERS = 1
DEFAULT_SERVICE_DOWN_TIME = 60
DEFAULT_DATABASE = "sqlite:///$state_path/cinder.sqlite"  # oslo.db's default, Cinder's state_path
_VARIABLE = re.compile(r"\$(\w+)|\$\{(\w+)\}")


class CinderConfError(ValueError):
    def __init__(self, path: Path, line: int | None, message: str) -> None:
        self.path = path
        self.line = line
        self.message = message
        super().__init__(f"{path}:{line}: {message}" if line else f"{path}: {message}")


@dataclass(frozen=True)
class CinderConf:
    files: tuple[Path, ...]
    sections: dict[str, dict[str, str]] = field(default_factory=dict)
    # Where each [DEFAULT] option was last set: "file:line", for `check` to say.
    origins: dict[str, str] = field(default_factory=dict)

    def default(self, key: str) -> str | None:
        return self.sections.get("DEFAULT", {}).get(key)

    def option(self, section: str, key: str) -> str | None:
        return self.sections.get(section, {}).get(key)

    @property
    def host(self) -> str:
        return self.default("host") or socket.gethostname()

    @property
    def enabled_backends(self) -> list[str]:
        # Cinder skips empty entries (`filter(None, CONF.enabled_backends)`).
        raw = self.default("enabled_backends") or ""
        return [backend.strip() for backend in raw.split(",") if backend.strip()]

    @property
    def cluster(self) -> str | None:
        return (self.default("cluster") or "").strip() or None

    def backend_host(self, backend: str, host: str | None = None) -> str:
        """`<host>@<backend>` exactly as cinder/cmd/volume.py names it; `host` stands for
        [DEFAULT] host (a host of a deployment file sets its own)."""
        return f"{self.option(backend, 'backend_host') or host or self.host}@{backend}"

    def where(self, section: str, key: str) -> str:
        """Where the option is last set (later files win), as "file:line", for a message."""
        for path in reversed(self.files):
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if line := _line_of(text, key, section):
                return f"{path}:{line}"
        return str(self.files[-1]) if self.files else "cinder.conf"

    def integer(self, key: str, default: int, *, minimum: int = 0) -> int:
        raw = self.default(key)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise CinderConfError(
                self.files[-1], None, f"[DEFAULT] {key} = {raw!r}: expected an integer >= {minimum}"
            )
        return value

    def database_url(self) -> str:
        """[database] connection, with oslo.config's `$option` substitution from [DEFAULT]."""
        raw = self.option("database", "connection") or DEFAULT_DATABASE
        return self.substitute(raw)

    def substitute(self, value: str) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1) or match.group(2)
            found = self.default(name)
            if found is None and name == "state_path":
                found = "/var/lib/cinder"  # Cinder's own default
            return match.group(0) if found is None else self.substitute(found)

        return _VARIABLE.sub(replace, value)


def read(paths: Sequence[Path]) -> CinderConf:
    """Read the files in order; raise CinderConfError for the first that cannot be used."""
    sections: dict[str, dict[str, str]] = {}
    origins: dict[str, str] = {}
    for path in paths:
        parser = _parser()
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise CinderConfError(path, None, f"cannot read: {error.strerror}") from None
        except UnicodeDecodeError as error:
            raise CinderConfError(path, None, f"not UTF-8: {error.reason}") from None
        try:
            parser.read_string(text, source=str(path))
        except configparser.MissingSectionHeaderError as error:
            raise CinderConfError(path, error.lineno, "an option before any [section]") from None
        except configparser.ParsingError as error:
            line = error.errors[0][0]
            content = text.splitlines()[line - 1].strip() if line else ""
            raise CinderConfError(
                path, line, f"cannot parse {content!r}: expected key = value"
            ) from None
        except configparser.Error as error:
            raise CinderConfError(path, None, str(error)) from None
        for name in parser.sections():
            sections.setdefault(name, {}).update(parser[name])
        for key in parser["DEFAULT"] if parser.has_section("DEFAULT") else ():
            origins[key] = f"{path}:{_line_of(text, key)}"
    return CinderConf(tuple(paths), sections, origins)


def _parser() -> configparser.ConfigParser:
    # No section lends its keys to others, options keep their case, `%` means itself, and a
    # key given twice (oslo's multi-valued options) is not an error.
    parser = configparser.ConfigParser(
        default_section="\0", interpolation=None, strict=False, comment_prefixes=("#", ";")
    )
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    return parser


def _line_of(text: str, key: str, wanted: str = "DEFAULT") -> int:
    """The last line that sets `key` in section `wanted` (later lines win, as in oslo.config)."""
    section, found = None, 0
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*[=:]")
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            section = stripped[1:-1].strip()
        elif section == wanted and pattern.match(line):
            found = number
    return found
