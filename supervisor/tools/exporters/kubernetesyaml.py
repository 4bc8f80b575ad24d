"""A small, deterministic YAML writer for Kubernetes manifests, so that the export needs no YAML
library (PyYAML is no dependency of the package).

It writes block style only, in the order the mappings were built, and quotes every string that
YAML could read as anything but that string: a string is left plain only when it starts with a
letter, `_` or `/` and holds nothing but letters, digits and `_ . / @ + -`, and is none of YAML
1.1's booleans and nulls (`yes`, `off`, `null`, ...); any other string is written as a JSON
string, which is a valid YAML double-quoted scalar.  So reading the text back (PyYAML's
`safe_load`, kubectl) gives exactly the objects written.  Numbers are ints or bools only: a
manifest has no use for floats, and refusing them keeps `1e3` from ever being written.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

_PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9_./@+-]*")
# What YAML 1.1 (PyYAML) or 1.2 resolves to a boolean or null rather than a string.
_RESERVED = frozenset(
    word
    for base in ("yes", "no", "true", "false", "on", "off", "null", "y", "n")
    for word in (base, base.capitalize(), base.upper())
)
# What JSON leaves raw in a string but YAML does not take raw (C1 controls, DEL, the byte-order
# mark, non-characters), or reads as a line break (NEL, U+2028, U+2029): escaped as \uXXXX.
_UNPRINTABLE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")
INDENT = "  "
COMMENT_WIDTH = 98  # with "# ", a comment line fits in 100 columns


def document(value: Mapping[str, Any], comments: Iterable[str] = ()) -> str:
    """One YAML document: the comments (wrapped, `# ` before each line), then the mapping,
    ending in a newline."""
    lines = [
        f"# {line}".rstrip()
        for comment in comments
        for line in textwrap.wrap(_printable(comment), COMMENT_WIDTH, subsequent_indent="  ")
        or [""]
    ]
    lines.extend(_mapping(value, 0))
    return "\n".join(lines) + "\n"


def _printable(text: str) -> str:
    """A comment's text (it quotes the file's values) with what YAML will not take escaped."""
    return "".join(c if c.isprintable() or c in " \t\n" else ascii(c)[1:-1] for c in text)


def scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        if _PLAIN.fullmatch(value) and value not in _RESERVED:
            return value
        quoted = json.dumps(value, ensure_ascii=False)
        return _UNPRINTABLE.sub(lambda found: f"\\u{ord(found.group()):04x}", quoted)
    raise TypeError(f"cannot write {type(value).__name__} {value!r} to a manifest")


def _mapping(value: Mapping[str, Any], depth: int) -> list[str]:
    pad = INDENT * depth
    lines: list[str] = []
    for key, item in value.items():
        head = f"{pad}{scalar(key)}:"
        if _is_block(item):
            lines.append(head)
            lines.extend(_block(item, depth + 1))
        else:
            lines.append(f"{head} {_inline(item)}")
    return lines


def _sequence(value: Sequence[Any], depth: int) -> list[str]:
    pad = INDENT * depth
    lines: list[str] = []
    for item in value:
        if _is_block(item):
            # The item's first line goes after the dash; the rest keep the item's indentation.
            first, *rest = _block(item, depth + 1)
            lines.append(f"{pad}- {first.lstrip()}")
            lines.extend(rest)
        else:
            lines.append(f"{pad}- {_inline(item)}")
    return lines


def _block(value: Any, depth: int) -> list[str]:
    if isinstance(value, Mapping):
        return _mapping(value, depth)
    return _sequence(value, depth)


def _is_block(value: Any) -> bool:
    """A non-empty mapping or list is written as a block; an empty one inline."""
    return isinstance(value, Mapping | list | tuple) and len(value) > 0


def _inline(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{}"
    if isinstance(value, list | tuple):
        return "[]"
    return scalar(value)
