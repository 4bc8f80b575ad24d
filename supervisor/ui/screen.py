"""The screen of `supervisor ui` (urwid): the process table, the selected process's log, the
keys, and what the supervisor said to the last one.

Everything here runs on urwid's loop, in the main thread.  The event stream's thread only
queues what it read and writes a byte to a pipe the loop watches (`_woken`), so state is
touched by one thread.  An event asks for one `status` request, coalesced: the events of a
burst (a restart's four state changes) cost one request, never one each.  A one-second tick
ages the uptimes from the last reply and nothing else: the table changes with events only.
"""

from __future__ import annotations

import contextlib
import os
import queue
import time
from pathlib import Path
from typing import Any

import urwid

from supervisor.control.client import LostSupervisor, NotRunning
from supervisor.shared.exits import EXIT_NOT_RUNNING, EXIT_OK
from supervisor.ui import rows
from supervisor.ui.attach import Attached, Delivery, Ended, Event, EventStream, Requests, Waiting
from supervisor.ui.logpane import ProcessLog

REFRESH_DELAY = 0.05  # seconds an event's status request waits for the rest of its burst
TICK_SECONDS = 1.0
LOG_POLL_SECONDS = 0.2
LOG_LINES = 200  # read when a process is selected; the pane shows what fits
KEYS = "up/down select  s start  x stop  r restart  R reload  +/- scale  q quit"

_STATE_COLOURS = {
    "running": "dark green",
    "starting": "yellow",
    "waiting": "yellow",
    "stopping": "yellow",
    "backoff": "yellow",
    "fatal": "light red",
    "blocked": "light red",
}
# (name, foreground, background, mono): without colour (NO_COLOR) only `mono` is used.
PALETTE = [
    ("header", "white,bold", "dark blue", "bold"),
    ("title", "bold", "", "bold"),
    ("service", "light cyan,bold", "", "bold"),
    ("selected", "black", "light gray", "standout"),
    ("message", "light magenta", "", ""),
    ("keys", "black", "light gray", "standout"),
    *((state, colour, "", "") for state, colour in _STATE_COLOURS.items()),
]
_NOT_ABOUT_PROCESSES = frozenset({"error", "control"})
_FOCUS_MAP = {None: "selected", **{state: "selected" for state in _STATE_COLOURS}}


class _ProcessRow(urwid.WidgetWrap):
    """A selectable line of the table: the keys are the screen's, not the row's."""

    def __init__(self, line: rows.ProcessLine) -> None:
        self.name = line.name
        markup: list[Any] = []
        for index, ((_, cell_width), cell) in enumerate(zip(rows.COLUMNS, line.cells, strict=True)):
            text = rows.fit(cell, cell_width)
            if index == 0:
                text = rows.fit(" " + cell, cell_width)  # indented under its service
            markup.append((line.state, text) if index == 1 else text)
            markup.append(" ")
        super().__init__(urwid.AttrMap(urwid.Text(markup[:-1], wrap="clip"), None, _FOCUS_MAP))

    def selectable(self) -> bool:
        return True

    def keypress(self, size: tuple[int], key: str) -> str:
        return key


class _LogTail(urwid.WidgetWrap):
    """The last lines that fit, newest at the bottom."""

    def __init__(self) -> None:
        self._lines: list[str] = []
        super().__init__(urwid.SolidFill(" "))

    def show(self, lines: list[str]) -> None:
        self._lines = lines
        self._invalidate()

    def render(self, size: tuple[int, int], focus: bool = False) -> urwid.Canvas:
        columns, height = size
        text = urwid.Text("\n".join(self._lines[-height:]), wrap="clip")
        return urwid.Filler(text, valign="top").render((columns, height), focus)


class Screen:
    def __init__(self, state_dir: Path, *, colour: bool) -> None:
        self.exit_status = EXIT_OK
        self.final_message: str | None = None
        self._state_dir = state_dir
        self._colour = colour
        self._requests = Requests(state_dir)
        self._deliveries: queue.SimpleQueue[Delivery] = queue.SimpleQueue()
        self._processes: list[dict[str, Any]] = []
        self._supervisor: dict[str, Any] = {}  # the last reply's `supervisor`
        self._scaled: dict[str, Any] = {}  # the last reply's `scaled`
        self._scaled_to: dict[str, int] = {}  # scale replies since it: service -> workers
        self._fetched_at = time.monotonic()
        self._refresh_pending = False
        self._rebuilding = False
        self._selected: str | None = None
        self._log: ProcessLog | None = None

        self._header = urwid.Text("", wrap="clip")
        column_titles = " ".join(rows.fit(title, width) for title, width in rows.COLUMNS)
        self._walker = urwid.SimpleFocusListWalker([])
        urwid.connect_signal(self._walker, "modified", self._focus_moved)
        self._log_title = urwid.Text("", wrap="clip")
        self._log_tail = _LogTail()
        self._message = urwid.Text("", wrap="clip")
        body = urwid.Pile(
            [
                ("pack", urwid.Text(("title", column_titles), wrap="clip")),
                ("weight", 3, urwid.ListBox(self._walker)),
                ("pack", urwid.AttrMap(self._log_title, "title")),
                ("weight", 2, self._log_tail),
            ]
        )
        footer = urwid.Pile(
            [urwid.AttrMap(self._message, "message"), urwid.AttrMap(urwid.Text(KEYS), "keys")]
        )
        frame = urwid.Frame(body, header=urwid.AttrMap(self._header, "header"), footer=footer)
        self._loop = urwid.MainLoop(frame, PALETTE, unhandled_input=self._key, handle_mouse=False)
        if not colour:
            self._loop.screen.set_terminal_properties(colors=1)
        self._wake_fd = self._loop.watch_pipe(self._woken)
        self._stream = EventStream(state_dir, self._deliver)

    def run(self) -> None:
        """Until q, or the supervisor goes away (KeyboardInterrupt passes through, after urwid
        has restored the terminal)."""
        self._header.set_text(f" supervisor ui: connecting to {self._state_dir}")
        self._stream.start()
        self._loop.set_alarm_in(TICK_SECONDS, self._tick)
        self._loop.set_alarm_in(LOG_POLL_SECONDS, self._poll_log)
        try:
            self._loop.run()
        finally:
            self._stream.stop()
            self._requests.close()
            if self._log is not None:
                self._log.close()

    # -- from the event stream's thread ---------------------------------------------------------

    def _deliver(self, delivery: Delivery) -> None:
        self._deliveries.put(delivery)
        # OSError: the loop has ended and closed its pipe: nothing wants this any more.
        with contextlib.suppress(OSError):
            os.write(self._wake_fd, b"!")

    def _woken(self, _data: bytes) -> bool:
        while True:
            try:
                delivery = self._deliveries.get_nowait()
            except queue.Empty:
                return True  # keep the pipe
            if isinstance(delivery, Waiting):
                self._processes, self._supervisor = [], {}
                self._render_table()
                self._header.set_text(" supervisor ui: no supervisor")
                # In the table's place, wrapped: a state directory's path is long.
                self._walker[:] = [urwid.Text(f"{delivery.message} (q quits)")]
            elif isinstance(delivery, Attached):
                self._refresh()
            elif isinstance(delivery, Event):
                # Not the supervisor's own errors or its clients' comings and goings: a failed
                # status request is itself an `error` event, and must not ask again.
                if delivery.record.get("event") not in _NOT_ABOUT_PROCESSES:
                    self._refresh_soon()
            elif isinstance(delivery, Ended):
                self.exit_status = EXIT_NOT_RUNNING
                self.final_message = delivery.reason
                raise urwid.ExitMainLoop()

    # -- the table ------------------------------------------------------------------------------

    def _refresh_soon(self) -> None:
        if not self._refresh_pending:
            self._refresh_pending = True
            self._loop.set_alarm_in(REFRESH_DELAY, lambda *_: self._refresh())

    def _refresh(self) -> None:
        self._refresh_pending = False
        try:
            reply = self._requests.ask("status", names=[])
        except (LostSupervisor, NotRunning, ConnectionError, TimeoutError):
            return  # the stream's end says what happened
        if not reply.get("ok"):
            self._message.set_text(f"status: {reply.get('error')}")
            return
        self._processes = reply["processes"]
        self._scaled = reply.get("scaled") or {}
        self._scaled_to.clear()  # the reply knows of every scale asked before it
        self._fetched_at = time.monotonic()
        self._supervisor = reply["supervisor"]
        self._render_table()

    def _render_header(self, elapsed: float) -> None:
        supervisor = self._supervisor
        stopping = "  STOPPING" if supervisor.get("stopping") else ""
        uptime = rows.duration(supervisor["uptime"] + elapsed)
        self._header.set_text(
            f" supervisor pid {supervisor['pid']}  up {uptime}"
            f"  {len(self._processes)} processes{stopping}  {supervisor['config']}"
        )

    def _render_table(self) -> None:
        elapsed = time.monotonic() - self._fetched_at
        if self._supervisor:
            self._render_header(elapsed)
        lines = rows.table_lines(self._processes, colour=self._colour, elapsed=elapsed)
        widgets: list[urwid.Widget] = []
        focus = None
        for line in lines:
            if isinstance(line, rows.ServiceLine):
                widgets.append(urwid.Text(("service", line.text), wrap="clip"))
                continue
            if line.name == self._selected or (focus is None and self._selected is None):
                focus = len(widgets)
            widgets.append(_ProcessRow(line))
        if focus is None:  # the selected process is gone (scaled down): the first one
            focus = next((i for i, w in enumerate(widgets) if isinstance(w, _ProcessRow)), None)
        # Replacing the rows moves the focus on its way (to the first row, a service's):
        # only where it ends counts, or every refresh would close and reopen the log.
        self._rebuilding = True
        try:
            self._walker[:] = widgets
            if focus is not None:
                self._walker.set_focus(focus)
        finally:
            self._rebuilding = False
        self._focus_moved()

    def _tick(self, *_: object) -> None:
        if self._processes:
            self._render_table()
        self._loop.set_alarm_in(TICK_SECONDS, self._tick)

    # -- the log pane ---------------------------------------------------------------------------

    def _focus_moved(self) -> None:
        if self._rebuilding:
            return
        focused = self._walker.get_focus()[0] if self._walker else None
        name = focused.name if isinstance(focused, _ProcessRow) else None
        if name == self._selected and (name is None or self._log is not None):
            return
        self._selected = name
        self._open_log(name)

    def _open_log(self, name: str | None) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None
        if name is None:
            self._log_title.set_text(" log: no process selected")
            self._log_tail.show([])
            return
        self._log_title.set_text(f" log: {name}")
        try:
            reply = self._requests.ask("logs", names=[name])
        except (LostSupervisor, NotRunning, ConnectionError, TimeoutError):
            return
        if reply.get("ok") and reply["logs"]:
            self._log = ProcessLog(name, Path(reply["logs"][0]["path"]), last=LOG_LINES)
            self._log_tail.show(list(self._log.lines))

    def _poll_log(self, *_: object) -> None:
        if self._log is not None and self._log.poll():
            self._log_tail.show(list(self._log.lines))
        self._loop.set_alarm_in(LOG_POLL_SECONDS, self._poll_log)

    # -- keys -----------------------------------------------------------------------------------

    def _key(self, key: str | tuple[Any, ...]) -> bool:
        if key in ("q", "Q"):
            raise urwid.ExitMainLoop()
        name = self._selected
        if key == "R":
            self._say(self._ask("reload"), "reload")
        elif name is None or not isinstance(key, str):
            return False
        elif key in ("s", "x", "r"):
            verb = {"s": "start", "x": "stop", "r": "restart"}[key]
            self._say(self._ask(verb, names=[name], all=False), f"{verb} {name}")
        elif key in ("+", "-"):
            self._scale(name, 1 if key == "+" else -1)
        elif key in ("j", "k"):
            self._walker_step(1 if key == "j" else -1)
        else:
            return False
        return True

    def _walker_step(self, step: int) -> None:
        position = self._walker.focus
        if position is None:
            return
        for index in range(position + step, len(self._walker) if step > 0 else -1, step):
            if isinstance(self._walker[index], _ProcessRow):
                self._walker.set_focus(index)
                return

    def _scale(self, name: str, step: int) -> None:
        service = next((p["service"] for p in self._processes if p["name"] == name), name)
        workers = self._workers_of(service) + step
        reply = self._ask("scale", name=service, workers=workers)
        if reply.get("ok"):
            self._scaled_to[service] = reply["workers"]
        self._say(reply, f"scale {service} {workers}")

    def _workers_of(self, service: str) -> int:
        """What the service runs now: as the last `scale` reply said (a second key may come
        before the table shows the first), else as `status` says; a surplus worker still
        stopping is no longer one."""
        if service in self._scaled_to:
            return self._scaled_to[service]
        scaled = self._scaled.get(service)
        if scaled:
            return int(scaled["workers"])
        members = [p for p in self._processes if p["service"] == service]
        return sum(1 for p in members if p["state"] != "stopping")

    def _ask(self, command: str, **fields: Any) -> dict[str, Any]:
        try:
            return self._requests.ask(command, **fields)
        except (LostSupervisor, NotRunning, ConnectionError, TimeoutError) as error:
            return {"ok": False, "error": str(error) or type(error).__name__}

    def _say(self, reply: dict[str, Any], what: str) -> None:
        if reply.get("ok"):
            self._message.set_text(f" {what}: done")
        else:
            self._message.set_text(f" {what}: {reply.get('error')}")
