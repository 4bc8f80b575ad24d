"""The lower pane of `supervisor ui`: lines of text (a log, events, a process's "why"), the
newest at the bottom, following them as they grow, or held at a search's match.

It draws only the lines that fit, so a long log costs the screen one screenful; a search's
matches are highlighted in the lines drawn, and the line of the current match stands out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import urwid

from supervisor.ui.search import Search

# (text, display attribute or None)
PaneLine = tuple[str, str | None]


class Pane(urwid.WidgetWrap):
    def __init__(self) -> None:
        self._lines: Sequence[PaneLine] = []
        self._anchor: int | None = None
        self._search: Search | None = None
        self._top = False
        super().__init__(urwid.SolidFill(" "))

    def show(
        self,
        lines: Sequence[PaneLine],
        *,
        anchor: int | None = None,
        search: Search | None = None,
        top: bool = False,
    ) -> None:
        """`lines` from now on; with `anchor` (an index into them) held so that line is in
        view, else the last lines (following), or with `top` the first ones."""
        self._lines, self._anchor, self._search = lines, anchor, search
        self._top = top
        self._invalidate()

    def render(self, size: tuple[int, int], focus: bool = False) -> urwid.Canvas:
        columns, height = size
        count = len(self._lines)
        if self._anchor is None:
            start = 0 if self._top else max(0, count - height)
        else:
            start = max(0, min(self._anchor - height // 2, count - height))
        shown = [self._markup(index) for index in range(start, min(count, start + height))]
        text = urwid.Text(shown or "", wrap="clip")
        if shown:
            text.set_text([part for line in shown for part in (*line, "\n")][:-1])
        return urwid.Filler(text, valign="top").render((columns, height), focus)

    def _markup(self, index: int) -> list[Any]:
        line, attr = self._lines[index]
        if self._search is None:
            return [(attr, line)]
        current = index == self._anchor
        parts: list[Any] = []
        at = 0
        for begin, end in self._search.spans(line):
            parts.append(("current" if current else attr, line[at:begin]))
            parts.append(("match", line[begin:end]))
            at = end
        parts.append(("current" if current else attr, line[at:]))
        return [part for part in parts if part[1]] or [(attr, "")]
