"""A YAML file's values and the line of every key in it (PyYAML, imported only here: `run` and
every other command go without it); a syntax error is a SourceError with its line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from supervisor.tools.importers.model import SourceError

Path_ = tuple[str | int, ...]


def load(path: Path) -> tuple[Any, dict[Path_, int]]:
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SourceError(path, None, "", f"cannot read: {error}") from None
    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        raise SourceError(path, line, "", f"invalid YAML: {error.problem or error}") from None
    except yaml.YAMLError as error:
        raise SourceError(path, None, "", f"invalid YAML: {error}") from None
    lines: dict[Path_, int] = {}
    if node is not None:
        _walk(node, (), lines)
    return data, lines


def _walk(node: Any, path: Path_, lines: dict[Path_, int]) -> None:
    import yaml

    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, str(key.value))
            lines.setdefault(child, key.start_mark.line + 1)
            _walk(value, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, value in enumerate(node.value):
            lines.setdefault((*path, index), value.start_mark.line + 1)
            _walk(value, (*path, index), lines)


def line_of(lines: dict[Path_, int], *path: str | int) -> int | None:
    """The line of the deepest part of `path` the file has (a merged key has none of its own)."""
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return None
