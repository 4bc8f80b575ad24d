"""A sweep as one self-contained HTML page: the chart, a table of every value's outcome, and the
timeline of the first value that went `fatal` next to one that did not (where `fatal` begins)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from supervisor.tools.report.drawing import render_svg
from supervisor.tools.report.html import CSS
from supervisor.tools.report.sweepchart import (
    FATAL_BAND,
    FATAL_COLOUR,
    SURVIVED_COLOUR,
    render_sweep_svg,
)
from supervisor.tools.report.timeline import build_timeline, format_offset
from supervisor.tools.sweep import Outcome, Sweep, fatal_edges

_SWEEP_CSS = """
svg.sweep { background: #fff; border: 1px solid #dde1e6; border-radius: 6px;
            max-width: 100%; height: auto; }
svg.sweep text { font: 11px system-ui, sans-serif; fill: #1d2430; }
svg.sweep .panel-title { font-size: 12px; font-weight: 600; }
svg.sweep .tick, svg.sweep .value { fill: #6b7480; }
svg.sweep .axis-title { font-size: 12px; fill: #5b6573; }
svg.sweep .grid { stroke: #e3e6ea; }
svg.sweep .fatal-edge { stroke: #7f0000; stroke-width: 1.5; stroke-dasharray: 5 3; }
svg.sweep .edge-label text { font-weight: 700; fill: #7f0000; }
svg.sweep .bar:hover { stroke: #1d2430; stroke-width: 1.5; }
tr.fatal td { color: #7f0000; }
h2 { font-size: 16px; margin: 22px 0 6px; }
"""


def render_sweep_html(
    sweep: Sweep, outcomes: Sequence[Outcome], subject: str, details: Sequence[str]
) -> str:
    """`subject`: what was swept, for the title; `details`: lines for the page's header."""
    title = f"Sweep of {sweep.parameter.name} for {subject}"
    edges = fatal_edges(list(outcomes))
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title>",
        f"<style>{CSS}{_SWEEP_CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        *(f'<p class="meta">{escape(line)}</p>' for line in details),
        _legend(),
        render_sweep_svg(sweep, outcomes),
        _table(sweep, outcomes),
    ]
    if edges:
        by_value = {outcome.value: outcome for outcome in outcomes}
        edge = edges[0]
        fatal = by_value[edge.fatal]
        parts.append(
            f"<h2>Where fatal begins: {escape(sweep.parameter.name)} ="
            f" {escape(sweep.format(fatal.value))} (fatal;"
            f" {escape(sweep.format(edge.not_fatal))} is not)</h2>"
        )
        parts.append(render_svg(build_timeline(fatal.result.events, "simulation")))
    parts.append("</body></html>")
    return "\n".join(parts)


def _legend() -> str:
    keys = [
        (SURVIVED_COLOUR, "never went fatal"),
        (FATAL_COLOUR, "went fatal"),
        (FATAL_BAND, "values that end in fatal"),
    ]
    spans = [
        f'<span><i class="swatch" style="background:{colour}"></i>{escape(meaning)}</span>'
        for colour, meaning in keys
    ]
    return f'<div class="legend">{"".join(spans)}</div>'


def _table(sweep: Sweep, outcomes: Sequence[Outcome]) -> str:
    rows = []
    for outcome in sorted(outcomes, key=lambda outcome: outcome.value):
        fatal = format_offset(outcome.fatal_at) if outcome.fatal_at is not None else "never"
        states = ", ".join(f"{name} {state}" for name, state in outcome.result.states.items())
        kind = "fatal" if outcome.fatal else "survived"
        rows.append(
            f'<tr class="{kind}"><td class="time">{escape(sweep.format(outcome.value))}</td>'
            f'<td class="time">{outcome.restarts}</td><td class="time">{fatal}</td>'
            f'<td class="time">{format_offset(outcome.down)}'
            f" ({100 * outcome.down_fraction:.1f}%)</td><td>{escape(states)}</td></tr>"
        )
    return (
        f'<table id="outcomes"><thead><tr><th>{escape(sweep.parameter.name)}</th>'
        "<th>restarts</th><th>fatal at</th><th>time down</th><th>final states</th></tr>"
        f"</thead><tbody>{''.join(rows)}</tbody></table>"
    )
