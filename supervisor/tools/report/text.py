"""The timeline in a terminal: one line per process, one character per slice of time."""

from __future__ import annotations

from supervisor.tools.report.timeline import Row, Timeline, format_offset, tick_step

DEFAULT_WIDTH = 60
MIN_TICK_GAP = 12  # columns between two labels of the time axis, at least

STATE_CHARACTERS = {
    "starting": "~",
    "running": "=",
    "backoff": ".",
    "stopping": ">",
    "exited": "_",
    "stopped": "s",
    "fatal": "X",
    "waiting": "w",
    "blocked": "B",
}
# A column shows the state in effect at its end, unless one of these happened inside it: so a
# short backoff or stop inside a long run still shows.  The first one present wins.
ALERTS = ("fatal", "backoff", "stopping")
_UNKNOWN = "?"


def render_text(timeline: Timeline, width: int = DEFAULT_WIDTH) -> str:
    lines = [_headline(timeline)]
    if not timeline.rows:
        lines.append("no process changed state in this run")
    else:
        label = max(len(row.unit) for row in timeline.rows)
        lines.append(" " * (label + 2) + _axis(timeline.end, width))
        lines += [
            f"{row.unit:<{label}} |{_track(row, timeline.end, width)}|" for row in timeline.rows
        ]
        legend = "  ".join(f"{char} {state}" for state, char in STATE_CHARACTERS.items())
        lines += ["", f"legend: {legend}"]
    lines += _happenings(timeline)
    return "\n".join(lines)


def _headline(timeline: Timeline) -> str:
    started = f", started {timeline.started:%Y-%m-%d %H:%M:%S} UTC" if timeline.started else ""
    run = f", run {timeline.run} of {timeline.runs}" if timeline.runs > 1 else ""
    count = len(timeline.rows)
    return (
        f"{timeline.source}{run}{started}: {format_offset(timeline.end)},"
        f" {count} process{'es' if count != 1 else ''}"
    )


def _axis(end: float, width: int) -> str:
    """Round times, each label starting at the column of its time."""
    axis = [" "] * (width + 2)
    if end <= 0:
        return "0s"
    step = tick_step(end, width // MIN_TICK_GAP)
    for n in range(int(end / step) + 1):
        column = round(n * step / end * width)
        text = format_offset(n * step)
        if column + len(text) <= len(axis):
            axis[column : column + len(text)] = text
    return "".join(axis).rstrip()


def _track(row: Row, end: float, width: int) -> str:
    slice_ = end / width if end > 0 else 1.0
    track = []
    for column in range(width):
        low, high = column * slice_, (column + 1) * slice_
        last = column == width - 1  # it also holds the very end, where final states begin
        present = [
            span.state
            for span in row.spans
            if (span.start < high or (last and span.start <= high))
            and (span.end > low or span.start >= low)
        ]
        track.append(_character(present) if present else " ")
    return "".join(track)


def _character(states: list[str]) -> str:
    state = next((alert for alert in ALERTS if alert in states), states[-1])
    return STATE_CHARACTERS.get(state, _UNKNOWN)


def _happenings(timeline: Timeline) -> list[str]:
    lines: list[str] = []
    markers = timeline.markers
    if markers:
        label = max(len(marker.unit) for marker in markers)
        lines += ["", "restarts, faults, kills and operator actions:"]
        lines += [f"{m.time:9.3f}s  {m.unit:<{label}}  {m.describe()}: {m.cause}" for m in markers]
    if timeline.strategies:
        lines += ["", "[groups] strategies:"]
        lines += [f"{m.time:9.3f}s  {m.describe()}: {m.cause}" for m in timeline.strategies]
    lines += ["", "group:"]
    lines += [f"{mark.time:9.3f}s  {mark.describe()}: {mark.cause}" for mark in timeline.group]
    if timeline.exit is None:
        still = [row.unit for row in timeline.rows if row.spans and row.spans[-1].open]
        running = f"; still going: {', '.join(still)}" if still else ""
        lines.append(f"{timeline.end:9.3f}s  the log ends before the group{running}")
    return lines
