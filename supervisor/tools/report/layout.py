"""Where the timeline's marks go so that no two overlap, whatever falls close together.

Pure geometry in the SVG's own coordinates: the page scales the drawing as a whole (browser zoom,
a narrow window), so what does not overlap here does not overlap at any zoom, and the page needs
no script.  Items are packed left to right into a few lanes (rows of marks one above the other);
when every lane is still taken at an item's x, the item joins the last mark before it, which
then stands for several and counts them.  A mark reaches rightward from its first item's x, so
growing it never brings it nearer the marks on its left.  Text widths are upper bounds, taken
from the widest glyphs of common sans-serif fonts, so a label is never wider than it was planned.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")

# Advance widths in ems, rounded up from the bold faces of DejaVu Sans (the widest of the usual
# system-ui fallbacks): `m` is 1.04 em, `w` 0.92, `+` and the multiplication sign 0.84, every
# other letter and digit at most 0.72.
_WIDE_GLYPHS = {"m": 1.1, "w": 1.0, "M": 1.1, "W": 1.1, "+": 0.9, "\N{MULTIPLICATION SIGN}": 0.9}
_GLYPH = 0.8


def text_width(text: str, font_size: float) -> float:
    """At least the width `text` takes at `font_size` pixels."""
    return sum(_WIDE_GLYPHS.get(glyph, _GLYPH) for glyph in text) * font_size


@dataclass
class Placed(Generic[T]):
    """One mark on the page, standing for one item or for several close together."""

    x: float  # where its first item is
    lane: int  # 0, 1, ... : which row of marks it sits in
    items: list[T] = field(default_factory=list)
    right: float = -math.inf  # where it ends, once drawn


Extent = Callable[[Sequence[T]], tuple[float, float]]  # left and right of a mark, from its x


def pack(
    items: Sequence[T], x_of: Callable[[T], float], extent: Extent[T], lanes: int, gap: float
) -> list[Placed[T]]:
    """Place `items` in at most `lanes` lanes, `gap` apart at least; join what does not fit.

    `extent(items)` tells how far a mark standing for those items reaches left and right of its
    x: it may grow with their number (a count drawn beside it), never shrink.
    """
    placed: list[Placed[T]] = []
    last_in_lane: list[Placed[T] | None] = [None] * max(lanes, 1)
    for item in sorted(items, key=x_of):
        x = x_of(item)
        left = x + extent([item])[0]
        lane = next(
            (i for i, mark in enumerate(last_in_lane) if mark is None or mark.right + gap <= left),
            None,
        )
        if lane is None:
            # Every lane is taken here: the nearest mark before this item counts it too.
            mark = max((m for m in last_in_lane if m is not None), key=lambda m: m.x)
        else:
            mark = Placed(x, lane)
            placed.append(mark)
            last_in_lane[lane] = mark
        mark.items.append(item)
        mark.right = mark.x + extent(mark.items)[1]
    return placed
