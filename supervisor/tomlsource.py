"""Where a key stands in a TOML file, so every configuration error can name its line.

tomlkit keeps formatting but not positions, so this scans the text once: table headers set the
current table, `key = value` lines record the full dotted path.  A key inside an inline table or
a multi-line array is reported at the line of the key that holds it.
"""

from __future__ import annotations

import re

_HEADER = re.compile(r"^\s*\[\[?\s*(?P<key>[^\]]+?)\s*\]\]?\s*(#.*)?$")
_ASSIGNMENT = re.compile(r"""^\s*(?P<key>[A-Za-z0-9_\-."' ]+?)\s*=""")
_KEY_PART = re.compile(r"""\s*("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_\-]+)\s*(?:\.|$)""")

Path = tuple[str, ...]


def split_key(dotted: str) -> Path:
    """Split a TOML dotted key (`a."b.c".d`) into its parts."""
    parts = []
    for match in _KEY_PART.finditer(dotted):
        part = match.group(1)
        parts.append(part[1:-1] if part[0] in "'\"" else part)
    return tuple(parts)


class SourceMap:
    def __init__(self, text: str) -> None:
        self._lines: dict[Path, int] = {}
        table: Path = ()
        for number, line in enumerate(text.splitlines(), start=1):
            if header := _HEADER.match(line):
                table = split_key(header.group("key"))
                self._lines.setdefault(table, number)
            elif assignment := _ASSIGNMENT.match(line):
                self._lines.setdefault(table + split_key(assignment.group("key")), number)

    def line_of(self, path: Path) -> int | None:
        """The line of `path`, or of the closest enclosing key or table that has one."""
        for end in range(len(path), 0, -1):
            if (line := self._lines.get(path[:end])) is not None:
                return line
        return None
