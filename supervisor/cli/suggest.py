""" "Did you mean": the closest of the known names to one that is not known, as git and
systemctl tell a mistyped word."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(name: str, known: Iterable[str], *, count: int = 3) -> list[str]:
    return difflib.get_close_matches(name, list(known), n=count)


def did_you_mean(name: str, known: Iterable[str], *, count: int = 3) -> str | None:
    """`did you mean 'status'?`, or None when nothing known is close."""
    matches = [repr(match) for match in closest(name, known, count=count)]
    if not matches:
        return None
    either = matches[0] if len(matches) == 1 else f"{', '.join(matches[:-1])} or {matches[-1]}"
    return f"did you mean {either}?"
