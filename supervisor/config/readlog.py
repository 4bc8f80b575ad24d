"""What one reading of a services file looked at: the keys each table allows, and how each key
is read (the reader's kind, its default, its range or choices).

`config.load(..., observer=...)` reports to an observer as it reads.  The services.toml
reference is generated from what a `ReadLog` saw, so what it says about a key is what the
loader does with it, not a second account that could drift.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class KeyRead:
    """One key as the reader read it: `kind` names the reader's method ("seconds",
    "integer", "choice", "table", ...)."""

    path: tuple[str, ...]  # the table's path, then the key
    kind: str
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()


class ReadObserver(Protocol):
    def allowed(self, table: tuple[str, ...], keys: tuple[str, ...]) -> None: ...

    def read(self, key: KeyRead) -> None: ...


@dataclass
class ReadLog:
    """Every table's allowed keys and every key's first read.  The first read wins: a reader
    method that calls another (`seconds` calls `number`) says first what the key is."""

    allowed_keys: dict[tuple[str, ...], tuple[str, ...]] = field(default_factory=dict)
    reads: dict[tuple[str, ...], KeyRead] = field(default_factory=dict)

    def allowed(self, table: tuple[str, ...], keys: tuple[str, ...]) -> None:
        self.allowed_keys.setdefault(table, keys)

    def read(self, key: KeyRead) -> None:
        self.reads.setdefault(key.path, key)
