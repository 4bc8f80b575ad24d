"""A search in the UI's lower pane (`/`, then `n` and `N`): which lines match, and the next
match from a place, either way round.

Pure: lines in, line numbers out.  A pattern is a regular expression (Python's), matched
without regard to case unless it has a capital (as `less -i` and vim's smartcase do); one
that is not a valid expression (`foo(`) is searched for as plain text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence


class Search:
    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        flags = 0 if any(c.isupper() for c in pattern) else re.IGNORECASE
        try:
            self.regex = re.compile(pattern, flags)
            self.literal = False
        except re.error:
            self.regex = re.compile(re.escape(pattern), flags)
            self.literal = True

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where the pattern matches in `text` (empty matches left out)."""
        return [m.span() for m in self.regex.finditer(text) if m.end() > m.start()]

    def matching(self, lines: Sequence[str]) -> list[int]:
        """The indexes of the lines that match, in order."""
        return [index for index, line in enumerate(lines) if self.regex.search(line)]

    def next_match(self, lines: Sequence[str], after: int | None, *, forward: bool) -> int | None:
        """The index of the next matching line after (`forward`) or before index `after`,
        wrapping round at either end; None: no line matches.  With `after` None, the newest
        match (the last line that matches)."""
        found = self.matching(lines)
        if not found:
            return None
        if after is None:
            return found[-1]
        if forward:
            return next((index for index in found if index > after), found[0])
        return next((index for index in reversed(found) if index < after), found[-1])
