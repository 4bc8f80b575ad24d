"""The fenced blocks of the project's Markdown (README.md and docs/), and the commands of its
`console` blocks: what the documentation tests read.

The convention (docs/design/documentation.md): a ```console block is commands a test runs, each
line starting with `$ ` a command and the lines after it its output, shown for the reader; a
`(exit N)` line in that output is the exit status the command must end with (0 otherwise). A
```text block is an illustration, never run. Any other info string names a file format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Fences that would show shell commands without saying whether a test runs them.
UNDECIDED = frozenset({"", "sh", "bash", "shell", "shell-session", "zsh", "console-session"})

_FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})(.*)$")
_EXIT = re.compile(r"^\(exit (\d+)\)$")


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # the opening fence's, from 1
    info: str  # the fence's info string: `console`, `text`, `toml`, ...
    lines: tuple[str, ...]

    @property
    def where(self) -> str:
        shown = self.path.relative_to(REPO) if self.path.is_relative_to(REPO) else self.path
        return f"{shown}:{self.line}"


@dataclass(frozen=True)
class Command:
    text: str
    exit_status: int
    output: tuple[str, ...]  # as the block shows it, for the reader
    where: str


def markdown_files(root: Path = REPO) -> list[Path]:
    """README.md, then every page under docs/, in a stable order."""
    return [root / "README.md", *sorted((root / "docs").rglob("*.md"))]


def blocks(path: Path) -> list[Block]:
    """Every fenced block of a Markdown file, with its info string and its lines."""
    found: list[Block] = []
    opened: tuple[int, str, str] | None = None  # (line, fence, info)
    body: list[str] = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        fence = _FENCE.match(line)
        if opened is None:
            if fence:
                opened = (number, fence[2], fence[3].strip())
                body = []
            continue
        if fence and fence[2].startswith(opened[1]) and not fence[3].strip():
            found.append(
                Block(path, opened[0], opened[2].split()[0] if opened[2] else "", tuple(body))
            )
            opened = None
            continue
        body.append(line)
    if opened is not None:
        raise AssertionError(f"{path}:{opened[0]}: a code fence that is never closed")
    return found


def commands(block: Block) -> list[Command]:
    """The commands of a `console` block, each with the exit status the block shows for it."""
    found: list[Command] = []
    current: tuple[str, int] | None = None
    output: list[str] = []

    def close() -> None:
        if current is None:
            return
        exits = [int(match[1]) for text in output if (match := _EXIT.match(text.strip()))]
        found.append(
            Command(
                current[0], exits[-1] if exits else 0, tuple(output), f"{block.where}+{current[1]}"
            )
        )

    for offset, line in enumerate(block.lines, 1):
        if line.startswith("$ "):
            close()
            current, output = (line[2:].strip(), offset), []
        elif current is None:
            raise AssertionError(f"{block.where}: a console block must start with a `$ ` command")
        else:
            output.append(line)
    close()
    return found


def console_commands(path: Path) -> list[Command]:
    """Every command of a file's `console` blocks, in the order a reader meets them."""
    return [
        command for block in blocks(path) if block.info == "console" for command in commands(block)
    ]
