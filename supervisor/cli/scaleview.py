"""How `status` and `scale` say that a service runs another count of workers than its file's."""

from __future__ import annotations

from collections.abc import Mapping


def scaled_lines(scaled: Mapping[str, Mapping[str, int]]) -> list[str]:
    """One line per service `scale` changed: `web: 4 workers (scaled; the file says 2)`."""
    return [
        f"{service}: {counts['workers']} workers (scaled; the file says {counts['file']})"
        for service, counts in scaled.items()
    ]
