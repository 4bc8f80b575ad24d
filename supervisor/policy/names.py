"""What names on a command line mean: a service name is each of its processes, a process name
is that one.  `supervisor simulate --service` and every control command resolve them here."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar


class Named(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def service(self) -> str: ...


N = TypeVar("N", bound=Named)


class UnknownName(KeyError):
    """A name that is neither a service nor a process; `.name` is the name."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def resolve_names(processes: Iterable[N], names: Iterable[str]) -> list[N]:
    """The processes the names mean, in the order named, each once; raises UnknownName."""
    processes = list(processes)
    chosen: dict[str, N] = {}
    for name in names:
        matching = [process for process in processes if name in (process.name, process.service)]
        if not matching:
            raise UnknownName(name)
        chosen.update((process.name, process) for process in matching)
    return list(chosen.values())
