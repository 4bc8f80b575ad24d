"""The timeline as one self-contained HTML page: inline CSS and SVG, nothing fetched.

One row per process with its states as coloured spans; restarts, exits, faults and kills as
markers; signals, reloads, the group's stop and its end as lines across every row.  Every shape
has a `title`, so hovering shows the cause.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from html import escape

from supervisor.tools.report.timeline import (
    GroupMark,
    Marker,
    Row,
    Span,
    Timeline,
    format_offset,
    tick_step,
)

LABEL_WIDTH = 200
TRACK_WIDTH = 920
SUMMARY_WIDTH = 150
ROW_HEIGHT = 30
BAR_HEIGHT = 14
HEADER_HEIGHT = 50  # the axis labels and the labels of the group's lines
END_MARGIN = 12
LABEL_GAP = 70  # group labels closer than this move up a line, so they never overlap
WIDTH = LABEL_WIDTH + TRACK_WIDTH + SUMMARY_WIDTH

Scale = Callable[[float], float]  # seconds to the x coordinate of the track

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
MARKER_MEANINGS = {
    "restart": "crashed, restarted after a backoff",
    "exit": "ended by itself",
    "fatal": "the policy gave up",
    "kill": "SIGKILL sent",
    "fault": "fault injected",
}
GROUP_MEANINGS = {
    "signal": "signal received",
    "reload": "reload",
    "stop": "group stop",
    "exit": "group end",
}

_CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2430;
       margin: 24px 32px; background: #fafbfc; }
h1 { font-size: 20px; margin: 0 0 4px; }
.meta { color: #5b6573; margin: 0 0 12px; }
.status { display: inline-block; padding: 3px 10px; border-radius: 12px; font-weight: 600;
          color: #fff; margin-left: 8px; font-size: 13px; }
.status.ok { background: #2a9d8f; } .status.failed { background: #c1121f; }
.status.open { background: #457b9d; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 16px; margin: 10px 0 14px; font-size: 13px; }
.legend span { display: inline-flex; align-items: center; gap: 5px; }
.swatch { width: 18px; height: 11px; border-radius: 2px; display: inline-block; }
svg.timeline { background: #fff; border: 1px solid #dde1e6; border-radius: 6px;
               max-width: 100%; height: auto; }
svg text { font: 12px system-ui, sans-serif; fill: #1d2430; }
.row-bg { fill: transparent; } .row:nth-of-type(even) .row-bg { fill: #f4f6f8; }
.row:hover .row-bg { fill: #e6eefb; }
.label { font-size: 13px; font-weight: 500; }
.summary text, text.summary { fill: #5b6573; }
.tick line { stroke: #e3e6ea; } .tick text { fill: #6b7480; }
.span:hover { stroke: #1d2430; stroke-width: 1.5; }
.marker .shape { stroke: #fff; stroke-width: 1.5; }
.marker.restart .shape { fill: #fff; stroke: #b34700; stroke-width: 2; }
.marker.exit .shape { fill: #3d4450; }
.marker.fatal .shape { fill: #7f0000; }
.marker.kill .shape { fill: #111; }
.marker.fault .shape { fill: #7b2cbf; }
.group-mark line { stroke-width: 1.5; }
.group-mark.signal line { stroke: #6b7480; stroke-dasharray: 2 3; }
.group-mark.reload line { stroke: #1d70b8; stroke-dasharray: 6 3; }
.group-mark.stop line { stroke: #9b2226; stroke-dasharray: 6 3; }
.group-mark.exit line { stroke: #1d2430; stroke-width: 2; }
.group-mark text { font-weight: 600; font-size: 11px; }
table { border-collapse: collapse; margin-top: 18px; font-size: 13px; width: 100%;
        max-width: 1270px; background: #fff; }
th, td { text-align: left; padding: 4px 10px; border-bottom: 1px solid #e8ebef;
         vertical-align: top; }
th { background: #f0f2f5; } td.time { font-variant-numeric: tabular-nums; white-space: nowrap; }
"""


def render_html(timeline: Timeline) -> str:
    title = f"Timeline of {timeline.source}"
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{escape(title)}</title>",
            f"<style>{_CSS}</style></head><body>",
            f"<h1>{escape(title)}{_status_badge(timeline)}</h1>",
            f'<p class="meta">{escape(_meta(timeline))}</p>',
            _legend(),
            _svg(timeline),
            _table(timeline),
            "</body></html>",
        ]
    )


def _meta(timeline: Timeline) -> str:
    parts = []
    if timeline.started:
        parts.append(f"started {timeline.started:%Y-%m-%d %H:%M:%S} UTC")
    parts.append(f"{format_offset(timeline.end)} shown")
    parts.append(f"{len(timeline.rows)} processes")
    if timeline.runs > 1:
        parts.append(f"run {timeline.run} of {timeline.runs} in this log")
    return " · ".join(parts)


def _status_badge(timeline: Timeline) -> str:
    end = timeline.exit
    if end is None:
        return '<span class="status open" id="group-status">the log ends before the group</span>'
    kind = "ok" if end.status == 0 else "failed"
    return (
        f'<span class="status {kind}" id="group-status" title="{escape(end.cause)}">'
        f"group exit status {end.status}</span>"
    )


def _legend() -> str:
    states = [
        f'<span><i class="swatch" style="background:{colour}"></i>{state}</span>'
        for state, colour in STATE_COLOURS.items()
    ]
    markers = [
        f'<span><svg width="14" height="14" viewBox="-7 -7 14 14" class="key marker {kind}">'
        f"{_marker_shape(kind, 0, 0)}</svg>{escape(meaning)}</span>"
        for kind, meaning in MARKER_MEANINGS.items()
    ]
    lines = [
        f'<span><svg width="14" height="14" class="key group-mark {kind}">'
        f'<line x1="7" y1="0" x2="7" y2="14"/></svg>{escape(meaning)}</span>'
        for kind, meaning in GROUP_MEANINGS.items()
    ]
    return f'<div class="legend">{"".join(states + markers + lines)}</div>'


def _svg(timeline: Timeline) -> str:
    end = timeline.end if timeline.end > 0 else 1.0
    height = HEADER_HEIGHT + ROW_HEIGHT * max(len(timeline.rows), 1) + 8

    def x(seconds: float) -> float:
        # The end stays clear of the summary column, so a marker there is never cut.
        return LABEL_WIDTH + seconds / end * (TRACK_WIDTH - END_MARGIN)

    parts = [
        f'<svg class="timeline" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}"'
        f' height="{height}" viewBox="0 0 {WIDTH} {height}" role="img"'
        f' aria-label="{escape(f"timeline of {len(timeline.rows)} processes")}">'
    ]
    parts += _ticks(end, height, x)
    for index, row in enumerate(timeline.rows):
        parts.append(_row(row, HEADER_HEIGHT + index * ROW_HEIGHT, x))
    parts += _group_marks(timeline.group, height, x)
    parts.append("</svg>")
    return "\n".join(parts)


def _ticks(end: float, height: int, x: Scale) -> list[str]:
    step = tick_step(end, 10)
    ticks = []
    for n in range(math.floor(end / step) + 1):
        at = x(n * step)
        ticks.append(
            f'<g class="tick"><line x1="{at:.1f}" y1="{HEADER_HEIGHT - 6}" x2="{at:.1f}"'
            f' y2="{height - 4}"/><text x="{at:.1f}" y="{HEADER_HEIGHT - 10}"'
            f' text-anchor="middle">{format_offset(n * step)}</text></g>'
        )
    return ticks


def _row(row: Row, top: float, x: Scale) -> str:
    middle = top + ROW_HEIGHT / 2
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
    parts += [_marker(marker, middle, x) for marker in row.markers]
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


def _marker(marker: Marker, middle: float, x: Scale) -> str:
    tip = f"{marker.unit} at {format_offset(marker.time)}: {marker.describe()}\n{marker.cause}"
    # What was done to a process sits above its bar, clear of what the process did next.
    y = middle - BAR_HEIGHT / 2 - 2 if marker.kind in ("kill", "fault") else middle
    return (
        f'<g class="marker {marker.kind}">{_marker_shape(marker.kind, x(marker.time), y)}'
        f"<title>{escape(tip)}</title></g>"
    )


def _marker_shape(kind: str, cx: float, cy: float) -> str:
    if kind in ("restart", "exit"):
        return f'<circle class="shape" cx="{cx:.2f}" cy="{cy}" r="4.5"/>'
    if kind == "kill":
        points = [(cx, cy - 6), (cx + 6, cy), (cx, cy + 6), (cx - 6, cy)]
    elif kind == "fault":
        points = [(cx, cy - 6), (cx + 6, cy + 5), (cx - 6, cy + 5)]
    else:  # fatal: a cross
        d, w = 5.5, 1.8
        points = [
            (cx - d, cy - d + w), (cx - d + w, cy - d), (cx, cy - w), (cx + d - w, cy - d),
            (cx + d, cy - d + w), (cx + w, cy), (cx + d, cy + d - w), (cx + d - w, cy + d),
            (cx, cy + w), (cx - d + w, cy + d), (cx - d, cy + d - w), (cx - w, cy),
        ]  # fmt: skip
    listed = " ".join(f"{px:.2f},{py:.2f}" for px, py in points)
    return f'<polygon class="shape" points="{listed}"/>'


def _group_marks(marks: list[GroupMark], height: int, x: Scale) -> list[str]:
    parts = []
    last_label_at = -math.inf
    for mark in marks:
        at = x(mark.time)
        label = f"exit {mark.status}" if mark.kind == "exit" else mark.kind
        # A label next to the previous one goes on the upper line.
        label_y = 12 if at - last_label_at < LABEL_GAP else 26
        last_label_at = at if label_y == 26 else last_label_at
        anchor = "end" if at > LABEL_WIDTH + TRACK_WIDTH - 40 else "middle"
        tip = f"{format_offset(mark.time)}: {mark.describe()}\n{mark.cause}"
        parts.append(
            f'<g class="group-mark {mark.kind}"><line x1="{at:.2f}" y1="{HEADER_HEIGHT - 6}"'
            f' x2="{at:.2f}" y2="{height - 4}"/><text x="{at:.2f}" y="{label_y}"'
            f' text-anchor="{anchor}">{escape(label)}</text><title>{escape(tip)}</title></g>'
        )
    return parts


def _table(timeline: Timeline) -> str:
    happenings: list[tuple[float, str, str, str]] = [
        (m.time, m.unit, m.describe(), m.cause) for m in timeline.markers
    ]
    happenings += [(g.time, "(group)", g.describe(), g.cause) for g in timeline.group]
    happenings.sort(key=lambda happening: happening[0])
    rows = [
        f'<tr><td class="time">{time:.3f}s</td><td>{escape(unit)}</td>'
        f"<td>{escape(what)}</td><td>{escape(cause)}</td></tr>"
        for time, unit, what, cause in happenings
    ]
    return (
        '<table id="happenings"><thead><tr><th>time</th><th>process</th><th>what</th>'
        f"<th>cause</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
