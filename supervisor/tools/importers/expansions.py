"""supervisord's `%(name)s` expansions, turned into services.toml text.

supervisord expands a value with Python's `%` operator against `here`, `program_name`,
`group_name`, `host_node_name`, `process_num`, `numprocs` and `ENV_<NAME>` (unset: an error).
Here the result is services.toml syntax instead of a final string where services.toml can say
the same thing later: `%(ENV_X)s` becomes `${X}` (checked to be set now, as supervisord would
refuse the file), `%(process_num)s` a placeholder (`Numbering` says which); the rest is
expanded now and escaped as literal text.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from supervisor.tools.importers.model import SourceError, escape

_TOKEN = re.compile(
    r"%%|%\((?P<name>[^)]*)\)(?P<spec>[-#0 +]*\d*(?:\.\d+)?[sdrifxXoeEgGc])|(?P<bad>%)"
)


@dataclass(frozen=True)
class Numbering:
    """How `%(process_num)s` of a program with several processes is written here."""

    placeholder: str  # "{process_number}" or "{port}"
    first: int  # supervisord's first process_num (numprocs_start)


@dataclass(frozen=True)
class Where:
    file: Path
    line: int | None
    key: str  # "program:web command"


@dataclass
class Expander:
    names: Mapping[str, str | int]  # here, program_name, group_name, process_num, numprocs
    environ: Mapping[str, str]
    numbering: Numbering | None = None  # None: process_num is the literal `names` value
    used: set[str] | None = None  # what was expanded, for the notes (ENV, host, formats)

    def literal(self, text: str, where: Where) -> str:
        """The value as supervisord would use it, expanded now (integers, flags, paths)."""
        return "".join(
            piece if isinstance(piece, str) else piece[1] for piece in self._pieces(text, where)
        )

    def template(self, text: str, where: Where, *, placeholders: bool) -> str:
        """The value in services.toml syntax: `${X}`, placeholders, literal text escaped."""
        out = []
        for piece in self._pieces(text, where, late=True, placeholders=placeholders):
            out.append(escape(piece, braces=placeholders) if isinstance(piece, str) else piece[0])
        return "".join(out)

    def marked(self, text: str, where: Where) -> tuple[str, dict[str, str]]:
        """The value expanded with a word standing in for each late expansion (`${X}`, a
        placeholder), for a parser that splits it first (supervisord's `environment`); and
        each word's services.toml text, for `unmark`."""
        out, markers = [], {}
        for piece in self._pieces(text, where, late=True, placeholders=True):
            if isinstance(piece, str):
                out.append(piece)
            else:
                marker = f"ZQimport{len(markers)}QZ"
                markers[marker] = piece[0]
                out.append(marker)
        return "".join(out), markers

    def _pieces(
        self, text: str, where: Where, *, late: bool = False, placeholders: bool = False
    ) -> list[str | tuple[str, str]]:
        """Literal text, and (services.toml text, value now) for each expansion."""
        pieces: list[str | tuple[str, str]] = []
        position = 0
        for token in _TOKEN.finditer(text):
            pieces.append(text[position : token.start()])
            position = token.end()
            if token["bad"] is not None:
                message = f"{text!r}: '%' starts no expansion: write %% for a '%' or %(name)s"
                raise SourceError(where.file, where.line, where.key, message)
            if token["name"] is None:
                pieces.append("%")
                continue
            pieces.append(self._expansion(token["name"], token["spec"], where, late, placeholders))
        pieces.append(text[position:])
        return [piece for piece in pieces if piece != ""]

    def _expansion(
        self, name: str, spec: str, where: Where, late: bool, placeholders: bool
    ) -> str | tuple[str, str]:
        used = self.used if self.used is not None else set()
        if name.startswith("ENV_"):
            variable = name[4:]
            if variable not in self.environ:
                message = (
                    f"%({name})s: environment variable {variable} is not set"
                    " (supervisord refuses the file too): set it and import again"
                )
                raise SourceError(where.file, where.line, where.key, message)
            value = _format(spec, self.environ[variable])
            if late and spec == "s":
                used.add("ENV")
                return (f"${{{variable}}}", value)
            used.add("ENV now")
            return value
        if name == "host_node_name":
            used.add("host")
            return _format(spec, socket.gethostname())
        if name not in self.names:
            known = ", ".join(f"%({each})s" for each in [*self.names, "host_node_name"])
            message = f"unknown expansion %({name})s; known here: {known}, %(ENV_NAME)s"
            raise SourceError(where.file, where.line, where.key, message)
        value = _format(spec, self.names[name])
        if name == "process_num" and self.numbering is not None:
            if late and placeholders:
                used.add("process_num late")
                if spec[:-1]:
                    used.add("process_num format")
                return (self.numbering.placeholder, value)
            used.add("process_num first")
            return _format(spec, self.numbering.first)
        return value


def _format(spec: str, value: str | int) -> str:
    if spec[-1] in "dixXoeEfgGc" and isinstance(value, str) and value.lstrip("-").isdigit():
        value = int(value)
    try:
        return ("%" + spec) % value
    except (TypeError, ValueError):
        return str(value)


def unmark(text: str, markers: dict[str, str]) -> str:
    """A piece of a `marked` value in services.toml syntax: literal text escaped."""
    if not markers:
        return escape(text)
    parts = re.split("(" + "|".join(map(re.escape, markers)) + ")", text)
    return "".join(markers.get(part) or escape(part) for part in parts)
