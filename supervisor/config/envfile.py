"""Env files (`env_file` in services.toml): `NAME=value` lines, read as systemd's
EnvironmentFile and the `.env` files of docker compose, honcho and process-compose.

The format, one assignment per line:

    # a comment, and blank lines, are skipped
    export PLAIN=value with spaces   # a comment after a space ends an unquoted value
    SINGLE='taken as written: no escapes, may span lines'
    DOUBLE="escapes \\" \\\\ \\n \\t \\$; may span lines"

A name is letters, digits and `_`, not starting with a digit.  Values are taken literally:
nothing in an env file is interpolated.  A line that is none of these is an error naming the
file and its line, never skipped: a half-read secrets file would start a service with half its
settings.
"""

from __future__ import annotations

import re
from pathlib import Path

_ASSIGNMENT = re.compile(r"[ \t]*(?:export[ \t]+)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)[ \t]*=[ \t]*")
_SKIPPED = re.compile(r"[ \t]*(?:#.*)?")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$"}
_DOUBLE = re.compile(r'(?:[^"\\]|\\.)*"', re.DOTALL)


class EnvFileError(Exception):
    """What is wrong with an env file, naming the file and, for its contents, the line."""


def _line_at(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def read_env_file(path: Path) -> dict[str, str]:
    """The file's variables, in order; a later assignment of a name wins, as in a shell."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise EnvFileError(f"no such env file: {path}") from None
    except OSError as error:
        raise EnvFileError(f"cannot read the env file {path}: {error.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise EnvFileError(f"{path}:{line}: not UTF-8") from None
    try:
        return parse(text)
    except EnvFileError as error:
        raise EnvFileError(f"{path}:{error}") from None


def parse(text: str) -> dict[str, str]:
    """The variables of an env file's text; EnvFileError("LINE: what is wrong") otherwise."""
    values: dict[str, str] = {}
    position = 0
    while position < len(text):
        end = text.find("\n", position)
        end = len(text) if end < 0 else end
        if _SKIPPED.fullmatch(text, position, end):
            position = end + 1
            continue
        assignment = _ASSIGNMENT.match(text, position, end)
        if assignment is None:
            line = _line_at(text, position)
            raise EnvFileError(f"{line}: expected NAME=value (or a # comment)")
        value, position = _value(text, assignment.end())
        if "\0" in value:
            raise EnvFileError(f"{_line_at(text, assignment.start())}: a NUL in the value")
        values[assignment.group("name")] = value
    return values


def _value(text: str, start: int) -> tuple[str, int]:
    """The value that starts at `start`, and where the next line begins."""
    quote = text[start : start + 1]
    if quote not in ("'", '"'):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        value = re.split(r"[ \t]#", text[start:end], maxsplit=1)[0]
        return value.strip(), end + 1
    if quote == "'":
        close = text.find("'", start + 1)
        value = text[start + 1 : close]
    else:
        found = _DOUBLE.match(text, start + 1)
        close = found.end() - 1 if found else -1
        value = re.sub(r"\\(.)", lambda m: _ESCAPES.get(m[1], m[0]), text[start + 1 : close])
    if close < 0:
        raise EnvFileError(f"{_line_at(text, start)}: the {quote} quote is never closed")
    end = text.find("\n", close)
    end = len(text) if end < 0 else end
    if not _SKIPPED.fullmatch(text, close + 1, end):
        line = _line_at(text, close)
        raise EnvFileError(f"{line}: unexpected text after the closing {quote} quote")
    return value, end + 1
