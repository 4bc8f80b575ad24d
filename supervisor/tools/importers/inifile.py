"""supervisord's configuration files as supervisord reads them: ini sections merged across
`[include]`d files, with the file and line of every section and key (configparser keeps
neither), and supervisord's `%(name)s` expansions.

Parsing follows supervisord's own `UnhosedConfigParser`: `;` and `#` start a comment, inline
too after whitespace; keys are case-insensitive; a later file's key overrides an earlier one's;
nothing is expanded by configparser itself.  Errors are `SourceError`s with file and line.
"""

from __future__ import annotations

import configparser
import glob
import re
from dataclasses import dataclass, field
from pathlib import Path

from supervisor.tools.importers.model import SourceError

_SECTION = re.compile(r"\[(?P<name>[^\]]+)\]")
_KEY = re.compile(r"(?P<key>[^\s;#=:][^=:]*?)\s*[=:]")


@dataclass
class Section:
    name: str
    file: Path
    line: int
    values: dict[str, str] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)  # key -> line in `file`

    @property
    def here(self) -> Path:
        """`%(here)s`: the folder of the file the section came from."""
        return self.file.parent


@dataclass
class IniFiles:
    sections: dict[str, Section] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)

    def read(self, path: Path) -> None:
        """Read `path` and, through its `[include]`, every file it names (once each)."""
        path = path.resolve()
        if path in self.files:
            return
        self.files.append(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise SourceError(path, None, "", f"cannot read: {error}") from None
        parser = configparser.RawConfigParser(
            inline_comment_prefixes=(";", "#"), strict=False, interpolation=None
        )
        try:
            parser.read_string(text, str(path))
        except configparser.MissingSectionHeaderError as error:
            message = "expected a [section] header before the first key"
            raise SourceError(path, error.lineno, "", message) from None
        except configparser.ParsingError as error:
            line, content = error.errors[0]
            raise SourceError(path, line, "", f"not a key = value line: {content}") from None
        except configparser.Error as error:
            raise SourceError(path, getattr(error, "lineno", None), "", str(error)) from None
        lines = _lines(text)
        for name in parser.sections():
            section = self.sections.get(name)
            if section is None or section.file != path:
                section_line, key_lines = lines.get(name, (None, {}))
                if section is None:
                    section = self.sections[name] = Section(name, path, section_line or 0)
                section.file = path  # a later file overriding: `here` is its folder
                section.line = section_line or section.line
            else:
                key_lines = lines.get(name, (None, {}))[1]
            for key, value in parser.items(name):
                section.values[key] = value
                section.lines[key] = key_lines.get(key, section.line)
        if "include" in parser:
            self._include(self.sections["include"], path)

    def _include(self, include: Section, path: Path) -> None:
        patterns = include.values.get("files", "")
        if not patterns.strip():
            line = include.lines.get("files", include.line)
            raise SourceError(path, line, "include files", "expected one or more file names")
        for pattern in patterns.split():
            pattern = pattern.replace("%(here)s", str(path.parent))
            for found in sorted(glob.glob(str(path.parent / pattern))):
                self.read(Path(found))


def _lines(text: str) -> dict[str, tuple[int, dict[str, int]]]:
    """section -> (its header's line, key -> line): what configparser does not keep."""
    found: dict[str, tuple[int, dict[str, int]]] = {}
    current: dict[str, int] | None = None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line[0] in ";#" or line[0].isspace():
            continue  # blank, a comment, or a continuation of the previous value
        if header := _SECTION.match(line):
            current = found.setdefault(header["name"], (number, {}))[1]
        elif current is not None and (key := _KEY.match(line)):
            current[key["key"].strip().lower()] = number  # the last one wins, as in configparser
    return found
