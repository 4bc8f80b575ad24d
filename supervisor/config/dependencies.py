"""Start order from `depends_on`: a stable topological sort, and the cycle when there is none."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def start_order(
    services: Sequence[str], depends_on: Mapping[str, Sequence[str]]
) -> tuple[list[str], list[str] | None]:
    """Services in an order where each comes after its dependencies, keeping the file's order
    wherever dependencies allow; or, when they form a cycle, the cycle (first name repeated)."""
    placed: list[str] = []
    remaining = list(services)
    while remaining:
        ready = next(
            (s for s in remaining if all(d in placed for d in depends_on.get(s, ()))), None
        )
        if ready is None:
            return placed, _find_cycle(remaining, depends_on)
        placed.append(ready)
        remaining.remove(ready)
    return placed, None


def _find_cycle(remaining: list[str], depends_on: Mapping[str, Sequence[str]]) -> list[str]:
    # Every remaining service waits on another remaining one, so walking dependencies must
    # come back to a service already on the path.
    path = [remaining[0]]
    while True:
        following = next(d for d in depends_on.get(path[-1], ()) if d in remaining)
        if following in path:
            return [*path[path.index(following) :], following]
        path.append(following)
