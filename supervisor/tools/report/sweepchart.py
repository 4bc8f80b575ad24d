"""A sweep as a picture: one column per swept value, and where `fatal` begins.

Three panels, one above the other, share the columns: the automatic restarts, the time until
the first process went `fatal` (no bar: it never did), and the share of time down.  Columns
whose simulation ended in `fatal` are red on a tinted band across all three panels; each edge
between a fatal and a surviving value is a dashed line labelled in the header (`fatal below
4s`), packed into lanes by `layout.pack` so no two labels overlap.  Value labels under the
columns are thinned to every k-th when the columns are narrower than a label.  Every bar's
`title` states its outcome.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from supervisor.tools.report.layout import pack, text_width
from supervisor.tools.report.timeline import format_offset
from supervisor.tools.sweep import FatalEdge, Outcome, Sweep, fatal_edges

WIDTH = 960
LEFT = 96  # the panels' titles and their value ticks
RIGHT = 24
PLOT_WIDTH = WIDTH - LEFT - RIGHT
TOP_MARGIN = 6
EDGE_LANES = 2
EDGE_LANE_HEIGHT = 16
EDGE_FONT = 11  # px, bold
EDGE_GAP = 8
PANEL_HEIGHT = 96
PANEL_GAP = 26  # a panel's title sits in the gap above it
TICK_FONT = 11  # px
AXIS_HEIGHT = 22  # the values under the last panel
AXIS_TITLE_HEIGHT = 20
BAR_SHARE = 0.7  # of a column's width

FATAL_COLOUR = "#e63946"
SURVIVED_COLOUR = "#2a9d8f"
FATAL_BAND = "#fde2e4"


@dataclass(frozen=True)
class Panel:
    title: str
    value: Callable[[Outcome], float | None]  # None: no bar
    top_tick: Callable[[float], float]  # the axis' top, from the largest value
    label: Callable[[float], str]


def _nice_top(largest: float) -> float:
    """1, 2 or 5 times a power of ten, at least `largest` (and at least 1)."""
    if largest <= 1:
        return 1.0
    power = 10 ** math.floor(math.log10(largest))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= largest)


_ROUND_DURATIONS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 86400)


def _round_duration(largest: float) -> float:
    """A duration an axis can end on: 30s, 2m00s, 1h..., at least `largest`."""
    return next((d for d in _ROUND_DURATIONS if d >= largest), _nice_top(largest))


PANELS = (
    Panel("restarts", lambda o: o.restarts, _nice_top, lambda v: f"{v:g}"),
    Panel("time to fatal", lambda o: o.fatal_at, _round_duration, format_offset),
    Panel("time down", lambda o: 100 * o.down_fraction, lambda _: 100.0, lambda v: f"{v:g}%"),
)


def render_sweep_svg(sweep: Sweep, outcomes: Sequence[Outcome]) -> str:
    ordered = sorted(outcomes, key=lambda outcome: outcome.value)
    count = max(len(ordered), 1)
    band = PLOT_WIDTH / count
    index = {outcome.value: i for i, outcome in enumerate(ordered)}

    def centre(i: float) -> float:
        return LEFT + (i + 0.5) * band

    edges = fatal_edges(list(ordered))
    edge_x = {edge: centre((index[edge.fatal] + index[edge.not_fatal]) / 2) for edge in edges}
    labels = pack(
        edges, lambda edge: edge_x[edge], lambda e: _edge_extent(sweep, e), EDGE_LANES, EDGE_GAP
    )
    header = TOP_MARGIN + EDGE_LANE_HEIGHT * (1 + max((label.lane for label in labels), default=0))
    panels_bottom = header + len(PANELS) * (PANEL_HEIGHT + PANEL_GAP)
    height = panels_bottom + AXIS_HEIGHT + AXIS_TITLE_HEIGHT
    parts = [
        f'<svg class="sweep" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}"'
        f' height="{height}" viewBox="0 0 {WIDTH} {height}" role="img"'
        f' aria-label="{escape(f"{sweep.parameter.name} over {len(ordered)} values")}">'
    ]
    for number, panel in enumerate(PANELS):
        top = header + PANEL_GAP + number * (PANEL_HEIGHT + PANEL_GAP)
        parts += _fatal_bands(ordered, band, top, top + PANEL_HEIGHT)
        parts.append(_panel(panel, sweep, ordered, top, band))
    parts += _value_axis(sweep, ordered, panels_bottom, band)
    for edge in edges:
        x = edge_x[edge]
        parts.append(
            f'<line class="fatal-edge" x1="{x:.1f}" y1="{header}" x2="{x:.1f}"'
            f' y2="{panels_bottom}"/>'
        )
    for label in labels:
        text = _edge_text(sweep, label.items[0])
        if len(label.items) > 1:
            text += f" +{len(label.items) - 1}"
        tip = "\n".join(_edge_text(sweep, edge) for edge in label.items)
        y = TOP_MARGIN + EDGE_LANE_HEIGHT * (label.lane + 1) - 4
        parts.append(
            f'<g class="edge-label"><title>{escape(tip)}</title>'
            f'<text x="{label.x + 3:.1f}" y="{y}">{escape(text)}</text></g>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _edge_text(sweep: Sweep, edge: FatalEdge) -> str:
    where = "below" if edge.fatal < edge.not_fatal else "above"
    return f"fatal {where} {sweep.format(edge.not_fatal)}"


def _edge_extent(sweep: Sweep, edges: Sequence[FatalEdge]) -> tuple[float, float]:
    text = _edge_text(sweep, edges[0]) + (f" +{len(edges) - 1}" if len(edges) > 1 else "")
    return 0.0, 3 + text_width(text, EDGE_FONT)


def _fatal_bands(ordered: Sequence[Outcome], band: float, top: float, bottom: float) -> list[str]:
    rects = []
    i = 0
    while i < len(ordered):
        if not ordered[i].fatal:
            i += 1
            continue
        first = i
        while i < len(ordered) and ordered[i].fatal:
            i += 1
        rects.append(
            f'<rect class="fatal-band" x="{LEFT + first * band:.1f}" y="{top}"'
            f' width="{(i - first) * band:.1f}" height="{bottom - top}" fill="{FATAL_BAND}"/>'
        )
    return rects


def _panel(panel: Panel, sweep: Sweep, ordered: Sequence[Outcome], top: float, band: float) -> str:
    values = [panel.value(outcome) for outcome in ordered]
    axis_top = panel.top_tick(max((v for v in values if v is not None), default=0.0))
    bottom = top + PANEL_HEIGHT
    parts = [
        f'<g class="panel" data-panel="{escape(panel.title)}">',
        f'<text class="panel-title" x="{LEFT}" y="{top - 5}">{escape(panel.title)}</text>',
    ]
    for tick, y in ((0.0, bottom), (axis_top, top)):
        parts.append(
            f'<line class="grid" x1="{LEFT}" y1="{y}" x2="{WIDTH - RIGHT}" y2="{y}"/>'
            f'<text class="tick" x="{LEFT - 6}" y="{y + 4}" text-anchor="end">'
            f"{escape(panel.label(tick))}</text>"
        )
    width = max(band * BAR_SHARE, 1.0)
    for i, (outcome, value) in enumerate(zip(ordered, values, strict=True)):
        if value is None:
            continue
        tall = PANEL_HEIGHT * min(value / axis_top, 1.0)
        colour = FATAL_COLOUR if outcome.fatal else SURVIVED_COLOUR
        x = LEFT + i * band + (band - width) / 2
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{bottom - tall:.1f}" width="{width:.1f}"'
            f' height="{tall:.1f}" fill="{colour}"><title>{escape(_tip(sweep, outcome))}</title>'
            "</rect>"
        )
    parts.append("</g>")
    return "".join(parts)


def _tip(sweep: Sweep, outcome: Outcome) -> str:
    fatal = f"fatal at {format_offset(outcome.fatal_at)}" if outcome.fatal_at else "never fatal"
    return (
        f"{sweep.parameter.name} = {sweep.format(outcome.value)}: {outcome.restarts} restarts,"
        f" {fatal}, down {100 * outcome.down_fraction:.1f}% of the time"
    )


def _value_axis(sweep: Sweep, ordered: Sequence[Outcome], top: float, band: float) -> list[str]:
    texts = [sweep.format(outcome.value) for outcome in ordered]
    widest = max((text_width(text, TICK_FONT) for text in texts), default=0.0)
    every = max(1, math.ceil((widest + 6) / band))
    parts = []
    for i in range(0, len(texts), every):
        x = LEFT + (i + 0.5) * band
        parts.append(
            f'<text class="value" x="{x:.1f}" y="{top + 15}"'
            f' text-anchor="middle">{escape(texts[i])}</text>'
        )
    parts.append(
        f'<text class="axis-title" x="{LEFT + PLOT_WIDTH / 2:.1f}" y="{top + AXIS_HEIGHT + 14}"'
        f' text-anchor="middle">{escape(sweep.parameter.name)}</text>'
    )
    return parts
