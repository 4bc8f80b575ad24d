"""What a reload changes: the difference between the running plan and a freshly loaded one."""

from __future__ import annotations

from dataclasses import dataclass

from supervisor.config import Plan


class ReloadRejected(Exception):
    """The new file is invalid or asks for what a reload cannot do; nothing was changed."""


@dataclass(frozen=True)
class PlanDiff:
    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]  # same process name, anything about how it runs differs
    unchanged: tuple[str, ...]

    def summary(self) -> dict[str, list[str]]:
        return {
            "added": list(self.added),
            "removed": list(self.removed),
            "changed": list(self.changed),
            "unchanged": list(self.unchanged),
        }


def diff(running: Plan, loaded: Plan) -> PlanDiff:
    old = {process.name: process for process in running.processes}
    new = {process.name: process for process in loaded.processes}
    common = [name for name in new if name in old]
    return PlanDiff(
        added=tuple(name for name in new if name not in old),
        removed=tuple(name for name in old if name not in new),
        changed=tuple(name for name in common if old[name] != new[name]),
        unchanged=tuple(name for name in common if old[name] == new[name]),
    )
