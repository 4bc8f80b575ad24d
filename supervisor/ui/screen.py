"""The screen of `supervisor ui` (urwid): the process table grouped by service, the lower
pane (the selected process's or service's log, its events, or why it is in its state), the
keys, and what the supervisor said to the last one.

Everything here runs on urwid's loop, in the main thread.  The event stream's thread only
queues what it read and writes a byte to a pipe the loop watches (`_woken`), so state is
touched by one thread.  An event asks for one `status` request, coalesced: the events of a
burst (a restart's four state changes) cost one request, never one each, and a request is
asked no sooner than `REFRESH_GAP` after the last, or a few times what the last one cost, so
a storm of events costs the supervisor five requests a second per UI at most, and a stack
of a thousand processes costs the screen a bounded share of its time.  A one-second tick ages the
uptimes from the last reply and nothing else: the table changes with events only.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path
from typing import Any

import urwid

from supervisor.control.client import LostSupervisor, NotRunning
from supervisor.shared.exits import EXIT_NOT_RUNNING, EXIT_OK
from supervisor.ui import rows
from supervisor.ui.attach import (
    Attached,
    Delivery,
    Dropped,
    Ended,
    Event,
    EventStream,
    Requests,
    Waiting,
    past_events,
)
from supervisor.ui.history import EventHistory, event_line, why_lines
from supervisor.ui.logpane import MAX_FOLLOWED, ProcessLog
from supervisor.ui.pane import Pane, PaneLine
from supervisor.ui.search import Search
from supervisor.ui.table import STATE_COLOURS, Table

REFRESH_DELAY = 0.05  # seconds an event's status request waits for the rest of its burst
REFRESH_GAP = 0.2  # seconds at least from one status request to the next (an event storm)
REFRESH_COST_FACTOR = 4  # ...and at least this many times what the last one took
TICK_SECONDS = 1.0
LOG_POLL_SECONDS = 0.2
LOG_LINES = 200  # read when a process is selected; the pane shows what fits
EXIT_HANGUP = 128 + signal.SIGHUP  # the terminal closed (as a shell reports SIGHUP)
KEYS = (
    "s start  x stop  r restart  R reload  +/- scale  a attach  enter fold  q quit",
    "/ search  n/N next/prev  l log  e events  d why  esc follow  up/down select",
)
_ERRORS = (LostSupervisor, NotRunning, ConnectionError, TimeoutError)
_NOT_ABOUT_PROCESSES = frozenset({"error", "control"})

# (name, foreground, background, mono): without colour (NO_COLOR) only `mono` is used.
PALETTE = [
    ("header", "white,bold", "dark blue", "bold"),
    ("title", "bold", "", "bold"),
    ("service", "light cyan,bold", "", "bold"),
    ("selected", "black", "light gray", "standout"),
    ("message", "light magenta", "", ""),
    ("keys", "black", "light gray", "standout"),
    ("stderr", "light red", "", ""),
    ("match", "black", "yellow", "standout"),
    ("current", "bold", "", "bold"),
    *((state, colour, "", "") for state, colour in STATE_COLOURS.items()),
]
_MODES = {"l": "log", "e": "events", "d": "why"}


class Screen:
    def __init__(self, state_dir: Path, config: Path, *, colour: bool) -> None:
        self.exit_status = EXIT_OK
        self.final_message: str | None = None
        self._state_dir = state_dir
        self._config = config
        self._requests = Requests(state_dir)
        self._deliveries: queue.SimpleQueue[Delivery] = queue.SimpleQueue()
        self._processes: list[dict[str, Any]] = []
        self._supervisor: dict[str, Any] = {}  # the last reply's `supervisor`
        self._scaled: dict[str, Any] = {}  # the last reply's `scaled`
        self._scaled_to: dict[str, int] = {}  # scale replies since it: service -> workers
        self._fetched_at = time.monotonic()
        self._refresh_pending = False
        self._refresh_cost = 0.0
        self._refreshed_at = 0.0
        self._folded: set[str] = set()
        self._seen_services: set[str] = set()
        self._history = EventHistory()
        self._backfilled: set[str] = set()
        self._selected: tuple[str, str] | None = None  # the table's row: (kind, name)
        self._log: ProcessLog | None = None
        self._mode = "log"
        self._search: Search | None = None
        self._match: int | None = None  # the current match: a line's number in the pane
        self._hung_up = False

        self._header = urwid.Text("", wrap="clip")
        column_titles = " ".join(rows.fit(title, width) for title, width in rows.COLUMNS)
        self._table = Table(colour=colour, selection_changed=self._selection_changed)
        self._pane_title = urwid.Text("", wrap="clip")
        self._pane = Pane()
        self._message = urwid.Text("", wrap="clip")
        self._prompt = urwid.Edit("/")
        body = urwid.Pile(
            [
                ("pack", urwid.Text(("title", column_titles), wrap="clip")),
                ("weight", 3, self._table.listbox),
                ("pack", urwid.AttrMap(self._pane_title, "title")),
                ("weight", 2, self._pane),
            ]
        )
        self._footer = urwid.Pile(
            [
                urwid.AttrMap(self._message, "message"),
                *(urwid.AttrMap(urwid.Text(keys, wrap="clip"), "keys") for keys in KEYS),
            ]
        )
        self._frame = urwid.Frame(
            body, header=urwid.AttrMap(self._header, "header"), footer=self._footer
        )
        self._loop = urwid.MainLoop(
            self._frame, PALETTE, unhandled_input=self._key, handle_mouse=False
        )
        if not colour:
            self._loop.screen.set_terminal_properties(colors=1)
        self._wake_fd = self._loop.watch_pipe(self._woken)
        self._stream = EventStream(state_dir, self._deliver)

    def run(self) -> None:
        """Until q, the supervisor goes away, or the terminal closes (SIGHUP); KeyboardInterrupt
        passes through, after urwid has restored the terminal."""
        self._header.set_text(f" supervisor ui: connecting to {self._state_dir}")
        previous = signal.signal(signal.SIGHUP, self._hang_up)
        self._stream.start()
        self._loop.set_alarm_in(TICK_SECONDS, self._tick)
        self._loop.set_alarm_in(LOG_POLL_SECONDS, self._poll_log)
        try:
            self._loop.run()
        except urwid.InputClosedError:
            # The terminal closed: its end of input may come before its SIGHUP does.
            self._hung_up, self.exit_status, self.final_message = True, EXIT_HANGUP, None
        except (OSError, termios.error):
            # Restoring a terminal that is gone fails; nothing is left to restore.
            if not self._hung_up:
                raise
        finally:
            signal.signal(signal.SIGHUP, previous)
            self._stream.stop()
            self._requests.close()
            if self._log is not None:
                self._log.close()
        if self._hung_up:
            _forget_the_terminal()

    def _hang_up(self, signum: int, frame: object) -> None:
        """The terminal closed (tmux kill-pane, a closed window, a dropped ssh): leave."""
        self._hung_up = True
        self.exit_status = EXIT_HANGUP
        self.final_message = None
        raise urwid.ExitMainLoop()

    # -- from the event stream's thread ---------------------------------------------------------

    def _deliver(self, delivery: Delivery) -> None:
        self._deliveries.put(delivery)
        # OSError: the loop has ended and closed its pipe: nothing wants this any more.
        with contextlib.suppress(OSError):
            os.write(self._wake_fd, b"!")

    def _woken(self, _data: bytes) -> bool:
        events = False
        while True:
            try:
                delivery = self._deliveries.get_nowait()
            except queue.Empty:
                break
            if isinstance(delivery, Waiting):
                self._processes, self._supervisor = [], {}
                self._header.set_text(" supervisor ui: no supervisor")
                self._table.show_message(f"{delivery.message} (q quits)")
            elif isinstance(delivery, Attached):
                self._refresh()
            elif isinstance(delivery, Dropped):
                self._say_text(f"{delivery.message}; subscribed again")
                self._backfilled.clear()  # what was missed is asked for again
            elif isinstance(delivery, Event):
                record = delivery.record
                self._history.add(record)
                events = True
                # Not the supervisor's own errors or its clients' comings and goings: a failed
                # status request is itself an `error` event, and must not ask again.
                if record.get("event") not in _NOT_ABOUT_PROCESSES:
                    self._refresh_soon()
            elif isinstance(delivery, Ended):
                self.exit_status = EXIT_NOT_RUNNING
                self.final_message = delivery.reason
                raise urwid.ExitMainLoop()
        if events and self._mode != "log":
            self._show_pane()
        return True  # keep the pipe

    # -- the table ------------------------------------------------------------------------------

    def _refresh_soon(self) -> None:
        if not self._refresh_pending:
            self._refresh_pending = True
            since = time.monotonic() - self._refreshed_at
            gap = max(REFRESH_GAP, REFRESH_COST_FACTOR * self._refresh_cost)
            delay = max(REFRESH_DELAY, gap - since)
            self._loop.set_alarm_in(delay, lambda *_: self._refresh())

    def _refresh(self) -> None:
        self._refresh_pending = False
        started = time.monotonic()
        try:
            reply = self._requests.ask("status", names=[])
        except _ERRORS:
            return  # the stream's end says what happened
        if not reply.get("ok"):
            self._message.set_text(f"status: {reply.get('error')}")
            return
        self._processes = reply["processes"]
        self._scaled = reply.get("scaled") or {}
        self._scaled_to.clear()  # the reply knows of every scale asked before it
        self._fetched_at = time.monotonic()
        self._supervisor = reply["supervisor"]
        self._fold_new_services()
        self._render_table()
        if self._mode == "why":
            self._show_pane()
        self._refreshed_at = time.monotonic()
        self._refresh_cost = self._refreshed_at - started

    def _fold_new_services(self) -> None:
        """A service seen for the first time starts folded when it has many processes."""
        for service, members in rows.by_service(self._processes).items():
            if service not in self._seen_services:
                self._seen_services.add(service)
                if len(members) > rows.FOLD_ABOVE:
                    self._folded.add(service)

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
        self._table.show(self._processes, elapsed=elapsed, folded=self._folded)

    def _tick(self, *_: object) -> None:
        if self._processes:
            self._render_table()
        self._loop.set_alarm_in(TICK_SECONDS, self._tick)

    # -- the selection and the lower pane -------------------------------------------------------

    def _selection_changed(self) -> None:
        row = self._table.selected
        key = row.key if row is not None else None
        if key == self._selected and (key is None or self._log is not None):
            return
        self._selected = key
        self._match = None
        self._open_log()
        self._show_pane()

    def _names(self) -> list[str]:
        """The processes the selection stands for: one, or every one of a service."""
        if self._selected is None:
            return []
        kind, name = self._selected
        if kind == "process":
            return [name]
        return [p["name"] for p in self._processes if p["service"] == name]

    def _open_log(self) -> None:
        if self._log is not None:
            # In the background: the last close of a flood's rotated-away file frees its
            # blocks, tens of milliseconds the next key would wait.
            threading.Thread(target=self._log.close, name="supervisor-ui-close").start()
            self._log = None
        if self._selected is None:
            return
        name = self._selected[1]
        try:
            reply = self._requests.ask("logs", names=[name])
        except _ERRORS:
            return
        if reply.get("ok") and reply["logs"]:
            paths = {log["name"]: Path(log["path"]) for log in reply["logs"][:MAX_FOLLOWED]}
            self._log = ProcessLog(name, paths, last=LOG_LINES)

    def _pane_lines(self) -> tuple[list[PaneLine], int, str]:
        """The pane's lines, the number of the first (a log's lines are numbered from its
        opening), and its title."""
        if self._selected is None:
            return [], 0, "no process selected"
        kind, name = self._selected
        if self._mode == "log":
            log = self._log
            if log is None:
                return [], 0, f"log: {name}"
            lines = [(line.text, "stderr" if line.stderr else None) for line in log.lines]
            followed = len(self._names())
            title = f"log: {name}"
            if kind == "service":
                some = f"{log.followed} of " if followed > log.followed else ""
                title += f" ({some}{followed} processes)"
            if log.skipped:
                title += f"  [{log.skipped} bytes of a flood passed over]"
            return lines, log.first, title
        names = self._names()
        self._backfill(name)
        records = self._history.of([name, *names] if kind == "service" else names)
        if self._mode == "events":
            several = kind == "service"
            lines = [(event_line(record, several=several), None) for record in records]
            return lines, 0, f"events: {name}"
        by_name = {p["name"]: p for p in self._processes}
        why: list[PaneLine] = []
        for process in names:
            if process in by_name and (kind == "process" or by_name[process]["state"] != "running"):
                mine = [r for r in records if r.get("unit") == process]
                why.extend((line, None) for line in why_lines(by_name[process], mine))
        if not why:
            why = [(f"every process of {name} is running", None)]
        return why, 0, f"why: {name}"

    def _backfill(self, name: str) -> None:
        """The events of `name` from before the UI started, asked for once."""
        if name in self._backfilled:
            return
        self._backfilled.add(name)
        try:
            records, _ = past_events(self._state_dir, [name])
        except _ERRORS:
            return
        for record in records:
            self._history.add(record)

    def _show_pane(self) -> None:
        lines, first, title = self._pane_lines()
        if self._search is not None:
            title += f"  /{self._search.pattern}"
        self._pane_title.set_text(f" {title}")
        anchor = None
        if self._match is not None:
            anchor = self._match - first
            if not 0 <= anchor < len(lines):
                anchor = None  # the match scrolled out of what is kept
        self._pane.show(lines, anchor=anchor, search=self._search, top=self._mode == "why")

    def _poll_log(self, *_: object) -> None:
        if self._log is not None and self._log.poll() and self._mode == "log":
            self._show_pane()
        self._loop.set_alarm_in(LOG_POLL_SECONDS, self._poll_log)

    # -- searching ------------------------------------------------------------------------------

    def _start_search(self) -> None:
        self._prompt.set_edit_text("")
        self._footer.contents[0] = (self._prompt, self._footer.options())
        self._footer.focus_position = 0
        self._frame.focus_position = "footer"

    def _end_prompt(self) -> None:
        self._footer.contents[0] = (urwid.AttrMap(self._message, "message"), self._footer.options())
        self._frame.focus_position = "body"

    def _search_for(self, pattern: str) -> None:
        self._end_prompt()
        if not pattern:
            self._search, self._match = None, None
            self._show_pane()
            return
        self._search = Search(pattern)
        self._match = None
        self._jump(forward=True, first=True)

    def _jump(self, *, forward: bool, first: bool = False) -> None:
        if self._search is None:
            self._say_text("no search yet: / and a pattern")
            return
        lines, number, _ = self._pane_lines()
        texts = [text for text, _ in lines]
        at = None if first or self._match is None else self._match - number
        found = self._search.next_match(texts, at, forward=forward)
        pattern = self._search.pattern + (" (as text)" if self._search.literal else "")
        if found is None:
            self._match = None
            self._say_text(f"/{pattern}: not found")
        else:
            self._match = number + found
            matches = self._search.matching(texts)
            self._say_text(
                f"/{pattern}: match {matches.index(found) + 1} of {len(matches)}"
                "  (n next, N previous, esc follows again)"
            )
        self._show_pane()

    # -- keys -----------------------------------------------------------------------------------

    def _key(self, key: str | tuple[Any, ...]) -> bool:
        if not isinstance(key, str):
            return False
        if self._frame.focus_position == "footer":
            return self._prompt_key(key)
        if key in ("q", "Q"):
            raise urwid.ExitMainLoop()
        if key == "R":
            self._say(self._ask("reload"), "reload")
        elif key in ("j", "k"):
            self._table.step(1 if key == "j" else -1)
        elif key in _MODES:
            mode = _MODES[key]
            self._mode = "log" if self._mode == mode and mode != "log" else mode
            self._match = None
            self._show_pane()
        elif key == "/":
            self._start_search()
        elif key in ("n", "N"):
            self._jump(forward=key == "n")
        elif key == "esc":
            self._search, self._match = None, None
            self._message.set_text("")
            self._show_pane()
        elif self._selected is not None:
            return self._key_on_selection(key, *self._selected)
        else:
            return False
        return True

    def _key_on_selection(self, key: str, kind: str, name: str) -> bool:
        if key in ("s", "x", "r"):
            verb = {"s": "start", "x": "stop", "r": "restart"}[key]
            self._say(self._ask(verb, names=[name], all=False), f"{verb} {name}")
        elif key in ("+", "-"):
            self._scale(name, kind, 1 if key == "+" else -1)
        elif key in ("enter", " ") and kind == "service":
            self._folded.symmetric_difference_update({name})
            self._render_table()
        elif key == "a":
            self._attach(name, kind)
        else:
            return False
        return True

    def _prompt_key(self, key: str) -> bool:
        if key == "enter":
            self._search_for(self._prompt.get_edit_text())
        elif key == "esc":
            self._end_prompt()
        else:
            return False
        return True

    def _scale(self, name: str, kind: str, step: int) -> None:
        if kind == "service":
            service = name
        else:
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

    def _attach(self, name: str, kind: str) -> None:
        """`supervisor attach NAME` in this terminal: the screen is handed over until it ends,
        then drawn again."""
        names = self._names()
        if kind == "service" and len(names) != 1:
            self._say_text(f"attach: {name} has {len(names)} processes; select one")
            return
        process = names[0] if names else name
        command = [sys.executable, "-m", "supervisor", "attach", process, "-c", str(self._config)]
        self._loop.screen.stop()
        # Ctrl-C and Ctrl-\ are the attached process's now: ignored here meanwhile, by a
        # handler of our own (a signal ignored with SIG_IGN would stay ignored in the child).
        quiet = {sig: signal.signal(sig, _meanwhile) for sig in (signal.SIGINT, signal.SIGQUIT)}
        try:
            status = subprocess.call(command)
        finally:
            for sig, handler in quiet.items():
                signal.signal(sig, handler)
            self._loop.screen.start()
            self._loop.screen.clear()
        self._say_text(f"attach {process}: ended with exit status {status}")

    def _ask(self, command: str, **fields: Any) -> dict[str, Any]:
        try:
            return self._requests.ask(command, **fields)
        except _ERRORS as error:
            return {"ok": False, "error": str(error) or type(error).__name__}

    def _say(self, reply: dict[str, Any], what: str) -> None:
        if reply.get("ok"):
            self._say_text(f"{what}: done")
        else:
            self._say_text(f"{what}: {reply.get('error')}")

    def _say_text(self, text: str) -> None:
        self._message.set_text(f" {text}")


def _meanwhile(signum: int, frame: object) -> None:
    """A terminal signal while `attach` runs: the attached process's, not the UI's."""


def _forget_the_terminal() -> None:
    """After a hang-up: stdin, stdout and stderr to /dev/null, so that nothing the interpreter
    flushes at exit fails on the closed terminal (and changes the exit status)."""
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        with contextlib.suppress(OSError):
            os.dup2(devnull, fd)
    os.close(devnull)
