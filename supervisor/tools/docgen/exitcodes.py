"""Every exit status of `shared.exits`, with the words its source gives it.

The meanings are the module's own comments: the one after a constant, or else the block just
above it; the groups are its `# -- title ---` lines.  The values are the module's, imported.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass

from supervisor.shared import exits

_GROUP = re.compile(r"^# -- (?P<title>.+?) -+$")
_COMMENT = re.compile(r"^# ?(?P<text>.*)$")
_CONSTANT = re.compile(r"^(?P<name>EXIT_\w+) = \d+(?:\s+# (?P<text>.*))?$")


@dataclass(frozen=True)
class ExitStatus:
    name: str  # EXIT_NOT_RUNNING
    value: int
    meaning: str
    group: str  # "the `supervisor` command line"; "" before the first group


def exit_statuses() -> list[ExitStatus]:
    """In the module's order; a constant without a comment is an error, so none is left
    without words."""
    statuses: list[ExitStatus] = []
    group, block = "", []
    for line in inspect.getsource(exits).splitlines():
        if match := _GROUP.match(line):
            group, block = match["title"], []
        elif match := _CONSTANT.match(line):
            meaning = match["text"] or " ".join(block)
            if not meaning:
                raise ValueError(f"{match['name']} in supervisor/shared/exits.py has no comment")
            statuses.append(
                ExitStatus(match["name"], getattr(exits, match["name"]), meaning, group)
            )
            block = []
        elif match := _COMMENT.match(line):
            block.append(match["text"].strip())
        else:
            block = []
    return statuses


def module_summary() -> str:
    """The module docstring's second paragraph on: why the numbers are what they are."""
    paragraphs = (exits.__doc__ or "").strip().split("\n\n")
    return " ".join(" ".join(p.split()) for p in paragraphs[1:])
