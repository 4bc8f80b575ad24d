"""`${NAME}`, `${NAME:-default}` and `$$` in the strings of services.toml, and the grammar of
the per-process placeholders (`{port}`, ...) that `placeholders.py` fills in.

Every string value is a template: `$$` is a `$`, `${NAME}` the variable's value, and
`${NAME:-default}` the default when NAME is unset or empty.  Any other `$` is itself, so
`$HOME` and `$(date)` reach a shell untouched.  Where placeholders are on (a process's
command, environment and probes), `{{` is `{`, `}}` is `}` and `{word}` a placeholder;
any other brace is itself.  `$${word}` is the text `${word}` everywhere.

Variables come from the env files (`env_file`: a service's own, then `[supervisor]`'s) and
then the supervisor's environment.  A value is substituted once and never scanned again, so
a `$` or a brace that comes from a variable stays as it is, and one value never splits into
several arguments.  The values that came from env files are remembered, so that `check` can
show `***` in their place.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from supervisor.config.envfile import EnvFileError, read_env_file
from supervisor.config.schema import TableReader

MASK = "***"
ENV_FILE = "env_file"
# The keys rendered per process, with the placeholders: everything else is rendered once.
PER_PROCESS = (
    ("command",),
    ("env",),
    *((role, key) for role in ("readiness", "liveness") for key in ("exec", "http", "tcp")),
)

_VARIABLE = r"\$\{(?P<variable>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}"
# `$$` is a `$`, and so `$${HOME}` the text `${HOME}`, braces included, in every key.
_DOLLARS = rf"(?P<dollar>\$\$(?:\{{[^{{}}]*\}})?)|{_VARIABLE}|(?P<malformed>\$\{{)"
_WITHOUT_PLACEHOLDERS = re.compile(_DOLLARS)
_WITH_PLACEHOLDERS = re.compile(
    rf"{_DOLLARS}|(?P<brace>\{{\{{|\}}\}})|\{{(?P<placeholder>[A-Za-z_][A-Za-z0-9_]*)\}}"
)
VARIABLE_RULE = "write ${NAME} or ${NAME:-default} (NAME: letters, digits, _), or $$ for a '$'"


class TemplateError(ValueError):
    """A `${` that starts no variable."""


@dataclass(frozen=True)
class Variable:
    name: str
    default: str | None  # None: no default given, the variable must be set


@dataclass(frozen=True)
class Placeholder:
    name: str


Piece = str | Variable | Placeholder


@dataclass(frozen=True)
class Template:
    pieces: tuple[Piece, ...]

    @property
    def placeholders(self) -> list[str]:
        return [piece.name for piece in self.pieces if isinstance(piece, Placeholder)]


def parse(text: str, *, placeholders: bool = False) -> Template:
    pattern = _WITH_PLACEHOLDERS if placeholders else _WITHOUT_PLACEHOLDERS
    pieces: list[Piece] = []
    position = 0
    for token in pattern.finditer(text):
        pieces.append(text[position : token.start()])
        position = token.end()
        if token["malformed"]:
            raise TemplateError(f"'${{' starts no variable: {VARIABLE_RULE}")
        if token["variable"]:
            pieces.append(Variable(token["variable"], token["default"]))
        elif token.lastgroup == "placeholder":
            pieces.append(Placeholder(token["placeholder"]))
        elif token["dollar"]:
            pieces.append(token["dollar"][1:])
        else:
            pieces.append(token.group()[0])  # "{{" -> "{", "}}" -> "}"
    pieces.append(text[position:])
    return Template(tuple(piece for piece in pieces if piece != ""))


@dataclass(frozen=True)
class Variables:
    """What `${NAME}` can see: env-file values first, then the supervisor's environment."""

    files: Mapping[str, str] = field(default_factory=dict)
    environment: Mapping[str, str] = field(default_factory=dict)

    def lookup(self, name: str) -> tuple[str, bool] | None:
        """The value and whether it came from an env file; None when unset."""
        if name in self.files:
            return self.files[name], True
        if name in self.environment:
            return self.environment[name], False
        return None

    def unset(self, template: Template) -> list[str]:
        """The variables the template needs, has no default for, and nobody sets."""
        return [
            piece.name
            for piece in template.pieces
            if isinstance(piece, Variable) and piece.default is None and not self.lookup(piece.name)
        ]


def unset_message(names: list[str]) -> str:
    shown = ", ".join(dict.fromkeys(names))
    return (
        f"variable {shown} is not set (in the supervisor's environment or an env_file):"
        f" set it, or give a default: ${{{names[0]}:-value}}; $$ is a literal '$'"
    )


@dataclass(frozen=True)
class Shown:
    """What `check` shows of a process whose argv or environment holds values from env files:
    the same, with each such value as ***."""

    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Rendered:
    value: str
    shown: str  # the same, with every value from an env file as ***


def render(
    template: Template, variables: Variables, placeholders: Mapping[str, str] | None = None
) -> Rendered:
    """The template filled in; an unset variable is empty (it has been reported already)."""
    value: list[str] = []
    shown: list[str] = []
    for piece in template.pieces:
        if isinstance(piece, str):
            value.append(piece)
            shown.append(piece)
        elif isinstance(piece, Placeholder):
            filled = (placeholders or {}).get(piece.name, "")
            value.append(filled)
            shown.append(filled)
        else:
            found = variables.lookup(piece.name)
            text, secret = found or ("", False)
            if not text and piece.default is not None:
                text, secret = piece.default, False  # ${NAME:-default}: also when empty
            value.append(text)
            shown.append(MASK if secret and text else text)
    return Rendered("".join(value), "".join(shown))


@dataclass(frozen=True)
class EnvFiles:
    """The variables of the env files: `[supervisor]`'s, and each service's own."""

    main: Mapping[str, str] = field(default_factory=dict)
    services: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def values(self, service: str | None = None) -> dict[str, str]:
        """What a service's environment gets: a service's own files win over `[supervisor]`'s."""
        own = self.services.get(service, {}) if service is not None else {}
        return {**self.main, **own}

    def variables(self, service: str | None = None) -> Variables:
        return Variables(self.values(service), os.environ)


def read_env_files(root: TableReader, base: Path) -> EnvFiles:
    """Every env file the document names, relative to `base` (the services file's directory);
    a file missing or malformed is a problem at its `env_file` key."""
    # Only tables are read here: a key of another type is reported once, by the schema.
    main = root.data.get("supervisor")
    services = root.data.get("services")
    own: dict[str, dict[str, str]] = {}
    if isinstance(services, dict):
        for name, table in services.items():
            if isinstance(table, dict) and ENV_FILE in table:
                own[name] = _read_files(root.table("services").table(name), base)
    return EnvFiles(
        _read_files(root.table("supervisor"), base) if isinstance(main, dict) else {}, own
    )


def _read_files(reader: TableReader, base: Path) -> dict[str, str]:
    given = reader.data.get(ENV_FILE)
    if given is None:
        return {}
    names = [given] if isinstance(given, str) else given
    if not isinstance(names, list) or not all(isinstance(name, str) and name for name in names):
        reader.problem((ENV_FILE,), given, "expected a file name or a list of file names")
        return {}
    values: dict[str, str] = {}
    plain = Variables({}, os.environ)  # a file's name can use the environment, not env files
    for name in names:
        try:
            template = parse(name)
        except TemplateError as error:
            reader.problem((ENV_FILE,), name, str(error))
            continue
        if unset := plain.unset(template):
            reader.problem((ENV_FILE,), name, unset_message(unset))
            continue
        path = base / render(template, plain).value
        try:
            values.update(read_env_file(path))
        except EnvFileError as error:
            reader.problem((ENV_FILE,), name, str(error))
    return values


def interpolate_document(root: TableReader, env_files: EnvFiles) -> dict[str, Any]:
    """A copy of the document with `${...}` and `$$` filled in in every string, except under
    `env_file` (read already) and the per-process keys (left as templates for their
    processes).  Each problem is reported at its key."""
    document: dict[str, Any] = {}
    for key, value in root.data.items():
        if key == "services" and isinstance(value, dict):
            document[key] = {
                name: _walk(
                    root, ("services", name), table, env_files.variables(name), service=True
                )
                for name, table in value.items()
            }
        else:
            document[key] = _walk(root, (key,), value, env_files.variables())
    return document


def _walk(
    root: TableReader,
    path: tuple[str, ...],
    value: Any,
    variables: Variables,
    service: bool = False,
) -> Any:
    if isinstance(value, str):
        return _interpolated(root, path, value, variables)
    if isinstance(value, list):
        return [_walk(root, path, item, variables) for item in value]
    if not isinstance(value, dict):
        return value
    kept: dict[str, Any] = {}
    for key, item in value.items():
        inner = (*path, key)
        relative = inner[2:] if service else ()
        if relative == (ENV_FILE,) or inner == ("supervisor", ENV_FILE):
            kept[key] = item  # already read, with the supervisor's environment alone
        elif relative in PER_PROCESS:
            kept[key] = item  # rendered per process, with the placeholders
        else:
            kept[key] = _walk(root, inner, item, variables, service)
    return kept


def _interpolated(root: TableReader, path: tuple[str, ...], text: str, variables: Variables) -> str:
    if "$" not in text:
        return text  # the common case, kept cheap
    try:
        template = parse(text)
    except TemplateError as error:
        root.problem(path, text, str(error))
        return text
    if unset := variables.unset(template):
        root.problem(path, text, unset_message(unset))
    return render(template, variables).value


def interpolated_string(value: Any, variables: Variables) -> str | None:
    """One string filled in, or None when it is not a string or cannot be filled in."""
    if not isinstance(value, str):
        return None
    try:
        template = parse(value)
    except TemplateError:
        return None
    return None if variables.unset(template) else render(template, variables).value
