"""What the UI knows of each process's past, from the supervisor's events: the lines of the
events view, and the "why" of the detail view (a fatal process's last exits, the start limit
that stopped its restarts, its probes' last answers).

Pure: event records (as events.jsonl has them, with `seq`) in, lines of text out.  Records
are kept per process (`unit`) and per service (`service`, the `scale` events), the last
`KEPT_PER_NAME` of each; the same `seq` twice (a past event asked for while the stream
brought it too) is kept once.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from datetime import datetime
from typing import Any

KEPT_PER_NAME = 300
SHOWN_EXITS = 5
_START_LIMIT = re.compile(r"start limit hit: (\d+) restarts within ([\d.]+)s")
# The fields every event has, or that its line shows in its own place.
_OWN_FIELDS = frozenset({"event", "unit", "timestamp", "seq", "cause", "pid", "service"})


class EventHistory:
    def __init__(self) -> None:
        self._by_name: dict[str, deque[dict[str, Any]]] = {}
        self._seen: dict[str, set[int]] = {}

    def add(self, record: dict[str, Any]) -> None:
        name = record.get("unit") or record.get("service")
        if not isinstance(name, str):
            return  # the group's and the supervisor's own: no process's history
        kept = self._by_name.setdefault(name, deque(maxlen=KEPT_PER_NAME))
        seen = self._seen.setdefault(name, set())
        seq = record.get("seq")
        if isinstance(seq, int):
            if seq in seen:
                return
            seen.add(seq)
            if len(seen) > 2 * KEPT_PER_NAME:
                oldest = {r.get("seq") for r in kept}
                seen.intersection_update(oldest)
        kept.append(record)
        if isinstance(seq, int) and len(kept) > 1 and (kept[-2].get("seq") or 0) > seq:
            # A past event asked for after later ones came: back into order.
            ordered = sorted(kept, key=lambda r: r.get("seq") or 0)
            kept.clear()
            kept.extend(ordered)

    def of(self, names: Iterable[str]) -> list[dict[str, Any]]:
        """The records of these processes and services, in order."""
        records = [r for name in names for r in self._by_name.get(name, ())]
        return sorted(records, key=lambda r: r.get("seq") or 0)


def time_of_day(record: dict[str, Any]) -> str:
    """The event's time as the local `HH:MM:SS` (the log pane's lines have theirs so)."""
    stamp = record.get("timestamp")
    if not isinstance(stamp, str):
        return "--:--:--"
    try:
        return datetime.fromisoformat(stamp).astimezone().strftime("%H:%M:%S")
    except ValueError:
        return stamp[11:19]


def event_text(record: dict[str, Any]) -> str:
    """What happened, in a line: `running -> backoff: exit status 1; restart 1 in a row`."""
    kind = record.get("event")
    cause = record.get("cause")
    if kind == "state":
        what = f"{record.get('from')} -> {record.get('to')}"
    elif kind == "notify":
        fields = {k: v for k, v in record.items() if k not in _OWN_FIELDS}
        what = "notify " + " ".join(f"{k}={v}" for k, v in fields.items())
    elif kind == "probe":
        what = f"probe failed ({record.get('failures')} in a row)"
    elif kind in ("attach", "scale", "preload"):
        what = f"{kind} {record.get('action')}"
    elif kind == "signal":
        what = f"signal {record.get('signal')}"
    else:
        fields = {k: v for k, v in record.items() if k not in _OWN_FIELDS}
        what = f"{kind} " + " ".join(f"{k}={v}" for k, v in fields.items())
    return f"{what}: {cause}" if cause else what


def event_line(record: dict[str, Any], *, several: bool = False) -> str:
    """`09:03:57 cinder-volume@lvm-1 running -> backoff: ...` (the name when `several`
    processes share the view)."""
    name = f"{record.get('unit') or record.get('service')} " if several else ""
    return f"{time_of_day(record)} {name}{event_text(record)}"


def _exits(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The state changes that an exit caused, newest first."""
    return [r for r in reversed(records) if r.get("event") == "state" and "exit_status" in r]


def why_lines(process: dict[str, Any], records: list[dict[str, Any]]) -> list[str]:
    """Why the process is in its state (a fatal one, above all): its cause, the start limit
    that stopped its restarts, its last exits, its probes' last answers."""
    state = process.get("state", "?")
    cause = process.get("cause") or ""
    lines = [f"{process.get('name')} is {state}: {cause}"]
    limit = _START_LIMIT.search(cause)
    if limit:
        lines.append(
            f"start limit hit: {limit[1]} restarts within {limit[2]}s; not restarted "
            "until started (s)"
        )
    elif "a restart cannot heal this" in cause:
        lines.append("its exit status is one of prevent_exit_codes: not restarted")
    restarts = process.get("restarts")
    if restarts is not None:
        lines.append(f"restarts: {restarts}")
    exits = _exits(records)
    last = process.get("last_exit")
    if exits:
        lines.append(f"last exits (newest first, {min(len(exits), SHOWN_EXITS)} of {len(exits)}):")
        for record in exits[:SHOWN_EXITS]:
            described = str(record.get("cause") or "").split(";")[0]
            lines.append(
                f"  {time_of_day(record)}  pid {record.get('pid')}  status "
                f"{record.get('exit_status')}  {described}"
            )
    elif last:
        lines.append(f"last exit: {last.get('description')} (status {last.get('status')})")
    else:
        lines.append("no exit yet")
    probes = [
        r
        for r in reversed(records)
        if r.get("event") == "probe" or "probe" in str(r.get("cause") or "")
    ]
    if probes:
        lines.append(f"probe, last answer: {time_of_day(probes[0])}  {probes[0].get('cause')}")
    elif "probe" in cause:
        lines.append(f"probe, last answer: {cause}")
    status_text = process.get("status_text")
    if status_text:
        lines.append(f"last STATUS=: {status_text}")
    return lines
