"""Where a key stands in a TOML file, so every configuration error can name its line.

The parser keeps values, not positions, so this scans the text once: table headers set the
current table, `key = value` lines record the full dotted path.  A key inside an inline table or
a multi-line array is reported at the line of the key that holds it.

The scan follows strings and brackets across lines, so a `[name]` or `key = 1` inside a
multi-line string or array is text, never mistaken for a header or a key.  Lines are split on
"\\n" only, as TOML does (str.splitlines would also split on form feeds and U+2028).
"""

from __future__ import annotations

import json
import re

_BARE = r"[A-Za-z0-9_\-]+"
_BASIC = r'"(?:[^"\\]|\\.)*"'
_LITERAL = r"'[^']*'"
_PART = rf"(?:{_BARE}|{_BASIC}|{_LITERAL})"
_DOTTED = rf"{_PART}(?:\s*\.\s*{_PART})*"
_HEADER = re.compile(rf"\s*\[\[?\s*(?P<key>{_DOTTED})\s*\]\]?\s*(?:#.*)?$")
_ASSIGNMENT = re.compile(rf"\s*(?P<key>{_DOTTED})\s*=")
_KEY_PART = re.compile(rf"\s*({_PART})\s*(?:\.|$)")

Path = tuple[str, ...]


def split_key(dotted: str) -> Path:
    """Split a TOML dotted key (`a."b.c".d`) into its parts."""
    parts = []
    for match in _KEY_PART.finditer(dotted):
        part = match.group(1)
        if part[0] == '"':
            try:
                part = json.loads(part)  # TOML's escapes are JSON's, bar \U and \e
            except ValueError:
                part = part[1:-1]
        elif part[0] == "'":
            part = part[1:-1]
        parts.append(part)
    return tuple(parts)


# The scan jumps between the characters that matter with these, so a line of megabytes costs
# a few regex calls, not a Python step per character.  (Possessive quantifiers never backtrack.)
_SIGNIFICANT = re.compile(r"""[#"'\[\]{}]""")
_BASIC_REST = re.compile(r'(?:[^"\\]++|\\.)*+"')
_MULTILINE_BASIC_REST = re.compile(r'(?:[^"\\]++|\\.|"(?!""))*+"""')


class _Value:
    """Where a value being scanned stands at the end of a line: inside a multi-line string
    (its closing quotes) and how many brackets are open."""

    def __init__(self) -> None:
        self.string: str | None = None  # '"""' or "'''" while inside a multi-line string
        self.depth = 0

    @property
    def open(self) -> bool:
        return self.string is not None or self.depth > 0

    def scan(self, line: str, start: int) -> None:
        i = start
        while True:
            if self.string is not None:
                i = self._close_multiline(line, i)
                if self.string is not None:
                    return
            found = _SIGNIFICANT.search(line, i)
            if found is None:
                return
            char, i = found.group(), found.start()
            if char == "#":
                return
            if char in "\"'":
                if line.startswith(char * 3, i):
                    self.string = char * 3
                    i += 3
                else:
                    i = _end_of_string(line, i)
                continue
            self.depth = self.depth + 1 if char in "[{" else max(self.depth - 1, 0)
            i += 1

    def _close_multiline(self, line: str, i: int) -> int:
        """Past the closing quotes, leaving the string; or the line's end, still inside."""
        quotes = self.string
        assert quotes is not None
        if quotes == '"""':
            found = _MULTILINE_BASIC_REST.match(line, i)
            if found is None:
                return len(line)
            end = found.end()
        else:
            end = line.find(quotes, i)
            if end < 0:
                return len(line)
            end += 3
        # Up to two more quotes belong to the string ("""a"""" is `a"`).
        extra = 0
        while extra < 2 and end < len(line) and line[end] == quotes[0]:
            end, extra = end + 1, extra + 1
        self.string = None
        return end


def _end_of_string(line: str, i: int) -> int:
    """The index just past the one-line string that starts at `i`."""
    if line[i] == "'":
        end = line.find("'", i + 1)
        return len(line) if end < 0 else end + 1
    found = _BASIC_REST.match(line, i + 1)
    return len(line) if found is None else found.end()


class SourceMap:
    def __init__(self, text: str) -> None:
        self._lines: dict[Path, int] = {}
        table: Path = ()
        value = _Value()
        for number, line in enumerate(text.split("\n"), start=1):
            if value.open:
                value.scan(line, 0)
                continue
            stripped = line.lstrip()
            if not stripped or stripped[0] == "#":
                continue  # the common case, kept cheap: a file of comments checks fast
            if stripped[0] == "[" and (header := _HEADER.match(line)):
                table = split_key(header.group("key"))
                self._record(table, number)
            elif assignment := _ASSIGNMENT.match(line):
                self._record(table + split_key(assignment.group("key")), number)
                value.scan(line, assignment.end())

    def _record(self, path: Path, number: int) -> None:
        # A table defined only through its children (`[services.web.env]` with no
        # `[services.web]`) is reported where its first child is.
        for end in range(1, len(path) + 1):
            self._lines.setdefault(path[:end], number)

    def line_of(self, path: Path) -> int | None:
        """The line of `path`, or of the closest enclosing key or table that has one."""
        for end in range(len(path), 0, -1):
            if (line := self._lines.get(path[:end])) is not None:
                return line
        return None
