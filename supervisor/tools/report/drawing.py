"""The timeline as inline SVG: a row per process, the group's marks across every row.

In a row, states are coloured spans on a bar; what the process did (a crash and restart, an end,
giving up) sits on the bar, and what was done to it (a kill, a fault, an operator's action) in a
band above, so the two never cover each other.  Signals, reloads, the group's stop and end are
lines across every row, labelled in lanes above the time axis.  Marks too close to tell apart
become one mark with a count (`layout.pack`), and every shape and label has a `title` listing
each thing it stands for, so hovering loses nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape

from supervisor.tools.report.layout import Placed, pack, text_width
from supervisor.tools.report.timeline import (
    GroupMark,
    Marker,
    Row,
    Span,
    StrategyMark,
    Timeline,
    format_offset,
    tick_step,
)

LABEL_WIDTH = 200
TRACK_WIDTH = 920
SUMMARY_WIDTH = 150
WIDTH = LABEL_WIDTH + TRACK_WIDTH + SUMMARY_WIDTH
END_MARGIN = 12  # the track's end stays clear of the summary column, so no mark there is cut

ROW_HEIGHT = 40
BAR_HEIGHT = 14
BAR_MIDDLE = 22  # from a row's top: what the process did sits on the bar
DONE_TO_MIDDLE = 8  # from a row's top: what was done to it, above the bar
DONE_TO = ("kill", "fault", "operator")
MARKER_RADIUS = 5  # every shape fits in a square this far from its centre
COUNT_FONT = 10  # px, the count beside a mark that stands for several
COUNT_OFFSET = 7  # from the mark's centre to its count
MARKER_GAP = 2
# When several marks join, the one shown is the first of these among them.
MARKER_PRECEDENCE = ("fatal", "kill", "fault", "operator", "restart", "exit")

AXIS_HEIGHT = 24  # the time axis' labels, under the lanes of the group's labels
GROUP_LANES = 3
GROUP_LANE_HEIGHT = 15
GROUP_FONT = 11  # px, bold
GROUP_LABEL_OFFSET = 3  # a label starts this far right of its line
GROUP_GAP = 6
TOP_MARGIN = 8

STATE_COLOURS = {
    "running": "#2a9d8f",
    "starting": "#a8dadc",
    "backoff": "#f4a261",
    "stopping": "#b8a9e0",
    "exited": "#d5d8dc",
    "stopped": "#9aa5b1",
    "fatal": "#e63946",
    "waiting": "#f1e3a0",
    "blocked": "#8d6e63",
}

TIMES = "\N{MULTIPLICATION SIGN}"  # before the count of a mark standing for several

Scale = Callable[[float], float]  # seconds to the x coordinate of the track


def render_svg(timeline: Timeline) -> str:
    end = timeline.end if timeline.end > 0 else 1.0

    def x(seconds: float) -> float:
        return LABEL_WIDTH + seconds / end * (TRACK_WIDTH - END_MARGIN)

    labels = pack(
        timeline.group, lambda mark: x(mark.time), _group_label_extent, GROUP_LANES, GROUP_GAP
    )
    header = TOP_MARGIN + GROUP_LANE_HEIGHT * (1 + max((m.lane for m in labels), default=-1))
    header += AXIS_HEIGHT
    height = header + ROW_HEIGHT * max(len(timeline.rows), 1) + 8
    parts = [
        f'<svg class="timeline" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}"'
        f' height="{height}" viewBox="0 0 {WIDTH} {height}" role="img"'
        f' aria-label="{escape(f"timeline of {len(timeline.rows)} processes")}">'
    ]
    parts += _ticks(end, header, height, x)
    for index, row in enumerate(timeline.rows):
        parts.append(_row(row, header + index * ROW_HEIGHT, x))
    rows = {row.unit: header + index * ROW_HEIGHT for index, row in enumerate(timeline.rows)}
    parts += [_strategy_band(mark, rows, x) for mark in timeline.strategies]
    parts += [_group_line(mark, header, height, x) for mark in timeline.group]
    parts += [_group_label(label) for label in labels]
    parts.append("</svg>")
    return "\n".join(parts)


def _ticks(end: float, header: int, height: int, x: Scale) -> list[str]:
    step = tick_step(end, 10)
    ticks = []
    for n in range(math.floor(end / step) + 1):
        at = x(n * step)
        ticks.append(
            f'<g class="tick"><line x1="{at:.1f}" y1="{header - 6}" x2="{at:.1f}"'
            f' y2="{height - 4}"/><text x="{at:.1f}" y="{header - 10}"'
            f' text-anchor="middle">{format_offset(n * step)}</text></g>'
        )
    return ticks


# -- a process' row ------------------------------------------------------------------------------


def _row(row: Row, top: float, x: Scale) -> str:
    middle = top + BAR_MIDDLE
    restarts = sum(1 for marker in row.markers if marker.kind == "restart")
    summary = f"{row.last_state or ''} · {restarts} restart{'s' if restarts != 1 else ''}"
    parts = [
        f'<g class="row" data-process="{escape(row.unit)}">',
        f'<rect class="row-bg" x="0" y="{top}" width="{WIDTH}" height="{ROW_HEIGHT}"/>',
        f'<text class="label" x="{LABEL_WIDTH - 12}" y="{middle + 4.5}"'
        f' text-anchor="end">{escape(row.unit)}</text>',
        f'<text class="summary" x="{LABEL_WIDTH + TRACK_WIDTH + 12}" y="{middle + 4}">'
        f"{escape(summary)}</text>",
    ]
    parts += [_span(span, row.unit, middle, x) for span in row.spans if span.end > span.start]
    for band, cy in ((True, top + DONE_TO_MIDDLE), (False, middle)):
        markers = [marker for marker in row.markers if (marker.kind in DONE_TO) == band]
        placed = pack(markers, lambda m: x(m.time), _marker_extent, 1, MARKER_GAP)
        parts += [_marker(mark, cy) for mark in placed]
    parts.append("</g>")
    return "".join(parts)


def _span(span: Span, unit: str, middle: float, x: Scale) -> str:
    left, right = x(span.start), x(span.end)
    until = "the end of the log" if span.open else format_offset(span.end)
    tip = (
        f"{unit}: {span.state} from {format_offset(span.start)} to {until}"
        f" ({format_offset(span.end - span.start)})\n{span.cause}"
    )
    colour = STATE_COLOURS.get(span.state, "#cccccc")
    return (
        f'<rect class="span {escape(span.state)}" x="{left:.2f}" y="{middle - BAR_HEIGHT / 2}"'
        f' width="{max(right - left, 1.0):.2f}" height="{BAR_HEIGHT}" fill="{colour}">'
        f"<title>{escape(tip)}</title></rect>"
    )


def _count(items: Sequence[object]) -> str:
    return f"{TIMES}{len(items)}" if len(items) > 1 else ""


def _marker_extent(markers: Sequence[Marker]) -> tuple[float, float]:
    count = _count(markers)
    right = COUNT_OFFSET + text_width(count, COUNT_FONT) if count else MARKER_RADIUS
    return -MARKER_RADIUS, right


def _marker(mark: Placed[Marker], cy: float) -> str:
    kinds = {marker.kind for marker in mark.items}
    kind = next(kind for kind in MARKER_PRECEDENCE if kind in kinds)
    tip = "\n".join(
        f"{m.unit} at {format_offset(m.time)}: {m.describe()}\n  {m.cause}" for m in mark.items
    )
    opening, label = f'<g class="marker {kind}">', ""
    if len(mark.items) > 1:
        opening = f'<g class="marker {kind} cluster" data-count="{len(mark.items)}">'
        label = (
            f'<text class="count" x="{mark.x + COUNT_OFFSET:.2f}" y="{cy + 3.5}">'
            f"{_count(mark.items)}</text>"
        )
    return f"{opening}{marker_shape(kind, mark.x, cy)}{label}<title>{escape(tip)}</title></g>"


def marker_shape(kind: str, cx: float, cy: float) -> str:
    """The shape of a kind of marker, at most MARKER_RADIUS from its centre each way."""
    if kind in ("restart", "exit"):
        return f'<circle class="shape" cx="{cx:.2f}" cy="{cy}" r="4"/>'
    if kind == "operator":
        return f'<rect class="shape" x="{cx - 4:.2f}" y="{cy - 4}" width="8" height="8"/>'
    if kind == "kill":
        points = [(cx, cy - 5), (cx + 5, cy), (cx, cy + 5), (cx - 5, cy)]
    elif kind == "fault":
        points = [(cx, cy - 5), (cx + 5, cy + 4.5), (cx - 5, cy + 4.5)]
    else:  # fatal: a cross
        d, w = 4.8, 1.6
        points = [
            (cx - d, cy - d + w), (cx - d + w, cy - d), (cx, cy - w), (cx + d - w, cy - d),
            (cx + d, cy - d + w), (cx + w, cy), (cx + d, cy + d - w), (cx + d - w, cy + d),
            (cx, cy + w), (cx - d + w, cy + d), (cx - d, cy + d - w), (cx - w, cy),
        ]  # fmt: skip
    listed = " ".join(f"{px:.2f},{py:.2f}" for px, py in points)
    return f'<polygon class="shape" points="{listed}"/>'


# -- a [groups] strategy's actions -------------------------------------------------------------


def _strategy_band(mark: StrategyMark, rows: dict[str, float], x: Scale) -> str:
    """One band from the first member's row to the last one's, a notch on each member's bar:
    the members restarted (or stopped) together read as one action, not as separate crashes."""
    tops = [rows[member] for member in mark.members if member in rows]
    if not tops:
        return ""
    at = x(mark.time)
    top, bottom = min(tops) + 4, max(tops) + ROW_HEIGHT - 4
    notches = "".join(
        f'<rect class="notch" x="{at - 3:.2f}" y="{row + BAR_MIDDLE - BAR_HEIGHT / 2 - 2}"'
        f' width="6" height="{BAR_HEIGHT + 4}"/>'
        for row in tops
    )
    tip = f"{format_offset(mark.time)}: {mark.describe()}\n{mark.cause}"
    return (
        f'<g class="strategy-mark {escape(mark.action)}" data-group="{escape(mark.group)}">'
        f'<rect class="band" x="{at - 1.5:.2f}" y="{top}" width="3" height="{bottom - top}"/>'
        f"{notches}<title>{escape(tip)}</title></g>"
    )


# -- the group's marks ---------------------------------------------------------------------------


def _group_text(marks: Sequence[GroupMark]) -> str:
    first = f"exit {marks[0].status}" if marks[0].kind == "exit" else marks[0].kind
    return f"{first} +{len(marks) - 1}" if len(marks) > 1 else first


def _group_label_extent(marks: Sequence[GroupMark]) -> tuple[float, float]:
    return 0.0, GROUP_LABEL_OFFSET + text_width(_group_text(marks), GROUP_FONT)


def _group_line(mark: GroupMark, header: int, height: int, x: Scale) -> str:
    at = x(mark.time)
    tip = f"{format_offset(mark.time)}: {mark.describe()}\n{mark.cause}"
    return (
        f'<g class="group-mark {mark.kind}"><line x1="{at:.2f}" y1="{header - 6}"'
        f' x2="{at:.2f}" y2="{height - 4}"/><title>{escape(tip)}</title></g>'
    )


def _group_label(label: Placed[GroupMark]) -> str:
    baseline = TOP_MARGIN + GROUP_LANE_HEIGHT * (label.lane + 1) - 4
    tip = "\n".join(
        f"{format_offset(mark.time)}: {mark.describe()}\n  {mark.cause}" for mark in label.items
    )
    return (
        f'<g class="group-label {label.items[0].kind}"><text x="{label.x + GROUP_LABEL_OFFSET:.2f}"'
        f' y="{baseline}">{escape(_group_text(label.items))}</text>'
        f"<title>{escape(tip)}</title></g>"
    )
