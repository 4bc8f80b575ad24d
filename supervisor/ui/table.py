"""The process table of `supervisor ui` as urwid widgets: one row per service header and per
process, selectable, updated in place.

A `status` reply (or a tick of the uptimes) changes the text of the rows whose cells changed
and nothing else; the list of rows is rebuilt only when its shape changes (a process added or
removed, a service folded or unfolded).  urwid draws only the rows on the screen, so a
thousand processes cost the screen what their changed cells cost, not a thousand new widgets
at every event.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

import urwid

from supervisor.ui import rows

# What a row stands for: ("service", "api") or ("process", "api#1").
RowKey = tuple[str, str]
Line = rows.ServiceLine | rows.ProcessLine

STATE_COLOURS = {
    "running": "dark green",
    "starting": "yellow",
    "waiting": "yellow",
    "stopping": "yellow",
    "backoff": "yellow",
    "fatal": "light red",
    "blocked": "light red",
}
_FOCUS_MAP = {None: "selected", "service": "selected", **dict.fromkeys(STATE_COLOURS, "selected")}


def key_of(line: Line) -> RowKey:
    if isinstance(line, rows.ServiceLine):
        return ("service", line.service)
    return ("process", line.name)


def _markup(line: Line) -> list[Any]:
    if isinstance(line, rows.ServiceLine):
        return [("service", line.text)]
    markup: list[Any] = []
    for index, ((_, cell_width), cell) in enumerate(zip(rows.COLUMNS, line.cells, strict=True)):
        # The name is indented under its service.
        text = rows.fit(" " + cell if index == 0 else cell, cell_width)
        markup.append((line.state, text) if index == 1 else text)
        markup.append(" ")
    return markup[:-1]


class Row(urwid.Text):
    """One line of the table; the keys are the screen's, not the row's.

    A Text itself, its focus drawn by mapping the canvas's attributes (as AttrMap would): a
    thousand rows are made when a service is unfolded, and every wrapping widget costs each
    its construction.  Its text is made when it is drawn: a tick changes every row's uptime,
    and only the rows on the screen need theirs."""

    def __init__(self, line: Line) -> None:
        super().__init__("", wrap="clip")
        self.key = key_of(line)
        self.line = line
        self._drawn: Line | None = None

    @property
    def service(self) -> str:
        return self.line.service

    def update(self, line: Line) -> None:
        if line != self.line:
            self.line = line
            self._invalidate()

    def render(self, size: tuple[int], focus: bool = False) -> urwid.Canvas:
        if self._drawn is not self.line:
            self._drawn = self.line
            self.set_text(_markup(self.line))
        canvas = super().render(size, focus)
        if focus and self.selectable():
            canvas = urwid.CompositeCanvas(canvas)
            canvas.fill_attr_apply(_FOCUS_MAP)
        return canvas

    def rows(self, size: tuple[int], focus: bool = False) -> int:
        return 1  # a line, clipped: the ListBox need not make its text to know that

    def selectable(self) -> bool:
        # A service of one process has no header worth a stop: its one row says it all.
        return not isinstance(self.line, rows.ServiceLine) or self.line.foldable

    def keypress(self, size: tuple[int], key: str) -> str:
        return key


class Table:
    """The rows, in a ListBox; `selection_changed` is called once the focus settles on
    another row (never in the middle of a rebuild)."""

    def __init__(self, *, colour: bool, selection_changed: Callable[[], None]) -> None:
        self._colour = colour
        self._selection_changed = selection_changed
        self.walker = urwid.SimpleFocusListWalker([])
        self.listbox = urwid.ListBox(self.walker)
        self._rows: dict[RowKey, Row] = {}
        self._keys: list[RowKey] = []
        self._rebuilding = False
        self._wanted: RowKey | None = None  # where the selection is, across rebuilds
        urwid.connect_signal(self.walker, "modified", self._moved)

    @property
    def selected(self) -> Row | None:
        focused = self.walker.get_focus()[0] if self.walker else None
        return focused if isinstance(focused, Row) and focused.selectable() else None

    def show_message(self, text: str) -> None:
        """In the rows' place (no supervisor yet), wrapped: a state directory's path is long."""
        self._rows, self._keys = {}, []
        self._rebuild([urwid.Text(text)], None)

    def show(
        self, processes: list[dict[str, Any]], *, elapsed: float, folded: Collection[str]
    ) -> None:
        lines = list(
            rows.table_lines(processes, colour=self._colour, elapsed=elapsed, folded=folded)
        )
        keys = [key_of(line) for line in lines]
        kept: dict[RowKey, Row] = {}
        for key, line in zip(keys, lines, strict=True):
            row = self._rows.get(key)
            if row is None:
                row = Row(line)
            else:
                row.update(line)
            kept[key] = row
        old, self._rows = self._rows, kept
        if keys == self._keys:
            return
        self._keys = keys
        self._rebuild([kept[key] for key in keys], self._landing(keys, old))

    def _landing(self, keys: list[RowKey], old: dict[RowKey, Row]) -> int | None:
        """Where the selection goes in the new rows: the same row; a folded process's service;
        else the first row that can be selected."""
        wanted = self._wanted
        candidates: list[RowKey] = []
        if wanted is not None:
            candidates.append(wanted)
            if wanted in old:
                candidates.append(("service", old[wanted].service))
        for candidate in candidates:
            if candidate in self._rows and self._rows[candidate].selectable():
                return keys.index(candidate)
        return next((i for i, key in enumerate(keys) if self._rows[key].selectable()), None)

    def _rebuild(self, widgets: list[urwid.Widget], focus: int | None) -> None:
        # Replacing the rows moves the focus on its way (to the first row): only where it
        # ends counts, or every rebuild would close and reopen the selected process's log.
        self._rebuilding = True
        try:
            self.walker[:] = widgets
            if focus is not None:
                self.walker.set_focus(focus)
        finally:
            self._rebuilding = False
        self._moved()

    def _moved(self) -> None:
        if self._rebuilding:
            return
        row = self.selected
        key = row.key if row is not None else None
        if key != self._wanted:
            self._wanted = key
        self._selection_changed()

    def step(self, step: int) -> None:
        """Select the next selectable row down (1) or up (-1)."""
        position = self.walker.focus
        if position is None:
            return
        for index in range(position + step, len(self.walker) if step > 0 else -1, step):
            widget = self.walker[index]
            if isinstance(widget, Row) and widget.selectable():
                self.walker.set_focus(index)
                return
