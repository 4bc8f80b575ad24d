"""Cinder's topic convention, as a pure function shared by the supervisor and its children.

`Service.create(binary='cinder-volume')` in Cinder defaults the topic to the binary, takes the
part after the last `cinder-` as the subtopic, and reads the manager class path from the option
`<subtopic>_manager`.  Both sides call `resolve`, so `supervisor check` shows exactly what a child
will import, without importing it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_PREFIX = "cinder-"


class MissingManagerOption(LookupError):
    """The convention named an option that is not set: Cinder's `assert manager is not None`."""

    def __init__(self, option: str, topic: str) -> None:
        super().__init__(
            f"option {option!r} is not set (topic {topic!r} needs it to find its manager class)"
        )
        self.option = option
        self.topic = topic


@dataclass(frozen=True)
class Resolution:
    binary: str
    topic: str
    subtopic: str
    manager_option: str
    manager: str
    source: str | None = None  # where the manager option was found, when the caller knows


def subtopic_of(topic: str, prefix: str = DEFAULT_PREFIX) -> str:
    return topic.rpartition(prefix)[2]


def resolve(
    binary: str,
    options: Mapping[str, Any],
    *,
    prefix: str = DEFAULT_PREFIX,
    topic: str | None = None,
    manager: str | None = None,
) -> Resolution:
    """Resolve topic, subtopic and manager class path the way `Service.create` does."""
    topic = topic or binary
    subtopic = subtopic_of(topic, prefix)
    option = f"{subtopic}_manager"
    if manager is None:
        manager = options.get(option)
        if not manager:
            raise MissingManagerOption(option, topic)
    return Resolution(binary, topic, subtopic, option, str(manager))
