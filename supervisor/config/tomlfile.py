"""Reading a services file: its bytes, as UTF-8 text, as TOML values; every failure a Problem.

tomllib, not tomlkit: only the values are needed, and tomlkit takes over a minute on a 10 MB
file of comments that tomllib reads in a third of a second.  tomlkit stays as the second reader
of a file tomllib refuses, because it has always accepted a little more than TOML 1.0 (an inline
table broken over lines), and a file that worked must keep working; only for files of a size
written by hand, so that an invalid file of megabytes still fails in a second.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

from supervisor.config.problems import Problem

_AT_LINE = re.compile(r" \(at line (\d+), column \d+\)")
_AT_END = " (at end of document)"
_LENIENT_LIMIT = 1 << 20  # bytes: beyond this, tomlkit's slowness costs more than leniency helps


class ConfigError(Exception):
    def __init__(self, file: str, problems: list[Problem]) -> None:
        self.file = file
        self.problems = problems
        super().__init__("\n".join(problem.render(file) for problem in problems))


def read(path: str | os.PathLike[str]) -> tuple[str, dict[str, Any]]:
    """The file's text and its values; ConfigError, with the line, for anything else."""
    text = read_text(path)
    return text, parse(text, str(path))


def read_text(path: str | os.PathLike[str]) -> str:
    """The file as UTF-8 text; ConfigError if it cannot be read or is not UTF-8."""
    display = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        problem = Problem(None, "", None, f"cannot read: {error.strerror}")
        raise ConfigError(display, [problem]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        problem = Problem(
            line,
            "",
            None,
            f"not UTF-8: byte 0x{raw[error.start]:02x} at offset {error.start};"
            " TOML files must be UTF-8",
        )
        raise ConfigError(display, [problem]) from None
    return text


def parse(text: str, display: str) -> dict[str, Any]:
    """The values of a services file's text; ConfigError, with the line, if it is not TOML."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        if (lenient := _lenient(text)) is not None:
            return lenient
        where = _AT_LINE.search(str(error))
        message = _AT_LINE.sub("", str(error)).replace(_AT_END, " at the end of the file")
        # Something left open (a string, an array) is reported where the file ends.
        line = int(where.group(1)) if where else text.count("\n") + 1
        problem = Problem(line, "", None, f"invalid TOML: {message}")
    except ValueError:  # an integer literal beyond Python's 4300-digit limit
        digits = re.search(r"\d{4000,}", text)
        line = text.count("\n", 0, digits.start()) + 1 if digits else None
        problem = Problem(line, "", None, "invalid TOML: an integer with thousands of digits")
    except RecursionError:
        problem = Problem(None, "", None, "invalid TOML: arrays or tables nested too deeply")
    raise ConfigError(display, [problem])


def _lenient(text: str) -> dict[str, Any] | None:
    """The values as tomlkit reads them, or None: then tomllib's error stands."""
    if len(text) > _LENIENT_LIMIT:
        return None
    import tomlkit  # only for a file tomllib refused: a valid file never pays its import

    try:
        return tomlkit.parse(text).unwrap()
    except Exception:  # any failure of the second reader leaves the first one's verdict
        return None
