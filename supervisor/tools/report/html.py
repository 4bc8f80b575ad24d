"""The timeline as one self-contained HTML page: inline CSS and SVG, nothing fetched.

A headline with the group's exit status, a legend, the drawing (`drawing.py`), and a table of
every happening: restarts, ends, faults, kills, an operator's actions and the group's marks, each
with its cause.
"""

from __future__ import annotations

from html import escape

from supervisor.tools.report.drawing import STATE_COLOURS, TIMES, marker_shape, render_svg
from supervisor.tools.report.timeline import Timeline, format_offset

MARKER_MEANINGS = {
    "restart": "crashed, restarted after a backoff",
    "exit": "ended by itself",
    "fatal": "the policy gave up",
    "kill": "SIGKILL sent",
    "fault": "fault injected",
    "operator": "stop, start, restart or signal by the operator",
}
GROUP_MEANINGS = {
    "signal": "signal received",
    "reload": "reload",
    "stop": "group stop",
    "exit": "group end",
}
STRATEGY_MEANINGS = {
    "restart": "members a [groups] strategy restarted together",
    "end": "a [groups] group ended",
}

# The timeline page's, and the sweep page's (which shows a timeline too).
CSS = """
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
.marker.operator .shape { fill: #1d70b8; }
.marker .count { font-size: 10px; font-weight: 600; fill: #1d2430; }
.group-mark line { stroke-width: 1.5; }
.strategy-mark .band, .strategy-mark .notch { fill: #6a4c93; fill-opacity: 0.55; }
.strategy-mark.end .band, .strategy-mark.end .notch { fill: #9b2226; }
.group-mark.signal line { stroke: #6b7480; stroke-dasharray: 2 3; }
.group-mark.reload line { stroke: #1d70b8; stroke-dasharray: 6 3; }
.group-mark.stop line { stroke: #9b2226; stroke-dasharray: 6 3; }
.group-mark.exit line { stroke: #1d2430; stroke-width: 2; }
.group-label text { font-weight: 600; font-size: 11px; }
.group-label.reload text { fill: #1d70b8; } .group-label.stop text { fill: #9b2226; }
table { border-collapse: collapse; margin-top: 18px; font-size: 13px; width: 100%;
        max-width: 1270px; background: #fff; }
th, td { text-align: left; padding: 4px 10px; border-bottom: 1px solid #e8ebef;
         vertical-align: top; }
th { background: #f0f2f5; } td.time { font-variant-numeric: tabular-nums; white-space: nowrap; }
"""


def render_html(timeline: Timeline, extra: str = "") -> str:
    """`extra`: more HTML after the table of happenings (`analyze`'s bring-up section)."""
    title = f"Timeline of {timeline.source}"
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{escape(title)}</title>",
            f"<style>{CSS}</style></head><body>",
            f"<h1>{escape(title)}{_status_badge(timeline)}</h1>",
            f'<p class="meta">{escape(_meta(timeline))}</p>',
            _legend(),
            render_svg(timeline),
            _table(timeline),
            extra,
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
        f"{marker_shape(kind, 0, 0)}</svg>{escape(meaning)}</span>"
        for kind, meaning in MARKER_MEANINGS.items()
    ]
    markers.append(
        '<span><svg width="32" height="14" viewBox="-7 -7 32 14" class="key marker restart">'
        f'{marker_shape("restart", 0, 0)}<text class="count" x="7" y="3.5">{TIMES}3</text></svg>'
        "several too close to tell apart: hover for each</span>"
    )
    lines = [
        f'<span><svg width="14" height="14" class="key group-mark {kind}">'
        f'<line x1="7" y1="0" x2="7" y2="14"/></svg>{escape(meaning)}</span>'
        for kind, meaning in GROUP_MEANINGS.items()
    ]
    lines += [
        f'<span><svg width="14" height="14" class="key strategy-mark {action}">'
        f'<rect class="band" x="5.5" y="0" width="3" height="14"/></svg>{escape(meaning)}</span>'
        for action, meaning in STRATEGY_MEANINGS.items()
    ]
    return f'<div class="legend">{"".join(states + markers + lines)}</div>'


def _table(timeline: Timeline) -> str:
    happenings: list[tuple[float, str, str, str, str]] = [
        (m.time, m.kind, m.unit, m.describe(), m.cause) for m in timeline.markers
    ]
    happenings += [(g.time, "group", "(group)", g.describe(), g.cause) for g in timeline.group]
    happenings += [
        (m.time, "strategy", f"({m.group})", m.describe(), m.cause) for m in timeline.strategies
    ]
    happenings.sort(key=lambda happening: happening[0])
    rows = [
        f'<tr class="{kind}"><td class="time">{time:.3f}s</td><td>{escape(unit)}</td>'
        f"<td>{escape(what)}</td><td>{escape(cause)}</td></tr>"
        for time, kind, unit, what, cause in happenings
    ]
    return (
        '<table id="happenings"><thead><tr><th>time</th><th>process</th><th>what</th>'
        f"<th>cause</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
